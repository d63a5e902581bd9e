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

"""What /healthz and /readyz answer for a monitor in each state."""

import threading

import pytest

from masakarimonitors_k8s.observability import probes
from tests.unit.observability import fakes


@pytest.fixture
def monitor():
    return fakes.FakeMonitor(leases=True)


def test_alive_when_every_loop_runs(monitor):
    result = probes.liveness(monitor)
    assert result.ok
    assert 'watch of nodes' in result.detail


def test_a_dead_loop_is_named(monitor):
    monitor.reflectors[1].alive = False
    result = probes.liveness(monitor)
    assert not result.ok
    assert result.detail == 'not running: watch of leases'


def test_a_dead_thread_is_named_by_its_thread_name(monitor):
    thread = threading.Thread(target=lambda: None, name='decisions')
    thread.start()
    thread.join()
    monitor.loops = lambda: [thread] + list(monitor.reflectors)
    result = probes.liveness(monitor)
    assert (result.ok, result.detail) == (False, 'not running: decisions')


def test_stopping_is_not_alive(monitor):
    monitor.stop_event.set()
    assert not probes.liveness(monitor).ok


def test_not_ready_before_the_first_list(monitor):
    result = probes.readiness(monitor)
    assert not result.ok
    assert 'initial list of nodes' in result.detail


def test_ready_after_the_first_list_even_while_reconnecting(monitor):
    stats = monitor.reflectors[0].stats
    stats.lists, stats.synced, stats.resource_version = 1, True, '42'
    result = probes.readiness(monitor)
    assert result.ok
    assert 'resourceVersion 42' in result.detail
    assert 'view current' in result.detail
    stats.synced = False
    result = probes.readiness(monitor)
    assert result.ok
    assert 'stale' in result.detail


def test_only_the_nodes_reflector_decides(monitor):
    monitor.reflectors[1].stats.lists = 1
    assert not probes.readiness(monitor).ok


@pytest.mark.parametrize('leader, ready, says', [
    (fakes.FakeLeader(is_leader=True, holder='me'), True, 'leader'),
    (fakes.FakeLeader(is_leader=False, holder='other'), True,
     'standby (leader: other)'),
    (fakes.FakeLeader(is_leader=False, holder=None), False,
     'has not seen the lease'),
])
def test_leader_election_must_have_a_view(monitor, leader, ready, says):
    monitor.reflectors[0].stats.lists = 1
    monitor.leader = leader
    result = probes.readiness(monitor)
    assert result.ok is ready
    assert says in result.detail


def test_an_explicit_ready_flag_of_the_elector_wins(monitor):
    monitor.reflectors[0].stats.lists = 1
    monitor.leader = fakes.FakeLeader(is_leader=False, holder=None)
    monitor.leader.ready = True
    assert probes.readiness(monitor).ok
