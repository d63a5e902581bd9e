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

"""Kubernetes Events on Nodes, written the way kubelet and kube-controller-
manager write theirs, so that ``kubectl describe node`` shows them.

Position in the flow: observability listener -> **events** -> Kubernetes
API. The monitor's decisions (suspect, failed, notified, held, fenced,
recovered) become ``core/v1`` Events in namespace ``default`` whose
``involvedObject`` is the Node (a cluster-scoped object: the reference has
no namespace, and kube-apiserver accepts such events only in ``default``).

Two properties are copied from client-go's event recorder:

- *Aggregation*: the same reason and message on the same node again does
  not create a second Event; the first one's ``count`` and
  ``lastTimestamp`` are PATCHed (client-go's EventCorrelator), so a
  notification retried every five minutes is one line in ``kubectl
  describe``. An Event that has expired meanwhile (kube-apiserver keeps
  them for an hour) is created anew.
- *Never in the way*: recording must not slow down a decision or a
  delivery, and a missing permission must not break the monitor. Callers
  only enqueue (:class:`BackgroundEventRecorder`); one thread writes; every
  failure is logged and counted, never raised; a full queue drops the
  Event and counts it.
"""

import collections
import dataclasses
import itertools
import random
import threading

from oslo_log import log as logging

from masakarimonitors_k8s.kube import client as kube_client
from masakarimonitors_k8s.kube import nodes as kube_nodes

LOG = logging.getLogger(__name__)

EVENT_NAMESPACE = 'default'
COMPONENT = 'masakari-hostmonitor'
NORMAL = 'Normal'
WARNING = 'Warning'
# kube-apiserver rejects longer messages from the events.k8s.io API and
# kubectl shows them truncated anyway.
MAX_MESSAGE_LENGTH = 1024
# client-go keeps this many event keys for aggregation (an LRU cache).
AGGREGATION_CACHE_SIZE = 4096
# client-go's broadcaster queue length; beyond it events are dropped.
QUEUE_SIZE = 1000
# Event names are <node>.<hex nanoseconds>, as kubelet's; other components
# name theirs the same way, so a clock of coarse resolution could make two
# names meet. A random start of the sequence keeps them apart, and a name
# taken all the same (409) is retried once with the next one.
_NAME_SPREAD = 1 << 32


@dataclasses.dataclass(frozen=True)
class NodeEvent:
    """One thing to say about one Node."""
    node: str
    reason: str
    message: str
    type: str = NORMAL
    # The Node's metadata.uid when known. kubelet and the node lifecycle
    # controller use the node name instead, and ``kubectl describe node``
    # looks for both, so the name is the fallback.
    node_uid: str | None = None

    def aggregation_key(self):
        return (self.node, self.node_uid or self.node, self.type,
                self.reason, self.message)


class RecorderStats:
    """Counts of what happened to recorded events; observability reads."""

    def __init__(self):
        self.created = 0
        self.aggregated = 0
        self.failed = 0
        self.dropped = 0

    def as_dict(self):
        return {'created': self.created, 'aggregated': self.aggregated,
                'failed': self.failed, 'dropped': self.dropped}


@dataclasses.dataclass
class _Series:
    """An Event already written, that repeats of it count up."""
    name: str
    count: int
    first_timestamp: str


class EventRecorder:
    """Writes :class:`NodeEvent` objects synchronously; never raises.

    :param client: kube.client.KubeClient (``post_json``, ``patch_merge``).
    :param clock: Clock; its wall time stamps the Events, as a kubelet's
        own clock does.
    :param instance: ``reportingInstance``: which replica speaks (the pod
        name).
    """

    def __init__(self, *, client, clock, instance, component=COMPONENT,
                 namespace=EVENT_NAMESPACE,
                 cache_size=AGGREGATION_CACHE_SIZE, stats=None, rng=None):
        self._client = client
        self._clock = clock
        self._instance = instance or ''
        self._component = component
        self._namespace = namespace
        self._cache_size = cache_size
        self._series = collections.OrderedDict()
        self._sequence = itertools.count(
            (rng or random.Random()).randrange(_NAME_SPREAD))
        self.stats = stats or RecorderStats()
        self._collection = '/api/v1/namespaces/%s/events' % (
            kube_client.quote(namespace))

    def write(self, event):
        """Create or count up the Event; True when the API accepted it."""
        event = _bounded(event)
        key = event.aggregation_key()
        series = self._series.get(key)
        try:
            if series is not None:
                if self._count_up(series):
                    self._series.move_to_end(key)
                    return True
                # The Event expired (or was deleted): start a new series.
                del self._series[key]
            self._remember(key, self._create(event))
            return True
        except kube_client.ApiError as exc:
            self.stats.failed += 1
            LOG.warning('Could not record Event %s on node %s: %s',
                        event.reason, event.node, exc)
        except Exception:  # a bug here must not reach a decision
            self.stats.failed += 1
            LOG.exception('Could not record Event %s on node %s.',
                          event.reason, event.node)
        return False

    def _create(self, event):
        stamp = kube_nodes.format_time(self._clock.wall())
        body = {
            'apiVersion': 'v1',
            'kind': 'Event',
            'metadata': {'name': self._event_name(event.node),
                         'namespace': self._namespace},
            'involvedObject': {'apiVersion': 'v1', 'kind': 'Node',
                               'name': event.node,
                               'uid': event.node_uid or event.node},
            'reason': event.reason,
            'message': event.message,
            'type': event.type,
            'source': {'component': self._component},
            'firstTimestamp': stamp,
            'lastTimestamp': stamp,
            'count': 1,
            'reportingComponent': self._component,
            'reportingInstance': self._instance,
        }
        try:
            created = self._client.post_json(self._collection, body)
        except kube_client.ApiError as exc:
            if exc.status != 409:
                raise
            body['metadata']['name'] = self._event_name(event.node)
            created = self._client.post_json(self._collection, body)
        self.stats.created += 1
        name = (created.get('metadata') or {}).get('name') or (
            body['metadata']['name'])
        return _Series(name, 1, stamp)

    def _count_up(self, series):
        """PATCH count and lastTimestamp; False when the Event is gone."""
        count = series.count + 1
        patch = {'count': count,
                 'lastTimestamp': kube_nodes.format_time(self._clock.wall())}
        try:
            self._client.patch_merge(
                '%s/%s' % (self._collection, kube_client.quote(series.name)),
                patch)
        except kube_client.ApiError as exc:
            if exc.status == 404:
                return False
            raise
        series.count = count
        self.stats.aggregated += 1
        return True

    def _remember(self, key, series):
        self._series[key] = series
        while len(self._series) > self._cache_size:
            self._series.popitem(last=False)

    def _event_name(self, node):
        stamp = int(self._clock.wall() * 1e9) + next(self._sequence)
        return '%s.%x' % (node, stamp)


def _bounded(event):
    if len(event.message) <= MAX_MESSAGE_LENGTH:
        return event
    return dataclasses.replace(
        event, message=event.message[:MAX_MESSAGE_LENGTH - 3] + '...')


class BackgroundEventRecorder:
    """A queue in front of an :class:`EventRecorder`, and its thread.

    ``record()`` returns at once, from any thread; the writer thread posts
    in order. ``flush()`` waits until everything queued has been written
    (tests, and a clean stop).
    """

    def __init__(self, recorder, *, queue_size=QUEUE_SIZE):
        self._recorder = recorder
        self._queue_size = queue_size
        self._pending = collections.deque()
        self._busy = False
        self._stopping = False
        self._condition = threading.Condition()
        self._thread = None

    @property
    def stats(self):
        return self._recorder.stats

    def record(self, node, reason, message, *, event_type=NORMAL,
               node_uid=None):
        """Queue one Event; False (and counted) when the queue is full."""
        event = NodeEvent(node=node, reason=reason, message=message,
                          type=event_type, node_uid=node_uid)
        with self._condition:
            if len(self._pending) >= self._queue_size:
                self._recorder.stats.dropped += 1
                LOG.warning('Event queue full (%d); dropping %s on node %s.',
                            self._queue_size, reason, node)
                return False
            self._pending.append(event)
            self._condition.notify_all()
        return True

    def start(self):
        self._thread = threading.Thread(target=self.run, daemon=True,
                                        name='node-events')
        self._thread.start()

    def run(self):
        while True:
            with self._condition:
                while not self._pending and not self._stopping:
                    self._condition.wait()
                if not self._pending:
                    return
                event = self._pending.popleft()
                self._busy = True
            try:
                self._recorder.write(event)
            finally:
                with self._condition:
                    self._busy = False
                    self._condition.notify_all()

    def flush(self, timeout):
        """Wait until the queue is written out; False on timeout."""
        with self._condition:
            return self._condition.wait_for(
                lambda: not self._pending and not self._busy, timeout)

    def stop(self, timeout=5.0):
        """Write out what is queued (within ``timeout``), then end."""
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                LOG.warning('Node events still being written at stop; %d '
                            'left unwritten.', len(self._pending))

    def is_alive(self):
        return self._thread is not None and self._thread.is_alive()
