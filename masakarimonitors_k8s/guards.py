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
(STOPPED/NORMAL after STOPPED/UNKNOWN) is not delayed.

The gate is pure logic: no threads, no I/O, time comes from a clock. The
decision thread calls ``offer()`` for each notification, ``reconsider()``
after each observation and at ``next_deadline()``.
"""

import dataclasses

from oslo_log import log as logging

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
        return ('zone %r: %d of %d monitored nodes failed, more than the '
                '%d allowed' % (self.zone or '(no zone)', self.failed,
                                self.monitored, self.allowed))


def storm_verdicts(zone_counts, limit):
    """{zone: ZoneVerdict} from {zone: (monitored, failed)}."""
    return {zone: ZoneVerdict(zone, monitored, failed,
                              limit.allowed(monitored))
            for zone, (monitored, failed) in zone_counts.items()}


class NotificationGate:
    """Holds STOPPED notifications while their zone is in a storm.

    :param limit: conf.UnhealthyLimit.
    :param zone_counts: callable -> {zone: (monitored, failed)}.
    :param still_failed: callable(node name) -> bool.
    :param outbox: where notifications that pass go (the delivery queue).
    :param on_held: callable(notification, reason), for Events/metrics.
    :param clock: Clock (monotonic) for the settle window.
    :param settle_window: seconds a new STOPPED waits (see module doc).
    """

    def __init__(self, *, limit, zone_counts, still_failed, outbox, clock,
                 settle_window=0.0, on_held=None):
        self._limit = limit
        self._clock = clock
        self._settle_window = settle_window
        self._settling = {}      # hostname -> (due, Notification)
        self._zone_counts = zone_counts
        self._still_failed = still_failed
        self._outbox = outbox
        self._on_held = on_held
        self._held = {}          # hostname -> Notification
        self._announced = set()  # hosts whose STOPPED went out
        self._holding = {}       # zone -> ZoneVerdict, zones in a storm
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

    def next_deadline(self):
        if not self._settling:
            return None
        return min(due for due, _ in self._settling.values())

    def may_fence(self, hostname, zone):
        """Whether a host may be powered off now (any thread).

        Its STOPPED must have passed the gate (settled, no storm), and its
        zone must not be in a storm now.
        """
        return (hostname in self._announced
                and (zone or '') not in self._holding)

    # -- the flow ------------------------------------------------------
    def offer(self, notification):
        self._refresh()
        host = notification.hostname
        if notification.intent.event is policy.Event.STARTED:
            if self._settling.pop(host, None) is not None:
                LOG.info('Host %s recovered within the settle window; '
                         'nothing is sent.', host)
            if self._held.pop(host, None) is not None:
                self.dropped_total += 1
                LOG.info('Host %s recovered while its STOPPED was held by '
                         'the storm guard; Masakari never heard of the '
                         'failure, so nothing is sent.', host)
            if host not in self._announced:
                return
            self._announced.discard(host)
            self._outbox(notification)
            return
        verdict = self._holding.get(notification.zone)
        if verdict is not None:
            self._settling.pop(host, None)
            self._hold(notification, verdict)
            return
        if host in self._announced or self._settle_window <= 0:
            self._send_stopped(notification)
            return
        # A first STOPPED: let the burst it may belong to show itself.
        due = self._clock.monotonic() + self._settle_window
        if host in self._settling:
            due = self._settling[host][0]
        self._settling[host] = (due, notification)

    def reconsider(self):
        """Re-check held notifications after the counts may have moved."""
        self._refresh()
        now = self._clock.monotonic()
        for host, (due, notification) in list(self._settling.items()):
            if not self._still_failed(notification.node):
                del self._settling[host]
            elif notification.zone in self._holding:
                del self._settling[host]
                self._hold(notification, self._holding[notification.zone])
            elif due <= now:
                del self._settling[host]
                self._send_stopped(notification)
        for host, notification in list(self._held.items()):
            if not self._still_failed(notification.node):
                del self._held[host]
                self.dropped_total += 1
                LOG.info('Dropping the held %s: host %s is no longer '
                         'failed.', notification.describe(), host)
            elif notification.zone not in self._holding:
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
    def _send_stopped(self, notification):
        self._announced.add(notification.hostname)
        self._outbox(notification)

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
        verdicts = storm_verdicts(self._zone_counts(), self._limit)
        holding = {zone: v for zone, v in verdicts.items() if v.holding}
        for zone in holding.keys() - self._holding.keys():
            LOG.warning('STORM GUARD engaged: %s. New STOPPED notifications '
                        'and fencing in this zone are held until the number '
                        'drops ([k8s] max_unhealthy = %s).',
                        holding[zone].describe(), self._limit)
        for zone in self._holding.keys() - holding.keys():
            LOG.warning('Storm guard released for zone %r.',
                        zone or '(no zone)')
        self._holding = holding
