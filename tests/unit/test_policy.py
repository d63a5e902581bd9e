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

"""The health policy as a state machine, driven by scripted observations.

A :class:`Watcher` plays the engine's part without an engine: it feeds
``policy.assess`` one observation at a time on a ManualClock and collects
what ``policy.decide`` asks to notify. Observations are written the way
Kubernetes produces them: the Ready condition's ``lastTransitionTime``
moves only when its status changes. The table covers each rule of the
state machine; the property tests hold the safety rules over random
observation sequences.
"""

import dataclasses

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
import pytest

from masakarimonitors_k8s.clock import ManualClock
from masakarimonitors_k8s import conf as k8s_conf
from masakarimonitors_k8s.kube import nodes
from masakarimonitors_k8s import policy

Health = policy.Health
DEFAULTS = k8s_conf.PolicySettings()


@dataclasses.dataclass(frozen=True)
class Obs:
    """One observation of node n1.

    ``broken``: a Node the translator could not read (no status).
    """
    ready: str | None = 'True'
    taint: bool = False
    cordon: bool = False
    broken: bool = False
    since_ago: float | None = None   # override the transition time
    lease_age: float | None = None   # seconds since the last renewal
    lease_fresh: bool = True


@dataclasses.dataclass(frozen=True)
class Adv:
    seconds: float


UP = Obs('True')
DOWN = Obs('Unknown')
FENCED = Obs('Unknown', taint=True)
NOT_READY = Obs('False')
BROKEN = Obs(None, broken=True)


class Watcher:
    """Drives the policy the way the engine does, for one node."""

    def __init__(self, settings=DEFAULTS, clock=None):
        self.settings = settings
        self.clock = clock or ManualClock()
        self.assessment = None
        self.intents = []
        self._ready = None
        self._since = None
        self.last_node = None
        self.last_lease = None

    def now(self):
        return policy.Instant(wall=self.clock.wall(),
                              monotonic=self.clock.monotonic())

    def node_for(self, obs):
        wall = self.clock.wall()
        if obs.since_ago is not None:
            self._since = wall - obs.since_ago
        elif obs.ready != self._ready:
            self._since = wall
        self._ready = obs.ready
        if obs.broken:
            return nodes.NodeState(name='n1', hostname='h1',
                                   resource_version='1',
                                   problems=('no status',))
        return nodes.NodeState(
            name='n1', hostname='h1', resource_version='1', ready=obs.ready,
            ready_reason='test', ready_since=self._since,
            out_of_service=obs.taint, unschedulable=obs.cordon)

    def lease_for(self, obs):
        if obs.lease_age is None:
            return None
        return nodes.LeaseState(name='n1', resource_version='1',
                                renew_time=self.clock.wall() - obs.lease_age,
                                duration=40)

    def observe(self, obs):
        node, lease = self.node_for(obs), self.lease_for(obs)
        self.last_node, self.last_lease = node, lease
        previous = self.assessment
        self.assessment = policy.assess(
            previous, node, lease, now=self.now(), settings=self.settings,
            lease_view_fresh=obs.lease_fresh)
        intent = policy.decide(previous, self.assessment)
        if intent is not None:
            self.intents.append(intent)
        return intent

    def run(self, steps):
        for step in steps:
            if isinstance(step, Adv):
                self.clock.advance(step.seconds)
            else:
                self.observe(step)
        return self

    @property
    def told(self):
        return [(i.event.value, i.host_status) for i in self.intents]


STOPPED_UNKNOWN = ('STOPPED', 'UNKNOWN')
STOPPED_NORMAL = ('STOPPED', 'NORMAL')
STARTED = ('STARTED', 'NORMAL')


def settings(**overrides):
    return dataclasses.replace(DEFAULTS, **overrides)


SCENARIOS = [
    # id, settings, steps, expected notifications, final health
    ('unreachable without evidence is STOPPED/UNKNOWN', DEFAULTS,
     [UP, Adv(60), DOWN], [STOPPED_UNKNOWN], Health.FAILED),
    ('unreachable and tainted out-of-service is STOPPED/NORMAL', DEFAULTS,
     [UP, Adv(60), FENCED], [STOPPED_NORMAL], Health.FAILED),
    ('fencing none trusts Kubernetes alone', settings(fencing='none'),
     [UP, Adv(60), DOWN], [STOPPED_NORMAL], Health.FAILED),
    ('evidence arriving later upgrades exactly once', DEFAULTS,
     [UP, DOWN, Adv(10), DOWN, Adv(10), FENCED, Adv(10), FENCED, Adv(600),
      FENCED], [STOPPED_UNKNOWN, STOPPED_NORMAL], Health.FAILED),
    ('still failed: nothing repeated', DEFAULTS,
     [DOWN, Adv(10), DOWN, Adv(3600), DOWN, BROKEN, DOWN],
     [STOPPED_UNKNOWN], Health.FAILED),
    ('Ready=False is not host failure by default', DEFAULTS,
     [UP, NOT_READY, Adv(3600), NOT_READY], [], Health.HEALTHY),
    # Review finding 10: a reboot remediation (medik8s SNR/FAR) that ends
    # before Ready turns Unknown leaves Ready=False plus the taint.
    ('Ready=False with the out-of-service taint is a fenced failure',
     DEFAULTS, [UP, NOT_READY, Adv(60), Obs('False', taint=True)],
     [STOPPED_NORMAL], Health.FAILED),
    ('Ready=True with the taint stays no failure (the host runs again)',
     DEFAULTS, [UP, Obs('True', taint=True), Adv(3600),
                Obs('True', taint=True)], [], Health.HEALTHY),
    ('Ready=False is failure with not_ready_is_failure',
     settings(not_ready_is_failure=True),
     [UP, NOT_READY, Adv(60), NOT_READY], [STOPPED_UNKNOWN], Health.FAILED),
    ('Ready=False plus evidence with not_ready_is_failure',
     settings(not_ready_is_failure=True),
     [UP, Obs('False', taint=True)], [STOPPED_NORMAL], Health.FAILED),
    ('cordon is scheduling, not failure', DEFAULTS,
     [UP, Obs('True', cordon=True), Adv(3600), Obs('True', cordon=True)],
     [], Health.HEALTHY),
    ('recovery needs recovery_window of Ready=True', DEFAULTS,
     [DOWN, Adv(5), UP, Adv(29), UP], [STOPPED_UNKNOWN],
     Health.RECOVERING),
    ('recovery after recovery_window sends STARTED', DEFAULTS,
     [DOWN, Adv(5), UP, Adv(15), UP, Adv(15), UP],
     [STOPPED_UNKNOWN, STARTED], Health.HEALTHY),
    ('recovery observed only once the window is over', DEFAULTS,
     [DOWN, Adv(5), UP, Adv(100), UP], [STOPPED_UNKNOWN, STARTED],
     Health.HEALTHY),
    ('a flap restarts the recovery window', DEFAULTS,
     [DOWN, UP, Adv(20), DOWN, UP, Adv(20), UP], [STOPPED_UNKNOWN],
     Health.RECOVERING),
    ('recovery after a flap counts from the last return', DEFAULTS,
     [DOWN, UP, Adv(20), DOWN, UP, Adv(20), UP, Adv(10), UP],
     [STOPPED_UNKNOWN, STARTED], Health.HEALTHY),
    ('Ready=False also breaks the recovery window', DEFAULTS,
     [DOWN, UP, Adv(20), NOT_READY, UP, Adv(20), UP], [STOPPED_UNKNOWN],
     Health.RECOVERING),
    ('Ready=True with out-of-service is no recovery', DEFAULTS,
     [FENCED, Adv(5), Obs('True', taint=True), Adv(3600),
      Obs('True', taint=True)], [STOPPED_NORMAL], Health.FAILED),
    ('Ready=True with out-of-service is no failure', DEFAULTS,
     [UP, Obs('True', taint=True), Adv(3600), Obs('True', taint=True)],
     [], Health.HEALTHY),
    ('fenced host back, taint lifted, recovers', DEFAULTS,
     [FENCED, Obs('True', taint=True), Adv(100), UP, Adv(30), UP],
     [STOPPED_NORMAL, STARTED], Health.HEALTHY),
    ('a second failure is a new episode', DEFAULTS,
     [DOWN, UP, Adv(30), UP, Adv(10), DOWN],
     [STOPPED_UNKNOWN, STARTED, STOPPED_UNKNOWN], Health.FAILED),
    ('confirmation window: a short blip is nothing',
     settings(confirmation_window=30.0),
     [UP, DOWN, Adv(20), DOWN, UP], [], Health.HEALTHY),
    ('confirmation window: still suspect before it runs out',
     settings(confirmation_window=30.0),
     [UP, DOWN, Adv(29), DOWN], [], Health.SUSPECT),
    ('confirmation window runs out', settings(confirmation_window=30.0),
     [UP, DOWN, Adv(29), DOWN, Adv(1), DOWN], [STOPPED_UNKNOWN],
     Health.FAILED),
    ('confirmation window: Ready=False ends the suspicion',
     settings(confirmation_window=30.0),
     [UP, DOWN, Adv(20), NOT_READY, Adv(20), NOT_READY], [],
     Health.HEALTHY),
    ('confirmation window already over by Kubernetes time (restart)',
     settings(confirmation_window=30.0),
     [Obs('Unknown', since_ago=60)], [STOPPED_UNKNOWN], Health.FAILED),
    ('unusable first observation: no verdict', DEFAULTS,
     [BROKEN, Adv(600), BROKEN], [], Health.HEALTHY),
    ('unusable observation keeps FAILED', DEFAULTS,
     [DOWN, BROKEN, Adv(600), BROKEN], [STOPPED_UNKNOWN], Health.FAILED),
    ('unusable observation keeps SUSPECT', settings(confirmation_window=30.0),
     [DOWN, BROKEN, Adv(600), BROKEN], [], Health.SUSPECT),
    ('unusable observation never completes a recovery', DEFAULTS,
     [DOWN, UP, Adv(10), BROKEN, Adv(600), BROKEN], [STOPPED_UNKNOWN],
     Health.RECOVERING),
    ('stale lease with Ready=True is unreachable',
     settings(watch_leases=True),
     [Obs('True', lease_age=5), Adv(40), Obs('True', lease_age=41)],
     [STOPPED_UNKNOWN], Health.FAILED),
    ('lease at exactly lease_stale_after is not stale yet',
     settings(watch_leases=True), [Obs('True', lease_age=40)], [],
     Health.HEALTHY),
    ('stale lease proves nothing while the lease view is not fresh',
     settings(watch_leases=True),
     [Obs('True', lease_age=3600, lease_fresh=False)], [], Health.HEALTHY),
    ('stale lease ignored when leases are not watched', DEFAULTS,
     [Obs('True', lease_age=3600)], [], Health.HEALTHY),
    ('renewed lease starts the recovery', settings(watch_leases=True),
     [Obs('True', lease_age=60), Obs('True', lease_age=1), Adv(30),
      Obs('True', lease_age=1)], [STOPPED_UNKNOWN, STARTED],
     Health.HEALTHY),
]


@pytest.mark.parametrize(
    'policy_settings, steps, expected, health',
    [row[1:] for row in SCENARIOS], ids=[row[0] for row in SCENARIOS])
def test_state_machine(policy_settings, steps, expected, health):
    watcher = Watcher(policy_settings).run(steps)

    assert watcher.told == expected
    assert watcher.assessment.health is health


def test_stopped_carries_the_kubernetes_transition_time():
    watcher = Watcher().run([UP, Adv(100)])
    went_down = watcher.clock.wall()
    watcher.run([DOWN, Adv(25), DOWN, FENCED])

    unknown, normal = watcher.intents
    assert unknown.generated_time == went_down
    assert normal.generated_time == went_down
    assert unknown.payload() == {'event': 'STOPPED', 'host_status': 'UNKNOWN',
                                 'cluster_status': 'OFFLINE'}
    assert normal.payload() == {'event': 'STOPPED', 'host_status': 'NORMAL',
                                'cluster_status': 'OFFLINE'}
    assert 'taint' in normal.reason


def test_started_carries_the_time_ready_came_back():
    watcher = Watcher().run([DOWN, Adv(100)])
    came_back = watcher.clock.wall()
    watcher.run([UP, Adv(40), UP])

    started = watcher.intents[-1]
    assert started.generated_time == came_back
    assert started.payload() == {'event': 'STARTED', 'host_status': 'NORMAL',
                                 'cluster_status': 'ONLINE'}


def test_lease_failure_carries_the_last_renewal_time():
    watcher = Watcher(settings(watch_leases=True))
    watcher.run([Obs('True', lease_age=45)])

    assert watcher.intents[0].generated_time == (
        watcher.clock.wall() - 45)


@pytest.mark.parametrize('steps', [
    [UP, Adv(30), DOWN],
    [UP, Adv(30), FENCED],
    [UP, Adv(30), DOWN, Adv(60), FENCED],    # after the upgrade
])
def test_restarted_monitor_rebuilds_the_same_notification(steps):
    first = Watcher().run(steps)
    node = first.last_node

    # A new monitor process: no previous assessment, later in time, the
    # same Node object read back from the API.
    restarted_clock = ManualClock(wall=first.clock.wall() + 900,
                                  monotonic=5.0)
    now = policy.Instant(wall=restarted_clock.wall(),
                         monotonic=restarted_clock.monotonic())
    again = policy.decide(None, policy.assess(None, node, now=now,
                                              settings=DEFAULTS))

    assert again == first.intents[-1]


@pytest.mark.parametrize('obs, policy_settings, kind', [
    (UP, DEFAULTS, policy.SignalKind.UP),
    (Obs('True', cordon=True), DEFAULTS, policy.SignalKind.UP),
    (DOWN, DEFAULTS, policy.SignalKind.DOWN),
    (FENCED, DEFAULTS, policy.SignalKind.DOWN),
    (NOT_READY, DEFAULTS, policy.SignalKind.DEGRADED),
    (NOT_READY, settings(not_ready_is_failure=True), policy.SignalKind.DOWN),
    (Obs('True', taint=True), DEFAULTS, policy.SignalKind.DEGRADED),
    (BROKEN, DEFAULTS, policy.SignalKind.UNUSABLE),
    (Obs('True', lease_age=41), settings(watch_leases=True),
     policy.SignalKind.DOWN),
    (Obs('True', lease_age=41, lease_fresh=False),
     settings(watch_leases=True), policy.SignalKind.UP),
])
def test_read_signal(obs, policy_settings, kind):
    watcher = Watcher(policy_settings)

    signal = policy.read_signal(
        watcher.node_for(obs), watcher.lease_for(obs),
        now_wall=watcher.clock.wall(), settings=policy_settings,
        lease_view_fresh=obs.lease_fresh)

    assert signal.kind is kind


def test_unusable_signal_names_the_problem():
    watcher = Watcher()

    signal = policy.read_signal(watcher.node_for(BROKEN), None,
                                now_wall=watcher.clock.wall(),
                                settings=DEFAULTS, lease_view_fresh=True)

    assert 'no status' in signal.reason


@pytest.mark.parametrize('steps, policy_settings, window', [
    ([DOWN], settings(confirmation_window=30.0), 30.0),
    ([DOWN, Adv(3), UP], DEFAULTS, 30.0),
    ([DOWN, Adv(3), UP], settings(recovery_window=12.5), 12.5),
])
def test_next_deadline_is_the_end_of_the_running_window(steps,
                                                        policy_settings,
                                                        window):
    watcher = Watcher(policy_settings).run([Adv(7)] + steps)

    assert policy.next_deadline(watcher.assessment, policy_settings) == (
        watcher.clock.monotonic() + window)


@pytest.mark.parametrize('steps', [[UP], [DOWN], [NOT_READY]])
def test_no_deadline_outside_a_window(steps):
    watcher = Watcher().run(steps)

    assert policy.next_deadline(watcher.assessment, DEFAULTS) is None


@pytest.mark.parametrize('policy_settings, steps', [
    (DEFAULTS, [Adv(0.1), DOWN, UP]),
    (settings(recovery_window=0.3), [Adv(0.1), DOWN, UP]),
])
def test_recovery_window_is_over_at_its_deadline(policy_settings, steps):
    watcher = Watcher(policy_settings).run(steps)
    deadline = policy.next_deadline(watcher.assessment, policy_settings)
    watcher.clock.advance(deadline - watcher.clock.monotonic())
    assert watcher.clock.monotonic() == deadline

    watcher.observe(steps[-1])

    assert watcher.assessment.health is Health.HEALTHY
    assert watcher.told[-1] == STARTED


def test_suspect_deadline_accounts_for_time_already_down():
    policy_settings = settings(confirmation_window=10.0)
    watcher = Watcher(policy_settings).run([Obs('Unknown', since_ago=6)])
    assert watcher.assessment.health is Health.SUSPECT

    deadline = policy.next_deadline(watcher.assessment, policy_settings)

    assert deadline <= watcher.clock.monotonic() + 4.0


# -- properties over random observation sequences --------------------------

_observations = st.builds(
    Obs,
    ready=st.sampled_from(['True', 'True', 'False', 'Unknown', 'Unknown']),
    taint=st.booleans(),
    cordon=st.booleans(),
    lease_age=st.none() | st.floats(min_value=0, max_value=120),
    lease_fresh=st.booleans()) | st.just(BROKEN)
_advances = st.builds(Adv, st.floats(min_value=0, max_value=90))
_steps = st.lists(st.one_of(_observations, _advances), max_size=40)
_settings = st.builds(
    k8s_conf.PolicySettings,
    fencing=st.sampled_from(['taint', 'none']),
    confirmation_window=st.sampled_from([0.0, 5.0, 30.0]),
    recovery_window=st.sampled_from([0.0, 10.0, 30.0]),
    not_ready_is_failure=st.booleans(),
    watch_leases=st.booleans())


def _is_down(obs, policy_settings):
    if obs.broken:
        return False
    lease_stale = (policy_settings.watch_leases and obs.lease_fresh
                   and obs.lease_age is not None
                   and obs.lease_age > policy_settings.lease_stale_after)
    return (lease_stale or obs.ready == 'Unknown'
            or (obs.ready == 'False' and (policy_settings.not_ready_is_failure
                                          or obs.taint)))


def _is_up(obs, policy_settings):
    return (not obs.broken and obs.ready == 'True' and not obs.taint
            and not _is_down(obs, policy_settings))


@hypothesis_settings(max_examples=300, deadline=None)
@given(_settings, _steps)
def test_safety_rules_hold_for_any_sequence(policy_settings, steps):
    watcher = Watcher(policy_settings)
    up_since = None     # monotonic start of the current Ready=True streak
    episode = None      # generated_time of the open failure episode
    last = None
    for step in steps:
        if isinstance(step, Adv):
            watcher.clock.advance(step.seconds)
            continue
        if _is_up(step, policy_settings):
            if up_since is None:
                up_since = watcher.clock.monotonic()
        elif not step.broken:
            up_since = None
        intent = watcher.observe(step)
        if intent is None:
            continue
        told = (intent.event.value, intent.host_status)
        if intent.event is policy.Event.STOPPED:
            # NORMAL (Masakari evacuates) only with evidence in hand.
            evidence = policy_settings.fencing == 'none' or step.taint
            assert intent.host_status == ('NORMAL' if evidence
                                          else 'UNKNOWN')
            # Only an observation of an unreachable node fails it.
            assert _is_down(step, policy_settings)
            if last is not None and last[0] == 'STOPPED':
                # Same episode: only an upgrade to NORMAL, same time.
                assert told == STOPPED_NORMAL
                assert intent.generated_time == episode
            episode = intent.generated_time
        else:
            assert last is not None and last[0] == 'STOPPED'
            assert _is_up(step, policy_settings)
            assert (watcher.clock.monotonic() - up_since
                    >= policy_settings.recovery_window)
            episode = None
        last = told


@hypothesis_settings(max_examples=100, deadline=None)
@given(_steps)
def test_without_evidence_never_normal(steps):
    untainted = [dataclasses.replace(s, taint=False) if isinstance(s, Obs)
                 else s for s in steps]

    watcher = Watcher().run(untainted)

    assert STOPPED_NORMAL not in watcher.told
