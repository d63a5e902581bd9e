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

"""Delivery of notifications to Masakari: never blocks, never loses one.

Position in the flow: guards -> **notifier** -> masakari-api.

Each host has at most one pending delivery. A newer notification for the
same host supersedes the pending one (the newest state is the truth: a
STOPPED that was never delivered must not be sent after the host came
back). Attempts run in their own thread, so a slow or absent masakari-api
never holds up the watch or the policy; failed attempts are retried with
exponential backoff until delivered or superseded.

The queue holds what to say, not whether it is still true: right before
every attempt it asks ``warrant(notification)`` (the decision engine's
current view of the host, see :mod:`masakarimonitors_k8s.hosts`). A STOPPED
for a host that is Ready again waits; one for a host that recovered, was
excluded or deleted without evidence, or failed again in a new episode is
withdrawn. A STARTED supersedes a STOPPED still pending: even one this
replica never attempted may have reached Masakari from a replica that led
before it, or from this monitor before a restart, and a STARTED is only
recorded by Masakari, never acted upon.

What Masakari's answers mean here (masakari/ha/api.py):

- 202: stored. Delivered.
- 409 "duplicate": an identical notification (same payload and
  generated_time) is already stored. Delivered: this is how a restarted
  monitor, or the second attempt after a lost answer, stays idempotent.
- 409 "under maintenance": Masakari has the host on maintenance (a STOPPED
  was processed, or an operator's maintenance). A STOPPED is sent again
  every ``maintenance_recheck`` seconds while the host still warrants it,
  so a failure that outlasts the maintenance is reported; a STARTED is
  done.
- 400 "could not be found": the host is not registered in any segment. Kept
  and re-tried every ``unknown_host_recheck`` seconds with an error each
  time: it may be registered later and the failure is still real.
- any other 400: the request itself is wrong; retrying cannot help. Logged
  as an error and counted.
- anything else (5xx, timeouts, refused connections): retried.
"""

import collections
import dataclasses
import enum
import heapq
import random
import threading

from openstack import exceptions as sdk_exceptions
from oslo_log import log as logging

from masakarimonitors_k8s import backoff
from masakarimonitors_k8s import hosts
from masakarimonitors_k8s.kube import nodes as kube_nodes
from masakarimonitors_k8s import loops
from masakarimonitors_k8s import policy

LOG = logging.getLogger(__name__)

TYPE_COMPUTE_HOST = 'COMPUTE_HOST'
# keystoneauth sessions wait for ever by default, and a frozen masakari-api
# would then hold every host's delivery. Used when [api] timeout is unset.
DEFAULT_API_TIMEOUT = 30.0
# Seconds between looks at a notification whose host asks to wait (Ready
# again within the recovery window, evidence gone for a moment).
WAIT_RECHECK = 5.0


class Outcome(str, enum.Enum):
    ACCEPTED = 'accepted'
    DUPLICATE = 'duplicate'
    HOST_ON_MAINTENANCE = 'host_on_maintenance'
    UNKNOWN_HOST = 'unknown_host'
    REJECTED = 'rejected'
    FAILED = 'failed'   # transient: retried

    @property
    def final(self):
        return self in (Outcome.ACCEPTED, Outcome.DUPLICATE,
                        Outcome.HOST_ON_MAINTENANCE, Outcome.REJECTED)


@dataclasses.dataclass(frozen=True)
class Result:
    outcome: Outcome
    detail: str = ''
    notification_uuid: str | None = None


def classify_http_error(status, message):
    text = (message or '').lower()
    if status == 409:
        if 'maintenance' in text:
            return Outcome.HOST_ON_MAINTENANCE
        return Outcome.DUPLICATE
    if status == 400:
        if 'could not be found' in text:
            return Outcome.UNKNOWN_HOST
        return Outcome.REJECTED
    return Outcome.FAILED


class MasakariSender:
    """Sends one notification through openstacksdk's ``instance_ha``.

    Give either the ``instance_ha`` proxy, or ``connect``: a callable that
    builds it. Building it talks to the network (Keystone authentication,
    the catalog, masakari-api's version discovery), so it happens on the
    first send, in the delivery thread, and a failure is a failed delivery
    retried with backoff like any other: a monitor started while Keystone
    or masakari-api is still down watches the nodes (and fences) and
    notifies once Masakari answers, instead of exiting.
    """

    def __init__(self, instance_ha=None, *, connect=None):
        if (instance_ha is None) == (connect is None):
            raise TypeError('give instance_ha or connect')
        self._instance_ha = instance_ha
        self._connect = connect
        # For metrics: whether the client is built, and how often
        # building it failed.
        self.client_ready = instance_ha is not None
        self.client_failures = 0
        self._client_problem = None   # the last failure's type, logged once

    def _client(self):
        if self._instance_ha is None:
            try:
                self._instance_ha = self._connect()
            except Exception as exc:
                self.client_failures += 1
                problem = type(exc).__name__
                if problem != self._client_problem:
                    # Once per kind of trouble: the delivery queue logs
                    # every failed attempt already.
                    LOG.warning('Cannot reach Masakari through Keystone '
                                'yet ([api] section): %s: %s. Deliveries '
                                'are retried with backoff; nodes are still '
                                'watched.', problem, exc)
                    self._client_problem = problem
                raise
            if self._client_problem is not None:
                LOG.info('Masakari client ready after %d failed attempt(s).',
                         self.client_failures)
            self._client_problem = None
            self.client_ready = True
        return self._instance_ha

    def send(self, notification):
        intent = notification.intent
        try:
            instance_ha = self._client()
        except Exception as exc:
            return Result(Outcome.FAILED,
                          'Masakari client unavailable: %s: %s'
                          % (type(exc).__name__, exc))
        try:
            response = instance_ha.create_notification(
                type=TYPE_COMPUTE_HOST, hostname=notification.hostname,
                generated_time=kube_nodes.format_time(
                    intent.generated_time),
                payload=intent.payload())
        except sdk_exceptions.HttpException as exc:
            detail = exc.details or str(exc)
            return Result(classify_http_error(exc.status_code, detail),
                          detail)
        except Exception as exc:  # connection refused, timeouts, auth
            return Result(Outcome.FAILED, '%s: %s' % (type(exc).__name__,
                                                      exc))
        uuid = getattr(response, 'notification_uuid', None) or getattr(
            response, 'id', None)
        if not uuid:
            # openstacksdk returns an empty object instead of raising when
            # the endpoint lacks /v1 (HTTP 300): nothing was stored.
            return Result(Outcome.FAILED,
                          'masakari-api answered without a notification '
                          'id; check that the endpoint ends in /v1')
        return Result(Outcome.ACCEPTED, 'stored', uuid)


@dataclasses.dataclass
class PendingDelivery:
    notification: object
    offered_at: float       # monotonic
    attempts: int = 0
    due: float = 0.0        # monotonic
    generation: int = 0


# Latency samples kept: enough for percentiles, bounded for months of
# running.
LATENCY_SAMPLES = 1000


class DeliveryStats:
    def __init__(self):
        self.results = {}     # (event, outcome) -> count
        self.superseded = 0
        self.withdrawn = 0    # dropped before sending: host no longer warrants
        # Seconds from offer to a final answer, the latest ones only.
        self.latencies = collections.deque(maxlen=LATENCY_SAMPLES)

    def count(self, event, outcome):
        key = (event, outcome.value)
        self.results[key] = self.results.get(key, 0) + 1


class DeliveryQueue:
    """Per-host pending deliveries with retry; thread-safe.

    ``offer()`` is called by the decision thread; ``run_due()`` by the
    delivery thread (or a test). ``on_result(notification, result)`` is
    called after each final answer (for events and metrics).
    """

    def __init__(self, *, sender, clock, settings, on_result=None,
                 rng=None):
        self._sender = sender
        self._clock = clock
        self._settings = settings
        self._on_result = on_result
        self._rng = rng or random.Random()
        self._lock = threading.Condition()
        self._pending = {}   # hostname -> PendingDelivery
        self._heap = []      # (due, generation, hostname)
        self._generation = 0
        self.stats = DeliveryStats()
        self.may_send = lambda: True
        self.warrant = lambda notification: hosts.Warrant.ACT

    def offer(self, notification):
        with self._lock:
            previous = self._pending.get(notification.hostname)
            if previous is not None:
                self.stats.superseded += 1
                LOG.info('Superseding undelivered %s for host %s by %s.',
                         previous.notification.event,
                         notification.hostname, notification.event)
            self._generation += 1
            now = self._clock.monotonic()
            self._pending[notification.hostname] = PendingDelivery(
                notification, offered_at=now, due=now,
                generation=self._generation)
            heapq.heappush(self._heap, (now, self._generation,
                                        notification.hostname))
            self._lock.notify_all()
        LOG.info('Queued %s', notification.describe())

    def pending(self):
        with self._lock:
            return {host: p.notification for host, p in self._pending.items()}

    def next_due(self):
        with self._lock:
            return self._next_due_locked()

    def _next_due_locked(self):
        while self._heap:
            due, generation, host = self._heap[0]
            entry = self._pending.get(host)
            if entry is not None and entry.generation == generation:
                return due
            heapq.heappop(self._heap)
        return None

    def wait(self, stop_event, max_wait):
        """Block until something is due, an offer arrives or stop."""
        with self._lock:
            if stop_event.is_set():
                return
            due = self._next_due_locked()
            now = self._clock.monotonic()
            if due is None or not self.may_send():
                # Nothing due, or not ours to send (standby): sleep until
                # an offer or a change of leadership wakes us.
                timeout = max_wait
            else:
                timeout = max(0.0, min(max_wait, due - now))
            if timeout > 0:
                self._lock.wait(timeout)

    def wake(self):
        with self._lock:
            self._lock.notify_all()

    def run_due(self):
        """Attempt every delivery that is due now; returns how many."""
        attempted = 0
        while self.may_send():
            with self._lock:
                due = self._next_due_locked()
                if due is None or due > self._clock.monotonic():
                    return attempted
                _, generation, host = heapq.heappop(self._heap)
                entry = self._pending[host]
            # Level-triggered: the host's state now, not when it was
            # queued, and leadership right before the POST.
            warrant = self.warrant(entry.notification)
            if warrant is not hosts.Warrant.ACT:
                self._defer(host, entry, generation, warrant)
                continue
            if not self.may_send():
                with self._lock:
                    heapq.heappush(self._heap, (due, generation, host))
                return attempted
            with self._lock:
                entry.attempts += 1
            result = self._sender.send(entry.notification)
            attempted += 1
            self._record(host, entry, generation, result)
        return attempted

    def _defer(self, host, entry, generation, warrant):
        with self._lock:
            current = self._pending.get(host)
            if current is None or current.generation != generation:
                return
            if warrant is hosts.Warrant.DROP:
                del self._pending[host]
                self.stats.withdrawn += 1
            else:
                entry.due = self._clock.monotonic() + WAIT_RECHECK
                heapq.heappush(self._heap, (entry.due, generation, host))
        if warrant is hosts.Warrant.DROP:
            LOG.warning('Withdrawing undelivered %s: the host no longer '
                        'warrants it (back, excluded, deleted or a new '
                        'failure).', entry.notification.describe())

    def _record(self, host, entry, generation, result):
        notification = entry.notification
        self.stats.count(notification.event, result.outcome)
        now = self._clock.monotonic()
        final = self._is_final(notification, result)
        with self._lock:
            current = self._pending.get(host)
            still_current = (current is not None
                             and current.generation == generation)
            if final:
                if still_current:
                    del self._pending[host]
                self.stats.latencies.append(now - entry.offered_at)
            elif still_current:
                entry.due = now + self._retry_delay(entry, result)
                heapq.heappush(self._heap, (entry.due, generation, host))
        self._log(notification, entry, result)
        if final and self._on_result is not None:
            self._on_result(notification, result)

    @staticmethod
    def _is_final(notification, result):
        if result.outcome is Outcome.HOST_ON_MAINTENANCE:
            # The failure may outlast the maintenance: look again.
            return notification.intent.event is not policy.Event.STOPPED
        return result.outcome.final

    def _retry_delay(self, entry, result):
        if result.outcome is Outcome.UNKNOWN_HOST:
            return self._settings.unknown_host_recheck
        if result.outcome is Outcome.HOST_ON_MAINTENANCE:
            return self._settings.maintenance_recheck
        return backoff.delay(entry.attempts,
                             initial=self._settings.retry_initial,
                             maximum=self._settings.retry_max, rng=self._rng)

    def _log(self, notification, entry, result):
        what = notification.describe()
        if result.outcome is Outcome.ACCEPTED:
            LOG.info('Masakari accepted %s (notification %s, attempt %d).',
                     what, result.notification_uuid, entry.attempts)
        elif result.outcome is Outcome.DUPLICATE:
            LOG.info('Masakari already has %s (duplicate); delivered.', what)
        elif result.outcome is Outcome.HOST_ON_MAINTENANCE:
            if notification.intent.event is policy.Event.STOPPED:
                LOG.warning('Masakari has host %s on maintenance; will send '
                            '%s again in %.0f s while the host stays '
                            'failed.', notification.hostname, what,
                            self._settings.maintenance_recheck)
            else:
                LOG.info('Masakari has host %s on maintenance; not sending '
                         '%s.', notification.hostname, what)
        elif result.outcome is Outcome.UNKNOWN_HOST:
            LOG.error('Masakari does not know host %s (register it in a '
                      'segment); will retry %s every %.0f s: %s',
                      notification.hostname, notification.event,
                      self._settings.unknown_host_recheck, result.detail)
        elif result.outcome is Outcome.REJECTED:
            LOG.error('Masakari rejected %s: %s. Not retried.', what,
                      result.detail)
        else:
            LOG.warning('Delivery of %s failed (attempt %d): %s; will '
                        'retry.', what, entry.attempts, result.detail)


class DeliveryWorker(loops.Loop):
    """Runs a DeliveryQueue in its own OS thread until stopped."""

    thread_name = 'masakari-delivery'

    def __init__(self, queue, stop_event, *, max_wait=1.0):
        self._queue = queue
        self._stop = stop_event
        self._max_wait = max_wait

    def wake(self):
        self._queue.wake()

    def run(self):
        while not self._stop.is_set():
            try:
                self._queue.run_due()
            except Exception:
                LOG.exception('Unexpected error in delivery; continuing.')
            self._queue.wait(self._stop, self._max_wait)


def request_timeout(configured, leader=None):
    """Seconds one Masakari request may take, from ``[api] timeout``.

    Unset means :data:`DEFAULT_API_TIMEOUT`. With leader election the
    timeout stays below ``lease_duration - renew_deadline``: leadership is
    checked right before a POST, and a POST still running when a standby
    may have taken over (the lease expired at the standby's end) could
    land after the new leader's newer notification.
    """
    timeout = DEFAULT_API_TIMEOUT if configured is None else configured
    if leader is not None and leader.enabled:
        timeout = min(timeout, leader.lease_duration - leader.renew_deadline)
    return timeout


def instance_ha_connector(conf, leader=None):
    """A callable building the ``instance_ha`` proxy from ``[api]``.

    Those are masakari-monitors' own options: the same authentication as
    every other masakari monitor. The authentication plugin and session
    are loaded here, without any network traffic, so a bad ``[api]``
    option still stops the start-up; the callable does the network part.
    ``leader`` (conf.LeaderSettings) caps the request timeout, see
    :func:`request_timeout`.
    """
    from keystoneauth1 import loading as ks_loading
    from openstack import connection
    auth = ks_loading.load_auth_from_conf_options(conf, 'api')
    session = ks_loading.load_session_from_conf_options(conf, 'api',
                                                        auth=auth)
    timeout = request_timeout(session.timeout, leader)
    if session.timeout is not None and timeout < session.timeout:
        LOG.info('Masakari requests time out after %.1f s, not the %.1f s '
                 'of [api] timeout: with leader election a request must '
                 'end before a standby may take over (lease_duration - '
                 'renew_deadline).', timeout, session.timeout)
    session.timeout = timeout

    def connect():
        return connection.Connection(
            session=session, interface=conf.api.api_interface,
            region_name=conf.api.region).instance_ha
    connect.session = session
    return connect


def instance_ha_from_conf(conf):
    """openstacksdk ``instance_ha`` proxy from the ``[api]`` options, now."""
    return instance_ha_connector(conf)()
