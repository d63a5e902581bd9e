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
    assert preflight.placement == {
        'n1': ('compute-1', 'zone-a', 'ok'),
        'n2': ('-', '-', 'NO HOST NAME (label example.org/host)')}


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
        redfish_conf.set_override('leader_election', True, group='k8s')
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


class TestHostNames:
    """Nodes whose host name Masakari knows only in another spelling."""

    @staticmethod
    def check(conf, node_names, masakari_names, labels=None):
        kube = FakeKube([raw_node(name, (labels or {}).get(name))
                         for name in node_names])
        report, preflight = run(conf, kube, FakeInstanceHa(
            {SEGMENT: [FakeHost(name) for name in masakari_names]}))
        return rows(report), preflight.placement

    def test_short_node_names_and_fqdn_hosts_suggest_hostname_domain(
            self, conf):
        results, placement = self.check(
            conf, ['compute-1', 'compute-2', 'compute-3'],
            ['compute-1.cloud.example.org', 'compute-2.cloud.example.org'])
        assert results['hosts registered'][0] == cli.FAIL
        result, detail = results['host name hints']
        assert result == cli.WARN
        assert detail == (
            'compute-1: Masakari has compute-1.cloud.example.org (differs by '
            'domain): set hostname_domain = cloud.example.org; compute-2: '
            'Masakari has compute-2.cloud.example.org (differs by domain): '
            'set hostname_domain = cloud.example.org')
        # Every node without a Masakari host is listed, hint or not.
        assert placement['compute-1'][2] == (
            'NOT REGISTERED; Masakari has compute-1.cloud.example.org '
            '(differs by domain): set hostname_domain = cloud.example.org')
        assert placement['compute-3'] == ('compute-3', '-',
                                          'NOT REGISTERED')

        conf.set_override('hostname_domain', 'cloud.example.org',
                          group='k8s')
        results, placement = self.check(
            conf, ['compute-1', 'compute-2'],
            ['compute-1.cloud.example.org', 'compute-2.cloud.example.org'])
        assert results['hosts registered'][0] == cli.OK
        assert 'host name hints' not in results
        assert placement['compute-1'] == ('compute-1.cloud.example.org',
                                          'zone-a', 'ok')

    def test_fqdn_node_names_and_short_hosts_suggest_short_name(self, conf):
        results, _ = self.check(conf, ['compute-1.k8s.local'],
                                ['compute-1'])
        assert results['host name hints'][1].endswith(
            'set hostname_source = short-name')

    def test_another_domain_suggests_both_options(self, conf):
        results, _ = self.check(conf, ['compute-1.k8s.local'],
                                ['compute-1.cloud.example.org'])
        assert results['host name hints'][1].endswith(
            'set hostname_source = short-name and hostname_domain = '
            'cloud.example.org')

    def test_a_case_mismatch_is_named_with_its_fix(self, conf):
        results, placement = self.check(conf, ['compute-1'], ['Compute-1'])
        detail = results['host name hints'][1]
        assert detail.startswith('compute-1: Masakari has Compute-1 '
                                 '(differs only by case): Kubernetes node '
                                 'names are lower case')
        assert 'hostname_source = label' in detail
        assert 'differs only by case' in placement['compute-1'][2]

        conf.set_override('hostname_source', 'label', group='k8s')
        conf.set_override('hostname_key', 'example.org/host', group='k8s')
        results, _ = self.check(
            conf, ['n1'], ['Compute-1.cloud.example.org'],
            labels={'n1': {'example.org/host': 'compute-1'}})
        assert results['host name hints'][1] == (
            'n1 (host compute-1): Masakari has Compute-1.cloud.example.org '
            '(differs by domain): correct the label example.org/host on the '
            'node or set hostname_domain = cloud.example.org; and the case '
            'differs: correct the label example.org/host on the node')

    def test_two_nodes_with_one_host_name_fail(self, conf):
        conf.set_override('hostname_source', 'short-name', group='k8s')
        results, _ = self.check(conf, ['a.dc1', 'a.dc2', 'b.dc1'],
                                ['a', 'b'])
        assert results['host names unique'] == (
            cli.FAIL, 'nodes a.dc1, a.dc2 all map to host a')

    def test_names_differing_only_by_case_fail(self, conf):
        conf.set_override('hostname_source', 'label', group='k8s')
        conf.set_override('hostname_key', 'example.org/host', group='k8s')
        results, _ = self.check(
            conf, ['n1', 'n2'], ['Compute-1', 'compute-1'],
            labels={'n1': {'example.org/host': 'Compute-1'},
                    'n2': {'example.org/host': 'compute-1'}})
        result, detail = results['host names unique']
        assert result == cli.FAIL
        assert detail.startswith('host names Compute-1 / compute-1 (nodes '
                                 'n1, n2) differ only by case')

    def test_unique_names_pass(self, conf):
        results, _ = self.check(conf, ['compute-1', 'compute-2'],
                                ['compute-1', 'compute-2'])
        assert results['host names unique'] == (
            cli.OK, 'each of the 2 node(s) has its own Masakari host name')


def test_risky_settings_are_warnings(conf):
    report, _ = run(conf, FakeKube([raw_node('c-1')]), FakeInstanceHa(
        {SEGMENT: [FakeHost('c-1')]}))
    result, detail = rows(report)['risky settings']
    assert result == cli.WARN
    assert '[k8s] exclude_label = masakari.openstack.org/exclude' in detail
    assert not report.failed
    conf.set_override('exclude_label', 'node-restriction.kubernetes.io/x',
                      group='k8s')
    conf.set_override('storm_zone_label', '', group='k8s')
    report, _ = run(conf, FakeKube([raw_node('c-1')]), FakeInstanceHa(
        {SEGMENT: [FakeHost('c-1')]}))
    assert 'risky settings' not in rows(report)


def test_nodes_table_lists_nodes_without_a_host_name(tmp_path):
    config = tmp_path / 'masakarimonitors.conf'
    config.write_text('[host]\nmonitoring_driver = k8s\n[k8s]\n'
                      'hostname_source = label\n'
                      'hostname_key = example.org/host\n')
    out = io.StringIO()
    kube = FakeKube([raw_node('n1', {'example.org/host': 'compute-1'}),
                     raw_node('n2')])
    code = cli.main(['--nodes', '--config-file', str(config)],
                    conf=cfg.ConfigOpts(), out=out,
                    kube_factory=lambda settings: kube,
                    instance_ha_factory=lambda c: FakeInstanceHa(
                        {SEGMENT: [FakeHost('compute-1')]}))
    assert code == 1
    table = out.getvalue().split('\n\n')[-1].splitlines()
    assert table[0].split() == ['NODE', 'MASAKARI', 'HOST', 'SEGMENT',
                                'STATE']
    assert table[1].split() == ['n1', 'compute-1', 'zone-a', 'ok']
    assert table[2].split() == ['n2', '-', '-', 'NO', 'HOST', 'NAME',
                                '(label', 'example.org/host)']


def test_an_untrusted_bmc_annotation_is_reported_not_asked(tmp_path):
    credentials = tmp_path / 'bmc.yaml'
    credentials.write_text('username: u\npassword: "p"\n')
    redfish = k8s_conf.RedfishSettings(credentials_file=str(credentials))
    readings = cli.read_power_states(redfish, [
        cli.ScopedNode('c-1', 'c-1', 'True', 'https://198.51.100.1'),
        cli.ScopedNode('c-2', 'c-2', 'True', None)])
    assert readings['c-1'].state is cli.BMC_REFUSED
    assert 'its BMC annotation is ignored' in readings['c-1'].detail
    assert readings['c-2'].state is None


def test_a_refused_bmc_fails_the_fencing_check(conf):
    conf.set_override('fencing', 'redfish', group='k8s')
    conf.set_override('redfish_credentials_file', '/etc/bmc.yaml',
                      group='k8s')
    preflight = cli.Preflight(
        conf, kube_factory=lambda s: FakeKube([raw_node('c-1')]),
        instance_ha_factory=lambda c: FakeInstanceHa(
            {SEGMENT: [FakeHost('c-1')]}),
        bmc_reader=lambda settings, nodes: {
            'c-1': cli.BmcReading(cli.BMC_REFUSED, 'node c-1: refused')})
    assert rows(preflight.run())['fencing'] == (
        cli.FAIL, 'cannot use the BMC: node c-1: refused')
