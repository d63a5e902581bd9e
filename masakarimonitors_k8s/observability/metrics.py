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

"""Prometheus metrics of one monitor.

Position: beside the flow, reading it. Most numbers already exist as plain
counters in the parts that produce them (``ReflectorStats``, the engine's
``Counters``, the delivery queue's ``DeliveryStats``), so they are read at
scrape time by :class:`MonitorCollector` instead of being copied by a
polling thread or pushed from the hot paths: a scrape costs a few attribute
reads, and nothing runs between scrapes. Only what exists nowhere else is
kept here as a prometheus_client metric: the detection latency histogram,
transitions, held notifications and fencing actions and failures, fed by
the listener.

Every monitor has its own :class:`~prometheus_client.CollectorRegistry`,
never the process-global default one: tests (and a process that builds a
second monitor) must not see each other's series.
"""

import math

import prometheus_client
from prometheus_client import core as prometheus_core

PREFIX = 'masakari_k8s_'

# Signal -> 202 in seconds. From the Ready=Unknown transition a STOPPED
# takes tens of milliseconds; from a stale lease, the lease_stale_after
# margin; NORMAL after a fencing action or an operator's taint, minutes.
DETECTION_LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                             10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)

# The engine's assessments are owned by the decision thread; a scrape
# reading them while a node is added sees the dict change size. A retry
# almost always succeeds: the window is one dict insertion.
_SNAPSHOT_ATTEMPTS = 5


def _name(short):
    return PREFIX + short


class MonitorMetrics:
    """The registry of one monitor and the metrics the listener feeds.

    :param monitor: the ``driver.Monitor`` (or anything shaped like it:
        ``engine``, ``deliveries``, ``reflectors``, ``clock``, optional
        ``leader`` and ``guards``).
    :param event_stats: callable returning a dict of Event recorder counts
        (``created``, ``aggregated``, ``failed``, ``dropped``), or None
        when Node Events are off.
    """

    def __init__(self, monitor, *, event_stats=None):
        self.registry = prometheus_client.CollectorRegistry()
        self.detection_latency = prometheus_client.Histogram(
            _name('detection_latency_seconds'),
            'Seconds from the failure signal (Kubernetes\' timestamp of the '
            'Ready transition or of the last lease renewal) to masakari-api '
            'accepting the STOPPED notification, on the API server\'s '
            'clock. host_status UNKNOWN is the first report; NORMAL '
            'includes the time fencing took.',
            ['host_status'], buckets=DETECTION_LATENCY_BUCKETS,
            registry=self.registry)
        self.transitions = prometheus_client.Counter(
            _name('node_transitions'),
            'Changes of a node\'s verdict (from -> to).',
            ['from_health', 'to_health'], registry=self.registry)
        self.held = prometheus_client.Counter(
            _name('notifications_held'),
            'Notifications or fencing actions held back by a guard.',
            registry=self.registry)
        self.fenced = prometheus_client.Counter(
            _name('fencing_actions'),
            'Hosts fenced by the monitor (power-off verified).',
            registry=self.registry)
        self.fencing_failures = prometheus_client.Counter(
            _name('fencing_failures'),
            'Power-offs that failed or could not be verified.',
            registry=self.registry)
        self.registry.register(MonitorCollector(monitor,
                                                event_stats=event_stats))

    def exposition(self, accept_header=None):
        """(body, content type) for a scrape with this Accept header."""
        encoder, content_type = prometheus_client.exposition.choose_encoder(
            accept_header or '')
        return encoder(self.registry), content_type


class MonitorCollector:
    """Reads the monitor's own counters at scrape time."""

    def __init__(self, monitor, *, event_stats=None):
        self._monitor = monitor
        self._event_stats = event_stats

    def describe(self):
        # Nothing to pre-register; keeps the registry from calling
        # collect() at registration, before the monitor has started.
        return []

    def collect(self):
        yield from self._node_metrics()
        yield from self._delivery_metrics()
        yield from self._reflector_metrics()
        yield from self._role_metrics()
        yield from self._event_metrics()

    # -- families ------------------------------------------------------
    def _node_metrics(self):
        engine = self._monitor.engine
        nodes = prometheus_core.GaugeMetricFamily(
            _name('nodes'), 'Monitored nodes by the monitor\'s verdict.',
            labels=['health'])
        for health, count in sorted(_health_counts(engine).items()):
            nodes.add_metric([health], count)
        yield nodes
        counters = engine.counters
        yield prometheus_core.CounterMetricFamily(
            _name('malformed_objects'),
            'Node or Lease objects that could not be judged (no name, no '
            'status, odd timestamps); logged and skipped.',
            value=counters.malformed_objects)
        yield prometheus_core.CounterMetricFamily(
            _name('unmapped_nodes'),
            'Node observations without a Masakari host name (label or '
            'annotation missing); not monitored.',
            value=counters.unmapped_nodes)
        hostnames = getattr(engine, 'hostnames', None)
        if hostnames is not None:
            conflicts = prometheus_core.GaugeMetricFamily(
                _name('hostname_conflicts'),
                'Masakari host names that several monitored nodes map to '
                '(collision), or that differ only by case (case); each is '
                'logged as an error. Should be 0.', labels=['kind'])
            for kind, count in sorted(hostnames.conflict_counts().items()):
                conflicts.add_metric([kind], count)
            yield conflicts

    def _delivery_metrics(self):
        deliveries = self._monitor.deliveries
        stats = deliveries.stats
        notifications = prometheus_core.CounterMetricFamily(
            _name('notifications'),
            'Delivery attempts to masakari-api by notification event and '
            'result (accepted, duplicate, host_on_maintenance, '
            'unknown_host, rejected, failed). failed and unknown_host are '
            'retried.',
            labels=['event', 'result'])
        for (event, result), count in sorted(dict(stats.results).items()):
            notifications.add_metric([event, result], count)
        yield notifications
        yield prometheus_core.CounterMetricFamily(
            _name('notifications_superseded'),
            'Undelivered notifications replaced by a newer one for the '
            'same host.', value=stats.superseded)
        yield prometheus_core.GaugeMetricFamily(
            _name('pending_notifications'),
            'Hosts with a notification not yet delivered.',
            value=len(deliveries.pending()))
        sender = getattr(self._monitor, 'sender', None)
        if hasattr(sender, 'client_ready'):
            yield prometheus_core.GaugeMetricFamily(
                _name('masakari_client_ready'),
                '1 once the Masakari client is built (Keystone and the '
                'catalog answered); 0 before, e.g. while Keystone or '
                'masakari-api is unreachable at start-up.',
                value=1 if sender.client_ready else 0)
            yield prometheus_core.CounterMetricFamily(
                _name('masakari_client_failures'),
                'Failed attempts to build the Masakari client (retried '
                'with the delivery backoff).',
                value=sender.client_failures)

    def _reflector_metrics(self):
        families = {
            'restarts': prometheus_core.CounterMetricFamily(
                _name('watch_restarts'),
                'Watches opened after the first one (a watch ends at its '
                'server timeout, on errors and on 410 Gone).',
                labels=['resource']),
            'relists': prometheus_core.CounterMetricFamily(
                _name('relists'),
                'LISTs after the initial one (after 410 Gone or an '
                'unexpected error).', labels=['resource']),
            'expired': prometheus_core.CounterMetricFamily(
                _name('watch_expired'),
                'Watches answered 410 Gone (resourceVersion too old).',
                labels=['resource']),
            'errors': prometheus_core.CounterMetricFamily(
                _name('watch_errors'),
                'Failed LIST or WATCH requests (retried with backoff).',
                labels=['resource']),
            'checks': prometheus_core.CounterMetricFamily(
                _name('watch_silence_checks'),
                'Silent watches re-opened to check the flow (after '
                'watch_check_after seconds without any event or bookmark) '
                'that the API server answered: the cluster was quiet.',
                labels=['resource']),
            'events': prometheus_core.CounterMetricFamily(
                _name('watch_events'), 'Watch events received.',
                labels=['resource']),
            'bookmarks': prometheus_core.CounterMetricFamily(
                _name('watch_bookmarks'), 'Watch bookmarks received.',
                labels=['resource']),
            'synced': prometheus_core.GaugeMetricFamily(
                _name('watch_synced'),
                '1 while the view of the resource is current (listed and '
                'watching), 0 while it is stale.', labels=['resource']),
            'age': prometheus_core.GaugeMetricFamily(
                _name('watch_last_activity_age_seconds'),
                'Seconds since the last LIST page, watch event or bookmark '
                'of the resource (NaN before the first).',
                labels=['resource']),
        }
        now = self._monitor.clock.monotonic()
        for reflector in self._monitor.reflectors:
            stats = reflector.stats
            label = [reflector.name]
            families['restarts'].add_metric(label, max(0, stats.watches - 1))
            families['relists'].add_metric(label, max(0, stats.lists - 1))
            families['expired'].add_metric(label,
                                           stats.relists_after_expiry)
            families['errors'].add_metric(label, stats.errors)
            families['checks'].add_metric(label, stats.silence_checks)
            families['events'].add_metric(label, stats.events)
            families['bookmarks'].add_metric(label, stats.bookmarks)
            families['synced'].add_metric(label, 1 if stats.synced else 0)
            last = stats.last_activity
            families['age'].add_metric(
                label, math.nan if last is None else max(0.0, now - last))
        yield from families.values()

    def _role_metrics(self):
        leader = getattr(self._monitor, 'leader', None)
        # Without leader election every replica notifies: it leads.
        leading = getattr(leader, 'is_leader', True) if leader else True
        yield prometheus_core.GaugeMetricFamily(
            _name('leader'),
            '1 when this replica may notify and fence (the leader, or the '
            'only replica without leader election), 0 on a standby.',
            value=1 if leading else 0)
        holding = prometheus_core.GaugeMetricFamily(
            _name('guard_holding'),
            '1 while the guard holds notifications and fencing back.',
            labels=['guard'])
        guards = getattr(self._monitor, 'guards', None)
        report = getattr(guards, 'holding', None)
        for name, held in sorted((report() if report else {}).items()):
            holding.add_metric([name], 1 if held else 0)
        yield holding

    def _event_metrics(self):
        if self._event_stats is None:
            return
        events = prometheus_core.CounterMetricFamily(
            _name('node_events'),
            'Kubernetes Events about nodes by what became of them: created, '
            'aggregated (count of an existing one raised), failed, '
            'dropped (queue full).', labels=['result'])
        for result, count in sorted(self._event_stats().items()):
            events.add_metric([result], count)
        yield events


def _health_counts(engine):
    for attempt in range(_SNAPSHOT_ATTEMPTS):
        try:
            counts = engine.health_counts()
            break
        except RuntimeError:  # dictionary changed size during iteration
            if attempt == _SNAPSHOT_ATTEMPTS - 1:
                raise
    return {getattr(health, 'value', health): count
            for health, count in counts.items()}
