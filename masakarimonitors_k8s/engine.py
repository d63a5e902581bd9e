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

"""The decision engine: keeps node state and runs the policy over it.

Position in the flow: reflectors feed it raw objects; it keeps the compact
:class:`~masakarimonitors_k8s.kube.nodes.NodeState` per node, asks
:mod:`~masakarimonitors_k8s.policy` for a verdict whenever a node changes or
a window runs out, and hands each resulting notification to an ``outbox``
(the delivery queue). It is single-threaded by design: the driver runs it
in one decision thread that also owns the clock, so no lock is needed and
tests drive it by calling methods directly.

Everything it knows of one host lives in one :class:`HostRecord`, with
one lifecycle: created when the Node is first seen in scope, a failure
episode started and ended on the FAILED/HEALTHY transitions, and removed
in one place, :meth:`DecisionEngine._forget` (a host deleted while owed
its NORMAL stays as a tombstone record until that is delivered). State
kept in parallel per-host maps is what let a path forget one piece of a
host. After every change the engine publishes the host's current
:class:`~masakarimonitors_k8s.hosts.HostView` on a
:class:`~masakarimonitors_k8s.hosts.HostBoard`, which the parts acting in
other threads re-read at the moment they act.
"""

import dataclasses
import heapq

from oslo_log import log as logging

from masakarimonitors_k8s import hosts
from masakarimonitors_k8s.kube import hostnames as kube_hostnames
from masakarimonitors_k8s import policy

LOG = logging.getLogger(__name__)

# Kubelets renew every 10 s. While we hear no renewal of ANY lease for this
# long, silence proves nothing about one kubelet: our view (a black-holed
# watch not yet noticed) or the whole fleet is what's silent, and only the
# node lifecycle controller's Ready=Unknown then says a node is down.
LEASE_VIEW_MAX_SILENCE = 30.0


@dataclasses.dataclass(frozen=True)
class Notification:
    """One notification for Masakari, tied to the node that caused it."""
    hostname: str
    node: str
    intent: policy.Intent
    zone: str = ''
    # The failure episode this notification belongs to (see hosts.py).
    episode: int | None = None

    @property
    def event(self):
        return self.intent.event.value

    @property
    def host_status(self):
        return self.intent.host_status

    def describe(self):
        return ('%s host_status=%s for host %s (node %s): %s'
                % (self.event, self.host_status, self.hostname, self.node,
                   self.intent.reason))


@dataclasses.dataclass
class HostRecord:
    """All the engine knows of one host; only the decision thread writes it.

    The threads that act see a host only through the immutable HostView
    derived from this record (:meth:`DecisionEngine._publish`).
    """
    name: str
    node: object = None             # kube.nodes.NodeState, last seen
    assessment: object = None       # policy.Assessment; None until judged
    # The current failure episode (see hosts.py); None while not failing.
    episode: int | None = None
    # The episode whose NORMAL was offered: one NORMAL per episode.
    normal_episode: int | None = None
    # What the BMC verified, and the server wall time of that reading.
    bmc_evidence: str | None = None
    bmc_evidence_time: float | None = None
    # Our monotonic time of the last Ready=True: older BMC readings lapse.
    ready_seen_at: float = float('-inf')
    # Where the storm guard's zone counts hold this host (None: not
    # counted), and whether it counts there as failed.
    zone: str | None = None
    failed: bool = False
    # A tombstone: the Node is gone while failed with fencing evidence;
    # the NORMAL of ``episode`` is still owed. Only that delivery (or the
    # Node's return, as a new record) ends it.
    deleted: bool = False


class Counters:
    """Plain counters the engine keeps; observability reads them."""

    def __init__(self):
        self.malformed_objects = 0
        self.unmapped_nodes = 0
        # Lease checks a later renewal made moot, and renewals of fresh
        # leases of healthy hosts: neither can change a verdict, neither
        # is evaluated.
        self.lease_checks_superseded = 0
        self.lease_renewals_not_evaluated = 0
        self.verdicts = {}

    def count_verdict(self, health):
        self.verdicts[health] = self.verdicts.get(health, 0) + 1


class DecisionEngine:
    """Node state + policy -> notifications.

    :param translator: kube.nodes.NodeTranslator.
    :param settings: conf.PolicySettings.
    :param outbox: callable taking a :class:`Notification`.
    :param server_clock: object with ``now() -> policy.Instant`` (the API
        server's wall time estimate plus our monotonic time).
    """

    def __init__(self, *, translator, settings, outbox, server_clock,
                 on_transition=None, on_forget=None, board=None):
        self._on_transition = on_transition
        self._on_forget = on_forget
        self.board = board if board is not None else hosts.HostBoard()
        self._hosts = {}        # name -> HostRecord
        self._episode_seq = 0
        self._translator = translator
        self._settings = settings
        self._outbox = outbox
        self._clock = server_clock
        # Leases are kept apart from the host records: a Lease is an input
        # with a life of its own (it may come before its Node, outlive it,
        # or belong to a node out of scope), and a lease relist replaces
        # them all at once.
        self._leases = {}       # name -> LeaseState
        self._deadlines = []    # heap of (monotonic, name): policy windows
        # Heap of (monotonic, name): when each Lease heard last goes stale.
        # Kept apart because a renewal supersedes its lease's earlier
        # checks: at 5,000 nodes that is 500 checks a second, each of
        # which would re-evaluate a healthy host for nothing.
        self._lease_checks = []
        # The storm guard's view: zone -> [monitored nodes, failed nodes],
        # kept incrementally from the records' zone and failed fields (a
        # recount per event would cost O(nodes)).
        self._zone_counts = {}
        self.lease_view_fresh = True
        self._last_lease_heard = None   # monotonic
        # While the node watch is down, no window may run out on old
        # observations: the verdicts wait for a fresh view.
        self.node_view_fresh = True
        self._clock_steps = getattr(server_clock, 'steps', 0)
        self.counters = Counters()
        self.hostnames = kube_hostnames.HostnameIndex()
        if settings.fencing == 'none':
            LOG.warning(
                'UNSAFE: [k8s] fencing = none. Failed hosts are reported '
                'with host_status NORMAL on Kubernetes\' word alone, and '
                'Masakari will evacuate VMs of hosts that may still run '
                'them (network partition, kubelet crash).')

    # -- state queries (observability, tests) --------------------------
    # The metrics scrape calls some of these from another thread: they
    # read single attributes of a snapshot of the records.
    def assessment(self, name):
        record = self._monitored(name)
        return record and record.assessment

    def node(self, name):
        record = self._monitored(name)
        return record and record.node

    def zone_counts(self):
        """{zone: (monitored, failed)}; failed = FAILED or RECOVERING."""
        return {zone: tuple(counts)
                for zone, counts in self._zone_counts.items()}

    def is_failed(self, name):
        record = self._monitored(name)
        return record is not None and record.failed

    def host(self, name):
        """The published view of a host (any thread)."""
        return self.board.get(name)

    def warrant(self, notification):
        """hosts.Warrant for sending ``notification`` now (any thread)."""
        return hosts.notification_warrant(self.board.get(notification.node),
                                          notification)

    def health_counts(self):
        counts = {health: 0 for health in policy.Health}
        for record in self._monitored_records():
            assessment = record.assessment
            if assessment is not None:
                counts[assessment.health] += 1
        return counts

    # -- inputs --------------------------------------------------------
    # States come from kube.nodes (the reflectors translate each object as
    # it is parsed); None stands for an object that could not be named.

    def replace_nodes(self, states):
        """A (re)list delivered the full set of nodes in scope."""
        seen = set()
        for state in states:
            if state is not None:
                seen.add(state.name)
            self.node_event('ADDED', state)
        for record in self._monitored_records():
            if record.name not in seen:
                self._forget(record.name, 'no longer listed', deleted=True)

    def node_event(self, kind, state):
        if state is None:
            self.counters.malformed_objects += 1
            LOG.warning('Ignoring a Node object without metadata.name.')
            return
        if kind == 'DELETED':
            self._forget(state.name, 'deleted', deleted=True)
            return
        if state.problems:
            self.counters.malformed_objects += 1
            LOG.warning('Node %s (resourceVersion %s): %s', state.name,
                        state.resource_version, '; '.join(state.problems))
        record = self._hosts.get(state.name)
        if state.excluded:
            if record is not None:
                self._forget(state.name, 'excluded by label')
            return
        if state.hostname is None:
            self.counters.unmapped_nodes += 1
            if record is not None:
                self._forget(state.name, 'lost its Masakari host name')
            return
        if record is None or record.deleted:
            # First seen, or back after its Node was deleted: a new host
            # as far as failures go (its owed NORMAL, if any, lapses).
            record = self._hosts[state.name] = HostRecord(state.name)
        if state.ready == 'True':
            # Any sign of life invalidates BMC evidence read before it.
            record.ready_seen_at = self._clock.now().monotonic
            if record.bmc_evidence is not None:
                self._drop_bmc_evidence(record)
                LOG.warning('Node %s is Ready again: the BMC "Off" reading '
                            'no longer counts as fencing evidence.',
                            state.name)
        record.node = state
        self.hostnames.observe(state.name, state.hostname)
        self._account(record, zone=state.zone or '')
        self._evaluate(record)

    def replace_leases(self, states):
        """A (re)list of leases: O(N), one rebase and one reschedule."""
        now = self._clock.now()
        rebase = not self._lease_view_is_fresh(now)
        known = self._leases
        self._leases = {}
        for lease in states:
            if lease is None:
                self.counters.malformed_objects += 1
                continue
            previous = known.get(lease.name)
            observed_at = now.monotonic
            if (not rebase and previous is not None
                    and previous.renew_time == lease.renew_time):
                observed_at = previous.observed_at
            self._leases[lease.name] = dataclasses.replace(
                lease, observed_at=observed_at)
        self._last_lease_heard = now.monotonic
        if rebase:
            LOG.info('Lease view is alive again; counting lease silence '
                     'anew.')
        self._reschedule_lease_checks()
        self.evaluate_all()

    def lease_event(self, kind, lease, *, evaluate=True):
        if lease is None:
            self.counters.malformed_objects += 1
            return
        # A renewal of a lease that was fresh cannot change a verdict:
        # the policy reads a lease only as stale or not.
        fresh_before_and_after = False
        if kind == 'DELETED':
            self._leases.pop(lease.name, None)
        else:
            known = self._leases.get(lease.name)
            now = self._clock.now()
            observed_at = now.monotonic
            was_silent = not self._lease_view_is_fresh(now)
            fresh_before_and_after = (
                not was_silent and known is not None
                and known.renew_time is not None
                and lease.renew_time is not None
                and known.observed_at is not None
                and self._lease_check_due(known) > now.monotonic)
            self._last_lease_heard = observed_at
            if known is not None and known.renew_time == lease.renew_time:
                observed_at = known.observed_at
            lease = dataclasses.replace(lease, observed_at=observed_at)
            self._leases[lease.name] = lease
            if lease.renew_time is not None:
                self._schedule_lease_check(lease)
            if was_silent:
                self._rebase_lease_silence(observed_at)
        record = self._monitored(lease.name)
        if evaluate and record is not None:
            if fresh_before_and_after and record.assessment is not None and (
                    record.assessment.health is policy.Health.HEALTHY):
                # 500 a second at 5,000 nodes: most of the decision
                # thread's work in the production profile.
                self.counters.lease_renewals_not_evaluated += 1
                return
            self._evaluate(record)

    def bmc_evidence(self, name, evidence, episode=None, read_at=None):
        """Record what the BMC of a failed node's host verified.

        ``evidence`` describes a verified power-off, or is None when the
        BMC did not confirm one. ``episode``: the failure episode the
        reading was taken for; ``read_at``: our monotonic time of the
        reading. It counts only for a host FAILED now, in that episode, not
        seen Ready since the reading and not cordoned for maintenance, and
        until the node is next seen Ready.
        """
        record = self._monitored(name)
        if record is None:
            return
        assessment = record.assessment
        if assessment is None or assessment.health is not (
                policy.Health.FAILED):
            return
        if episode is not None and episode != record.episode:
            return
        now = self._clock.now()
        read_at = now.monotonic if read_at is None else read_at
        if evidence:
            if read_at <= record.ready_seen_at:
                LOG.info('Node %s: ignoring a BMC reading older than its '
                         'last Ready=True.', name)
                return
            if policy.in_maintenance(record.node, self._settings):
                LOG.warning('Node %s is cordoned (maintenance): its BMC '
                            'reading (%s) is no fencing evidence.', name,
                            evidence)
                return
            record.bmc_evidence = evidence
            record.bmc_evidence_time = (
                now.wall - max(0.0, now.monotonic - read_at))
        else:
            self._drop_bmc_evidence(record)
        self._evaluate(record)

    def delivered(self, name, episode):
        """A notification of ``episode`` got its final answer."""
        record = self._hosts.get(name)
        if (record is not None and record.deleted
                and record.episode == episode):
            del self._hosts[name]
            self.board.withdraw(name)

    def set_node_view_fresh(self, fresh):
        changed = fresh != self.node_view_fresh
        self.node_view_fresh = fresh
        if changed:
            LOG.info('Node view is %s.', 'current again' if fresh else
                     'stale: no verdict runs out until it is current')
            if fresh:
                self.run_due()

    def set_lease_view_fresh(self, fresh):
        changed = fresh != self.lease_view_fresh
        self.lease_view_fresh = fresh
        if changed and fresh:
            self.evaluate_all()

    # -- time ----------------------------------------------------------
    def next_deadline(self):
        dues = [due for due in (self._next_due(self._deadlines),
                                self._next_due(self._lease_checks))
                if due is not None]
        return min(dues) if dues else None

    def _next_due(self, heap):
        while heap:
            when, name = heap[0]
            if self._monitored(name) is not None:
                return when
            heapq.heappop(heap)
        return None

    def run_due(self):
        """Re-assess nodes whose window or lease deadline has passed."""
        if not self.node_view_fresh:
            return
        steps = getattr(self._clock, 'steps', 0)
        if steps != self._clock_steps:
            # The API server's clock estimate jumped: lease deadlines
            # computed on the old estimate are wrong.
            self._clock_steps = steps
            self._reschedule_lease_checks()
        now = self._clock.now()
        due = set()
        while self._deadlines and self._deadlines[0][0] <= now.monotonic:
            due.add(heapq.heappop(self._deadlines)[1])
        while (self._lease_checks
               and self._lease_checks[0][0] <= now.monotonic):
            _due, name = heapq.heappop(self._lease_checks)
            lease = self._leases.get(name)
            if (lease is not None and lease.observed_at is not None
                    and self._lease_check_due(lease) > now.monotonic):
                # Renewed since this check was set: the check of that
                # renewal is in the heap.
                self.counters.lease_checks_superseded += 1
                continue
            due.add(name)
        for name in due:
            record = self._monitored(name)
            if record is not None:
                self._evaluate(record)

    def evaluate_all(self):
        for record in self._monitored_records():
            self._evaluate(record)

    # -- internals -----------------------------------------------------
    def _monitored(self, name):
        """The record of a host in scope now (not a tombstone), or None."""
        record = self._hosts.get(name)
        return None if record is None or record.deleted else record

    def _monitored_records(self):
        """A snapshot: callers may forget hosts while they iterate."""
        return [record for record in list(self._hosts.values())
                if not record.deleted]

    def _publish(self, record):
        """Publish the view the other threads act on, from the record."""
        state, assessment = record.node, record.assessment
        self.board.publish(hosts.HostView(
            name=record.name, hostname=state.hostname,
            zone=state.zone or '', health=assessment.health,
            fenced=assessment.fenced, episode=record.episode,
            deleted=record.deleted, unschedulable=state.unschedulable,
            ready=state.ready))

    @staticmethod
    def _drop_bmc_evidence(record):
        record.bmc_evidence = None
        record.bmc_evidence_time = None

    def _reschedule_lease_checks(self):
        # Policy windows are on our monotonic clock: they stay.
        self._lease_checks = []
        for lease in self._leases.values():
            if lease.renew_time is not None:
                self._schedule_lease_check(lease)

    def _schedule_lease_check(self, lease):
        if not self._settings.watch_leases:
            return
        heapq.heappush(self._lease_checks,
                       (self._lease_check_due(lease), lease.name))

    def _lease_check_due(self, lease):
        """When ``lease`` looks stale, on our own clock only.

        See policy.read_signal: silence is counted from when we heard it.
        """
        observed_at = lease.observed_at
        if observed_at is None:
            observed_at = self._clock.now().monotonic
        return observed_at + self._settings.lease_stale_after + 0.001

    def _account(self, record, *, zone=None, failed=None):
        """Move a host between the zone counters."""
        if record.zone is not None:
            self._count(record, -1)
        if zone is not None:
            record.zone = zone
        if failed is not None:
            record.failed = failed
        self._count(record, +1)

    def _count(self, record, sign):
        counts = self._zone_counts.setdefault(record.zone, [0, 0])
        counts[0] += sign
        counts[1] += sign * record.failed
        if counts[0] == 0:
            del self._zone_counts[record.zone]

    def _rebase_lease_silence(self, now_monotonic):
        """We were deaf: count every lease's silence from now.

        What we missed may still be arriving (a watch replaying history,
        a relist in progress); judging leases on renewals we could not hear
        would fail every node at once.
        """
        LOG.info('Lease view is alive again; counting lease silence anew.')
        for name, lease in list(self._leases.items()):
            self._leases[name] = dataclasses.replace(
                lease, observed_at=now_monotonic)
        self._reschedule_lease_checks()

    def _lease_view_is_fresh(self, now):
        return (self.lease_view_fresh and self._last_lease_heard is not None
                and now.monotonic - self._last_lease_heard
                <= LEASE_VIEW_MAX_SILENCE)

    def _forget(self, name, why, *, deleted=False):
        """The one way a host leaves the engine (or becomes a tombstone)."""
        record = self._hosts.pop(name, None)
        self.hostnames.forget(name)
        state = assessment = None
        if record is not None and not record.deleted:
            # A tombstone left the zone counts and owes nothing new.
            state, assessment = record.node, record.assessment
            self._count(record, -1)
            record.zone, record.failed = None, False
        failed = assessment is not None and assessment.health is (
            policy.Health.FAILED)
        if (deleted and failed and assessment.fenced
                and state.ready != 'True'):
            # The host was dead with evidence when its Node went (a
            # remediation deleting it, an admin releasing its pods): the
            # NORMAL it earned is still owed; a re-registered Node ends
            # this. A Node last seen Ready runs again: nothing is owed.
            record.deleted = True
            self._hosts[name] = record
            self._publish(record)
            LOG.warning('Node %s %s while failed with fencing evidence '
                        '(%s): its STOPPED/NORMAL is still delivered.',
                        name, why, assessment.evidence)
        else:
            self.board.withdraw(name)
            if failed and not assessment.fenced:
                LOG.error('Node %s (host %s) %s while FAILED WITHOUT '
                          'FENCING EVIDENCE: Masakari was told UNKNOWN at '
                          'most and will not evacuate its VMs. Check the '
                          'host and fence it by hand if it is dead.', name,
                          state.hostname, why)
            elif assessment is not None and assessment.health is not (
                    policy.Health.HEALTHY):
                LOG.info('Node %s %s while %s; no longer monitored.', name,
                         why, assessment.health.value)
        if self._on_forget is not None:
            self._on_forget(name)

    def _evaluate(self, record):
        name, state = record.name, record.node
        previous = record.assessment
        now = self._clock.now()
        current = policy.assess(
            previous, state, self._leases.get(name), now=now,
            settings=self._settings,
            lease_view_fresh=self._lease_view_is_fresh(now),
            bmc_evidence=record.bmc_evidence,
            bmc_evidence_time=record.bmc_evidence_time)
        if current.health is policy.Health.HEALTHY:
            # A new failure needs new evidence.
            self._drop_bmc_evidence(record)
        record.assessment = current
        failing = current.health in (policy.Health.FAILED,
                                     policy.Health.RECOVERING)
        # A STARTED belongs to the episode it ends.
        notified_episode = record.episode
        if not failing:
            record.episode = None
        elif record.episode is None:
            self._episode_seq += 1
            record.episode = self._episode_seq
        self._publish(record)
        if failing != record.failed:
            self._account(record, failed=failing)
        if previous is None or previous.health is not current.health:
            self.counters.count_verdict(current.health)
            if previous is not None or current.health is not (
                    policy.Health.HEALTHY):
                LOG.info('Node %s (host %s): %s -> %s: %s', name,
                         state.hostname,
                         previous.health.value if previous else 'unseen',
                         current.health.value, current.reason)
        if self._on_transition is not None and (
                previous is None or previous.health is not current.health
                or previous.fenced != current.fenced):
            self._on_transition(state, previous, current)
        deadline = policy.next_deadline(current, self._settings)
        if deadline is not None:
            heapq.heappush(self._deadlines, (deadline, name))
        intent = policy.decide(previous, current)
        if intent is not None and intent.host_status == 'NORMAL' and (
                intent.event is policy.Event.STOPPED):
            # One NORMAL per episode: evidence that flickers (a taint
            # removed and added again) must not evacuate twice; the first
            # is still pending, or delivered.
            if record.normal_episode == record.episode:
                intent = None
            else:
                record.normal_episode = record.episode
        if intent is not None:
            notification = Notification(state.hostname, name, intent,
                                        zone=state.zone or '',
                                        episode=(record.episode
                                                 or notified_episode))
            if self._settings.fencing == 'none' and (
                    intent.event is policy.Event.STOPPED):
                LOG.warning('UNSAFE (fencing = none): reporting host %s '
                            'with host_status NORMAL without fencing '
                            'evidence.', state.hostname)
            self._outbox(notification)
