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

"""The monitor end to end over HTTP: test API server -> driver -> a real
masakari-api. Each test states a failure and asserts exactly what Masakari
stored."""

import pytest

from masakarimonitors_k8s.testing import harness

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def start_monitor(cluster):
    started = []

    def start(masakari, **policy):
        monitor = harness.MonitorUnderTest(
            cluster, masakari, harness.fast_settings(**policy))
        started.append(monitor)
        harness.wait_until(monitor.synced, what='the initial list')
        return monitor

    yield start
    for monitor in started:
        monitor.stop()


def test_powered_off_and_fenced_node_is_reported_normal_once(
        cluster, masakari, start_monitor):
    names = masakari.add_hosts(masakari.host_names(4))
    cluster.add_nodes(names)
    monitor = start_monitor(masakari)
    victim = names[1]

    cluster.fail_and_detect(victim)
    monitor.settled()
    assert harness.stored(masakari) == [(victim, 'STOPPED', 'UNKNOWN')]

    cluster.model.add_out_of_service_taint(victim)
    monitor.settled()
    # More time and more kubelet traffic change nothing.
    cluster.model.advance(120)
    monitor.settled()
    assert harness.stored(masakari) == [(victim, 'STOPPED', 'UNKNOWN'),
                                        (victim, 'STOPPED', 'NORMAL')]
    normal = masakari.notifications(victim)[1]
    assert normal['payload']['cluster_status'] == 'OFFLINE'


@pytest.mark.parametrize('failure', ['crash_kubelet', 'partition'])
def test_unfenced_unreachable_host_is_never_normal(
        cluster, masakari, start_monitor, failure):
    names = masakari.add_hosts(masakari.host_names(3))
    cluster.add_nodes(names)
    monitor = start_monitor(masakari)
    victim = names[0]
    if failure == 'partition':
        cluster.model.partition([victim])
    else:
        cluster.model.crash_kubelet(victim)
    cluster.model.advance(600)
    monitor.settled()
    assert harness.stored(masakari) == [(victim, 'STOPPED', 'UNKNOWN')]


def test_not_ready_with_live_kubelet_and_cordon_send_nothing(
        cluster, masakari, start_monitor):
    names = masakari.add_hosts(masakari.host_names(3))
    cluster.add_nodes(names)
    monitor = start_monitor(masakari)
    cluster.model.set_not_ready(names[0])
    cluster.model.cordon(names[1])
    cluster.model.advance(600)
    monitor.settled()
    assert harness.stored(masakari) == []


def test_not_ready_counts_when_configured(cluster, masakari, start_monitor):
    names = masakari.add_hosts(masakari.host_names(2))
    cluster.add_nodes(names)
    monitor = start_monitor(masakari, not_ready_is_failure=True)
    cluster.model.set_not_ready(names[0])
    cluster.model.advance(10)
    monitor.settled()
    assert harness.stored(masakari) == [(names[0], 'STOPPED', 'UNKNOWN')]


def test_recovered_host_is_reported_started(cluster, masakari,
                                            start_monitor):
    names = masakari.add_hosts(masakari.host_names(2))
    cluster.add_nodes(names)
    monitor = start_monitor(masakari)
    victim = names[0]
    cluster.fail_and_detect(victim)
    monitor.settled()
    cluster.model.add_out_of_service_taint(victim)
    monitor.settled()
    cluster.model.remove_out_of_service_taint(victim)
    cluster.model.power_on(victim)
    cluster.model.advance(10)
    monitor.settled()
    assert harness.stored(masakari) == [(victim, 'STOPPED', 'UNKNOWN'),
                                        (victim, 'STOPPED', 'NORMAL'),
                                        (victim, 'STARTED', 'NORMAL')]
    started = masakari.notifications(victim)[2]
    assert started['payload']['cluster_status'] == 'ONLINE'


def test_nodes_down_before_start_are_reported_once_and_not_after_restart(
        cluster, masakari, start_monitor):
    names = masakari.add_hosts(masakari.host_names(8))
    cluster.add_nodes(names)
    down = names[:3]
    for name in down:
        cluster.model.power_off(name)
    cluster.model.advance(65)
    for name in down:
        cluster.model.add_out_of_service_taint(name)

    first = start_monitor(masakari)
    first.settled()
    expected = sorted((name, 'STOPPED', 'NORMAL') for name in down)
    assert sorted(harness.stored(masakari)) == expected
    first.stop()

    second = start_monitor(masakari)
    second.settled()
    assert sorted(harness.stored(masakari)) == expected
    # The restarted monitor re-offered each STOPPED; Masakari called them
    # duplicates and stored nothing new.
    results = second.monitor.deliveries.stats.results
    assert results.get(('STOPPED', 'duplicate')) == 3
    assert ('STOPPED', 'accepted') not in results


def test_masakari_down_during_failure_is_delivered_once_when_back(
        cluster, fresh_masakari, start_monitor):
    masakari = fresh_masakari()
    names = masakari.add_hosts(masakari.host_names(3))
    cluster.add_nodes(names)
    monitor = start_monitor(masakari)
    victim = names[2]

    masakari.api.stop()
    cluster.fail_and_detect(victim)
    cluster.model.add_out_of_service_taint(victim)
    deliveries = monitor.monitor.deliveries

    def normal_pending_and_failing():
        pending = deliveries.pending().get(victim)
        return (pending is not None and pending.host_status == 'NORMAL'
                and deliveries.stats.results.get(('STOPPED', 'failed'),
                                                 0) >= 2)
    harness.wait_until(normal_pending_and_failing,
                       what='failed delivery attempts while masakari-api '
                            'is down')
    assert list(deliveries.pending()) == [victim]

    masakari.api.start()
    monitor.settled()
    # The UNKNOWN was superseded by the NORMAL while undelivered.
    assert harness.stored(masakari) == [(victim, 'STOPPED', 'NORMAL')]


def test_watch_faults_miss_nothing_and_invent_nothing(cluster, masakari,
                                                      start_monitor):
    names = masakari.add_hosts(masakari.host_names(8))
    cluster.add_nodes(names)
    monitor = start_monitor(masakari)
    reflector = monitor.nodes_reflector

    # A dropped watch while a node fails.
    cluster.server.faults.drop_watches()
    cluster.fail_and_detect(names[0])
    monitor.settled()

    # History expired (410) while another node fails: relist.
    watches = reflector.stats.watches
    cluster.server.faults.drop_watches()
    cluster.store.expire_history()
    cluster.fail_and_detect(names[1])
    harness.wait_until(lambda: reflector.stats.watches > watches,
                       what='a new watch')
    monitor.settled()

    # A black-holed API server for a while: a third node fails meanwhile.
    cluster.server.faults.black_hole(True)
    cluster.server.faults.drop_watches()
    errors = reflector.stats.errors
    cluster.fail_and_detect(names[2])
    harness.wait_until(lambda: reflector.stats.errors > errors,
                       what='the monitor to notice the black hole')
    cluster.server.faults.black_hole(False)
    monitor.settled(timeout=30)

    assert sorted(harness.stored(masakari)) == sorted(
        (name, 'STOPPED', 'UNKNOWN') for name in names[:3])


def test_node_without_status_does_not_blind_the_monitor(cluster, masakari,
                                                        start_monitor):
    names = masakari.add_hosts(masakari.host_names(101))
    cluster.add_nodes(names[:100])
    broken = names[100]
    cluster.store.create('nodes', {'metadata': {'name': broken}})
    monitor = start_monitor(masakari)
    cluster.fail_and_detect(names[42])
    monitor.settled()
    assert harness.stored(masakari) == [(names[42], 'STOPPED', 'UNKNOWN')]
    assert monitor.monitor.engine.counters.malformed_objects >= 1


def test_unknown_host_is_retried_until_registered(cluster, masakari,
                                                  start_monitor):
    names = masakari.host_names(2)
    masakari.add_hosts(names[:1])
    cluster.add_nodes(names)
    monitor = start_monitor(masakari)
    cluster.fail_and_detect(names[1])
    harness.wait_until(
        lambda: monitor.monitor.deliveries.stats.results.get(
            ('STOPPED', 'unknown_host'), 0) >= 1,
        what='masakari to answer unknown host')
    assert harness.stored(masakari) == []
    masakari.add_hosts(names[1:])
    monitor.settled()
    assert harness.stored(masakari) == [(names[1], 'STOPPED', 'UNKNOWN')]
