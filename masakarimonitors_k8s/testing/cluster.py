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

"""A simulated cluster: hosts, their kubelets and the node lifecycle
controller, writing into the Kubernetes API test server's object store.

Part of the test bed. The monitor under test only sees the API over HTTP,
so failures are staged here, where the API's contents come from: a powered
off host stops renewing its Lease, and some time later the controller marks
its Node ``Ready=Unknown`` and taints it, with the same timing rules,
reasons, messages and write order as Kubernetes (kubelet lease controller,
kubelet node status loop, ``pkg/controller/nodelifecycle``). See
``doc/source/contributor/cluster-model.rst``.

Time is an input. All periodic work sits in one agenda ordered by due time;
:meth:`ClusterModel.advance` walks a :class:`~masakarimonitors_k8s.clock.
ManualClock` through it so that a test covering minutes of cluster life runs
in milliseconds and always the same way, and
:meth:`ClusterModel.start_realtime` serves the same agenda from a thread on
the system clock for demos and benchmarks. The model keeps its own record of
the truth (is the host running?) and a timeline of what it did, which the
API cannot show, so tests and benchmarks can compare what the monitor
concluded with what really happened.
"""

import collections
import dataclasses
import hashlib
import heapq
import itertools
import threading
import typing

from masakarimonitors_k8s.testing.kube_apiserver import errors
from masakarimonitors_k8s.testing import nodes

UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable'
NOT_READY_TAINT = 'node.kubernetes.io/not-ready'
UNSCHEDULABLE_TAINT = 'node.kubernetes.io/unschedulable'
OUT_OF_SERVICE_TAINT = 'node.kubernetes.io/out-of-service'

# What the node lifecycle controller writes when heartbeats stop
# (nodelifecycle: tryUpdateNodeHealth).
UNKNOWN_REASON = 'NodeStatusUnknown'
UNKNOWN_MESSAGE = 'Kubelet stopped posting node status.'
NEVER_UPDATED_REASON = 'NodeStatusNeverUpdated'
NEVER_UPDATED_MESSAGE = 'Kubelet never posted node status.'
CONTROLLED_CONDITIONS = ('Ready', 'MemoryPressure', 'DiskPressure',
                         'PIDPressure')
# The controller's taints per Ready status; any other status of these keys
# is removed.
READINESS_TAINTS = {
    'True': (),
    'False': ((NOT_READY_TAINT, 'NoSchedule'),
              (NOT_READY_TAINT, 'NoExecute')),
    'Unknown': ((UNREACHABLE_TAINT, 'NoSchedule'),
                (UNREACHABLE_TAINT, 'NoExecute')),
}
# Zone states (nodelifecycle ComputeZoneStateFunc,
# --unhealthy-zone-threshold default 0.55).
ZONE_NORMAL = 'Normal'
ZONE_PARTIAL_DISRUPTION = 'PartialDisruption'
ZONE_FULL_DISRUPTION = 'FullDisruption'
UNHEALTHY_ZONE_THRESHOLD = 0.55

KUBERNETES_EVENT_NAMESPACE = 'default'
DEFAULT_NOT_READY_REASON = 'KubeletNotReady'
DEFAULT_NOT_READY_MESSAGE = 'container runtime is down'

# Agenda entry kinds.
_LEASE = 'lease'
_STATUS = 'status'
_CONTROLLER = 'controller'
# Entries served per lock hold in real time, so actions are never starved
# by a backlog.
_REALTIME_BATCH = 500
# Upper bound of one idle wait in real time, so a stop_event set by the
# caller (rather than through stop()) is noticed promptly.
_REALTIME_MAX_WAIT = 0.25


class TimelineEvent(typing.NamedTuple):
    """Something the model did or saw, e.g. ``('power-off', name, wall)``.

    ``node`` is a node name, or a zone name for ``zone-state:*`` kinds.
    """

    kind: str
    node: str
    wall: float


class ZoneHealth(typing.NamedTuple):
    ready: int
    not_ready: int
    state: str


def _taint_kind(change, key, effect):
    return 'taint-%s:%s:%s' % (change, key, effect)


def _phase(name, salt, period):
    """A stable offset in (0, period] that spreads nodes over a period."""
    digest = hashlib.sha256(('%s\0%s' % (salt, name)).encode()).digest()
    fraction = int.from_bytes(digest[:4], 'big') / 2 ** 32
    return period * (1.0 - fraction)


def _find_condition(node, condition_type):
    for condition in node.get('status', {}).get('conditions', []):
        if condition.get('type') == condition_type:
            return condition
    return None


class _Recorder:
    """The model's timeline, and the Kubernetes Events that go with it.

    Real kubelets and the node controller record Events (``kubectl get
    events``) on the same transitions; they are written to the store too.
    """

    def __init__(self, store, clock, *, emit_kubernetes_events):
        self._store = store
        self._clock = clock
        self._emit = emit_kubernetes_events
        self._timeline = []
        self._sequence = itertools.count()

    def note(self, kind, node):
        self._timeline.append(TimelineEvent(kind, node, self._clock.wall()))

    def timeline(self):
        return list(self._timeline)

    def kubernetes_event(self, node, reason, message, *, component,
                         event_type='Normal'):
        if not self._emit:
            return
        wall = self._clock.wall()
        stamp = nodes.format_time(wall)
        # Named like client-go's recorder: object name and a hex
        # nanosecond stamp, made unique within the same nanosecond.
        unique = int(wall * 1e9) + next(self._sequence)
        source = {'component': component}
        if component == 'kubelet':
            source['host'] = node
        event = {
            'apiVersion': 'v1',
            'kind': 'Event',
            'metadata': {'name': '%s.%x' % (node, unique),
                         'namespace': KUBERNETES_EVENT_NAMESPACE},
            # Both kubelet and node controller use the node name as UID.
            'involvedObject': {'apiVersion': 'v1', 'kind': 'Node',
                               'name': node, 'uid': node},
            'reason': reason,
            'message': message,
            'type': event_type,
            'source': source,
            'firstTimestamp': stamp,
            'lastTimestamp': stamp,
            'count': 1,
            'reportingComponent': component,
            'reportingInstance': node if component == 'kubelet' else '',
        }
        self._store.create('events', event,
                           namespace=KUBERNETES_EVENT_NAMESPACE)


@dataclasses.dataclass
class _Host:
    """A machine and its kubelet, as only the model knows them."""

    name: str
    zone: str
    uid: str
    powered: bool = True
    kubelet_running: bool = True
    partitioned: bool = False
    ready: bool = True
    not_ready_reason: str = DEFAULT_NOT_READY_REASON
    not_ready_message: str = DEFAULT_NOT_READY_MESSAGE
    boot_number: int = 1
    # Agenda entries carry the token current when they were scheduled;
    # bumping it cancels them without searching the heap.
    lease_token: int = 0
    status_token: int = 0

    @property
    def reaches_api(self):
        return self.powered and self.kubelet_running and not self.partitioned


class _Agenda:
    """Due work in order of due time (monotonic seconds)."""

    def __init__(self):
        self._heap = []
        self._sequence = itertools.count()

    def push(self, due, kind, name=None, token=None):
        heapq.heappush(self._heap,
                       (due, next(self._sequence), kind, name, token))

    def next_due(self):
        return self._heap[0][0] if self._heap else None

    def pop(self):
        due, _, kind, name, token = heapq.heappop(self._heap)
        return due, kind, name, token


class _Kubelets:
    """What kubelets write to the API: Lease renewals and Node status."""

    def __init__(self, store, clock, recorder, *, lease_namespace):
        self._store = store
        self._clock = clock
        self._recorder = recorder
        self._lease_namespace = lease_namespace

    def renew_lease(self, host):
        wall = self._clock.wall()
        renew = nodes.format_micro_time(wall)

        def renew_in_place(lease):
            lease['spec']['renewTime'] = renew
            lease['spec']['holderIdentity'] = host.name
            # The API server stamps the writer's managedFields entry too.
            for entry in lease['metadata'].get('managedFields', []):
                if entry.get('manager') == 'kubelet':
                    entry['time'] = nodes.format_time(wall)

        try:
            self._store.mutate('leases', host.name, renew_in_place,
                               namespace=self._lease_namespace)
        except errors.NotFound:
            # The kubelet's lease controller recreates a missing Lease.
            self._store.create(
                'leases',
                nodes.make_lease(host.name, now=self._clock.wall(),
                                 node_uid=host.uid,
                                 namespace=self._lease_namespace),
                namespace=self._lease_namespace)

    def post_status(self, host):
        """Patch the Node's status as the kubelet's status loop does."""
        now = self._clock.wall()
        before = {}

        def post(node):
            ready = _find_condition(node, 'Ready')
            before['ready'] = ready.get('status') if ready else None
            nodes.apply_kubelet_status(
                node, now=now, ready=host.ready,
                reason=(nodes.READY_REASON if host.ready
                        else host.not_ready_reason),
                message=(nodes.READY_MESSAGE if host.ready
                         else host.not_ready_message),
                boot=nodes.boot_id(host.name, host.boot_number))

        try:
            self._store.mutate('nodes', host.name, post)
        except errors.NotFound:
            # A kubelet whose Node was deleted keeps failing its status
            # updates; it re-registers only when restarted.
            return
        posted = 'True' if host.ready else 'False'
        if before.get('ready') == posted:
            return
        if host.ready:
            self._recorder.note('ready', host.name)
            self._recorder.kubernetes_event(
                host.name, 'NodeReady',
                'Node %s status is now: NodeReady' % host.name,
                component='kubelet')
        else:
            self._recorder.note('not-ready', host.name)
            self._recorder.kubernetes_event(
                host.name, 'NodeNotReady',
                'Node %s status is now: NodeNotReady' % host.name,
                component='kubelet')

    def register(self, host, node):
        """Create the Node and its Lease; returns the Lease's renewTime."""
        created = self._store.create('nodes', node)
        host.uid = created['metadata'].get('uid', '')
        lease = nodes.make_lease(host.name, now=self._clock.wall(),
                                 node_uid=host.uid,
                                 namespace=self._lease_namespace)
        try:
            self._store.create('leases', lease,
                               namespace=self._lease_namespace)
        except errors.AlreadyExists:
            self.renew_lease(host)
        return self._store.get('leases', host.name,
                               namespace=self._lease_namespace)[
                                   'spec']['renewTime']


@dataclasses.dataclass
class _NodeHealth:
    """What the controller last saw of one node (its nodeHealthData)."""

    zone: str
    probe: float
    renew_time: str = ''
    heartbeat: str = ''
    ready: str = 'True'


class _NodeLifecycleController:
    """The node lifecycle controller, as far as a monitor can see it.

    That is the Unknown conditions and the taints it writes.

    Like the real one, it learns of changes from the store's change feed
    (its informers), measures silence from when *it* observed the last
    Lease renewal or status heartbeat (the probe time, taken at one of its
    ticks) rather than from the timestamps written into the objects, and
    marks a node only when ``now`` is strictly past probe + grace period.
    Writes made by others through the API (a test patching a Node over
    HTTP) are therefore seen too.
    """

    def __init__(self, store, clock, recorder, *, grace_period,
                 lease_namespace):
        self._store = store
        self._clock = clock
        self._recorder = recorder
        self._grace_period = grace_period
        self._lease_namespace = lease_namespace
        self._health = {}
        self._zone_states = {}
        # Filled under the store's lock by whichever thread wrote, drained
        # by tick(); deque appends and pops are atomic.
        self._observed = collections.deque()
        store.subscribe(self._on_change)

    def close(self):
        self._store.unsubscribe(self._on_change)

    def watch(self, name, *, zone, renew_time, heartbeat):
        self._health[name] = _NodeHealth(
            zone=zone, probe=self._clock.monotonic(),
            renew_time=renew_time, heartbeat=heartbeat)

    def forget(self, name):
        self._health.pop(name, None)

    def tick(self):
        now = self._clock.monotonic()
        changed_nodes = self._drain_observed(now)
        for name, health in self._health.items():
            silent = now > health.probe + self._grace_period
            if name in changed_nodes or (silent and health.ready != 'Unknown'):
                self._sync_node(name, health, now)
        self._update_zone_states()

    def zone_health(self):
        counts = {}
        for health in self._health.values():
            ready, not_ready = counts.get(health.zone, (0, 0))
            if health.ready == 'True':
                ready += 1
            else:
                not_ready += 1
            counts[health.zone] = (ready, not_ready)
        return {zone: ZoneHealth(ready, not_ready,
                                 self._zone_state(ready, not_ready))
                for zone, (ready, not_ready) in counts.items()}

    def _on_change(self, change_type, resource, obj):
        # Runs under the store's lock, maybe on an API server thread: only
        # queue what changed, as an informer's event handler would.
        metadata = obj.get('metadata') or {}
        if resource == 'nodes':
            self._observed.append((resource, metadata.get('name'), ''))
        elif resource == 'leases' and \
                metadata.get('namespace') == self._lease_namespace:
            renew = (obj.get('spec') or {}).get('renewTime') or ''
            self._observed.append((resource, metadata.get('name'), renew))

    def _drain_observed(self, now):
        """Take in queued changes; returns the names of changed Nodes."""
        changed_nodes = set()
        while self._observed:
            resource, name, renew = self._observed.popleft()
            health = self._health.get(name)
            if health is None:
                continue
            if resource == 'nodes':
                changed_nodes.add(name)
            elif renew and renew != health.renew_time:
                # Only a later renewTime counts, as in the controller.
                if not health.renew_time or nodes.parse_time(renew) > \
                        nodes.parse_time(health.renew_time):
                    health.probe = now
                health.renew_time = renew
        return changed_nodes

    def _sync_node(self, name, health, now):
        # Status and taints are two writes, as in the real controller
        # (UpdateStatus, then the tainting pass), so watchers see two
        # MODIFIED events.
        wall = self._clock.wall()
        marked = []

        def update_health(node):
            ready = _find_condition(node, 'Ready')
            heartbeat = (ready or {}).get('lastHeartbeatTime') or ''
            if heartbeat != health.heartbeat:
                health.heartbeat = heartbeat
                health.probe = now
            if now > health.probe + self._grace_period:
                marked.extend(self._mark_unknown(node, wall))
            ready = _find_condition(node, 'Ready') or {}
            health.ready = ready.get('status', 'Unknown')

        try:
            self._store.mutate('nodes', name, update_health)
            if 'Ready' in marked:
                self._recorder.note('ready-unknown', name)
                self._recorder.kubernetes_event(
                    name, 'NodeNotReady',
                    'Node %s status is now: NodeNotReady' % name,
                    component='node-controller')
            self._store.mutate(
                'nodes', name,
                lambda node: self._taint_for_readiness(node, name,
                                                       health.ready, wall))
        except errors.NotFound:
            return

    @staticmethod
    def _mark_unknown(node, wall):
        stamp = nodes.format_time(wall)
        conditions = node.setdefault('status', {}).setdefault(
            'conditions', [])
        marked = []
        for condition_type in CONTROLLED_CONDITIONS:
            condition = _find_condition(node, condition_type)
            if condition is None:
                conditions.append({
                    'type': condition_type, 'status': 'Unknown',
                    'reason': NEVER_UPDATED_REASON,
                    'message': NEVER_UPDATED_MESSAGE,
                    'lastHeartbeatTime': node['metadata'].get(
                        'creationTimestamp', stamp),
                    'lastTransitionTime': stamp})
                marked.append(condition_type)
            elif condition.get('status') != 'Unknown':
                # lastHeartbeatTime stays: it is the kubelet's last word.
                condition.update(status='Unknown', reason=UNKNOWN_REASON,
                                 message=UNKNOWN_MESSAGE,
                                 lastTransitionTime=stamp)
                marked.append(condition_type)
        return marked

    def _taint_for_readiness(self, node, name, ready, wall):
        wanted = READINESS_TAINTS.get(ready, READINESS_TAINTS['Unknown'])
        managed = (UNREACHABLE_TAINT, NOT_READY_TAINT)
        taints = node.setdefault('spec', {}).get('taints') or []
        kept = []
        for taint in taints:
            identity = (taint.get('key'), taint.get('effect'))
            if identity[0] in managed and identity not in wanted:
                self._recorder.note(_taint_kind('removed', *identity), name)
                continue
            kept.append(taint)
        present = {(taint.get('key'), taint.get('effect')) for taint in kept}
        for key, effect in wanted:
            if (key, effect) not in present:
                kept.append({'key': key, 'effect': effect,
                             'timeAdded': nodes.format_time(wall)})
                self._recorder.note(_taint_kind('added', key, effect), name)
        if kept:
            node['spec']['taints'] = kept
        else:
            node['spec'].pop('taints', None)

    @staticmethod
    def _zone_state(ready, not_ready):
        if ready == 0 and not_ready > 0:
            return ZONE_FULL_DISRUPTION
        if not_ready > 2 and \
                not_ready / (ready + not_ready) >= UNHEALTHY_ZONE_THRESHOLD:
            return ZONE_PARTIAL_DISRUPTION
        return ZONE_NORMAL

    def _update_zone_states(self):
        for zone, health in self.zone_health().items():
            if self._zone_states.get(zone, ZONE_NORMAL) != health.state:
                self._recorder.note('zone-state:' + health.state, zone)
            self._zone_states[zone] = health.state


class ClusterModel:
    """Simulated hosts, kubelets and node lifecycle controller over a store.

    ``store`` is a :class:`~masakarimonitors_k8s.testing.kube_apiserver.
    store.ObjectStore` (or anything with its methods); ``clock`` is the
    clock the store stamps objects with. Defaults are Kubernetes' own:
    ``grace_period`` is ``--node-monitor-grace-period`` (50 s since 1.32,
    40 s before), ``lease_renew_interval`` the kubelet's 10 s (a quarter of
    the 40 s lease duration), ``status_report_interval`` its
    ``nodeStatusReportFrequency`` and ``controller_period``
    ``--node-monitor-period``.

    Every public method is thread-safe and takes effect at the clock's
    current time.
    """

    def __init__(self, store, clock, *, grace_period=50.0,
                 lease_renew_interval=10.0, status_report_interval=300.0,
                 controller_period=5.0, lease_namespace=nodes.LEASE_NAMESPACE,
                 emit_kubernetes_events=True):
        for label, value in (('grace_period', grace_period),
                             ('lease_renew_interval', lease_renew_interval),
                             ('status_report_interval',
                              status_report_interval),
                             ('controller_period', controller_period)):
            if not value > 0:
                raise ValueError('%s must be positive, not %r'
                                 % (label, value))
        self._store = store
        self._clock = clock
        self._lease_namespace = lease_namespace
        self._lease_renew_interval = float(lease_renew_interval)
        self._status_report_interval = float(status_report_interval)
        self._controller_period = float(controller_period)
        self._lock = threading.RLock()
        self._wakeup = threading.Condition(self._lock)
        self._hosts = {}
        self._next_index = 0
        self._agenda = _Agenda()
        self._recorder = _Recorder(
            store, clock, emit_kubernetes_events=emit_kubernetes_events)
        self._kubelets = _Kubelets(store, clock, self._recorder,
                                   lease_namespace=lease_namespace)
        self._controller = _NodeLifecycleController(
            store, clock, self._recorder, grace_period=float(grace_period),
            lease_namespace=lease_namespace)
        self._counters = {'lease-renewals': 0, 'status-reports': 0,
                          'controller-ticks': 0, 'max-lag': 0.0,
                          'max-lag-at': None}
        self._thread = None
        self._stop_event = None
        self._agenda.push(clock.monotonic() + self._controller_period,
                          _CONTROLLER)

    # Nodes.

    def add_nodes(self, count, *, prefix='compute-', domain=None,
                  zones=None, labels=None):
        """Register ``count`` nodes named ``compute-0001`` and onwards.

        With ``domain`` names are FQDNs (``compute-0001.example.org``).
        ``zones`` are handed out round-robin.
        """
        names = []
        with self._lock:
            for offset in range(count):
                name = '%s%04d' % (prefix, self._next_index + 1)
                if domain:
                    name = '%s.%s' % (name, domain)
                zone = zones[offset % len(zones)] if zones else None
                self.add_node(name, zone=zone, labels=labels)
                names.append(name)
        return names

    def add_node(self, name, *, zone=None, labels=None, images=40):
        """Register one node as its kubelet does on first start."""
        with self._lock:
            if name in self._hosts:
                raise ValueError('node %s already exists' % name)
            now = self._clock.wall()
            node = nodes.make_node(name, now=now, labels=labels, zone=zone,
                                   images=images, index=self._next_index)
            host = _Host(name=name,
                         zone=node['metadata']['labels'][
                             'topology.kubernetes.io/zone'],
                         uid='')
            renew_time = self._kubelets.register(host, node)
            self._next_index += 1
            self._hosts[name] = host
            self._controller.watch(name, zone=host.zone,
                                   renew_time=renew_time,
                                   heartbeat=nodes.format_time(now))
            self._recorder.note('node-added', name)
            # Kubelets of a real cluster started at different moments;
            # spread the new ones' periodic work the same way.
            monotonic = self._clock.monotonic()
            self._schedule(host, _LEASE, monotonic + _phase(
                name, _LEASE, self._lease_renew_interval))
            self._schedule(host, _STATUS, monotonic + _phase(
                name, _STATUS, self._status_report_interval))
            return name

    def delete_node(self, name):
        """``kubectl delete node``: the host leaves the model.

        Its Lease goes with it, as owner garbage collection would do.
        """
        with self._lock:
            host = self._host(name)
            self._cancel(host)
            del self._hosts[name]
            self._controller.forget(name)
            for resource, namespace in (
                    ('nodes', None),
                    ('leases', self._lease_namespace)):
                try:
                    self._store.delete(resource, name, namespace=namespace)
                except errors.NotFound:
                    pass
            self._recorder.note('node-deleted', name)

    def node_names(self):
        with self._lock:
            return list(self._hosts)

    # Failures and recoveries.

    def power_off(self, name):
        """The host stops: no more Lease renewals or status posts."""
        with self._lock:
            host = self._host(name)
            if not host.powered:
                return
            host.powered = False
            self._cancel(host)
            self._recorder.note('power-off', name)

    def power_on(self, name):
        """The host boots (new bootID) and its kubelet reports Ready."""
        with self._lock:
            host = self._host(name)
            if host.powered:
                return
            host.powered = True
            host.kubelet_running = True
            host.ready = True
            host.boot_number += 1
            self._recorder.note('power-on', name)
            self._recorder.kubernetes_event(
                name, 'Starting', 'Starting kubelet.', component='kubelet')
            self._recorder.kubernetes_event(
                name, 'Rebooted', 'Node %s has been rebooted, boot id: %s'
                % (name, nodes.boot_id(name, host.boot_number)),
                component='kubelet', event_type='Warning')
            self._connect(host)

    def crash_kubelet(self, name):
        """The kubelet dies; the host, and its VMs, keep running."""
        with self._lock:
            host = self._host(name)
            if not host.kubelet_running:
                return
            host.kubelet_running = False
            self._cancel(host)
            self._recorder.note('kubelet-crash', name)

    def restart_kubelet(self, name):
        """The kubelet (re)starts on a running host, same boot."""
        with self._lock:
            host = self._host(name)
            if not host.powered:
                raise RuntimeError('host %s is powered off' % name)
            host.kubelet_running = True
            self._recorder.note('kubelet-restart', name)
            self._recorder.kubernetes_event(
                name, 'Starting', 'Starting kubelet.', component='kubelet')
            self._connect(host)

    def partition(self, names):
        """The API stops hearing these kubelets; the hosts keep running."""
        with self._lock:
            hosts = [self._host(name) for name in names]
            for host in hosts:
                if host.partitioned:
                    continue
                host.partitioned = True
                self._cancel(host)
                self._recorder.note('partition', host.name)

    def heal_partition(self, names):
        """The kubelets get through again, and report at once."""
        with self._lock:
            hosts = [self._host(name) for name in names]
            for host in hosts:
                if not host.partitioned:
                    continue
                host.partitioned = False
                self._recorder.note('heal-partition', host.name)
                self._connect(host)

    def set_not_ready(self, name, reason=DEFAULT_NOT_READY_REASON, *,
                      message=DEFAULT_NOT_READY_MESSAGE):
        """The kubelet keeps renewing its Lease but reports Ready=False.

        Real kubelets always say ``KubeletNotReady`` and put the cause in
        the message; ``reason`` can be changed to test other producers.
        """
        with self._lock:
            host = self._host(name)
            host.ready = False
            host.not_ready_reason = reason
            host.not_ready_message = message
            self._report_change(host)

    def set_ready(self, name):
        with self._lock:
            host = self._host(name)
            host.ready = True
            self._report_change(host)

    # Administration.

    def cordon(self, name):
        """``kubectl cordon``: unschedulable, and the controller's taint."""
        with self._lock:
            wall = self._clock.wall()

            def cordon_node(node):
                node.setdefault('spec', {})['unschedulable'] = True
                self._add_taint(node, name, UNSCHEDULABLE_TAINT,
                                'NoSchedule', wall)

            self._store.mutate('nodes', name, cordon_node)
            self._recorder.note('cordon', name)

    def uncordon(self, name):
        with self._lock:
            def uncordon_node(node):
                node.setdefault('spec', {}).pop('unschedulable', None)
                self._remove_taint(node, name, UNSCHEDULABLE_TAINT)

            self._store.mutate('nodes', name, uncordon_node)
            self._recorder.note('uncordon', name)

    def add_out_of_service_taint(self, name, *, value='nodeshutdown'):
        """Mark the node verified powered off (KEP-2268).

        This is what an admin or a remediation operator sets to allow
        non-graceful node shutdown handling.
        """
        with self._lock:
            wall = self._clock.wall()
            self._store.mutate(
                'nodes', name,
                lambda node: self._add_taint(node, name, OUT_OF_SERVICE_TAINT,
                                             'NoExecute', wall, value=value))

    def remove_out_of_service_taint(self, name):
        with self._lock:
            self._store.mutate(
                'nodes', name,
                lambda node: self._remove_taint(node, name,
                                                OUT_OF_SERVICE_TAINT))

    def add_label(self, name, key, value):
        with self._lock:
            def label(node):
                node['metadata'].setdefault('labels', {})[key] = value

            self._store.mutate('nodes', name, label)
            self._recorder.note('label-added', name)

    # Truth and records, for tests and benchmarks.

    def host_is_running(self, name):
        with self._lock:
            return self._host(name).powered

    def kubelet_is_running(self, name):
        with self._lock:
            host = self._host(name)
            return host.powered and host.kubelet_running

    @property
    def events(self):
        """The timeline, oldest first: a list of :class:`TimelineEvent`."""
        with self._lock:
            return self._recorder.timeline()

    def first_event(self, kind, node):
        """Wall time of the first ``kind`` event of ``node``, or None."""
        for event in self.events:
            if event.kind == kind and event.node == node:
                return event.wall
        return None

    def zone_health(self):
        """Ready/not-ready counts and disruption state per zone.

        As the controller computed them at its last tick.
        """
        with self._lock:
            return self._controller.zone_health()

    def stats(self, *, reset_max_lag=False):
        """Work done so far, and the worst lateness (``max-lag``, seconds).

        ``max-lag-at`` is the wall time at which that late work was done
        (None before any), to tell a start-up backlog from a stall.
        ``reset_max_lag`` starts a new lateness measurement, e.g. after the
        backlog of a start-up has been served.
        """
        with self._lock:
            counters = dict(self._counters)
            if reset_max_lag:
                self._counters['max-lag'] = 0.0
                self._counters['max-lag-at'] = None
            return counters

    # Time.

    def advance(self, seconds):
        """Move the ManualClock ``seconds`` forward.

        All work due on the way is done at its due time.
        """
        if seconds < 0:
            raise ValueError('cannot advance by %r seconds' % seconds)
        with self._lock:
            if self._thread is not None:
                raise RuntimeError('the model is running in real time')
            target = self._clock.monotonic() + seconds
            while True:
                due = self._agenda.next_due()
                if due is None or due > target:
                    break
                step = due - self._clock.monotonic()
                if step > 0:
                    self._clock.advance(step)
                self._serve(*self._agenda.pop())
            rest = target - self._clock.monotonic()
            if rest > 0:
                self._clock.advance(rest)

    def run_realtime(self, stop_event):
        """Serve the agenda on the model's clock until ``stop_event``."""
        while not stop_event.is_set():
            with self._lock:
                now = self._clock.monotonic()
                served = 0
                while served < _REALTIME_BATCH:
                    due = self._agenda.next_due()
                    if due is None or due > now:
                        break
                    self._serve(*self._agenda.pop())
                    served += 1
                if served == _REALTIME_BATCH:
                    continue
                due = self._agenda.next_due()
                wait = _REALTIME_MAX_WAIT if due is None else min(
                    due - self._clock.monotonic(), _REALTIME_MAX_WAIT)
                if wait > 0 and not stop_event.is_set():
                    self._wakeup.wait(wait)

    def start_realtime(self):
        """Run :meth:`run_realtime` in a daemon thread until :meth:`stop`."""
        with self._lock:
            if self._thread is not None:
                raise RuntimeError('already running in real time')
            self._stop_event = threading.Event()
            self._thread = threading.Thread(
                target=self.run_realtime, args=(self._stop_event,),
                name='cluster-model', daemon=True)
            self._thread.start()

    def stop(self):
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            self._stop_event.set()
            self._wakeup.notify_all()
        thread.join()

    def close(self):
        """Stop real time and detach from the store's change feed."""
        self.stop()
        self._controller.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # Internals.

    def _host(self, name):
        try:
            return self._hosts[name]
        except KeyError:
            raise KeyError('no node %s in the model' % name) from None

    def _schedule(self, host, kind, due):
        if kind == _LEASE:
            host.lease_token += 1
            token = host.lease_token
        else:
            host.status_token += 1
            token = host.status_token
        self._agenda.push(due, kind, host.name, token)
        self._wakeup.notify_all()

    def _cancel(self, host):
        host.lease_token += 1
        host.status_token += 1

    def _connect(self, host):
        """Post status and renew the Lease at once, then resume.

        This is what a kubelet does when it reaches the API again.
        """
        if not host.reaches_api:
            return
        monotonic = self._clock.monotonic()
        self._kubelets.post_status(host)
        self._counters['status-reports'] += 1
        self._kubelets.renew_lease(host)
        self._counters['lease-renewals'] += 1
        self._schedule(host, _LEASE, monotonic + self._lease_renew_interval)
        self._schedule(host, _STATUS,
                       monotonic + self._status_report_interval)

    def _report_change(self, host):
        """Post a changed status at once, restarting the report period."""
        if not host.reaches_api:
            return
        self._kubelets.post_status(host)
        self._counters['status-reports'] += 1
        self._schedule(host, _STATUS, self._clock.monotonic()
                       + self._status_report_interval)

    def _serve(self, due, kind, name, token):
        now = self._clock.monotonic()
        if now - due > self._counters['max-lag']:
            self._counters['max-lag'] = now - due
            self._counters['max-lag-at'] = self._clock.wall()
        if kind == _CONTROLLER:
            self._controller.tick()
            self._counters['controller-ticks'] += 1
            self._agenda.push(now + self._controller_period, _CONTROLLER)
            return
        host = self._hosts.get(name)
        if host is None or not host.reaches_api:
            return
        if kind == _LEASE and token == host.lease_token:
            self._kubelets.renew_lease(host)
            self._counters['lease-renewals'] += 1
            self._schedule(host, _LEASE, now + self._lease_renew_interval)
        elif kind == _STATUS and token == host.status_token:
            self._kubelets.post_status(host)
            self._counters['status-reports'] += 1
            self._schedule(host, _STATUS, now + self._status_report_interval)

    def _add_taint(self, node, name, key, effect, wall, value=None):
        taints = node.setdefault('spec', {}).setdefault('taints', [])
        if any(taint.get('key') == key and taint.get('effect') == effect
               for taint in taints):
            return
        taint = {'key': key, 'effect': effect,
                 'timeAdded': nodes.format_time(wall)}
        if value is not None:
            taint['value'] = value
        taints.append(taint)
        self._recorder.note(_taint_kind('added', key, effect), name)

    def _remove_taint(self, node, name, key):
        spec = node.setdefault('spec', {})
        taints = spec.get('taints') or []
        kept = [taint for taint in taints if taint.get('key') != key]
        for taint in taints:
            if taint.get('key') == key:
                self._recorder.note(
                    _taint_kind('removed', key, taint.get('effect')), name)
        if kept:
            spec['taints'] = kept
        else:
            spec.pop('taints', None)
