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

"""Two replicas, one Lease: only the leader tells Masakari anything."""

import pytest

from masakarimonitors_k8s.testing import harness

pytestmark = pytest.mark.timeout(120)


def replicas(cluster, masakari, count=2):
    monitors = [harness.MonitorUnderTest(
        cluster, masakari, harness.fast_settings(leader=harness.fast_leader()),
        identity='monitor-%d' % index) for index in range(count)]
    for monitor in monitors:
        harness.wait_until(monitor.synced, what='the initial list')
    harness.wait_until(
        lambda: sum(m.monitor.leader.is_leader for m in monitors) == 1,
        what='one leader')
    return monitors


def leader_of(monitors):
    return next(m for m in monitors if m.monitor.leader.is_leader)


def attempts(monitor):
    return sum(monitor.monitor.deliveries.stats.results.values())


def test_only_the_leader_notifies(cluster, masakari):
    names = masakari.add_hosts(masakari.host_names(3))
    cluster.add_nodes(names)
    monitors = replicas(cluster, masakari)
    try:
        leader = leader_of(monitors)
        standby = next(m for m in monitors if m is not leader)
        cluster.fail_and_detect(names[0])
        leader.settled()
        cluster.model.add_out_of_service_taint(names[0])
        leader.settled()
        assert harness.stored(masakari) == [(names[0], 'STOPPED', 'UNKNOWN'),
                                            (names[0], 'STOPPED', 'NORMAL')]
        assert attempts(standby) == 0
        # The standby decided the same and holds it, undelivered (once it
        # has seen the taint: under load it may lag the leader).
        standby.settled(delivered=False)
        assert attempts(standby) == 0
        assert standby.monitor.deliveries.pending()[names[0]].host_status \
            == 'NORMAL'
        lease = cluster.store.get('leases', 'masakari-hostmonitor',
                                  namespace=harness.LEADER_NAMESPACE)
        assert lease['spec']['holderIdentity'] == (
            leader.monitor.leader.identity)
    finally:
        for monitor in monitors:
            monitor.stop()


def test_standby_takes_over_a_crashed_leader_mid_failure(cluster, masakari):
    names = masakari.add_hosts(masakari.host_names(3))
    cluster.add_nodes(names)
    monitors = replicas(cluster, masakari)
    leader = leader_of(monitors)
    standby = next(m for m in monitors if m is not leader)
    try:
        cluster.fail_and_detect(names[1])
        leader.settled()
        assert harness.stored(masakari) == [(names[1], 'STOPPED', 'UNKNOWN')]

        leader.crash()
        cluster.model.add_out_of_service_taint(names[1])
        harness.wait_until(lambda: standby.monitor.leader.is_leader,
                           timeout=10, what='the standby to take over')
        standby.settled()
        # Exactly one STOPPED/NORMAL; the UNKNOWN the old leader delivered
        # was superseded in the new leader's queue, not sent again.
        assert harness.stored(masakari) == [(names[1], 'STOPPED', 'UNKNOWN'),
                                            (names[1], 'STOPPED', 'NORMAL')]
        lease = cluster.store.get('leases', 'masakari-hostmonitor',
                                  namespace=harness.LEADER_NAMESPACE)
        assert lease['spec']['holderIdentity'] == 'monitor-%d' % (
            monitors.index(standby))
        assert lease['spec']['leaseTransitions'] >= 1
    finally:
        standby.stop()


def test_clean_stop_hands_the_lease_over_at_once(cluster, masakari):
    names = masakari.add_hosts(masakari.host_names(1))
    cluster.add_nodes(names)
    monitors = replicas(cluster, masakari)
    leader = leader_of(monitors)
    standby = next(m for m in monitors if m is not leader)
    try:
        leader.stop()
        lease = cluster.store.get('leases', 'masakari-hostmonitor',
                                  namespace=harness.LEADER_NAMESPACE)
        assert not lease['spec'].get('holderIdentity')
        harness.wait_until(lambda: standby.monitor.leader.is_leader,
                           timeout=5, what='the standby to lead')
    finally:
        standby.stop()


def test_leader_loses_leadership_when_it_cannot_renew(cluster, masakari):
    names = masakari.add_hosts(masakari.host_names(2))
    cluster.add_nodes(names)
    monitors = replicas(cluster, masakari, count=1)
    monitor = monitors[0]
    try:
        # Renewals fail: within renew_deadline the replica stops acting,
        # whatever its elector thread is doing.
        cluster.server.faults.fail_next(1000, 503, path_prefix=(
            '/apis/coordination.k8s.io/v1/namespaces/openstack/leases'))
        harness.wait_until(lambda: not monitor.monitor.leader.is_leader,
                           timeout=5, what='leadership to lapse')
        cluster.fail_and_detect(names[0])
        harness.wait_until(
            lambda: names[0] in monitor.monitor.deliveries.pending(),
            what='the decision')
        assert harness.stored(masakari) == []
        cluster.server.faults.clear()
        harness.wait_until(lambda: monitor.monitor.leader.is_leader,
                           timeout=5, what='leadership back')
        monitor.settled()
        assert harness.stored(masakari) == [(names[0], 'STOPPED', 'UNKNOWN')]
    finally:
        monitor.stop()
