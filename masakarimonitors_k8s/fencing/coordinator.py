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

"""Fencing beside the policy: BMC evidence and the opt-in fence action.

Position in the flow: the engine tells this coordinator (as a listener)
which nodes are failed without evidence; the coordinator asks their BMCs
in its own thread (a dead BMC can take minutes to time out) and posts what
it learnt back to the decision thread's inbox. It never decides a verdict.

- ``fencing = redfish``: read the system's power state. Off is evidence
  (posted to the engine, which may then report NORMAL); On is re-checked
  every ``recheck`` seconds while the node stays failed.
- ``fence_action = redfish-power-off``: only on the leader, only when the
  guards allow it (the zone is not in a storm and the host's STOPPED has
  passed the settle window), power the system off, verify Off, then add
  the ``out-of-service`` taint so Kubernetes releases the node's pods and
  volumes. The taint comes back through the watch and is the evidence:
  Off, taint, NORMAL, in that order. Every action is logged and recorded
  as an Event on the Node.

The work list holds node names and failure episodes only. A node leaves it
on any transition that is not "failed without evidence" (Ready again,
fenced) and when the engine forgets it (deleted, excluded, out of the
selector, no host name). Right before the power-off, and again before the
taint, the coordinator re-reads the engine's published view of the host
(:func:`masakarimonitors_k8s.hosts.fence_warrant`): still FAILED in the
same episode, unfenced, monitored and not cordoned for maintenance; and
this replica still leads. A Node that is gone (404) ends the work.
"""

import heapq
import threading

from oslo_log import log as logging

from masakarimonitors_k8s.fencing import bmc
from masakarimonitors_k8s.fencing import redfish
from masakarimonitors_k8s import hosts
from masakarimonitors_k8s.kube import client as kube_client
from masakarimonitors_k8s.kube import taints
from masakarimonitors_k8s import loops
from masakarimonitors_k8s import policy

LOG = logging.getLogger(__name__)

# Kubernetes' value for the taint (KEP-2268 examples, kubectl docs).
OUT_OF_SERVICE_VALUE = 'nodeshutdown'


class FencingCoordinator(loops.Loop):
    """BMC checks and power-offs for failed, unfenced nodes.

    :param settings: conf.Settings.
    :param directory: fencing.bmc.BmcDirectory.
    :param fencer: fencing.redfish.RedfishFencer.
    :param kube: kube.client.KubeClient (to taint the node).
    :param post: callable(what, data) into the decision thread's inbox.
    :param may_act: callable() -> bool: this replica leads.
    :param may_fence: callable(hostname, zone) -> bool: the guards agree.
    :param tell: callable(what) -> listener broadcaster (events, metrics).
    :param clock: Clock.
    :param stop_event: threading.Event.
    :param recheck: seconds between checks of a host not (yet) Off, and
        between attempts the guards or leadership held back.
    :param host_view: callable(node name) -> hosts.HostView or None, the
        decision engine's current view (any thread).
    """

    def __init__(self, *, settings, directory, fencer, kube, post, may_act,
                 may_fence, tell, clock, stop_event, recheck=30.0,
                 host_view=None):
        self._host_view = host_view or (lambda name: None)
        self._settings = settings
        self._directory = directory
        self._fencer = fencer
        self._kube = kube
        self._post = post
        self._may_act = may_act
        self._may_fence = may_fence
        self._tell = tell
        self._clock = clock
        self._stop = stop_event
        self._recheck = recheck
        self._act = settings.redfish.fence_action == 'redfish-power-off'
        self._lock = threading.Condition()
        self._wanted = {}    # node name -> (NodeState, episode)
        self._queue = []     # heap of (due, seq, node name)
        # node name -> seq of its one live queue entry: rescheduling a
        # node makes its older entries stale instead of doubling its work.
        self._live = {}
        self._seq = 0
        self.checks = 0
        self.actions = 0
        self.failures = 0

    # -- listener side (decision thread) ------------------------------
    def transition(self, state, previous, current):
        if (current.health is policy.Health.FAILED
                and not current.fenced):
            view = self._host_view(state.name)
            self._want(state, view.episode if view is not None else None)
        else:
            self._drop(state.name)

    def forgotten(self, name):
        """The engine no longer monitors this node (any reason)."""
        self._drop(name)

    def wanted(self):
        with self._lock:
            return dict(self._wanted)

    def leadership(self, leading):
        if leading:
            with self._lock:
                for name in self._wanted:
                    self._schedule(name, self._clock.monotonic())
                self._lock.notify_all()

    def _want(self, state, episode):
        with self._lock:
            first = state.name not in self._wanted
            self._wanted[state.name] = (state, episode)
            if first:
                self._schedule(state.name, self._clock.monotonic())
                self._lock.notify_all()

    def fence_allowed(self, name, episode):
        """The guards may allow this node's fencing now: look at once.

        Its STOPPED went out (settle window passed) or a storm guard
        released; without this the node waited for its next recheck, up
        to ``recheck`` seconds.
        """
        with self._lock:
            if self._wanted.get(name, (None, None))[1] == episode:
                self._schedule(name, self._clock.monotonic())
                self._lock.notify_all()

    def _drop(self, name, episode=None):
        with self._lock:
            if episode is None or self._wanted.get(
                    name, (None, None))[1] == episode:
                self._wanted.pop(name, None)

    def _schedule(self, name, due):
        self._seq += 1
        self._live[name] = self._seq
        heapq.heappush(self._queue, (due, self._seq, name))

    # -- worker side ---------------------------------------------------
    thread_name = 'fencing'

    def wake(self):
        with self._lock:
            self._lock.notify_all()

    def run(self):
        while not self._stop.is_set():
            self.run_once()

    def run_once(self):
        """One wait for the next due node and one attempt on it."""
        item = self._next_due()
        if item is None:
            return None
        state, episode = item
        try:
            done = self.work(state, episode)
        except Exception:
            LOG.exception('Fencing of node %s failed unexpectedly.',
                          state.name)
            done = False
        # Level-triggered: while the engine still wants it (failed, no
        # evidence accepted yet), look again later, even after a reading
        # or a power-off that should end it: the engine may have refused
        # the evidence (a cordon, a Ready seen since the reading).
        # Unless it was scheduled again meanwhile (announced, leadership).
        with self._lock:
            if (self._wanted.get(state.name, (None, None))[1] == episode
                    and state.name not in self._live):
                self._schedule(state.name,
                               self._clock.monotonic() + self._recheck)
        return state.name, done

    def next_due(self):
        """Monotonic time of the next attempt, or None (tests)."""
        with self._lock:
            for due, seq, name in sorted(self._queue):
                if self._is_live(name, seq):
                    return due
            return None

    def _is_live(self, name, seq):
        return name in self._wanted and self._live.get(name) == seq

    def _next_due(self):
        with self._lock:
            while self._queue:
                due, seq, name = self._queue[0]
                if not self._is_live(name, seq):
                    heapq.heappop(self._queue)
                    if self._live.get(name) == seq:
                        del self._live[name]
                    continue
                wait = due - self._clock.monotonic()
                if wait <= 0:
                    heapq.heappop(self._queue)
                    del self._live[name]
                    return self._wanted[name]
                self._lock.wait(min(wait, 1.0))
                return None
            self._lock.wait(1.0)
            return None

    def work(self, state, episode=None):
        """One attempt for one node; True when nothing is left to do."""
        name = state.name
        warrant = self._warrant(name, episode)
        if warrant is hosts.Warrant.DROP:
            LOG.info('Node %s no longer needs fencing or a BMC check (back, '
                     'fenced, forgotten or a new failure).', name)
            self._drop(name, episode)
            return True
        if warrant is hosts.Warrant.WAIT and not self._act:
            LOG.info('Node %s is cordoned (planned maintenance): its BMC is '
                     'not read for evidence now.', name)
            return False
        try:
            target = self._directory.target_for(
                name, bmc_address=state.bmc_address)
        except bmc.BmcTargetError as exc:
            LOG.error('Node %s: cannot fence: %s', name, exc)
            return False
        if target is None:
            LOG.error('Node %s is failed but has no BMC address (annotation '
                      '%s or [k8s] redfish_bmc_map_file): it cannot be '
                      'fenced or checked.', name,
                      self._settings.redfish.bmc_annotation)
            return False
        if self._act:
            return self._fence(state, target, episode)
        return self._check(state, target, episode)

    def _warrant(self, name, episode):
        return hosts.fence_warrant(
            self._host_view(name), episode,
            cordon_is_maintenance=(
                self._settings.policy.cordon_is_maintenance))

    def _check(self, state, target, episode=None):
        self.checks += 1
        read_at = self._clock.monotonic()
        try:
            reading = self._fencer.power_state(target)
        except redfish.FencingInterrupted:
            return False
        except redfish.FencingError as exc:
            self.failures += 1
            LOG.warning('Node %s: BMC check failed: %s', state.name, exc)
            return False
        if not reading.is_off:
            LOG.info('Node %s is failed but its BMC reports the system %s: '
                     'no fencing evidence, so no NORMAL.', state.name,
                     reading.state)
            return False
        evidence = 'redfish: BMC %s reports system %s %s' % (
            target.address, reading.system, reading.state)
        LOG.warning('Node %s: %s.', state.name, evidence)
        self._post('evidence', (state.name, evidence, episode, read_at))
        return True

    def _fence(self, state, target, episode=None):
        name = state.name
        if not self._may_act():
            return False
        warrant = self._warrant(name, episode)
        if warrant is hosts.Warrant.WAIT:
            LOG.warning('Node %s is cordoned (planned maintenance): not '
                        'powering it off ([k8s] cordon_is_maintenance); '
                        'will look again in %.0f s.', name, self._recheck)
            return False
        if warrant is hosts.Warrant.DROP:
            self._drop(name, episode)
            return True
        if not self._may_fence(state.hostname, state.zone or '', name,
                               episode):
            LOG.warning('Node %s: fencing held by the guards (storm or '
                        'settle window); will look again in %.0f s.',
                        name, self._recheck)
            return False
        LOG.warning('FENCING node %s: powering its host off through the '
                    'BMC at %s.', name, target.address)
        self.actions += 1
        try:
            reading = self._fencer.power_off(target)
        except redfish.FencingInterrupted:
            # Stopping, not failing: the next leader fences again.
            LOG.warning('Node %s: stopped while waiting for its power-off '
                        'to be verified; not recorded as a failure.', name)
            return False
        except redfish.FencingError as exc:
            self.failures += 1
            LOG.error('Node %s: power-off failed: %s', name, exc)
            self._tell('fence_failed')(name, str(exc))
            return False
        detail = ('BMC %s verified system %s %s' % (
            target.address, reading.system, reading.state))
        if not self._may_act():
            # A new leader fences (idempotently) and taints.
            LOG.warning('Node %s powered off, but this replica no longer '
                        'leads: leaving the taint to the leader.', name)
            return False
        LOG.warning('Node %s fenced: %s; adding taint %s.', name, detail,
                    self._settings.policy.out_of_service_taint)
        try:
            taints.add_taint(
                self._kube, name,
                key=self._settings.policy.out_of_service_taint,
                value=OUT_OF_SERVICE_VALUE,
                now_wall=self._kube.server_clock.now().wall)
        except kube_client.ApiError as exc:
            if exc.status == 404:
                LOG.error('Node %s was deleted while being fenced: its host '
                          'is powered off, no taint added.', name)
                self._drop(name, episode)
                return True
            self.failures += 1
            LOG.error('Node %s is powered off but the taint could not be '
                      'added: %s', name, exc)
            return False
        self._tell('fenced')(name, detail)
        self._post('evidence', (name, 'redfish-power-off: ' + detail,
                                episode, self._clock.monotonic()))
        return True
