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

"""Lease signals, clock skew, host name mapping and connection modes."""

import pytest

from masakarimonitors_k8s.clock import OffsetClock
from masakarimonitors_k8s import conf as k8s_conf
from masakarimonitors_k8s.testing import harness

pytestmark = pytest.mark.timeout(120)


def start(cluster, masakari, settings, **kwargs):
    monitor = harness.MonitorUnderTest(cluster, masakari, settings, **kwargs)
    harness.wait_until(monitor.synced, what='the initial list')
    return monitor


@pytest.mark.parametrize('skew', [0.0, 300.0, -300.0])
def test_stale_lease_detects_a_silent_kubelet_before_the_controller(
        masakari, skew):
    cluster = harness.ClusterUnderTest()
    names = masakari.add_hosts(masakari.host_names(4))
    cluster.add_nodes(names)
    # The monitor runs on the cluster's clock, ``skew`` seconds behind it:
    # its windows move when the test moves time, and its wall clock is
    # 5 minutes off the API server's and the kubelets'.
    monitor = start(cluster, masakari,
                    harness.fast_settings(watch_leases=True),
                    clock=OffsetClock(cluster.clock, -skew))
    try:
        for _ in range(30):
            cluster.model.advance(10)
            monitor.settled()
        assert harness.stored(masakari) == []

        victim = names[3]
        cluster.model.crash_kubelet(victim)
        monitor.settled()
        for _ in range(9):
            cluster.model.advance(5)
            monitor.settled()
        node = cluster.store.get('nodes', victim)
        ready = [c['status'] for c in node['status']['conditions']
                 if c['type'] == 'Ready']
        assert ready == ['True'], 'the controller must not have acted yet'
        # The lease deadline fires in the monitor's decision loop.
        harness.wait_until(
            lambda: harness.stored(masakari) == [(victim, 'STOPPED',
                                                  'UNKNOWN')],
            what='the stale lease to be reported')
        assert 'lease' in monitor.monitor.engine.assessment(victim).reason
    finally:
        monitor.stop()
        cluster.stop()


def test_hostname_from_a_label(masakari):
    cluster = harness.ClusterUnderTest()
    hosts = masakari.add_hosts(masakari.host_names(2))
    nodes = ['node-a.example.org', 'node-b.example.org']
    cluster.add_nodes(nodes)
    for node, host in zip(nodes, hosts):
        cluster.model.add_label(node, 'masakari.openstack.org/host', host)
    settings = harness.fast_settings(scope=k8s_conf.ScopeSettings(
        hostname_source='label', hostname_key='masakari.openstack.org/host'))
    monitor = start(cluster, masakari, settings)
    try:
        cluster.fail_and_detect(nodes[1])
        monitor.settled()
        assert harness.stored(masakari) == [(hosts[1], 'STOPPED',
                                             'UNKNOWN')]
    finally:
        monitor.stop()
        cluster.stop()


def test_tls_api_url_with_ca_and_token_file(masakari):
    cluster = harness.ClusterUnderTest(tls=True)
    names = masakari.add_hosts(masakari.host_names(2))
    cluster.add_nodes(names)
    monitor = start(cluster, masakari, harness.fast_settings(),
                    via='token_file')
    try:
        assert cluster.server.url.startswith('https://')
        cluster.fail_and_detect(names[0])
        monitor.settled()
        assert harness.stored(masakari) == [(names[0], 'STOPPED',
                                             'UNKNOWN')]
    finally:
        monitor.stop()
        cluster.stop()
