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

"""Storm and stale-view guards, end to end over HTTP.

The monitor runs on the cluster's manual clock here, so the guards'
windows pass when the test moves time, not by waiting.
"""

import pytest

from masakarimonitors_k8s import conf as k8s_conf
from masakarimonitors_k8s.testing import harness

pytestmark = pytest.mark.timeout(120)


def start(cluster, masakari, **policy):
    monitor = harness.MonitorUnderTest(
        cluster, masakari, harness.fast_settings(
            guards=k8s_conf.GuardSettings(), **policy),
        clock=cluster.clock)
    harness.wait_until(monitor.synced, what='the initial list')
    return monitor


def step(cluster, monitor, seconds, *, every=5.0):
    """Move cluster and monitor time together, step by step."""
    while seconds > 0:
        cluster.model.advance(min(every, seconds))
        seconds -= every
        monitor.settled()


def test_partition_of_most_nodes_is_held_then_dropped_when_healed(
        cluster, masakari):
    names = masakari.add_hosts(masakari.host_names(10))
    cluster.add_nodes(names)
    monitor = start(cluster, masakari)
    gate = monitor.monitor.guards
    try:
        cut_off, truly_dead = names[:6], names[6]
        cluster.model.partition(cut_off)
        cluster.model.power_off(truly_dead)
        step(cluster, monitor, 90)
        # 7 of 10 failed > 49 %: nothing leaves, and it says why.
        assert harness.stored(masakari) == []
        assert gate.holding() == {'storm': True}
        assert sorted(gate.held()) == sorted(cut_off + [truly_dead])

        cluster.model.heal_partition(cut_off)
        step(cluster, monitor, 30)
        # The healed nodes' STOPPEDs are dropped, not sent late; the one
        # host that is still down is reported, once, after settling again
        # (which the monitor's decision loop notices within a second).
        harness.wait_until(
            lambda: harness.stored(masakari) == [(truly_dead, 'STOPPED',
                                                  'UNKNOWN')],
            what='only the truly dead host')
        assert gate.holding() == {'storm': False}
        assert gate.held() == {} and gate.settling() == {}
    finally:
        monitor.stop()


def test_settle_window_delays_a_single_failure_then_sends_it(
        cluster, masakari):
    names = masakari.add_hosts(masakari.host_names(4))
    cluster.add_nodes(names)
    monitor = start(cluster, masakari)
    try:
        cluster.model.power_off(names[0])
        step(cluster, monitor, 65)
        assert monitor.monitor.engine.is_failed(names[0])
        step(cluster, monitor, 15)
        harness.wait_until(
            lambda: harness.stored(masakari) == [(names[0], 'STOPPED',
                                                  'UNKNOWN')],
            what='the settled STOPPED')
        # Evidence for a host already reported is not delayed.
        cluster.model.add_out_of_service_taint(names[0])
        monitor.settled()
        assert harness.stored(masakari)[-1] == (names[0], 'STOPPED',
                                                'NORMAL')
    finally:
        monitor.stop()


def test_api_unreachable_for_ten_minutes_makes_no_verdicts(cluster,
                                                           masakari):
    names = masakari.add_hosts(masakari.host_names(6))
    cluster.add_nodes(names)
    monitor = start(cluster, masakari, watch_leases=True)
    engine = monitor.monitor.engine
    try:
        step(cluster, monitor, 30)
        cluster.server.faults.black_hole(True)
        cluster.server.faults.drop_watches()
        cluster.model.power_off(names[2])
        # Ten minutes of cluster and monitor time without a word from the
        # API server: every lease looks old, but nothing was heard.
        for _ in range(60):
            cluster.model.advance(10)
        harness.wait_until(
            lambda: not monitor.nodes_reflector.stats.synced,
            what='the monitor to notice the black hole')
        assert harness.stored(masakari) == []
        assert all(engine.assessment(name).health.value == 'healthy'
                   for name in names)

        cluster.server.faults.black_hole(False)
        step(cluster, monitor, 20)
        harness.wait_until(
            lambda: harness.stored(masakari) == [(names[2], 'STOPPED',
                                                  'UNKNOWN')],
            what='the one real failure')
        assert [name for name in names if engine.is_failed(name)] == [
            names[2]]
    finally:
        monitor.stop()
