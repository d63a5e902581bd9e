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


def test_watches_stay_current_while_the_cluster_clock_is_held(masakari):
    """The read timeouts logged by the flaky stale-lease test above.

    The test server paced bookmarks by the cluster's ManualClock only. A
    test holding that clock still (waiting for a verdict, or a slow step
    under load) thus left both watches silent in real time; the monitor's
    read timeout then broke them, as it must, and the view went stale: the
    ``ReadTimeoutError ... retrying`` lines of issue 15. A real API
    server's bookmark timer runs in real time; now the test server's does
    too. (What kept the verdict from coming was the server clock estimate
    falling behind: see test_server_clock.py,
    test_a_slow_answer_cannot_set_the_estimate_back.)
    """
    cluster = harness.ClusterUnderTest()
    names = masakari.add_hosts(masakari.host_names(2))
    cluster.add_nodes(names)
    settings = harness.fast_settings(watch_leases=True)
    monitor = start(cluster, masakari, settings, clock=cluster.clock)
    try:
        monitor.settled()
        reflectors = monitor.monitor.reflectors
        errors = [r.stats.errors for r in reflectors]
        bookmarks = [r.stats.bookmarks for r in reflectors]
        # Bookmarks for twice the read timeout, with the cluster clock
        # still: only real time brings them.
        wanted = 2 * settings.watch.idle_timeout
        harness.wait_until(
            lambda: all(r.stats.bookmarks >= seen + wanted
                        for r, seen in zip(reflectors, bookmarks)),
            what='bookmarks while the cluster clock is held')
        assert [r.stats.errors for r in reflectors] == errors
        assert all(r.stats.synced for r in reflectors)
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
