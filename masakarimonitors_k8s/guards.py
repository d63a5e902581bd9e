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

"""Guards: the last say before a notification or a fence leaves.

Position in the flow: policy -> **guards** -> notifier (and fencing).
The policy decides what is true of one host; the guards decide whether it
is wise to act on it now, looking at all hosts at once.

Storm guard. When more than ``max_unhealthy`` of a zone's monitored nodes
are failed at once, the likelier story is a network partition or a
control-plane fault, not that many hosts died together: new STOPPED
notifications (and fencing) for that zone are *held*, with a warning, an
Event and a metric. When the number drops back, what is held is looked at
again: a host still failed is reported then (its notification is current,
not stale); a host that came back is dropped, and so is its STARTED, since
Masakari never heard of the failure. So a healed partition produces no
burst of stale notifications. Kubernetes does the same at the same scale:
at 55 % of a zone unhealthy its node lifecycle controller stops evicting.

A failure "at once" is not one instant: when a partition cuts nodes off,
the node lifecycle controller marks them Unknown over about 15 s. So a new
STOPPED first waits ``settle_window`` in the gate, and leaves only if its
zone is not in a storm by then. Evidence for a host already reported
(STOPPED/NORMAL after STOPPED/UNKNOWN) in the same failure episode is not
delayed; a new episode (after a recovery, delete or relist) settles again.

Zones alone are not enough: with many small zones (a rack or a host each)
every zone stays within its allowance while the whole cluster is down. So
the same limit (``max_unhealthy_cluster``) also applies to all monitored
nodes together, and a cluster-wide storm holds every zone.

The gate keeps host keys only (host name, node, failure episode) and asks
the decision engine's published view, at each look, whether the host still
warrants its STOPPED (:func:`masakarimonitors_k8s.hosts.
notification_warrant`): a host that is Ready again waits, one that was
excluded, deleted without evidence or recovered is dropped.

The gate is pure logic: no threads, no I/O, time comes from a clock. The
decision thread calls ``offer()`` for each notification, ``reconsider()``
after each observation and at ``next_deadline()``.
"""

import dataclasses

from oslo_log import log as logging

from masakarimonitors_k8s import hosts
from masakarimonitors_k8s import policy

LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class ZoneVerdict:
    zone: str
    monitored: int
    failed: int
    allowed: int

    @property
    def holding(self):
        return self.failed > self.allowed

    def describe(self):
        where = ('all zones' if self.zone == '*'
                 else 'zone %r' % (self.zone or '(no zone)'))
        return ('%s: %d of %d monitored nodes failed, more than the '
                '%d allowed' % (where, self.failed, self.monitored,
                                self.allowed))


CLUSTER = '*'   # not a valid label value, so never a zone's name
# Fewer monitored nodes than this in a zone make its per-zone allowance
# (at least one failure) meaningless as a storm guard.
SMALL_ZONE = 3


def storm_verdicts(zone_counts, limit, cluster_limit=None):
    """{zone: ZoneVerdict} from {zone: (monitored, failed)}.

    With ``cluster_limit``, the verdict over all zones together is under
    the key :data:`CLUSTER`.
    """
    verdicts = {zone: ZoneVerdict(zone, monitored, failed,
                                  limit.allowed(monitored))
                for zone, (monitored, failed) in zone_counts.items()}
    if cluster_limit is not None and zone_counts:
        monitored = sum(counts[0] for counts in zone_counts.values())
        failed = sum(counts[1] for counts in zone_counts.values())
        verdicts[CLUSTER] = ZoneVerdict(CLUSTER, monitored, failed,
                                        cluster_limit.allowed(monitored))
    return verdicts


def small_zones_warning(zone_counts):
    """A warning text when most zones are too small to guard, else None."""
    if len(zone_counts) < 2:
        return None
    small = sorted(zone for zone, (monitored, _) in zone_counts.items()
                   if monitored < SMALL_ZONE)
    if len(small) * 2 <= len(zone_counts):
        return None
    return ('%d of %d storm zones hold fewer than %d monitored nodes (%s): '
            'the per-zone storm guard always allows one failure per zone, '
            'so only the cluster-wide limit (max_unhealthy_cluster) stops a '
            'cluster-wide outage there. Group nodes into larger zones '
            '([k8s] storm_zone_label).'
            % (len(small), len(zone_counts), SMALL_ZONE,
               ', '.join(repr(zone or '(no zone)') for zone in small[:5])))


class NotificationGate:
    """Holds STOPPED notifications while their zone is in a storm.

    :param limit: conf.UnhealthyLimit.
    :param zone_counts: callable -> {zone: (monitored, failed)}.
    :param still_failed: callable(node name) -> bool; used only when
        ``warrant`` is not given.
    :param warrant: callable(notification) -> hosts.Warrant, re-read at
        every look (the engine's published host views).
    :param host_view: callable(node name) -> hosts.HostView or None, to
        forget announcements of episodes that are over.
    :param outbox: where notifications that pass go (the delivery queue).
    :param on_held: callable(notification, reason), for Events/metrics.
    :param clock: Clock (monotonic) for the settle window.
    :param settle_window: seconds a new STOPPED waits (see module doc).
    :param cluster_limit: conf.UnhealthyLimit over all monitored nodes.
    :param on_fence_allowed: callable(node name, episode) when
        :meth:`may_fence` may have turned true for that host: its STOPPED
        went out, or a storm guard released.
    """

    def __init__(self, *, limit, zone_counts, outbox, clock,
                 still_failed=None, warrant=None, host_view=None,
                 settle_window=0.0, on_held=None, cluster_limit=None,
                 on_fence_allowed=None):
        self._limit = limit
        self._cluster_limit = cluster_limit
        self._clock = clock
        self._settle_window = settle_window
        self._settling = {}      # hostname -> (due, Notification)
        self._zone_counts = zone_counts
        if warrant is None:
            def warrant(notification):
                return (hosts.Warrant.ACT if still_failed(notification.node)
                        else hosts.Warrant.DROP)
        self._warrant = warrant
        self._host_view = host_view
        self._outbox = outbox
        self._on_held = on_held
        self._on_fence_allowed = on_fence_allowed
        self._held = {}          # hostname -> Notification
        # hostname -> (node, episode) whose STOPPED went out. Read by the
        # fencing thread: replaced, never mutated in place.
        self._announced = {}
        self._holding = {}       # zone -> ZoneVerdict, zones in a storm
        self._zone_size_warned = False
        self.held_total = 0
        self.dropped_total = 0

    # -- queries -------------------------------------------------------
    def holding(self):
        """{guard name: bool}, for metrics and /readyz."""
        return {'storm': bool(self._holding)}

    def storm_zones(self):
        return dict(self._holding)

    def held(self):
        return dict(self._held)

    def settling(self):
        return {host: n for host, (_, n) in self._settling.items()}

    def announced(self):
        return dict(self._announced)

    def next_deadline(self):
        # Entries past due are waiting on their host (Ready again): they
        # move with the host's next observation, not with the clock.
        now = self._clock.monotonic()
        dues = [due for due, _ in self._settling.values() if due > now]
        return min(dues) if dues else None

    def may_fence(self, hostname, zone, node=None, episode=None):
        """Whether a host may be powered off now (any thread).

        Its STOPPED must have passed the gate (settled, no storm) in this
        failure episode, and neither its zone nor the cluster may be in a
        storm now.
        """
        announced = self._announced.get(hostname)
        if announced is None:
            return False
        if node is not None and announced != (node, episode):
            return False
        return not self._is_holding(zone or '')

    def check_zone_sizes(self):
        """Warn once (first full view) when most zones are too small."""
        if self._zone_size_warned:
            return
        self._zone_size_warned = True
        warning = small_zones_warning(self._zone_counts())
        if warning:
            LOG.warning('Storm guard: %s', warning)

    # -- the flow ------------------------------------------------------
    def offer(self, notification):
        self._refresh()
        host = notification.hostname
        key = (notification.node, notification.episode)
        if notification.intent.event is policy.Event.STARTED:
            if self._settling.pop(host, None) is not None:
                LOG.info('Host %s recovered within the settle window; '
                         'nothing is sent.', host)
            if self._held.pop(host, None) is not None:
                self.dropped_total += 1
                LOG.info('Host %s recovered while its STOPPED was held by '
                         'the storm guard; Masakari never heard of the '
                         'failure, so nothing is sent.', host)
            if self._announced.get(host, (None,))[0] != notification.node:
                return
            self._unannounce(host)
            self._outbox(notification)
            return
        verdict = self._verdict_for(notification.zone)
        if verdict is not None:
            self._settling.pop(host, None)
            self._hold(notification, verdict)
            return
        if self._announced.get(host) == key or self._settle_window <= 0:
            self._send_stopped(notification)
            return
        # A first STOPPED of this episode: let the burst it may belong to
        # show itself.
        due = self._clock.monotonic() + self._settle_window
        settling = self._settling.get(host)
        if settling is not None and (settling[1].node, settling[1].episode
                                     ) == key:
            due = settling[0]
        self._settling[host] = (due, notification)

    def reconsider(self):
        """Re-check held notifications after the counts may have moved."""
        self._refresh()
        self._forget_ended_episodes()
        now = self._clock.monotonic()
        for host, (due, notification) in list(self._settling.items()):
            warrant = self._warrant(notification)
            verdict = self._verdict_for(notification.zone)
            if warrant is hosts.Warrant.DROP:
                del self._settling[host]
                LOG.info('Withdrawing the settling %s: the host no longer '
                         'warrants it.', notification.describe())
            elif verdict is not None:
                del self._settling[host]
                self._hold(notification, verdict)
            elif due <= now and (warrant is hosts.Warrant.ACT
                                 or self._failed_now(notification)):
                # Settled. A NORMAL whose evidence is gone for now (the
                # host is still failed) waits in the delivery queue, and
                # the host may be fenced meanwhile: that brings it back.
                del self._settling[host]
                self._send_stopped(notification)
        for host, notification in list(self._held.items()):
            warrant = self._warrant(notification)
            if warrant is hosts.Warrant.DROP:
                del self._held[host]
                self.dropped_total += 1
                LOG.info('Dropping the held %s: host %s is no longer '
                         'failed.', notification.describe(), host)
            elif self._verdict_for(notification.zone) is None:
                # Not at once: the storm ends as nodes come back one by
                # one, and those still failed for a moment must not go out
                # as a burst of stale STOPPEDs. They settle again.
                del self._held[host]
                LOG.warning('Storm over in zone %r; the held %s settles '
                            'again for %.0f s.',
                            notification.zone or '(no zone)',
                            notification.describe(), self._settle_window)
                self._settling[host] = (now + self._settle_window,
                                        notification)

    # -- internals -----------------------------------------------------
    def _is_holding(self, zone):
        return zone in self._holding or CLUSTER in self._holding

    def _verdict_for(self, zone):
        return self._holding.get(zone or '') or self._holding.get(CLUSTER)

    def _send_stopped(self, notification):
        announced = dict(self._announced)
        announced[notification.hostname] = (notification.node,
                                            notification.episode)
        self._announced = announced
        self._outbox(notification)
        if self._on_fence_allowed is not None and not self._is_holding(
                notification.zone or ''):
            self._on_fence_allowed(notification.node, notification.episode)

    def _unannounce(self, host):
        if host in self._announced:
            announced = dict(self._announced)
            del announced[host]
            self._announced = announced

    def _failed_now(self, notification):
        if self._host_view is None:
            return False
        view = self._host_view(notification.node)
        return (view is not None and not view.deleted
                and view.health is policy.Health.FAILED
                and view.episode == notification.episode)

    def _forget_ended_episodes(self):
        """Announcements live as long as their episode (any end of it)."""
        if self._host_view is None:
            return
        for host, (node, episode) in list(self._announced.items()):
            view = self._host_view(node)
            if view is None or view.episode != episode:
                self._unannounce(host)

    def _hold(self, notification, verdict):
        replaced = self._held.get(notification.hostname)
        self._held[notification.hostname] = notification
        if replaced is None:
            self.held_total += 1
        reason = 'storm guard: ' + verdict.describe()
        LOG.warning('HOLDING %s: %s.', notification.describe(), reason)
        if self._on_held is not None:
            self._on_held(notification, reason)

    def _refresh(self):
        verdicts = storm_verdicts(self._zone_counts(), self._limit,
                                  self._cluster_limit)
        holding = {zone: v for zone, v in verdicts.items() if v.holding}
        for zone in holding.keys() - self._holding.keys():
            LOG.warning('STORM GUARD engaged: %s. New STOPPED notifications '
                        'and fencing in %s are held until the number '
                        'drops ([k8s] %s = %s).',
                        holding[zone].describe(),
                        'EVERY zone' if zone == CLUSTER else 'this zone',
                        'max_unhealthy_cluster' if zone == CLUSTER
                        else 'max_unhealthy',
                        self._cluster_limit if zone == CLUSTER
                        else self._limit)
        for zone in self._holding.keys() - holding.keys():
            LOG.warning('Storm guard released for %s.',
                        'the cluster' if zone == CLUSTER
                        else 'zone %r' % (zone or '(no zone)'))
        released = bool(self._holding.keys() - holding.keys())
        self._holding = holding
        if released and self._on_fence_allowed is not None:
            # Announced hosts of the released zones may be fenced now; the
            # coordinator asks may_fence again for each.
            for node, episode in list(self._announced.values()):
                self._on_fence_allowed(node, episode)
