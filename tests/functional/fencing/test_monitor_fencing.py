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

"""The monitor with Redfish: evidence, and the fence action, end to end.

Kubernetes API test server + the monitor over HTTP + a real masakari-api +
sushy-tools' Redfish emulator as the hosts' BMCs.
"""

import json

import pytest

from masakarimonitors_k8s import conf as k8s_conf
from masakarimonitors_k8s import driver
from masakarimonitors_k8s.testing import harness
from tests.functional.fencing import conftest as bmc_fixtures

pytestmark = pytest.mark.timeout(120)

ANNOTATION = 'masakari.openstack.org/bmc-address'
FENCE_RULES = harness.MONITOR_RULES + [
    {'apiGroups': [''], 'resources': ['nodes'], 'verbs': ['patch']}]


@pytest.fixture
def cluster():
    cluster = harness.ClusterUnderTest(rules=FENCE_RULES)
    yield cluster
    cluster.stop()


@pytest.fixture
def bmc_server(fresh_redfish_bmc):
    return fresh_redfish_bmc(systems=('compute-01', 'compute-02',
                                      'compute-03', 'compute-04'))


def start(cluster, masakari, bmc_server, tmp_path, *, names, fencing,
          fence_action='none', guards=None, clock=None,
          trust_annotation=True):
    """Nodes named after the BMC's systems, annotated with their BMC.

    The emulator is plain http on 127.0.0.1, so the annotation is trusted
    for that host and http is allowed (both off by default).
    """
    hosts = masakari.add_hosts(masakari.host_names(len(names)))
    credentials = tmp_path / 'redfish-credentials.json'
    credentials.write_text(json.dumps({
        'username': bmc_fixtures.USERNAME,
        'password': bmc_fixtures.PASSWORD}))
    nodes = []
    for system, host in zip(names, hosts):
        cluster.model.add_node(host)
        cluster.model.add_label(host, 'unused', 'x')
        cluster.store.mutate('nodes', host, lambda node, system=system: (
            node['metadata'].setdefault('annotations', {}).__setitem__(
                ANNOTATION, bmc_server.system_url(system))))
        nodes.append(host)
    cluster.model.advance(15)
    redfish = k8s_conf.RedfishSettings(
        fence_action=fence_action, credentials_file=str(credentials),
        trust_bmc_annotation=trust_annotation,
        bmc_allowed_hosts=k8s_conf.BmcHostAllowList.parse(['127.0.0.1']),
        allow_http=True,
        timeout=2.0, retry_max=0, retry_interval=0.0, verify_timeout=10.0,
        recheck_interval=0.2)
    settings = harness.fast_settings(fencing=fencing, redfish=redfish,
                                     guards=guards)
    monitor = harness.MonitorUnderTest(
        cluster, masakari, settings, clock=clock,
        fencing=driver.build_fencing(settings, harness.SystemClock()))
    harness.wait_until(monitor.synced, what='the initial list')
    return monitor, nodes


def taint_keys(cluster, node):
    spec = cluster.store.get('nodes', node).get('spec') or {}
    return [t['key'] for t in spec.get('taints') or []]


def test_bmc_on_means_no_normal_and_off_means_normal(
        cluster, masakari, bmc_server, tmp_path):
    systems = ['compute-01', 'compute-02']
    monitor, nodes = start(cluster, masakari, bmc_server, tmp_path,
                           names=systems, fencing='redfish')
    try:
        bmc_server.set_power('compute-01', 'On')
        cluster.fail_and_detect(nodes[0])
        monitor.settled()
        harness.wait_until(lambda: monitor.monitor.fencing.checks >= 2,
                           what='the BMC to be asked, twice')
        assert monitor.monitor.fencing.failures == 0
        # Kubernetes says down, the BMC says On: not fenced, no NORMAL,
        # however long it stays so.
        cluster.model.advance(120)
        monitor.settled()
        assert harness.stored(masakari) == [(nodes[0], 'STOPPED',
                                             'UNKNOWN')]

        bmc_server.set_power('compute-01', 'Off')
        harness.wait_until(
            lambda: harness.stored(masakari)[-1:] == [(nodes[0], 'STOPPED',
                                                       'NORMAL')],
            what='NORMAL once the BMC reports Off')
        assert 'redfish' in monitor.monitor.engine.assessment(
            nodes[0]).evidence
    finally:
        monitor.stop()


def test_an_untrusted_annotation_is_never_asked(
        cluster, masakari, bmc_server, tmp_path, caplog):
    # A node names a BMC in its own annotation; the operator did not opt
    # in. Its "Off" must not become evidence, nor get the credentials.
    monitor, nodes = start(cluster, masakari, bmc_server, tmp_path,
                           names=['compute-01'], fencing='redfish',
                           trust_annotation=False)
    try:
        bmc_server.set_power('compute-01', 'Off')
        cluster.fail_and_detect(nodes[0])
        monitor.settled()
        harness.wait_until(
            lambda: any('its BMC annotation is ignored' in r.getMessage()
                        for r in caplog.records),
            what='the coordinator to refuse the annotation')
        cluster.model.advance(120)
        monitor.settled()
        assert harness.stored(masakari) == [(nodes[0], 'STOPPED',
                                             'UNKNOWN')]
        assert monitor.monitor.fencing.checks == 0
    finally:
        monitor.stop()


def test_fence_action_powers_off_then_taints_then_reports_normal(
        cluster, masakari, bmc_server, tmp_path):
    systems = ['compute-03', 'compute-04']
    monitor, nodes = start(cluster, masakari, bmc_server, tmp_path,
                           names=systems, fencing='taint',
                           fence_action='redfish-power-off')
    try:
        bmc_server.set_power('compute-03', 'On')
        # A hung host: its kubelet is silent, its BMC still says On.
        cluster.fail_and_detect(nodes[0])
        harness.wait_until(
            lambda: harness.stored(masakari)[-1:] == [(nodes[0], 'STOPPED',
                                                       'NORMAL')],
            what='fence, taint, NORMAL')
        assert bmc_server.power_state('compute-03') == 'Off'
        assert 'node.kubernetes.io/out-of-service' in taint_keys(cluster,
                                                                 nodes[0])
        assert harness.stored(masakari) == [
            (nodes[0], 'STOPPED', 'UNKNOWN'), (nodes[0], 'STOPPED',
                                               'NORMAL')]
        assert monitor.monitor.fencing.actions == 1
        # The other host was never touched.
        assert bmc_server.power_state('compute-04') == 'On'
    finally:
        monitor.stop()


def test_fence_action_is_held_in_a_storm(cluster, masakari, bmc_server,
                                         tmp_path):
    systems = ['compute-01', 'compute-02', 'compute-03', 'compute-04']
    # Default guards (15 s settle window), on the cluster's clock.
    monitor, nodes = start(
        cluster, masakari, bmc_server, tmp_path, names=systems,
        fencing='taint', fence_action='redfish-power-off',
        guards=k8s_conf.GuardSettings(), clock=cluster.clock)
    try:
        for system in systems:
            bmc_server.set_power(system, 'On')
        cluster.model.partition(nodes[:3])
        for _ in range(24):
            cluster.model.advance(5)
            monitor.settled()
        harness.wait_until(lambda: monitor.monitor.guards.holding()['storm'],
                           what='the storm guard')
        assert sorted(monitor.monitor.guards.held()) == sorted(nodes[:3])
        # Nobody was powered off, tainted or reported.
        assert monitor.monitor.fencing.actions == 0
        assert [bmc_server.power_state(s) for s in systems] == ['On'] * 4
        assert all('node.kubernetes.io/out-of-service' not in
                   taint_keys(cluster, node) for node in nodes)
        assert harness.stored(masakari) == []
    finally:
        monitor.stop()
