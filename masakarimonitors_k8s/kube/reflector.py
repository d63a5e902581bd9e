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

"""Keeps a consumer in sync with one kind of object: list, then watch.

Position in the flow: Kubernetes API -> **reflector** -> node state. Built
after client-go's reflector, which has one job and does it well:

- LIST in pages (``limit``) to get the full set and a resourceVersion;
- WATCH from that resourceVersion with bookmarks and a server timeout
  (randomised between 1x and 2x so replicas do not reconnect in step);
- when the watch ends normally, watch again from the last resourceVersion
  seen (a bookmark moves it without an object);
- when the stream has carried nothing for ``check_after`` seconds, check
  the flow: open the watch again from the last resourceVersion on a new
  connection. An answer within ``check_timeout`` proves the API alive and
  replays whatever the old stream lost, so a quiet cluster stays "fresh";
  no answer is an outage, noticed within ``check_after + check_timeout``
  (client-go's HTTP/2 health check, ReadIdleTimeout 30 s + PingTimeout
  15 s, bounds it at 45 s);
- on ``410 Gone``/Expired, and on ``504`` ResourceVersionTooLarge (an API
  server behind the load balancer lags our resourceVersion), LIST again;
  on any other error, back off exponentially with jitter
  (``backoff_initial`` doubling to ``backoff_max``), honouring the
  server's ``Retry-After`` up to ``backoff_max``, and retry, logging every
  failure. After ``RELIST_AFTER_FAILURES`` answered watch failures in a
  row the next attempt is a LIST. As in client-go, the backoff starts
  over after a watch that delivered events or lived ``HEALTHY_WATCH``
  seconds, so load balancer idle cuts do not pile up delay. A request
  that got no answer at all is retried within ``UNANSWERED_RETRY_MAX``
  seconds: it costs the server nothing, and the view is current again
  soon after the API is;
- a LIST page that fails is fetched again with the same ``continue``
  token; only an expired token (410) restarts the LIST from page one.

Each object is passed through ``transform`` as soon as it is parsed (the
informer's TransformFunc idea), so only the compact state survives and a
5,000-node page never lives as raw JSON beyond its parse. The consumer
(``sink``) gets ``replace(states)`` after each LIST, ``event(type, state)``
per change and ``fresh(bool)`` when the view becomes current or stale.

The reflector never talks to the rest of the monitor; it runs in its own
OS thread because a blocking socket read in an eventlet green thread would
freeze masakari-hostmonitor's whole process.
"""

import dataclasses
import random

from oslo_log import log as logging

from masakarimonitors_k8s import backoff
from masakarimonitors_k8s.kube import client as kube_client
from masakarimonitors_k8s import loops

LOG = logging.getLogger(__name__)

# Seconds: a watch that closes sooner, empty, counts as a failure.
SHORT_WATCH = 1.0
# Seconds: a watch that lived this long was healthy, however it ended
# (client-go's backoff manager resets after a calm period too).
HEALTHY_WATCH = 60.0
# Watch failures in a row (other than 410) after which we LIST again:
# a resourceVersion some API server cannot serve must not be retried for
# ever. A watch that got no answer at all says nothing about our
# resourceVersion: it is retried as it is (410 relists if it expired).
RELIST_AFTER_FAILURES = 3
# Seconds: the longest wait before retrying a request that got no answer.
UNANSWERED_RETRY_MAX = 2.0
# Watch events handed to the sink in one call at most. The events read in
# one wake-up (watch_read_interval) go to the decision thread together:
# at 5,000 nodes the Lease watch brings 500 renewals a second, and one
# inbox item, one thread switch and one pass of the deadlines and guards
# per renewal was most of the monitor's CPU in the production profile.
MAX_BATCH = 512


class ReflectorStats:
    def __init__(self):
        self.lists = 0
        self.relists_after_expiry = 0
        self.relists_after_errors = 0
        self.list_page_retries = 0
        self.watches = 0
        self.silence_checks = 0   # quiet streams re-opened to check them
        self.events = 0
        self.bookmarks = 0
        self.unchanged = 0   # events whose compact state did not change
        self.errors = 0
        self.last_activity = None   # monotonic time of the last byte of news
        self.synced = False
        self.resource_version = None


class Reflector(loops.Loop):
    """List+watch one collection and feed a sink.

    :param name: what is reflected, for logs ('nodes', 'leases').
    :param client: kube.client.KubeClient.
    :param path: collection path, e.g. '/api/v1/nodes'.
    :param params: selector query parameters.
    :param transform: raw object dict -> compact state (or None).
    :param decoder: optional object with ``event(line)`` and
        ``document(data)`` (:class:`decoding.NodeDecoder`) that decodes
        only what ``transform`` reads; JSON otherwise.
    :param sink: object with replace(states), events([(type, state),
        ...]) (in order; the events read in one go), fresh(bool).
    :param settings: conf.WatchSettings.
    :param idle_timeout: seconds without any event or bookmark after which
        a watch is considered dead.
    :param clock: Clock (monotonic for stats).
    :param stop_event: threading.Event that ends ``run()``.
    """

    def __init__(self, *, name, client, path, params, transform, sink,
                 settings, idle_timeout, clock, stop_event, rng=None,
                 decoder=None):
        self.name = name
        self._client = client
        self._path = path
        self._params = dict(params)
        self._transform = transform
        self._decoder = decoder
        self.sink = sink
        self._settings = settings
        self._idle_timeout = idle_timeout
        self._clock = clock
        self._stop = stop_event
        self._rng = rng or random.Random()
        self.stats = ReflectorStats()
        self._last_states = {}   # name -> last state handed to the sink
        self.thread_name = 'reflector-%s' % name
        self._failures = 0
        # A LIST cut short by an error: (states, continue token, rv).
        self._partial_list = None
        self._silent_checks = 0   # in a row, without news
        # Watch events not handed to the sink yet, and since when.
        self._batch = []
        self._batch_since = None

    # -- lifecycle -----------------------------------------------------

    def run(self):
        need_list = True
        while not self._stop.is_set():
            try:
                if need_list:
                    self._list()
                    need_list = False
                if self._stop.is_set():
                    break
                self._watch_once()
            except kube_client.Expired as exc:
                LOG.info('%s: resourceVersion %s expired (%s); listing '
                         'again.', self.name, self.stats.resource_version,
                         exc)
                self.stats.relists_after_expiry += 1
                self._partial_list = None
                need_list = True
            except kube_client.ApiError as exc:
                if self._stop.is_set():
                    break  # our own stop() broke the stream
                self.stats.errors += 1
                self._failures += 1
                if not need_list and (
                        isinstance(exc, kube_client.TooLargeResourceVersion)
                        or exc.status == 504
                        or (self._failures >= RELIST_AFTER_FAILURES
                            and not exc.unanswered)):
                    self.stats.relists_after_errors += 1
                    need_list = True
                delay = self.retry_delay(exc)
                LOG.warning('%s: %s; %s in %.1f s (failure %d in a row).',
                            self.name, exc,
                            'listing again' if need_list else 'retrying',
                            delay, self._failures)
                # need_list stays True when the LIST itself failed; its
                # pages so far are kept and it goes on from the failed one.
                self._mark_fresh(False)
                self._stop.wait(delay)
            except Exception:  # a bug must not kill the monitor's eyes
                self.stats.errors += 1
                self._failures += 1
                LOG.exception('%s: unexpected error; listing again.',
                              self.name)
                self._mark_fresh(False)
                self._partial_list = None
                need_list = True
                self._stop.wait(self.backoff_delay(self._failures))
        self._mark_fresh(False)

    def retry_delay(self, exc):
        """Seconds to wait after ``exc``, the ``self._failures``-th."""
        delay = self.backoff_delay(self._failures)
        if exc.retry_after is not None:
            # The server said when; more than backoff_max is not honoured
            # (the option's help promises that as the longest delay).
            return max(delay, min(exc.retry_after,
                                  self._settings.backoff_max))
        if exc.unanswered:
            return min(delay, UNANSWERED_RETRY_MAX)
        return delay

    def backoff_delay(self, failures):
        return backoff.delay(failures, initial=self._settings.backoff_initial,
                             maximum=self._settings.backoff_max,
                             rng=self._rng)

    # -- steps ---------------------------------------------------------
    def _remember(self, kind, state):
        name = getattr(state, 'name', None)
        if name is None:
            return
        if kind == 'DELETED':
            self._last_states.pop(name, None)
        else:
            self._last_states[name] = state

    def _same_as_before(self, state):
        """Whether ``state`` differs from the last one only in version."""
        name = getattr(state, 'name', None)
        before = self._last_states.get(name)
        if before is None or not dataclasses.is_dataclass(state):
            return False
        return dataclasses.replace(
            before, resource_version=state.resource_version) == state

    def _mark_fresh(self, fresh):
        if self.stats.synced != fresh:
            self.stats.synced = fresh
            self._flush()
            self.sink.fresh(fresh)

    def _emit(self, kind, state):
        """Queue an event for the sink; hand the batch over when due.

        Due: when the stream has nothing more waiting (the client calls
        :meth:`_flush`), when the batch is full, or when its first event
        has waited ``watch_read_interval`` (a stream that never pauses).
        """
        now = self._clock.monotonic()
        if not self._batch:
            self._batch_since = now
        self._batch.append((kind, state))
        if (len(self._batch) >= MAX_BATCH
                or now - self._batch_since >= self._settings.read_interval):
            self._flush()

    def _flush(self):
        if self._batch:
            batch, self._batch = self._batch, []
            self.sink.events(batch)

    def _touch(self):
        self.stats.last_activity = self._clock.monotonic()

    def _list(self):
        if self._partial_list is not None:
            states, token, resource_version = self._partial_list
            self.stats.list_page_retries += 1
            LOG.info('%s: resuming the LIST after %d objects.', self.name,
                     len(states))
        else:
            states, token, resource_version = [], None, None
        for page in self._client.list_pages(
                self._path, params=self._params,
                page_size=self._settings.page_size, continue_token=token,
                decode=self._decoder.document if self._decoder else None):
            self._touch()
            items = page.get('items') or []
            for obj in items:
                state = self._transform(obj)
                states.append(state)
            metadata = page.get('metadata') or {}
            resource_version = metadata.get('resourceVersion',
                                            resource_version)
            token = metadata.get('continue')
            # Where to go on from if the next page fails.
            self._partial_list = ((states, token, resource_version)
                                  if token else None)
            if self._stop.is_set():
                return
        self._partial_list = None
        self.stats.lists += 1
        self.stats.resource_version = resource_version
        self._last_states = {}
        for state in states:
            self._remember('ADDED', state)
        LOG.info('%s: listed %d objects at resourceVersion %s.', self.name,
                 len(states), resource_version)
        self._flush()
        self.sink.replace(states)
        self._mark_fresh(True)

    @property
    def check_after(self):
        """Seconds of silence after which a watch stream is checked."""
        return min(self._idle_timeout, self._settings.check_after)

    def _watch_once(self):
        timeout = self._settings.watch_timeout * (1 + self._rng.random())
        self.stats.watches += 1
        started = self._clock.monotonic()
        news = self.stats.events + self.stats.bookmarks
        try:
            self._follow_watch(timeout)
        except kube_client.StreamSilent as exc:
            if self._stop.is_set():
                return
            if self.stats.events + self.stats.bookmarks > news:
                self._silent_checks = 0
            self._silent_checks += 1
            silent_for = self._silent_checks * self.check_after
            if silent_for >= self._idle_timeout:
                # Answers, but neither events nor bookmarks: whatever
                # serves us is not following the collection.
                self._silent_checks = 0
                raise kube_client.ApiError(
                    'no event or bookmark for %.0f s (watch_idle_timeout)'
                    % silent_for) from exc
            # Quiet or dead? The next watch, from the last
            # resourceVersion on a new connection, tells: it must answer
            # within check_timeout, and it replays anything this stream
            # lost.
            self.stats.silence_checks += 1
            LOG.debug('%s: nothing for %.1f s; checking the flow with a '
                      'new watch.', self.name, self.check_after)
            return
        except kube_client.ApiError:
            if (self.stats.events + self.stats.bookmarks > news
                    or self._clock.monotonic() - started >= HEALTHY_WATCH):
                # It worked for a while before it broke (a load balancer
                # idle cut, an API server restart): a new trouble, not
                # the next in a row.
                self._failures = 0
                self._silent_checks = 0
            raise
        if self._stop.is_set():
            return
        if self.stats.events + self.stats.bookmarks > news:
            self._failures = 0
            self._silent_checks = 0
        elif self._clock.monotonic() - started < SHORT_WATCH:
            # Like client-go: a watch that ends at once with nothing in
            # it is a broken server or proxy; reopening it in a tight loop
            # would hammer the API.
            raise kube_client.ApiError(
                'watch ended after %.1f s without any event'
                % (self._clock.monotonic() - started))
        else:
            self._failures = 0

    def _follow_watch(self, timeout):
        stream = self._client.watch(
            self._path, params=self._params,
            resource_version=self.stats.resource_version,
            timeout_seconds=timeout, idle_timeout=self.check_after,
            answer_timeout=self._settings.check_timeout,
            new_connection=self._silent_checks > 0,
            coalesce=self._settings.read_interval, on_idle=self._flush,
            decode_event=self._decoder.event if self._decoder else None)
        try:
            for kind, obj in stream:
                self._touch()
                if self._stop.is_set():
                    return
                metadata = obj.get('metadata') or {}
                if metadata.get('resourceVersion'):
                    self.stats.resource_version = metadata['resourceVersion']
                if kind == 'BOOKMARK':
                    self.stats.bookmarks += 1
                    self._mark_fresh(True)
                    continue
                if kind not in ('ADDED', 'MODIFIED', 'DELETED'):
                    LOG.warning('%s: ignoring watch event of type %r.',
                                self.name, kind)
                    continue
                self.stats.events += 1
                self._mark_fresh(True)
                state = self._transform(obj)
                if kind == 'MODIFIED' and self._same_as_before(state):
                    # Most Node events are the kubelet's periodic status
                    # report, which only moves heartbeat times: nothing the
                    # policy reads. Measured at 5,000 nodes: 16 such events
                    # a second, 0.12 ms each in the decision thread.
                    self.stats.unchanged += 1
                    continue
                self._remember(kind, state)
                self._emit(kind, state)
        finally:
            stream.close()
            self._flush()
