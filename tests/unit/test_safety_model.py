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

"""The monitor's safety guarantees, checked on random histories.

A hypothesis state machine drives the real decision path (engine, guards,
delivery queue, fencing coordinator of a driver.Monitor, see
tests/unit/monitor_rig.py) through random sequences of what happens in a
cluster: Ready flips, the out-of-service taint added and removed, Nodes
deleted and registered again, excluded, cordoned, BMCs reporting On or
Off, masakari-api down and up, leadership lost and won, time passing. It
checks, at the moment of every action and after every step:

1. no STOPPED/NORMAL is accepted, and no host is powered off, while the
   host is Ready without the taint, excluded, cordoned without the taint
   (planned maintenance), or deleted (a deleted Node keeps the NORMAL it
   earned only if it was down with evidence when it went); no power-off
   for a cordoned host or a deleted Node;
2. nothing is sent, powered off or tainted while this replica does not
   lead;
3. each failure episode gets at most one accepted STOPPED/NORMAL, and one
   with evidence gets exactly one once Masakari is up and this replica
   leads (checked at quiescence, when no storm holds).

The unit suite runs a fixed seed (derandomized) with 500 examples. For a
longer local run: ``SAFETY_MODEL_PROFILE=long tox -e unit --
tests/unit/test_safety_model.py`` (5,000 examples, longer histories).
"""

import os

from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import stateful
from hypothesis import strategies as st

from tests.unit import monitor_rig

NAMES = ('n1', 'n2')
names = st.sampled_from(NAMES)
MODES = {
    'taint': {},
    'redfish': {'fencing': 'redfish'},
    'fence': {'fence_action': 'redfish-power-off'},
}

settings.register_profile(
    'safety-model', max_examples=500, stateful_step_count=40,
    derandomize=True, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow,
                           HealthCheck.filter_too_much])
settings.register_profile(
    'safety-model-long', max_examples=5000, stateful_step_count=60,
    derandomize=False, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow,
                           HealthCheck.filter_too_much])
PROFILE = ('safety-model-long'
           if os.environ.get('SAFETY_MODEL_PROFILE') == 'long'
           else 'safety-model')


class MonitorSafety(stateful.RuleBasedStateMachine):

    @stateful.initialize(mode=st.sampled_from(sorted(MODES)),
                         settle=st.sampled_from([0.0, 15.0]),
                         limit=st.sampled_from(['49%', '100%']))
    def start(self, mode, settle, limit):
        self.mode = mode
        self.rig = monitor_rig.MonitorRig(NAMES, settle=settle, limit=limit,
                                          **MODES[mode])
        self.rig.on_send = self._on_send
        self.rig.on_accepted = self._on_accepted
        self.rig.on_power_off = self._on_power_off
        self.rig.on_taint = self._on_taint
        self.violations = []
        self.episode = {name: 0 for name in NAMES}
        self.down = {name: False for name in NAMES}
        self.recovering_since = {name: None for name in NAMES}
        self.forgotten = {name: False for name in NAMES}
        self.recovered = {name: False for name in NAMES}
        self.evidence_when_deleted = {}
        self.normals = {}   # (name, world episode) -> accepted NORMALs

    # -- the world's truth --------------------------------------------
    def _host(self, name):
        return self.rig.world[name]

    def _is_down(self, host):
        return (host.exists and not host.excluded
                and (host.ready == 'Unknown'
                     or (host.ready == 'False' and host.tainted)))

    def _has_evidence(self, host):
        if host.tainted:
            return True
        if self.mode == 'redfish':
            return host.power == 'Off' and not host.cordoned
        if self.mode == 'fence':
            return not host.cordoned
        return False

    def _track(self, name):
        """Keep the world's failure episodes (the policy's semantics)."""
        host = self._host(name)
        now = self.rig.clock.monotonic()
        down = self._is_down(host)
        up = (host.exists and not host.excluded and host.ready == 'True'
              and not host.tainted)
        since = self.recovering_since[name]
        if since is not None and (
                now - since >= self.rig.settings.policy.recovery_window):
            self.recovered[name] = True
        if down and not self.down[name]:
            if (self.episode[name] == 0 or self.recovered[name]
                    or self.forgotten[name]):
                self.episode[name] += 1
            self.forgotten[name] = False
            self.recovered[name] = False
        self.down[name] = down
        if up:
            if self.recovering_since[name] is None:
                self.recovering_since[name] = now
        elif host.exists and not host.excluded:
            self.recovering_since[name] = None

    def _forget(self, name):
        self.forgotten[name] = True
        self.recovered[name] = False
        self.down[name] = False
        self.recovering_since[name] = None

    # -- checks at the moment of each action -----------------------------
    def _on_send(self, notification):
        if not self.rig.leader.is_leader:
            self.violations.append('sent while not leading: %s'
                                   % notification.describe())

    def _on_accepted(self, notification):
        if (notification.event != 'STOPPED'
                or notification.host_status != 'NORMAL'):
            return
        name = notification.node
        host = self._host(name)
        why = None
        if not host.exists:
            if not self.evidence_when_deleted.get(name):
                why = 'deleted without evidence'
        elif host.excluded:
            why = 'excluded'
        elif host.ready == 'True' and not host.tainted:
            why = 'Ready without the taint'
        elif host.cordoned and not host.tainted:
            why = 'cordoned (maintenance) without the taint'
        if why:
            self.violations.append('NORMAL accepted for %s: %s'
                                   % (name, why))
        key = (name, self.episode[name])
        self.normals[key] = self.normals.get(key, 0) + 1

    def _on_power_off(self, name):
        host = self._host(name)
        if not self.rig.leader.is_leader:
            self.violations.append('power-off while not leading: %s' % name)
        if not host.exists:
            self.violations.append('power-off of deleted %s' % name)
        elif host.excluded:
            self.violations.append('power-off of excluded %s' % name)
        elif host.ready == 'True' and not host.tainted:
            self.violations.append('power-off of Ready %s' % name)
        elif host.cordoned:
            self.violations.append('power-off of cordoned %s' % name)

    def _on_taint(self, name):
        if not self.rig.leader.is_leader:
            self.violations.append('taint while not leading: %s' % name)

    # -- what happens in a cluster ---------------------------------------
    def _set(self, name, **fields):
        host = self._host(name)
        if not host.exists:
            return
        self.rig.set(name, **fields)
        self._track(name)

    # One rule draws what happens next, so that the common events (a host
    # dies, comes back, time passes) are drawn more often than the rare
    # ones and short histories still reach the interesting states.
    EVENTS = (['dies'] * 3 + ['comes_back'] * 3 + ['time_passes'] * 4
              + ['ready', 'taint', 'exclude', 'cordon', 'bmc', 'delete',
                 'register_again', 'masakari', 'masakari', 'leadership'])

    @stateful.rule(event=st.sampled_from(EVENTS), name=names,
                   flag=st.booleans(),
                   ready=st.sampled_from(['True', 'False', 'Unknown']),
                   seconds=st.sampled_from([1.0, 5.0, 16.0, 31.0, 61.0]))
    def happens(self, event, name, flag, ready, seconds):
        host = self._host(name)
        if event == 'dies':
            # The usual failure: unreachable, maybe declared dead.
            self._set(name, ready='Unknown')
            self._set(name, tainted=flag,
                      taint_added=self.rig.now() if flag else None)
        elif event == 'comes_back':
            self._set(name, tainted=False, taint_added=None)
            self._set(name, ready='True')
        elif event == 'time_passes':
            self.rig.advance(seconds)
            for each in NAMES:
                self._track(each)
        elif event == 'ready':
            self._set(name, ready=ready)
        elif event == 'taint':
            self._set(name, tainted=flag,
                      taint_added=self.rig.now() if flag else None)
        elif event == 'exclude':
            if host.exists and flag != host.excluded:
                self._forget(name)
            self._set(name, excluded=flag)
        elif event == 'cordon':
            self._set(name, cordoned=flag)
        elif event == 'bmc':
            host.power = 'Off' if flag else 'On'
        elif event == 'delete' and host.exists:
            self.evidence_when_deleted[name] = (
                self._is_down(host) and (host.tainted or host.power == 'Off'))
            self.rig.delete(name)
            self._forget(name)
        elif event == 'register_again' and not host.exists:
            self.rig.recreate(name, power='On')
            self._forget(name)
            self._track(name)
        elif event == 'masakari':
            self.rig.masakari.up = flag
        elif event == 'leadership':
            if flag != self.rig.leader.is_leader:
                self.rig.leader.is_leader = flag
                self.rig.monitor._leadership_changed(flag)
            self.rig.run()

    @stateful.rule()
    def quiesce(self):
        """Masakari up, leading, time enough: every failure is told."""
        self.rig.masakari.up = True
        if not self.rig.leader.is_leader:
            self.rig.leader.is_leader = True
            self.rig.monitor._leadership_changed(True)
        for _ in range(10):
            self.rig.advance(31.0)
            for name in NAMES:
                self._track(name)
        if self.rig.monitor.guards.storm_zones():
            return
        for name in NAMES:
            host = self._host(name)
            if not (self._is_down(host) and self._has_evidence(host)):
                continue
            told = self.normals.get((name, self.episode[name]), 0)
            assert told == 1, (
                '%s down with evidence (%s) got %d NORMALs in episode %d'
                % (name, host, told, self.episode[name]))

    # -- invariants ------------------------------------------------------
    @stateful.invariant()
    def nothing_unsafe_happened(self):
        assert self.violations == []

    @stateful.invariant()
    def at_most_one_normal_per_episode(self):
        assert all(count <= 1 for count in self.normals.values()), (
            self.normals)


MonitorSafety.TestCase.settings = settings.get_profile(PROFILE)
TestMonitorSafety = MonitorSafety.TestCase
