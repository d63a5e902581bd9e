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

"""Regression tests for the decision-path review, one or more per finding.

Each test is a scenario of the review turned into assertions, on a whole
Monitor (tests/unit/monitor_rig.py) unless the finding is about one part.
The review's finding number is in each test's name.
"""

import dataclasses
import logging
import threading

from masakarimonitors_k8s.clock import ManualClock
from masakarimonitors_k8s import conf as k8s_conf
from masakarimonitors_k8s import engine as k8s_engine
from masakarimonitors_k8s.fencing import redfish
from masakarimonitors_k8s import guards
from masakarimonitors_k8s.kube import nodes
from masakarimonitors_k8s import leader as k8s_leader
from masakarimonitors_k8s import policy
from tests.unit import factories
from tests.unit.monitor_rig import MonitorRig

FENCE = 'redfish-power-off'


# -- 1: fencing follows the current state ----------------------------------

def test_f01_a_host_ready_again_is_not_powered_off():
    rig = MonitorRig(fence_action=FENCE)
    rig.set('n1', ready='Unknown')
    rig.advance(10)
    rig.set('n1', ready='True')     # back by itself, within the settle
    for _ in range(4):
        rig.advance(15)

    assert rig.bmc.power_offs == []
    assert rig.kube.patches == []
    assert rig.sent() == []
    assert rig.monitor.fencing.wanted() == {}


def test_f01_a_deleted_node_is_never_powered_off():
    rig = MonitorRig(fence_action=FENCE)
    rig.set('n1', ready='Unknown')
    rig.advance(5)
    rig.delete('n1')
    for _ in range(8):
        rig.advance(30)

    assert rig.bmc.power_offs == []
    assert rig.monitor.fencing.wanted() == {}


def test_f01_an_excluded_node_is_never_powered_off():
    rig = MonitorRig(fence_action=FENCE)
    rig.set('n1', ready='Unknown')
    rig.advance(5)
    rig.set('n1', excluded=True)
    for _ in range(8):
        rig.advance(30)

    assert rig.bmc.power_offs == []
    assert rig.kube.patches == []
    assert rig.monitor.fencing.wanted() == {}


def test_f01_a_node_deleted_during_the_power_off_ends_the_work():
    rig = MonitorRig(fence_action=FENCE)
    rig.set('n1', ready='Unknown')
    rig.on_power_off = lambda name: setattr(rig.world[name], 'exists',
                                            False)
    for _ in range(8):
        rig.advance(30)

    assert rig.bmc.power_offs == ['n1']     # once, not every 30 s
    assert rig.monitor.fencing.wanted() == {}


def test_f01_the_power_off_re_reads_the_host_right_before_it():
    rig = MonitorRig(fence_action=FENCE, settle=0.0)
    rig.set('n1', ready='Unknown')
    [(state, episode)] = rig.monitor.fencing.wanted().values()
    rig.set('n1', ready='True')
    # The work list was already pruned; an attempt on the old entry (one
    # in flight in the fencing thread) must still refuse.
    assert rig.monitor.fencing.work(state, episode) is True

    assert rig.bmc.power_offs == []


# -- 3: a cluster-wide storm limit ---------------------------------------

def test_f03_many_small_zones_down_at_once_hold_everything():
    names = ['n%d' % i for i in range(8)]
    rig = MonitorRig(names, zones={n: 'rack-%s' % n for n in names},
                     fence_action=FENCE)
    for name in names:
        rig.set(name, ready='Unknown')
    for _ in range(6):
        rig.advance(30)

    assert rig.sent() == []
    assert rig.bmc.power_offs == []
    assert guards.CLUSTER in rig.monitor.guards.storm_zones()


def test_f03_one_failure_among_small_zones_still_passes():
    names = ['n%d' % i for i in range(8)]
    rig = MonitorRig(names, zones={n: 'rack-%s' % n for n in names})
    rig.set('n0', ready='Unknown', tainted=True)
    rig.advance(30)

    assert rig.sent() == [('n0', 'STOPPED', 'NORMAL')]


def test_f03_small_zones_are_warned_about_once(caplog):
    names = ['n%d' % i for i in range(6)]
    with caplog.at_level(logging.WARNING):
        MonitorRig(names, zones={n: 'rack-%s' % n for n in names})

    warnings = [r.getMessage() for r in caplog.records
                if 'fewer than 3 monitored nodes' in r.getMessage()]
    assert len(warnings) == 1


# -- 4: "back" means back now --------------------------------------------

def test_f04_a_host_back_within_the_settle_window_is_not_reported():
    rig = MonitorRig(fencing='none')
    rig.set('n1', ready='Unknown')
    rig.advance(8)
    rig.set('n1', ready='True')
    for _ in range(6):
        rig.advance(10)

    assert rig.sent() == []


def test_f04_a_queued_normal_is_withdrawn_when_the_host_is_excluded():
    rig = MonitorRig(settle=0.0)
    rig.masakari.up = False
    rig.set('n1', ready='Unknown', tainted=True)
    rig.advance(5)
    rig.set('n1', ready='True', tainted=False, excluded=True)
    rig.masakari.up = True
    rig.advance(120)

    assert rig.sent() == []
    assert rig.monitor.deliveries.pending() == {}


def test_f04_a_queued_normal_waits_while_the_host_is_ready_again():
    rig = MonitorRig(settle=0.0, recovery=60.0)
    rig.masakari.up = False
    rig.set('n1', ready='Unknown', tainted=True)
    rig.set('n1', ready='True', tainted=False)
    rig.masakari.up = True
    rig.advance(20)
    assert rig.sent() == []

    # Recovered: the NORMAL is never sent. The STARTED is (Masakari only
    # records it), since another replica or this monitor before a restart
    # may have delivered the STOPPED.
    rig.advance(60)
    assert rig.sent() == [('n1', 'STARTED', 'NORMAL')]
    assert rig.monitor.deliveries.pending() == {}


def test_f04_a_bmc_off_reading_is_void_after_the_host_was_ready():
    rig = MonitorRig(fencing='redfish', settle=0.0)
    rig.masakari.up = False
    rig.world['n1'].power = 'Off'
    rig.set('n1', ready='Unknown')
    rig.advance(1)
    rig.world['n1'].power = 'On'
    rig.set('n1', ready='True')             # powered on, kubelet Ready
    rig.advance(20)
    rig.set('n1', ready='Unknown')          # a partition while booting
    rig.masakari.up = True
    for _ in range(4):
        rig.advance(30)

    assert ('n1', 'STOPPED', 'NORMAL') not in rig.sent()


# -- 5: bookkeeping per failure episode ----------------------------------

def test_f05_a_repeat_failure_after_delete_settles_again():
    names = ['n%d' % i for i in range(1, 7)]
    rig = MonitorRig(names, fence_action=FENCE)
    rig.set('n1', ready='Unknown')
    rig.advance(15)
    assert rig.sent()[0] == ('n1', 'STOPPED', 'UNKNOWN')
    assert rig.bmc.power_offs == ['n1']     # fenced in episode 1
    rig.delete('n1')
    rig.advance(600)
    rig.recreate('n1', power='On')
    rig.set('n1', ready='Unknown')

    assert not rig.monitor.guards.may_fence('n1', '')
    assert 'n1' in rig.monitor.guards.settling()
    rig.fence()
    assert rig.bmc.power_offs == ['n1']     # not again before settling


def test_f05_announcements_end_with_the_episode():
    rig = MonitorRig(settle=0.0)
    rig.set('n1', ready='Unknown')
    assert set(rig.monitor.guards.announced()) == {'n1'}
    rig.delete('n1')

    assert rig.monitor.guards.announced() == {}


# -- 6 (review 10): deleting a failed Node loses nothing -----------------

def test_f10_a_deleted_node_with_evidence_still_gets_its_normal():
    rig = MonitorRig(settle=0.0)
    rig.masakari.up = False
    rig.set('n1', ready='Unknown', tainted=True)
    rig.advance(1)
    rig.delete('n1')
    rig.masakari.up = True
    rig.advance(30)

    assert rig.sent() == [('n1', 'STOPPED', 'NORMAL')]
    assert rig.monitor.engine.host('n1') is None    # tombstone gone


def test_f10_a_failed_unfenced_node_deleted_is_logged_loudly(caplog):
    rig = MonitorRig()
    rig.set('n1', ready='Unknown')
    with caplog.at_level(logging.ERROR):
        rig.delete('n1')

    assert any('WITHOUT FENCING EVIDENCE' in r.getMessage()
               for r in caplog.records)


def test_f10_reboot_remediation_ready_false_plus_taint_is_reported():
    rig = MonitorRig(settle=0.0)
    rig.set('n1', ready='False')
    rig.advance(300)
    rig.set('n1', tainted=True)     # SNR rebooted it and declared it
    rig.advance(1)

    assert rig.sent() == [('n1', 'STOPPED', 'NORMAL')]


# -- 14: cordon is planned maintenance -----------------------------------

def test_f14_a_cordoned_node_is_not_powered_off():
    rig = MonitorRig(fence_action=FENCE)
    rig.set('n1', cordoned=True)
    rig.set('n1', ready='Unknown')      # a long reboot
    for _ in range(8):
        rig.advance(30)

    assert rig.bmc.power_offs == []
    rig.set('n1', cordoned=False)       # maintenance over, still dead
    for _ in range(3):
        rig.advance(30)
    assert rig.bmc.power_offs == ['n1']


def test_f14_an_off_reading_during_a_cordon_gives_no_normal():
    rig = MonitorRig(fencing='redfish', settle=0.0)
    rig.set('n1', cordoned=True)
    rig.world['n1'].power = 'Off'        # power cycle of a firmware update
    rig.set('n1', ready='Unknown')
    for _ in range(4):
        rig.advance(30)

    assert rig.sent() == [('n1', 'STOPPED', 'UNKNOWN')]


def test_f14_an_option_lets_cordoned_nodes_be_fenced():
    rig = MonitorRig(fence_action=FENCE, cordon_is_maintenance=False)
    rig.set('n1', cordoned=True)
    rig.set('n1', ready='Unknown')
    for _ in range(3):
        rig.advance(30)

    assert rig.bmc.power_offs == ['n1']


# -- 16: leadership is re-checked before each action ---------------------

def test_f16_leadership_lost_during_the_power_off_leaves_the_taint():
    rig = MonitorRig(fence_action=FENCE, settle=0.0)
    rig.on_power_off = lambda name: setattr(rig.leader, 'is_leader', False)
    rig.set('n1', ready='Unknown')
    rig.advance(1)

    assert rig.bmc.power_offs == ['n1']
    assert rig.kube.patches == []


# -- 9: a blind leader steps down ----------------------------------------

class LeaseKube:
    """Just enough of a Lease API for one elector."""

    def __init__(self):
        self.lease = None
        self.version = 0

    def get_json(self, path, query=None, *, timeout=None):
        from masakarimonitors_k8s.kube import client
        if self.lease is None:
            raise client.ApiError('404', status=404)
        return dict(
            self.lease, metadata=dict(self.lease['metadata']),
            spec=dict(self.lease['spec']))

    def post_json(self, path, body, *, timeout=None):
        self.put_json(path, body)

    def put_json(self, path, body, *, timeout=None):
        self.version += 1
        body = dict(body, metadata=dict(body['metadata'],
                                        resourceVersion=str(self.version)))
        self.lease = body
        return body


def test_f09_a_leader_with_a_stale_node_view_releases_the_lease():
    clock = ManualClock()
    kube = LeaseKube()
    healthy = {'now': True}
    elector = k8s_leader.LeaderElector(
        kube=kube, settings=k8s_conf.LeaderSettings(enabled=True),
        namespace='ns', identity='a', clock=clock,
        stop_event=threading.Event(), view_healthy=lambda: healthy['now'])
    assert elector.try_once() is True

    healthy['now'] = False
    assert elector.try_once() is False
    assert kube.lease['spec']['holderIdentity'] is None
    assert not elector.is_leader


def test_f09_the_monitor_judges_its_node_view_on_a_bound():
    rig = MonitorRig()
    monitor = rig.monitor
    bound = monitor.settings.leader.max_stale_view
    monitor.handle(('nodes', 'fresh', False))
    rig.clock.advance(bound - 1)
    assert monitor.node_view_healthy()
    rig.clock.advance(2)
    assert not monitor.node_view_healthy()
    monitor.handle(('nodes', 'fresh', True))
    assert monitor.node_view_healthy()


# -- 11: lease staleness on our own observation --------------------------

LEASES = dataclasses.replace(k8s_conf.PolicySettings(), watch_leases=True)


def test_f11_a_kubelet_clock_ahead_does_not_hide_a_silent_lease():
    node = nodes.NodeTranslator().translate(factories.ready_node('n1'))
    now_wall = factories.EPOCH + 1000
    for skew in (0, -30, +120):
        lease = nodes.translate_lease(factories.lease(
            'n1', renew_time=now_wall - 100 + skew))
        lease = dataclasses.replace(lease, observed_at=0.0)

        signal = policy.read_signal(node, lease, now_wall=now_wall,
                                    settings=LEASES, lease_view_fresh=True,
                                    now_monotonic=100.0)

        assert signal.kind is policy.SignalKind.DOWN, skew
        # the failure time is our observation on the server's clock
        assert signal.since == now_wall - 100


# -- 12: generated_time of a late NORMAL ---------------------------------

class ServerClock:
    def __init__(self, clock):
        self.clock = clock

    def now(self):
        return policy.Instant(self.clock.wall(), self.clock.monotonic())


def _engine(clock, sent):
    return k8s_engine.DecisionEngine(
        translator=nodes.NodeTranslator(), settings=k8s_conf.PolicySettings(),
        outbox=sent.append, server_clock=ServerClock(clock))


def test_f12_a_late_normal_carries_the_time_of_its_evidence():
    clock = ManualClock(wall=factories.EPOCH + 4 * 3600)
    translate = nodes.NodeTranslator().translate
    down = factories.unknown_node('n1', since=factories.EPOCH)
    tainted_at = factories.EPOCH + 3 * 3600
    fenced = factories.node(
        'n1', ready='Unknown', since=factories.EPOCH,
        taints=[factories.out_of_service_taint(time_added=tainted_at)])
    sent = []
    engine = _engine(clock, sent)
    engine.replace_nodes([translate(down)])
    engine.node_event('MODIFIED', translate(fenced))

    assert [n.intent.generated_time for n in sent] == [factories.EPOCH,
                                                       tainted_at]
    # A restarted monitor rebuilds the same NORMAL.
    again = []
    clock.advance(600)
    _engine(clock, again).replace_nodes([translate(fenced)])
    assert again[0].intent.generated_time == tainted_at


# -- 7: a lease relist is O(N) -------------------------------------------

def test_f07_a_lease_relist_reschedules_once():
    clock = ManualClock(wall=factories.EPOCH)
    engine = k8s_engine.DecisionEngine(
        translator=nodes.NodeTranslator(), settings=LEASES,
        outbox=lambda n: None, server_clock=ServerClock(clock))
    engine.lease_view_fresh = False
    names = ['node-%04d' % i for i in range(300)]
    engine.replace_nodes([nodes.NodeTranslator().translate(
        factories.ready_node(name)) for name in names])
    calls = {'schedule': 0, 'reschedule': 0}
    schedule = engine._schedule_lease_check
    reschedule = engine._reschedule_lease_checks

    def counted_schedule(lease):
        calls['schedule'] += 1
        schedule(lease)

    def counted_reschedule():
        calls['reschedule'] += 1
        reschedule()

    engine._schedule_lease_check = counted_schedule
    engine._reschedule_lease_checks = counted_reschedule
    engine.replace_leases([nodes.translate_lease(factories.lease(
        name, renew_time=factories.EPOCH)) for name in names])

    assert calls == {'schedule': len(names), 'reschedule': 1}


def test_f10_an_earlier_answer_does_not_cancel_the_owed_normal():
    rig = MonitorRig(settle=0.0)
    rig.set('n1', ready='Unknown')              # UNKNOWN queued
    unknown, = rig.monitor.deliveries.pending().values()
    rig.set('n1', tainted=True)                 # NORMAL supersedes it
    rig.masakari.up = False
    rig.delete('n1')
    # The UNKNOWN's answer arrives late (its POST was in flight).
    rig.monitor._delivered(unknown, None)
    rig.step()
    rig.masakari.up = True
    rig.advance(30)

    assert rig.sent() == [('n1', 'STOPPED', 'NORMAL')]


def test_f10_a_node_deleted_while_ready_again_is_owed_nothing():
    rig = MonitorRig(settle=0.0)
    rig.masakari.up = False
    rig.set('n1', ready='Unknown', tainted=True)
    rig.set('n1', ready='True')         # rebooted, taint not yet removed
    rig.delete('n1')
    rig.masakari.up = True
    rig.advance(30)

    assert rig.sent() == []


def test_f11_the_engine_fires_the_lease_deadline_on_its_own_clock():
    clock = ManualClock(wall=factories.EPOCH)
    sent = []
    engine = k8s_engine.DecisionEngine(
        translator=nodes.NodeTranslator(), settings=LEASES,
        outbox=sent.append, server_clock=ServerClock(clock))
    engine.replace_nodes([nodes.NodeTranslator().translate(
        factories.ready_node('n1'))])
    # The kubelet's clock runs 120 s ahead of the API server's.
    engine.replace_leases([nodes.translate_lease(factories.lease(
        'n1', renew_time=clock.wall() + 120))])
    engine.set_lease_view_fresh(True)
    for _ in range(5):      # other kubelets keep the lease view alive
        clock.advance(10)
        engine.lease_event('MODIFIED', nodes.translate_lease(
            factories.lease('other', renew_time=clock.wall())))
        engine.run_due()

    assert engine.assessment('n1').health is policy.Health.FAILED
    assert [n.event for n in sent] == ['STOPPED']


def test_f14_a_bmc_off_after_the_cordon_is_lifted_gives_normal():
    # Found by the model test: the reading refused during the cordon
    # ended the BMC checks for good.
    rig = MonitorRig(fencing='redfish', settle=0.0)
    rig.set('n2', ready='Unknown')
    rig.set('n2', cordoned=True)
    rig.world['n2'].power = 'Off'
    for _ in range(4):
        rig.advance(31)
    assert rig.sent() == [('n2', 'STOPPED', 'UNKNOWN')]

    rig.set('n2', cordoned=False)
    for _ in range(2):
        rig.advance(31)
    assert rig.sent()[-1] == ('n2', 'STOPPED', 'NORMAL')


def test_f10_evidence_that_is_gone_does_not_follow_a_deleted_node():
    # Found by the model test: fenced, back Ready without the taint, then
    # Ready=False (failed again, same episode) kept the old evidence, and
    # the Node's deletion then delivered a NORMAL for a live kubelet.
    rig = MonitorRig(settle=0.0)
    rig.masakari.up = False
    rig.set('n1', ready='Unknown', tainted=True)
    rig.set('n1', ready='True')         # rebooted, still tainted
    rig.set('n1', tainted=False)        # recovering
    rig.set('n1', ready='False')        # failed again, same episode
    rig.delete('n1')
    rig.masakari.up = True
    rig.advance(30)

    assert ('n1', 'STOPPED', 'NORMAL') not in rig.sent()


def test_a_stop_during_the_power_off_is_not_a_fencing_failure():
    rig = MonitorRig(fence_action=FENCE)
    failed = []
    rig.monitor.listeners.append(type('Listener', (), {
        'fence_failed': lambda self, name, detail: failed.append(name)})())

    def interrupted(name):
        raise redfish.FencingInterrupted('stopping')
    rig.on_power_off = interrupted
    rig.set('n1', ready='Unknown')
    for _ in range(2):
        rig.advance(30)

    assert rig.monitor.fencing.actions >= 1
    assert rig.monitor.fencing.failures == 0
    assert failed == []
    assert rig.kube.patches == []
