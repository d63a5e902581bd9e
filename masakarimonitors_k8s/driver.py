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

"""The ``k8s`` driver of masakari-hostmonitor: wires the parts together.

Entry point ``k8s`` in namespace ``hostmonitor.driver``; select it with
``[host] monitoring_driver = k8s``. This module is the edge: it reads the
global oslo ``CONF`` once, turns it into :class:`conf.Settings`, and builds

    reflector(nodes) [+ reflector(leases)] --> decision thread
        (node state -> policy) --> delivery queue --> masakari-api

Each loop runs in its own OS thread. masakari-hostmonitor calls
``monitor_hosts()`` from an eventlet green thread of oslo.service without
monkey-patching sockets; blocking reads there would freeze the process, so
none happen there: it only waits for ``stop()`` in short cooperative naps.
"""

import queue
import threading
import time

from masakarimonitors.hostmonitor import driver as hostmonitor_driver
from oslo_config import cfg
from oslo_log import log as logging

from masakarimonitors_k8s.clock import SystemClock
from masakarimonitors_k8s import conf as k8s_conf
from masakarimonitors_k8s import engine as k8s_engine
from masakarimonitors_k8s.fencing import bmc as fencing_bmc
from masakarimonitors_k8s.fencing import coordinator as fencing_coordinator
from masakarimonitors_k8s.fencing import redfish as fencing_redfish
from masakarimonitors_k8s import guards as k8s_guards
from masakarimonitors_k8s.kube import client as kube_client
from masakarimonitors_k8s.kube import decoding as kube_decoding
from masakarimonitors_k8s.kube import nodes as kube_nodes
from masakarimonitors_k8s.kube import reflector as kube_reflector
from masakarimonitors_k8s import leader as k8s_leader
from masakarimonitors_k8s import notifier as k8s_notifier
from masakarimonitors_k8s.observability import wiring as observability_wiring

LOG = logging.getLogger(__name__)
CONF = cfg.CONF
k8s_conf.register_opts(CONF)

NODES_PATH = '/api/v1/nodes'
# Seconds Monitor.stop() waits for the loops in all: with the rest of the
# shutdown, SIGTERM ends the process within 15 s, half the chart's
# terminationGracePeriodSeconds (30).
STOP_TIMEOUT = 8.0


class InboxSink:
    """Reflector sink that posts to the decision thread's inbox."""

    def __init__(self, inbox, kind):
        self._inbox = inbox
        self._kind = kind
        self.posted = 0

    def post(self, what, data):
        """Hand ``data`` of kind ``what`` to the decision thread."""
        self.posted += 1
        self._inbox.put((self._kind, what, data))

    def replace(self, states):
        self.post('replace', states)

    def events(self, batch):
        """Watch events read together: one inbox item, decided in order."""
        self.post('events', batch)

    def fresh(self, fresh):
        self.post('fresh', fresh)


class Monitor:
    """All the running parts of one monitor, without oslo globals.

    :param settings: conf.Settings.
    :param kube: kube.client.KubeClient.
    :param sender: object with ``send(notification) -> notifier.Result``.
    :param clock: Clock.
    :param identity: this replica's name for leader election.
    :param fencing: (fencing.bmc.BmcDirectory, fencing.redfish.RedfishFencer)
        when Redfish evidence or the fence action is configured.
    """

    def __init__(self, *, settings, kube, sender, clock=None,
                 identity=None, fencing=None, stop_event=None):
        self.settings = settings
        self.clock = clock or SystemClock()
        self.kube = kube
        self.sender = sender
        # Given when parts built before the monitor (the fencer) wait on
        # it too.
        self.stop_event = stop_event or threading.Event()
        self.inbox = queue.Queue()
        translator = kube_nodes.NodeTranslator(
            hostname_source=settings.scope.hostname_source,
            hostname_key=settings.scope.hostname_key,
            hostname_domain=settings.scope.hostname_domain,
            exclude_label=settings.scope.exclude_label,
            out_of_service_taint=settings.policy.out_of_service_taint,
            zone_label=settings.guards.zone_label,
            bmc_annotation=settings.redfish.bmc_annotation)
        # Observers (events, metrics) get: transition(state, previous,
        # current) and delivered(notification, result); each optional.
        self.listeners = []
        self._deliveries_sink = InboxSink(self.inbox, 'deliveries')
        self.deliveries = k8s_notifier.DeliveryQueue(
            sender=sender, clock=self.clock, settings=settings.delivery,
            on_result=self._delivered)
        self.engine = k8s_engine.DecisionEngine(
            translator=translator, settings=settings.policy,
            outbox=self._offer, server_clock=kube.server_clock,
            on_transition=self._tell('transition'),
            on_forget=self._tell('forgotten'))
        # Every action re-reads the host's current view before it acts.
        self.deliveries.warrant = self.engine.warrant
        self.guards = k8s_guards.NotificationGate(
            limit=settings.guards.max_unhealthy,
            cluster_limit=settings.guards.cluster_limit,
            zone_counts=self.engine.zone_counts,
            warrant=self.engine.warrant, host_view=self.engine.host,
            outbox=self.deliveries.offer, clock=self.clock,
            settle_window=settings.guards.settle_window,
            on_held=self._tell('held'),
            on_fence_allowed=self._tell('fence_allowed'))
        self._nodes_listed = False
        # Our monotonic time since when the node view is not current
        # (None: current); from start until the first list.
        self.node_view_stale_since = self.clock.monotonic()
        idle_timeout = settings.watch.idle_timeout
        self.reflectors = [kube_reflector.Reflector(
            name='nodes', client=kube, path=NODES_PATH,
            params=kube_client.selector_params(settings.scope.node_selector),
            transform=translator.translate,
            decoder=kube_decoding.NodeDecoder(),
            sink=InboxSink(self.inbox, 'nodes'), settings=settings.watch,
            idle_timeout=idle_timeout, clock=self.clock,
            stop_event=self.stop_event)]
        if settings.policy.watch_leases:
            self.engine.lease_view_fresh = False
            self.reflectors.append(kube_reflector.Reflector(
                name='leases', client=kube,
                path='/apis/coordination.k8s.io/v1/namespaces/%s/leases'
                     % kube_client.quote(settings.policy.lease_namespace),
                params={}, transform=kube_nodes.translate_lease,
                sink=InboxSink(self.inbox, 'leases'),
                settings=settings.watch, idle_timeout=idle_timeout,
                clock=self.clock, stop_event=self.stop_event))
        self.delivery_worker = k8s_notifier.DeliveryWorker(
            self.deliveries, self.stop_event)
        self.fencing = None
        if fencing is not None:
            directory, fencer = fencing
            self._fencing_sink = InboxSink(self.inbox, 'fencing')
            self.fencing = fencing_coordinator.FencingCoordinator(
                settings=settings, directory=directory, fencer=fencer,
                kube=kube, post=self._fencing_sink.post,
                may_act=lambda: self.may_act,
                may_fence=self.guards.may_fence, tell=self._tell,
                clock=self.clock, stop_event=self.stop_event,
                recheck=settings.redfish.recheck_interval,
                host_view=self.engine.host)
            self.listeners.append(self.fencing)
        self.leader = None
        if settings.leader.enabled:
            self.leader = k8s_leader.LeaderElector(
                kube=kube, settings=settings.leader,
                namespace=k8s_leader.default_namespace(
                    settings.leader.namespace),
                identity=identity or k8s_leader.default_identity(),
                clock=self.clock, stop_event=self.stop_event,
                on_change=self._leadership_changed,
                view_healthy=self.node_view_healthy)
            self.deliveries.may_send = lambda: self.leader.is_leader
        self._decision_thread = None
        self.observability = None
        self.handled = 0   # inbox items fully processed

    def _offer(self, notification):
        self.guards.offer(notification)

    def _delivered(self, notification, result):
        self._tell('delivered')(notification, result)
        if notification.host_status == 'NORMAL' and (
                notification.event == 'STOPPED'):
            # The engine owes a deleted host its NORMAL until now.
            self._deliveries_sink.post('final', (notification.node,
                                                 notification.episode))

    def node_view_healthy(self):
        """False once the node view has been stale for too long.

        Any thread: leadership is only for a replica that sees the nodes.
        """
        since = self.node_view_stale_since
        return since is None or (self.clock.monotonic() - since
                                 <= self.settings.leader.max_stale_view)

    def _node_view_fresh(self, fresh):
        if fresh:
            self.node_view_stale_since = None
        elif self.node_view_stale_since is None:
            self.node_view_stale_since = self.clock.monotonic()

    def _leadership_changed(self, leading):
        self.deliveries.wake()
        self._tell('leadership')(leading)

    @property
    def may_act(self):
        """Whether this replica may notify and fence now."""
        return self.leader is None or self.leader.is_leader

    def _tell(self, what):
        def tell(*args):
            for listener in list(self.listeners):
                method = getattr(listener, what, None)
                if method is None:
                    continue
                try:
                    method(*args)
                except Exception:
                    LOG.exception('Listener %r failed on %s; continuing.',
                                  listener, what)
        return tell

    def idle(self):
        """True when every posted observation has been decided upon."""
        posted = sum(r.sink.posted for r in self.reflectors)
        posted += self._deliveries_sink.posted
        if self.fencing is not None:
            posted += self._fencing_sink.posted
        return posted == self.handled

    # -- the decision thread -------------------------------------------
    def handle(self, item):
        kind, what, data = item
        if kind == 'nodes':
            if what == 'replace':
                self.engine.replace_nodes(data)
                self._node_view_fresh(True)
                if not self._nodes_listed:
                    self._nodes_listed = True
                    self.guards.check_zone_sizes()
            elif what == 'events':
                for event in data:
                    self.engine.node_event(*event)
            elif what == 'fresh':
                self.engine.set_node_view_fresh(data)
                self._node_view_fresh(data)
        elif kind == 'leases':
            if what == 'replace':
                self.engine.replace_leases(data)
            elif what == 'events':
                for event in data:
                    self.engine.lease_event(*event)
            elif what == 'fresh':
                self.engine.set_lease_view_fresh(data)
        elif kind == 'fencing' and what == 'evidence':
            self.engine.bmc_evidence(*data)
        elif kind == 'deliveries' and what == 'final':
            self.engine.delivered(*data)

    def decide_forever(self, max_wait=1.0):
        while not self.stop_event.is_set():
            deadlines = [d for d in (self.engine.next_deadline(),
                                     self.guards.next_deadline())
                         if d is not None]
            deadline = min(deadlines) if deadlines else None
            timeout = max_wait
            if deadline is not None:
                timeout = max(0.0, min(max_wait,
                                       deadline - self.clock.monotonic()))
            try:
                item = self.inbox.get(timeout=timeout)
            except queue.Empty:
                item = None
            try:
                if item is not None:
                    self.handle(item)
                self.engine.run_due()
                self.guards.reconsider()
            except Exception:
                LOG.exception('Unexpected error in the decision loop; '
                              'continuing.')
            finally:
                if item is not None:
                    self.handled += 1

    # -- lifecycle -----------------------------------------------------
    def start(self):
        LOG.info('Kubernetes host monitor starting: API %s, node selector '
                 '%r, fencing evidence %s.', self.kube.host,
                 self.settings.scope.node_selector or '(all nodes)',
                 self.settings.policy.fencing)
        # First, so that the first transitions are already counted.
        self.observability = observability_wiring.attach(self, self.settings)
        self.delivery_worker.start()
        self._decision_thread = threading.Thread(
            target=self.decide_forever, daemon=True, name='decisions')
        self._decision_thread.start()
        for reflector in self.reflectors:
            reflector.start()
        if self.leader is not None:
            self.leader.start()
        if self.fencing is not None:
            self.fencing.start()

    def stop(self, timeout=STOP_TIMEOUT):
        """Stop every loop; returns within about ``timeout`` seconds.

        The joins share one deadline, so the whole stop fits the pod's
        termination grace period (30 s in the chart) whatever state each
        loop is in. A loop still blocked then (a LIST page or a POST that
        the server does not answer) is a daemon thread: it does not hold
        the process.
        """
        deadline = time.monotonic() + timeout

        def remaining():
            return max(0.0, deadline - time.monotonic())

        self.stop_event.set()
        self.kube.interrupt_streams()
        parts = list(self.reflectors)
        if self.leader is not None:
            parts.append(self.leader)
        if self.fencing is not None:
            parts.append(self.fencing)
        for part in parts:
            part.join(remaining())
        if self._decision_thread is not None:
            self._decision_thread.join(remaining())
        self.delivery_worker.join(remaining())
        if self.observability is not None:
            self.observability.stop(max(0.1, remaining() / 2))
        late = [getattr(part, 'thread_name', 'decisions')
                for part in self.loops() if part.is_alive()]
        if late:
            LOG.warning('Stopped without waiting for %s (blocked in a '
                        'request).', ', '.join(late))
        pending = self.deliveries.pending()
        if pending:
            LOG.warning('Stopping with %d undelivered notification(s) (%s); '
                        'the next monitor re-derives them from Kubernetes.',
                        len(pending), ', '.join(sorted(pending)))
        self.kube.close()

    def is_alive(self):
        return all(part.is_alive() for part in self.loops())

    def loops(self):
        """The running parts whose death makes the monitor unhealthy."""
        parts = [self.delivery_worker] + list(self.reflectors)
        if self._decision_thread is not None:
            parts.append(self._decision_thread)
        if self.leader is not None:
            parts.append(self.leader)
        if self.fencing is not None:
            parts.append(self.fencing)
        return parts


def build_monitor(conf=CONF, clock=None):
    """Monitor from oslo configuration; ConfigError names a bad option."""
    settings = k8s_conf.load_settings(conf)
    clock = clock or SystemClock()
    if settings.connection.insecure:
        LOG.warning('[k8s] insecure = true: the API server certificate is '
                    'NOT verified.')
    try:
        api_client = kube_client.build_api_client(settings.connection)
    except Exception as exc:
        raise k8s_conf.ConfigError(
            'cannot configure the Kubernetes client ([k8s] kubeconfig=%r, '
            'api_url=%r; in-cluster otherwise): %s'
            % (settings.connection.kubeconfig, settings.connection.api_url,
               exc)) from exc
    kube = kube_client.KubeClient(
        api_client, server_clock=kube_client.ServerClock(clock),
        connect_timeout=settings.connection.connect_timeout,
        read_timeout=settings.connection.read_timeout)
    # Built lazily, in the delivery thread: Keystone or masakari-api down
    # at start-up must not stop the monitor (issue 15).
    try:
        connect = k8s_notifier.instance_ha_connector(
            conf, leader=settings.leader)
    except Exception as exc:
        raise k8s_conf.ConfigError(
            'cannot configure the Masakari client ([api] section): %s: %s'
            % (type(exc).__name__, exc)) from exc
    sender = k8s_notifier.MasakariSender(connect=connect)
    stop_event = threading.Event()
    return Monitor(settings=settings, kube=kube, sender=sender, clock=clock,
                   fencing=build_fencing(settings, clock, stop_event),
                   stop_event=stop_event)


def build_fencing(settings, clock, stop_event=None):
    """(BmcDirectory, RedfishFencer) when Redfish is configured, else None.

    Files are read here, at start-up, so that a bad BMC map or credentials
    file stops the monitor with an error naming the option.
    """
    if (settings.policy.fencing != 'redfish'
            and settings.redfish.fence_action == 'none'):
        return None
    directory = fencing_bmc.BmcDirectory.from_settings(settings.redfish)
    fencer = fencing_redfish.RedfishFencer(settings.redfish, clock=clock,
                                           stop_event=stop_event)
    return directory, fencer


class KubernetesHostMonitor(hostmonitor_driver.DriverBase):
    """masakari-hostmonitor driver ``k8s``."""

    def __init__(self):
        super().__init__()
        try:
            self.monitor = build_monitor(CONF)
        except k8s_conf.ConfigError as exc:
            # masakari-hostmonitor logs this and exits non-zero.
            LOG.error('Configuration error: %s', exc)
            raise
        self._stopped = threading.Event()

    def monitor_hosts(self):
        self.monitor.start()
        try:
            self._wait_for_stop()
        finally:
            self.monitor.stop()

    def _wait_for_stop(self):
        # Cooperative naps: this runs in an eventlet green thread of
        # oslo.service, where a blocking wait would stall signal handling.
        # One nap a second: 0.2 s naps cost 3.6 CPU-s/hour (benchmark).
        import eventlet
        while not self._stopped.is_set():
            eventlet.sleep(1.0)

    def stop(self):
        LOG.info('Kubernetes host monitor stopping.')
        self._stopped.set()
        self.monitor.stop_event.set()
