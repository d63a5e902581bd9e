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

"""Attaches metrics, the status endpoint and Node Events to a monitor.

Position: called once by ``Monitor.start()``; the returned handle's
``stop()`` is called by ``Monitor.stop()`` before the Kubernetes client is
closed. Everything here observes: the monitor runs the same with or
without it, and nothing in it can stop the monitor (a port that cannot be
bound is logged, and the monitor goes on without the endpoint).
"""

import os

from oslo_log import log as logging

from masakarimonitors_k8s.kube import events as kube_events
from masakarimonitors_k8s.observability import listener as obs_listener
from masakarimonitors_k8s.observability import metrics as obs_metrics
from masakarimonitors_k8s.observability import probes
from masakarimonitors_k8s.observability import status_server

LOG = logging.getLogger(__name__)


class Observability:
    """What :func:`attach` started; ``stop()`` undoes it."""

    def __init__(self, *, monitor, metrics, listener, events, server):
        self._monitor = monitor
        self.metrics = metrics
        self.listener = listener
        self.events = events
        self.server = server

    @property
    def registry(self):
        return self.metrics.registry

    @property
    def url(self):
        """Base URL of the status endpoint, or None when it is off."""
        return self.server.url if self.server is not None else None

    def stop(self, timeout=5.0):
        if self.listener in self._monitor.listeners:
            self._monitor.listeners.remove(self.listener)
        if self.server is not None:
            self.server.stop(timeout)
        if self.events is not None:
            self.events.stop(timeout)


def attach(monitor, settings=None, *, port=None, instance=None):
    """Observe ``monitor``; returns an :class:`Observability` handle.

    :param settings: conf.Settings (``status`` is read) or
        conf.StatusSettings; the monitor's own settings by default.
    :param port: overrides ``[k8s] status_port``; unlike the option, 0
        here means "any free port" (tests), not "disabled".
    :param instance: ``reportingInstance`` of the Events; the pod name
        (``POD_NAME``) or the host name by default.
    """
    settings = settings if settings is not None else monitor.settings
    status = getattr(settings, 'status', settings)
    events = None
    if status.node_events:
        recorder = kube_events.EventRecorder(
            client=monitor.kube, clock=monitor.clock,
            instance=instance or _instance_name())
        events = kube_events.BackgroundEventRecorder(recorder)
        events.start()
    metrics = obs_metrics.MonitorMetrics(
        monitor, event_stats=events.stats.as_dict if events else None)
    policy_settings = getattr(settings, 'policy', monitor.settings.policy)
    listener = obs_listener.DecisionListener(
        metrics=metrics, events=events,
        server_clock=monitor.kube.server_clock,
        policy_settings=policy_settings,
        may_act=lambda: getattr(monitor, 'may_act', True))
    monitor.listeners.append(listener)
    server = _start_server(monitor, metrics, status,
                           port=status.port if port is None else port,
                           enabled=port is not None or status.port != 0)
    return Observability(monitor=monitor, metrics=metrics, listener=listener,
                         events=events, server=server)


def _start_server(monitor, metrics, status, *, port, enabled):
    if not enabled:
        return None
    try:
        server = status_server.StatusServer(
            liveness=lambda: probes.liveness(monitor),
            readiness=lambda: probes.readiness(monitor),
            metrics=metrics.exposition, host=status.bind_host, port=port)
    except OSError as exc:
        LOG.error('Cannot serve /healthz, /readyz and /metrics on %s:%s '
                  '([k8s] status_bind_host, status_port): %s. Monitoring '
                  'goes on without them.', status.bind_host, port, exc)
        return None
    server.start()
    return server


def _instance_name():
    return os.environ.get('POD_NAME') or os.uname().nodename
