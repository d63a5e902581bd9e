# Copyright 2026 The masakari-monitors-k8s Authors
#
# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""The ``check`` command's logic with fake Kubernetes and Masakari ends.

The same checks run against the test API server and a real masakari-api
in tests/functional/observability/test_check_command.py.
"""

import dataclasses
import io

from keystoneauth1 import exceptions as ks_exceptions
from oslo_config import cfg
import pytest

from masakarimonitors_k8s import cli
from masakarimonitors_k8s import conf as k8s_conf
from masakarimonitors_k8s.kube import client as kube_client


class FakeKube:
    host = 'https://k8s.example.org:6443'

    def __init__(self, nodes, *, allowed=None, version_error=None):
        self._nodes = nodes
        self.allowed = allowed   # None: everything
        self.version_error = version_error
        self.reviews = []
        self.closed = False

    def get_json(self, path, query=None):
        assert path == '/version'
        if self.version_error:
            raise self.version_error
        return {'gitVersion': 'v1.35.0'}

    def post_json(self, path, body):
        assert path.endswith('/selfsubjectaccessreviews')
        attributes = body['spec']['resourceAttributes']
        self.reviews.append(attributes)
        key = (attributes['verb'], attributes['resource'])
        allowed = self.allowed is None or key in self.allowed
        return {'status': {'allowed': allowed}}

    def list_pages(self, path, *, params, page_size):
        yield {'items': self._nodes}

    def close(self):
        self.closed = True


@dataclasses.dataclass(frozen=True)
class FakeSegment:
    uuid: str
    name: str
    is_enabled: bool = True


@dataclasses.dataclass
class FakeHost:
    name: str
    on_maintenance: bool = False


class FakeInstanceHa:
    def __init__(self, segments):
        self._segments = segments   # FakeSegment -> [FakeHost]

    def segments(self):
        return list(self._segments)

    def hosts(self, segment_id):
        return next(hosts for segment, hosts in self._segments.items()
                    if segment.uuid == segment_id)


def raw_node(name, labels=None):
    return {'metadata': {'name': name, 'labels': labels or {}},
            'status': {'conditions': [{'type': 'Ready', 'status': 'True'}]}}


@pytest.fixture
def conf():
    conf = cfg.ConfigOpts()
    cli.register_opts(conf)
    conf([], default_config_files=[])
    conf.set_override('monitoring_driver', 'k8s', group='host')
    return conf


def run(conf, kube, instance_ha):
    preflight = cli.Preflight(conf, kube_factory=lambda settings: kube,
                              instance_ha_factory=lambda c: instance_ha)
    return preflight.run(), preflight


def rows(report):
    return {row.check: (row.result, row.detail) for row in report.rows}


SEGMENT = FakeSegment('seg-1', 'zone-a')


def test_a_good_setup_passes(conf):
    kube = FakeKube([raw_node('compute-1'), raw_node('compute-2')])
    report, preflight = run(conf, kube, FakeInstanceHa(
        {SEGMENT: [FakeHost('compute-1'), FakeHost('compute-2')]}))
    results = rows(report)
    assert not report.failed, report.render()
    assert results['configuration'][0] == cli.OK
    assert results['Kubernetes API'] == (
        cli.OK, 'Kubernetes v1.35.0 at https://k8s.example.org:6443')
    for check in ('may get nodes', 'may list nodes', 'may watch nodes',
                  'may create events in default',
                  'may patch events in default'):
        assert results[check][0] == cli.OK
    assert results['nodes in scope'][0] == cli.OK
    assert results['hosts registered'][0] == cli.OK
    assert results['hosts on maintenance'] == (cli.OK, 'none')
    assert results['fencing'][0] == cli.SKIP
    assert preflight.placement == {
        'compute-1': ('compute-1', 'zone-a', 'ok'),
        'compute-2': ('compute-2', 'zone-a', 'ok')}
    assert kube.closed


def test_a_missing_permission_fails_by_name(conf):
    kube = FakeKube([raw_node('compute-1')],
                    allowed={('get', 'nodes'), ('list', 'nodes'),
                             ('create', 'events'), ('patch', 'events')})
    report, _ = run(conf, kube, FakeInstanceHa(
        {SEGMENT: [FakeHost('compute-1')]}))
    assert report.failed
    failed = [row.check for row in report.rows if row.result == cli.FAIL]
    assert failed == ['may watch nodes']


def test_unregistered_and_maintenance_hosts_are_named(conf):
    kube = FakeKube([raw_node(name) for name in
                     ('compute-1', 'compute-2', 'compute-3')])
    report, preflight = run(conf, kube, FakeInstanceHa(
        {SEGMENT: [FakeHost('compute-1'),
                   FakeHost('compute-2', on_maintenance=True)]}))
    results = rows(report)
    assert results['hosts registered'] == (
        cli.FAIL, 'not in any Masakari segment: compute-3')
    assert results['hosts on maintenance'][0] == cli.WARN
    assert results['hosts on maintenance'][1].endswith(': compute-2')
    assert preflight.placement['compute-3'] == ('compute-3', '-',
                                                'NOT REGISTERED')


def test_disabled_segment_is_a_warning(conf):
    disabled = FakeSegment('seg-2', 'zone-b', is_enabled=False)
    kube = FakeKube([raw_node('compute-1')])
    report, _ = run(conf, kube, FakeInstanceHa(
        {disabled: [FakeHost('compute-1')]}))
    assert rows(report)['segments enabled'][0] == cli.WARN
    assert 'compute-1 (segment zone-b)' in rows(report)[
        'segments enabled'][1]


def test_host_names_from_a_label(conf):
    conf.set_override('hostname_source', 'label', group='k8s')
    conf.set_override('hostname_key', 'example.org/host', group='k8s')
    kube = FakeKube([raw_node('n1', {'example.org/host': 'compute-1'}),
                     raw_node('n2')])
    report, preflight = run(conf, kube, FakeInstanceHa(
        {SEGMENT: [FakeHost('compute-1')]}))
    results = rows(report)
    assert results['nodes in scope'][0] == cli.FAIL
    assert results['nodes in scope'][1].endswith(': n2')
    assert preflight.placement == {'n1': ('compute-1', 'zone-a', 'ok')}


def test_unreachable_api_skips_what_depends_on_it(conf):
    kube = FakeKube([], version_error=kube_client.ApiError(
        'GET /version: ConnectionRefusedError'))
    report, _ = run(conf, kube, FakeInstanceHa({}))
    results = rows(report)
    assert results['Kubernetes API'][0] == cli.FAIL
    assert 'ConnectionRefusedError' in results['Kubernetes API'][1]
    assert results['permissions'][0] == cli.SKIP
    assert results['nodes in scope'][0] == cli.SKIP
    assert results['hosts registered'][0] == cli.SKIP
    assert kube.closed


def test_invalid_configuration_fails_and_names_the_option(conf):
    conf.set_override('node_selector', 'a in (', group='k8s')
    report, _ = run(conf, FakeKube([]), FakeInstanceHa({}))
    result, detail = rows(report)['configuration']
    assert result == cli.FAIL
    assert 'node_selector' in detail
    assert rows(report)['fencing'][0] == cli.SKIP


def test_masakari_unreachable_fails(conf):
    def broken(_conf):
        raise ConnectionError('masakari-api refused the connection')

    preflight = cli.Preflight(
        conf, kube_factory=lambda settings: FakeKube([raw_node('c-1')]),
        instance_ha_factory=broken)
    results = rows(preflight.run())
    assert results['masakari-api'] == (
        cli.FAIL, 'ConnectionError: masakari-api refused the connection')


def test_a_wrong_password_fails_with_one_clear_line(conf):
    def refused(_conf):
        raise ks_exceptions.Unauthorized(
            'The request you have made requires authentication.')

    preflight = cli.Preflight(
        conf, kube_factory=lambda settings: FakeKube([raw_node('c-1')]),
        instance_ha_factory=refused)
    report = preflight.run()
    result, detail = rows(report)['masakari-api']
    assert result == cli.FAIL
    assert detail.startswith('Keystone refused the [api] credentials '
                             '(HTTP 401)')
    assert 'password' in detail and '\n' not in detail
    assert report.failed


def test_unsafe_fencing_and_other_driver_are_warnings(conf):
    conf.set_override('fencing', 'none', group='k8s')
    report, _ = run(conf, FakeKube([raw_node('c-1')]), FakeInstanceHa(
        {SEGMENT: [FakeHost('c-1')]}))
    assert rows(report)['configuration'][0] == cli.WARN
    assert 'UNSAFE' in rows(report)['configuration'][1]
    conf.set_override('fencing', 'taint', group='k8s')
    conf.set_override('monitoring_driver', 'default', group='host')
    report, _ = run(conf, FakeKube([raw_node('c-1')]), FakeInstanceHa(
        {SEGMENT: [FakeHost('c-1')]}))
    assert 'monitoring_driver = default' in rows(report)['configuration'][1]


def test_permissions_follow_the_options():
    def labels(settings):
        return [p.label for p in cli.required_permissions(
            settings, leader_namespace='openstack')]

    plain = k8s_conf.Settings(status=k8s_conf.StatusSettings(
        node_events=False))
    assert labels(plain) == ['get nodes', 'list nodes', 'watch nodes']
    everything = k8s_conf.Settings(
        policy=k8s_conf.PolicySettings(watch_leases=True),
        leader=k8s_conf.LeaderSettings(enabled=True),
        redfish=k8s_conf.RedfishSettings(fence_action='redfish-power-off',
                                         credentials_file='/c'))
    assert labels(everything) == [
        'get nodes', 'list nodes', 'watch nodes',
        'create events in default', 'patch events in default',
        'get leases in kube-node-lease', 'list leases in kube-node-lease',
        'watch leases in kube-node-lease',
        'create leases in openstack',
        'get leases masakari-hostmonitor in openstack',
        'update leases masakari-hostmonitor in openstack',
        'patch nodes']
    review = cli.Permission('get', 'leases', group='coordination.k8s.io',
                            namespace='openstack', name='x').review()
    assert review['spec']['resourceAttributes'] == {
        'verb': 'get', 'resource': 'leases', 'group': 'coordination.k8s.io',
        'namespace': 'openstack', 'name': 'x'}


def test_table_and_exit_status(conf):
    out = io.StringIO()
    kube = FakeKube([raw_node('compute-1')], allowed=set())
    code = cli.main([], conf=cfg.ConfigOpts(), out=out,
                    kube_factory=lambda settings: kube,
                    instance_ha_factory=lambda c: FakeInstanceHa(
                        {SEGMENT: [FakeHost('compute-1')]}))
    text = out.getvalue()
    assert code == 1
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith('CHECK'))
    assert header.split() == ['CHECK', 'RESULT', 'DETAIL']
    watch = next(line for line in lines if line.startswith('may watch'))
    assert watch.split()[:4] == ['may', 'watch', 'nodes', 'FAIL']
    assert lines[-1].endswith('SKIP')


def test_long_details_wrap_under_their_column():
    report = cli.Report()
    report.add('hosts registered', cli.FAIL, 'not in any Masakari segment: '
               + ', '.join('compute-%04d' % n for n in range(15)))
    lines = report.render().splitlines()
    assert len(lines[1]) <= len('hosts registered') + 10 + cli.DETAIL_WIDTH
    assert lines[2].startswith(' ' * (len('hosts registered') + 10))
    assert 'compute-0014' in report.render()


class TestFencing:

    @pytest.fixture
    def redfish_conf(self, conf):
        conf.set_override('fencing', 'redfish', group='k8s')
        conf.set_override('redfish_credentials_file', '/etc/bmc.yaml',
                          group='k8s')
        return conf

    @staticmethod
    def run_with_bmcs(conf, readings, names=('c-1', 'c-2', 'c-3')):
        asked = []

        def reader(redfish_settings, nodes):
            asked.extend(node.name for node in nodes)
            if isinstance(readings, Exception):
                raise readings
            return {node.name: cli.BmcReading(*readings[node.name])
                    for node in nodes}

        preflight = cli.Preflight(
            conf, kube_factory=lambda s: FakeKube(
                [raw_node(name) for name in names]),
            instance_ha_factory=lambda c: FakeInstanceHa(
                {SEGMENT: [FakeHost(name) for name in names]}),
            bmc_reader=reader)
        return rows(preflight.run())['fencing'], asked

    def test_every_bmc_answers(self, redfish_conf):
        (result, detail), asked = self.run_with_bmcs(redfish_conf, {
            'c-1': ('On', ''), 'c-2': ('On', ''), 'c-3': ('On', '')})
        assert result == cli.OK
        assert detail == 'the BMC of 3 node(s) answered (power On: 3)'
        assert asked == ['c-1', 'c-2', 'c-3']

    def test_an_unreachable_bmc_fails_by_name(self, redfish_conf):
        (result, detail), _ = self.run_with_bmcs(redfish_conf, {
            'c-1': ('On', ''), 'c-2': (cli.BMC_ERROR, 'connection refused'),
            'c-3': ('On', '')})
        assert result == cli.FAIL
        assert detail == 'no answer: c-2 (connection refused)'

    def test_a_ready_node_whose_bmc_says_off_is_a_wrong_address(
            self, redfish_conf):
        (result, detail), _ = self.run_with_bmcs(redfish_conf, {
            'c-1': ('On', ''), 'c-2': ('On', ''), 'c-3': ('Off', '')})
        assert result == cli.FAIL
        assert 'wrong BMC address?): c-3' in detail

    def test_one_bmc_for_two_nodes_fails(self, redfish_conf):
        (result, detail), _ = self.run_with_bmcs(redfish_conf, {
            'c-1': ('On', '', 'https://bmc-1/redfish/v1/Systems/1'),
            'c-2': ('On', '', 'https://bmc-2/redfish/v1/Systems/1'),
            'c-3': ('On', '', 'https://bmc-1/redfish/v1/Systems/1')})
        assert (result, detail) == (
            cli.FAIL, 'one BMC system for several nodes '
            '(https://bmc-1/redfish/v1/Systems/1): c-1, c-3')

    def test_no_bmc_address_warns_for_evidence_and_fails_for_fencing(
            self, redfish_conf):
        readings = {'c-1': ('On', ''), 'c-2': (None, 'no BMC address'),
                    'c-3': ('On', '')}
        (result, detail), _ = self.run_with_bmcs(redfish_conf, readings)
        assert result == cli.WARN
        assert detail.endswith('them): c-2')
        redfish_conf.set_override('fence_action', 'redfish-power-off',
                                  group='k8s')
        (result, detail), _ = self.run_with_bmcs(redfish_conf, readings)
        assert (result, detail) == (
            cli.FAIL, 'no BMC address (cannot be fenced): c-2')

    def test_a_broken_bmc_map_fails(self, redfish_conf):
        (result, detail), _ = self.run_with_bmcs(
            redfish_conf, k8s_conf.ConfigError(
                '[k8s] redfish_credentials_file = \'/etc/bmc.yaml\': no '
                'such file'))
        assert result == cli.FAIL
        assert 'no such file' in detail
