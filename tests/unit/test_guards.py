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

"""The storm guard and the notification gate, on a manual clock."""

import pytest

from masakarimonitors_k8s.clock import ManualClock
from masakarimonitors_k8s import conf
from masakarimonitors_k8s import engine
from masakarimonitors_k8s import guards
from masakarimonitors_k8s import policy


@pytest.mark.parametrize('text,size,allowed', [
    ('49%', 1, 1), ('49%', 2, 1), ('49%', 3, 1), ('49%', 10, 4),
    ('49%', 100, 49), ('100%', 7, 7), ('0%', 50, 1), ('3', 1000, 3),
    ('1', 3, 1), (' 33.3 % ', 10, 3),
])
def test_allowed_failures_per_zone(text, size, allowed):
    assert conf.UnhealthyLimit.parse(text).allowed(size) == allowed


@pytest.mark.parametrize('text', ['', 'many', '-1', '101%', '0', '5%%'])
def test_bad_limits_are_refused(text):
    with pytest.raises(ValueError):
        conf.UnhealthyLimit.parse(text)


def stopped(host, zone='a', status='UNKNOWN'):
    return engine.Notification(host, host, policy.Intent(
        policy.Event.STOPPED, status, 'OFFLINE', 1.0, 'test'), zone=zone)


def started(host, zone='a'):
    return engine.Notification(host, host, policy.Intent(
        policy.Event.STARTED, 'NORMAL', 'ONLINE', 2.0, 'test'), zone=zone)


class Rig:
    def __init__(self, *, monitored=10, limit='49%', settle=0.0):
        self.clock = ManualClock()
        self.monitored = monitored
        self.failed = set()
        self.sent = []
        self.held_log = []
        self.gate = guards.NotificationGate(
            limit=conf.UnhealthyLimit.parse(limit),
            zone_counts=lambda: {'a': (self.monitored, len(self.failed))},
            still_failed=lambda name: name in self.failed,
            outbox=self.sent.append, clock=self.clock,
            settle_window=settle,
            on_held=lambda n, why: self.held_log.append((n.hostname, why)))

    def fail(self, *hosts):
        for host in hosts:
            self.failed.add(host)
            self.gate.offer(stopped(host))
        self.gate.reconsider()

    def recover(self, *hosts):
        for host in hosts:
            self.failed.discard(host)
            self.gate.offer(started(host))
        self.gate.reconsider()

    def advance(self, seconds):
        self.clock.advance(seconds)
        self.gate.reconsider()

    def told(self):
        return [(n.hostname, n.intent.event.value) for n in self.sent]


def test_failures_within_the_limit_pass_at_once_without_a_window():
    rig = Rig()
    rig.fail('h1', 'h2')
    assert rig.told() == [('h1', 'STOPPED'), ('h2', 'STOPPED')]
    assert rig.gate.holding() == {'storm': False}


def test_a_storm_holds_new_stopped_and_says_why():
    rig = Rig()
    rig.fail('h1', 'h2', 'h3', 'h4')
    rig.fail('h5')
    assert [h for h, _ in rig.told()] == ['h1', 'h2', 'h3', 'h4']
    assert rig.gate.holding() == {'storm': True}
    assert list(rig.gate.held()) == ['h5']
    assert '5 of 10' in rig.held_log[0][1]


def test_settle_window_lets_a_burst_show_itself_first():
    rig = Rig(settle=15.0)
    rig.fail('h1', 'h2')
    rig.advance(5)
    rig.fail('h3', 'h4', 'h5', 'h6')
    rig.advance(20)
    assert rig.sent == []
    assert sorted(rig.gate.held()) == ['h1', 'h2', 'h3', 'h4', 'h5', 'h6']


def test_single_failure_waits_the_settle_window_exactly():
    rig = Rig(settle=15.0)
    rig.fail('h1')
    rig.advance(14.9)
    assert rig.sent == []
    assert rig.gate.next_deadline() == pytest.approx(
        rig.clock.monotonic() + 0.1)
    rig.advance(0.1)
    assert rig.told() == [('h1', 'STOPPED')]


def test_evidence_for_an_announced_host_is_not_delayed():
    rig = Rig(settle=15.0)
    rig.fail('h1')
    rig.advance(15)
    rig.gate.offer(stopped('h1', status='NORMAL'))
    assert [n.host_status for n in rig.sent] == ['UNKNOWN', 'NORMAL']


def test_healed_partition_sends_nothing_late():
    rig = Rig(settle=15.0)
    rig.fail(*['h%d' % i for i in range(7)])
    rig.advance(20)
    assert len(rig.gate.held()) == 7
    # Nodes come back one by one; the storm ends on the way.
    for i in range(6):
        rig.recover('h%d' % i)
        rig.advance(1)
    rig.advance(30)
    # h6 is still down: reported once, after settling again; nobody else.
    assert rig.told() == [('h6', 'STOPPED')]


def test_recovery_of_a_held_host_sends_no_started():
    rig = Rig()
    rig.fail(*['h%d' % i for i in range(6)])
    held = sorted(rig.gate.held())
    rig.recover(held[0])
    assert ('h%s' % held[0][1:], 'STARTED') not in rig.told()
    assert held[0] not in rig.gate.held()


def test_started_follows_an_announced_stopped():
    rig = Rig()
    rig.fail('h1')
    rig.recover('h1')
    assert rig.told() == [('h1', 'STOPPED'), ('h1', 'STARTED')]


def test_fencing_needs_an_announced_host_outside_a_storm():
    rig = Rig(settle=15.0)
    rig.fail('h1')
    assert not rig.gate.may_fence('h1', 'a')
    rig.advance(15)
    assert rig.gate.may_fence('h1', 'a')
    rig.fail('h2', 'h3', 'h4', 'h5')
    assert not rig.gate.may_fence('h1', 'a')
