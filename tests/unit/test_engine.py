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

"""The decision engine: node states in, notifications out.

Raw Node dicts go through the real translator (as the reflector does), the
engine runs the real policy, and notifications land in a list. Time is a
ManualClock seen through a fake server clock (the API server's wall time
with a chosen skew), so windows and lease deadlines fire when a test
advances the clock and calls ``run_due``.
"""

import dataclasses
import logging

import pytest

from masakarimonitors_k8s.clock import ManualClock
from masakarimonitors_k8s import conf as k8s_conf
from masakarimonitors_k8s import engine as k8s_engine
from masakarimonitors_k8s.kube import nodes
from masakarimonitors_k8s import policy
from tests.unit import factories


class FakeServerClock:
    """The API server's clock: ours plus a fixed skew."""

    def __init__(self, clock, skew=0.0):
        self.clock = clock
        self.skew = skew

    def wall(self):
        return self.clock.wall() + self.skew

    def now(self):
        return policy.Instant(wall=self.wall(),
                              monotonic=self.clock.monotonic())


class Rig:
    """An engine with its clock, translator and outbox."""

    def __init__(self, *, skew=0.0, translator=None, **policy_overrides):
        self.clock = ManualClock()
        self.server = FakeServerClock(self.clock, skew)
        self.translator = translator or nodes.NodeTranslator(
            exclude_label='masakari.openstack.org/exclude')
        self.settings = dataclasses.replace(k8s_conf.PolicySettings(),
                                            **policy_overrides)
        self.sent = []
        self.engine = k8s_engine.DecisionEngine(
            translator=self.translator, settings=self.settings,
            outbox=self.sent.append, server_clock=self.server)

    def states(self, *objs):
        return [self.translator.translate(obj) for obj in objs]

    def replace(self, *objs):
        self.engine.replace_nodes(self.states(*objs))

    def event(self, kind, obj):
        self.engine.node_event(kind, self.translator.translate(obj))

    def lease(self, name, *, age=0.0, kind='ADDED'):
        self.engine.lease_event(kind, nodes.translate_lease(factories.lease(
            name, renew_time=self.server.wall() - age)))

    def advance(self, seconds):
        self.clock.advance(seconds)
        self.engine.run_due()

    def advance_to_deadline(self):
        deadline = self.engine.next_deadline()
        self.clock.advance(deadline - self.clock.monotonic())
        self.engine.run_due()

    @property
    def told(self):
        return [(n.hostname, n.event, n.host_status) for n in self.sent]

    def server_time(self):
        return self.server.wall()


def healthy(count):
    return [factories.ready_node('ok-%03d' % i) for i in range(count)]


def test_one_failure_among_a_hundred_and_a_broken_node():
    rig = Rig()
    broken = factories.ready_node('broken')
    del broken['status']

    rig.replace(*healthy(100), broken,
                factories.unknown_node('dead', since=rig.server_time() - 60))

    assert rig.told == [('dead', 'STOPPED', 'UNKNOWN')]
    assert rig.engine.counters.malformed_objects == 1
    counts = rig.engine.health_counts()
    assert counts[policy.Health.FAILED] == 1
    assert counts[policy.Health.HEALTHY] == 101


def test_events_after_the_list_drive_the_policy():
    rig = Rig()
    rig.replace(*healthy(3))
    down_at = rig.server_time()

    rig.event('MODIFIED', factories.unknown_node('ok-001', since=down_at))
    rig.event('MODIFIED', factories.unknown_node('ok-001', since=down_at))
    rig.advance(5)
    rig.event('MODIFIED', factories.powered_off_node('ok-001', since=down_at))

    assert rig.told == [('ok-001', 'STOPPED', 'UNKNOWN'),
                        ('ok-001', 'STOPPED', 'NORMAL')]
    assert {n.intent.generated_time for n in rig.sent} == {down_at}
    assert rig.sent[0].node == 'ok-001'


def test_cordon_and_not_ready_notify_nothing():
    rig = Rig()
    rig.replace(*healthy(2))

    rig.event('MODIFIED', factories.ready_node('ok-000', unschedulable=True))
    rig.event('MODIFIED', factories.not_ready_node('ok-001'))
    rig.advance(3600)

    assert rig.sent == []


def test_deleted_node_is_forgotten():
    rig = Rig()
    rig.replace(factories.unknown_node('n1'))

    rig.event('DELETED', factories.unknown_node('n1'))

    assert rig.engine.node('n1') is None
    assert rig.engine.assessment('n1') is None
    # Coming back as a new node is no recovery of the old one.
    rig.event('ADDED', factories.ready_node('n1'))
    rig.advance(3600)
    assert rig.told == [('n1', 'STOPPED', 'UNKNOWN')]


def test_every_way_out_leaves_nothing_of_the_host():
    rig = Rig()
    down_at = rig.server_time() - 60
    rig.replace(factories.ready_node('deleted'),
                factories.ready_node('excluded'),
                factories.ready_node('unlisted'),
                factories.powered_off_node('fenced', since=down_at))
    assert rig.engine.host('fenced').fenced

    rig.event('DELETED', factories.ready_node('deleted'))
    rig.event('MODIFIED', factories.ready_node(
        'excluded', labels={'masakari.openstack.org/exclude': 'true'}))
    rig.event('DELETED', factories.powered_off_node('fenced', since=down_at))
    rig.replace()

    # Only the tombstone of the fenced host is left, owed its NORMAL.
    assert list(rig.engine._hosts) == ['fenced']
    tombstone = rig.engine.host('fenced')
    assert tombstone.deleted
    assert rig.engine.node('fenced') is None
    assert rig.engine.zone_counts() == {}
    rig.engine.delivered('fenced', tombstone.episode)
    assert rig.engine._hosts == {}
    assert rig.engine.board.names() == []


def test_node_missing_from_a_relist_is_forgotten():
    rig = Rig()
    rig.replace(*healthy(3))

    rig.replace(*healthy(2))

    assert rig.engine.node('ok-002') is None
    assert rig.engine.node('ok-001') is not None


def test_excluded_node_is_ignored():
    rig = Rig()
    excluded = {'masakari.openstack.org/exclude': 'true'}

    rig.replace(factories.unknown_node('n1', labels=excluded))

    assert rig.sent == []
    assert rig.engine.node('n1') is None


def test_node_excluded_while_failed_is_dropped_silently():
    rig = Rig()
    rig.replace(factories.unknown_node('n1'))

    rig.event('MODIFIED', factories.ready_node(
        'n1', labels={'masakari.openstack.org/exclude': 'maintenance'}))
    rig.advance(3600)

    assert rig.told == [('n1', 'STOPPED', 'UNKNOWN')]
    assert rig.engine.assessment('n1') is None


def test_unmapped_node_is_counted_not_notified():
    rig = Rig(translator=nodes.NodeTranslator(hostname_source='label',
                                              hostname_key='masakari/host'))

    rig.replace(factories.unknown_node('n1'),
                factories.unknown_node('n2',
                                       labels={'masakari/host': 'cmp-2'}))

    assert rig.told == [('cmp-2', 'STOPPED', 'UNKNOWN')]
    assert rig.sent[0].node == 'n2'
    assert rig.engine.counters.unmapped_nodes == 1
    assert rig.engine.node('n1') is None


def test_node_that_loses_its_host_name_is_not_kept_frozen():
    by_label = nodes.NodeTranslator(hostname_source='label',
                                    hostname_key='masakari/host')
    rig = Rig(watch_leases=True, translator=by_label)
    rig.replace(factories.ready_node('n1',
                                     labels={'masakari/host': 'cmp-1'}))
    rig.lease('n1')

    rig.event('MODIFIED', factories.ready_node('n1'))
    rig.advance(3600)

    assert rig.sent == []
    assert rig.engine.node('n1') is None


def test_object_without_a_name_is_counted():
    rig = Rig()

    rig.engine.replace_nodes([None] + rig.states(*healthy(1)))
    rig.engine.node_event('MODIFIED', None)

    assert rig.engine.counters.malformed_objects == 2
    assert rig.engine.node('ok-000') is not None


def test_confirmation_window_fires_from_run_due():
    rig = Rig(confirmation_window=30.0)
    rig.replace(*healthy(1))
    rig.event('MODIFIED', factories.unknown_node(
        'ok-000', since=rig.server_time()))

    assert rig.sent == []
    assert rig.engine.next_deadline() == rig.clock.monotonic() + 30.0
    rig.advance(29)
    assert rig.sent == []
    rig.advance(1)
    assert rig.told == [('ok-000', 'STOPPED', 'UNKNOWN')]
    assert rig.engine.next_deadline() is None


def test_confirmation_window_cancelled_by_recovery():
    rig = Rig(confirmation_window=30.0)
    rig.replace(factories.unknown_node('n1', since=rig.server_time()))
    rig.advance(10)

    rig.event('MODIFIED', factories.ready_node('n1',
                                               since=rig.server_time()))
    rig.advance(60)

    assert rig.sent == []
    assert rig.engine.assessment('n1').health is policy.Health.HEALTHY


def test_recovery_window_fires_from_run_due():
    rig = Rig(recovery_window=30.0)
    rig.replace(factories.unknown_node('n1', since=rig.server_time()))
    rig.advance(100)
    back_at = rig.server_time()
    rig.event('MODIFIED', factories.ready_node('n1', since=back_at))

    rig.advance(29)
    assert rig.told == [('n1', 'STOPPED', 'UNKNOWN')]
    rig.advance(1)

    assert rig.told == [('n1', 'STOPPED', 'UNKNOWN'),
                        ('n1', 'STARTED', 'NORMAL')]
    assert rig.sent[-1].intent.generated_time == back_at


def test_recovery_fires_exactly_at_the_scheduled_deadline():
    rig = Rig(recovery_window=30.0)
    rig.clock.advance(0.1)
    rig.replace(factories.unknown_node('n1', since=rig.server_time()))
    rig.event('MODIFIED', factories.ready_node('n1',
                                               since=rig.server_time()))

    rig.advance_to_deadline()

    assert rig.told[-1] == ('n1', 'STARTED', 'NORMAL')


@pytest.mark.parametrize('skew', [0.0, 300.0, -300.0])
def test_stale_lease_fires_at_its_deadline_on_server_time(skew):
    rig = Rig(skew=skew, watch_leases=True, lease_stale_after=40.0)
    rig.replace(*healthy(2))
    rig.lease('ok-000')
    rig.lease('ok-001')

    assert rig.engine.next_deadline() == pytest.approx(
        rig.clock.monotonic() + 40.0, abs=0.01)
    rig.advance(30)
    rig.lease('ok-001')          # ok-001's kubelet renews, ok-000's is dead
    rig.advance(10)
    assert rig.sent == []
    rig.advance(0.01)

    assert rig.told == [('ok-000', 'STOPPED', 'UNKNOWN')]
    assert rig.sent[0].intent.generated_time == pytest.approx(
        rig.server_time() - 40.01, abs=0.01)
    rig.advance(29.9)
    assert len(rig.sent) == 1
    rig.advance(0.2)
    # Now no lease at all has been renewed for 40 s: the silence is the
    # fleet's or our view's, and proves nothing about ok-001's kubelet.
    assert len(rig.sent) == 1


def test_renewals_of_fresh_leases_of_healthy_hosts_are_not_evaluated():
    rig = Rig(watch_leases=True, lease_stale_after=40.0)
    rig.replace(*healthy(3))
    for name in ('ok-000', 'ok-001', 'ok-002'):
        rig.lease(name)
    counters = rig.engine.counters
    assert counters.lease_renewals_not_evaluated == 0   # first sight

    # Three kubelets renew every 10 s; ok-000's falls silent after 20 s.
    for second in range(10, 61, 10):
        rig.advance(10)
        for name in ('ok-000', 'ok-001', 'ok-002'):
            if name != 'ok-000' or second <= 20:
                rig.lease(name)
    assert rig.told == []
    rig.advance(0.01)                # 40 s after ok-000's last renewal

    assert rig.told == [('ok-000', 'STOPPED', 'UNKNOWN')]
    # 3 renewals at 10 s and at 20 s, then 2 at each of 30..60 s.
    assert counters.lease_renewals_not_evaluated == 14
    # Every earlier check of a renewed lease was superseded, not run.
    assert counters.lease_checks_superseded >= 3
    before = counters.lease_renewals_not_evaluated
    rig.lease('ok-000')              # its kubelet is back: evaluated

    assert rig.engine.host('ok-000').health is policy.Health.RECOVERING
    assert counters.lease_renewals_not_evaluated == before


def test_a_renewal_of_a_host_not_healthy_is_always_evaluated():
    rig = Rig(watch_leases=True, lease_stale_after=40.0)
    rig.replace(factories.unknown_node('n1', since=rig.server_time() - 60),
                *healthy(1))
    rig.lease('n1')
    rig.lease('ok-000')
    assert rig.told == [('n1', 'STOPPED', 'UNKNOWN')]
    rig.advance(10)

    rig.lease('n1')

    assert rig.engine.counters.lease_renewals_not_evaluated == 0


def test_stale_lease_needs_a_fresh_lease_view():
    rig = Rig(watch_leases=True)
    rig.replace(*healthy(2))
    rig.engine.set_lease_view_fresh(False)

    rig.lease('ok-000', age=3600)
    rig.advance(60)
    assert rig.sent == []

    rig.engine.set_lease_view_fresh(True)
    assert rig.sent == [], 'fresh, but no renewal heard for 60 s'
    rig.lease('ok-001')   # the view is alive: other kubelets renew
    # Silence is counted anew from the moment we can hear again.
    assert rig.sent == []
    rig.advance(30)
    rig.lease('ok-001')
    rig.advance(10.1)

    assert rig.told == [('ok-000', 'STOPPED', 'UNKNOWN')]


def test_no_lease_verdicts_while_no_lease_is_heard_at_all():
    rig = Rig(watch_leases=True)
    rig.replace(*healthy(3))
    for name in ('ok-000', 'ok-001', 'ok-002'):
        rig.lease(name)
    # A silently black-holed watch: nothing arrives, time passes.
    rig.advance(600)

    assert rig.sent == []


def test_listed_stale_lease_counts_only_after_silence_we_heard():
    rig = Rig(watch_leases=True)
    rig.replace(*healthy(3))

    rig.engine.replace_leases([
        nodes.translate_lease(factories.lease(
            'ok-%03d' % i, renew_time=rig.server_time() - age))
        for i, age in enumerate([5, 3600, 5])])
    # An hour-old renewal we have only just heard of proves nothing yet:
    # our view may be what lags (a backlog, a jump of the server's clock).
    assert rig.told == []

    rig.advance(20)
    rig.lease('ok-000', age=0)
    rig.lease('ok-002', age=0)
    rig.advance(21)

    assert rig.told == [('ok-001', 'STOPPED', 'UNKNOWN')]


def test_leases_are_ignored_unless_watched():
    rig = Rig(watch_leases=False)
    rig.replace(*healthy(1))

    rig.lease('ok-000', age=3600)
    rig.advance(3600)

    assert rig.sent == []
    assert rig.engine.next_deadline() is None


def test_lease_of_a_node_out_of_scope_schedules_nothing():
    rig = Rig(watch_leases=True)
    rig.replace(*healthy(1))

    rig.lease('control-plane-1')

    assert rig.engine.next_deadline() is None


def test_deleted_lease_no_longer_counts():
    rig = Rig(watch_leases=True)
    rig.replace(*healthy(1))
    rig.lease('ok-000', age=10)

    rig.lease('ok-000', kind='DELETED')
    rig.advance(3600)

    assert rig.sent == []


def test_notification_describes_itself():
    rig = Rig()
    rig.replace(factories.powered_off_node('n1'))

    text = rig.sent[0].describe()

    assert 'STOPPED' in text and 'NORMAL' in text and 'n1' in text


def test_fencing_none_warns_at_start_and_on_each_stopped(caplog):
    caplog.set_level(logging.WARNING)
    rig = Rig(fencing='none')
    assert 'UNSAFE' in caplog.text
    caplog.clear()

    rig.replace(factories.unknown_node('n1'))

    assert rig.told == [('n1', 'STOPPED', 'NORMAL')]
    assert 'UNSAFE' in caplog.text
