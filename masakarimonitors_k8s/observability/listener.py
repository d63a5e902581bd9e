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

"""Turns the monitor's decisions into metrics and Node Events.

Position: a ``Monitor.listeners`` entry. The engine calls
``transition(state, previous, current)`` from the decision thread, the
delivery queue ``delivered(notification, result)`` from the delivery
thread; the guards call ``held(...)``, fencing ``fenced(...)`` and
``fence_failed(...)``.
Every method returns quickly: Events are only queued (the recorder's own
thread writes them) and metrics are in-memory.

The Event reasons are CamelCase, as kubelet's are, so that ``kubectl get
events --field-selector reason=HostFailed`` works:

============================  =======  ====================================
reason                        type     when
============================  =======  ====================================
``HostSuspect``               Warning  the node went down; the confirmation
                                       window runs
``HostFailed``                Warning  the node is declared failed
``HostFenced``                Normal   fencing evidence appeared, or the
                                       monitor fenced the host itself
``MasakariNotified``          Normal   masakari-api stored the notification
                                       (its uuid is in the message), or
                                       already had it
``HostOnMaintenance``         Normal   Masakari owns the host already
``NotificationRejected``      Warning  masakari-api refused it for good
``HostNotRegistered``         Warning  Masakari knows no such host
``NotificationHeld``          Warning  a guard holds the notification back
``FencingFailed``             Warning  a power-off failed or was not
                                       verified
``HostRecovered``             Normal   the node is healthy again
============================  =======  ====================================

Only the replica that may act (the leader, or the only replica) records
Events: every standby reaches the same verdicts, and N copies of each
Event would only be noise.
"""

import collections

from oslo_log import log as logging

from masakarimonitors_k8s.kube import events as kube_events
from masakarimonitors_k8s import notifier
from masakarimonitors_k8s import policy

LOG = logging.getLogger(__name__)

HOST_SUSPECT = 'HostSuspect'
HOST_FAILED = 'HostFailed'
HOST_FENCED = 'HostFenced'
MASAKARI_NOTIFIED = 'MasakariNotified'
HOST_ON_MAINTENANCE = 'HostOnMaintenance'
NOTIFICATION_REJECTED = 'NotificationRejected'
HOST_NOT_REGISTERED = 'HostNotRegistered'
NOTIFICATION_HELD = 'NotificationHeld'
FENCING_FAILED = 'FencingFailed'
HOST_RECOVERED = 'HostRecovered'

_DOWN = (policy.Health.FAILED, policy.Health.RECOVERING)
# Node uids kept for Events: twice Kubernetes' supported 5,000 nodes, so
# only nodes long gone are forgotten.
MAX_REMEMBERED_UIDS = 10000


class DecisionListener:
    """Monitor listener feeding :class:`MonitorMetrics` and Node Events.

    :param metrics: observability.metrics.MonitorMetrics.
    :param events: kube.events.BackgroundEventRecorder, or None when
        ``[k8s] node_events`` is off.
    :param server_clock: object with ``now().wall``: the API server's
        clock, on which Kubernetes' failure timestamps were written.
    :param policy_settings: conf.PolicySettings (windows, for messages).
    :param may_act: callable -> bool; False on a standby replica.
    """

    def __init__(self, *, metrics, events, server_clock, policy_settings,
                 may_act=lambda: True):
        self._metrics = metrics
        self._events = events
        self._server_clock = server_clock
        self._policy = policy_settings
        self._may_act = may_act
        # node name -> metadata.uid, when states carry it. Deleted nodes
        # are not announced here, so the oldest entries go beyond a bound.
        self._uids = collections.OrderedDict()

    # -- the engine ----------------------------------------------------
    def transition(self, state, previous, current):
        was = previous.health if previous is not None else None
        now = current.health
        if was is not now:
            self._metrics.transitions.labels(
                from_health=was.value if was else 'unseen',
                to_health=now.value).inc()
        uid = getattr(state, 'uid', None)
        if uid:
            self._uids[state.name] = uid
            self._uids.move_to_end(state.name)
            while len(self._uids) > MAX_REMEMBERED_UIDS:
                self._uids.popitem(last=False)
        who = 'Node %s (Masakari host %s)' % (state.name, state.hostname)
        if now is policy.Health.SUSPECT and was is not now:
            self._record(state.name, HOST_SUSPECT, kube_events.WARNING,
                         '%s is down: %s. Declared failed after %gs unless '
                         'it comes back.' % (
                             who, current.reason,
                             self._policy.confirmation_window))
        elif now is policy.Health.FAILED and was not in _DOWN:
            self._record(state.name, HOST_FAILED, kube_events.WARNING,
                         '%s failed: %s. %s' % (who, current.reason,
                                                _evidence(current)))
        elif (now is policy.Health.FAILED and current.fenced
              and not previous.fenced):
            self._record(state.name, HOST_FENCED, kube_events.NORMAL,
                         'Fencing evidence for %s: %s. Masakari is told '
                         'host_status NORMAL and may evacuate.'
                         % (who, current.evidence))
        elif now is policy.Health.HEALTHY and was in _DOWN:
            self._record(state.name, HOST_RECOVERED, kube_events.NORMAL,
                         '%s recovered: %s.' % (who, current.reason))

    # -- the delivery queue --------------------------------------------
    def delivered(self, notification, result):
        outcome = result.outcome
        what = '%s (host_status %s) for host %s' % (
            notification.event, notification.host_status,
            notification.hostname)
        if outcome is notifier.Outcome.ACCEPTED:
            if notification.intent.event is policy.Event.STOPPED:
                self._observe_detection(notification)
            self._record(notification.node, MASAKARI_NOTIFIED,
                         kube_events.NORMAL,
                         'Masakari accepted %s: notification %s.'
                         % (what, result.notification_uuid))
        elif outcome is notifier.Outcome.DUPLICATE:
            self._record(notification.node, MASAKARI_NOTIFIED,
                         kube_events.NORMAL,
                         'Masakari already had %s (duplicate).' % what)
        elif outcome is notifier.Outcome.HOST_ON_MAINTENANCE:
            self._record(notification.node, HOST_ON_MAINTENANCE,
                         kube_events.NORMAL,
                         'Masakari did not take %s: the host is on '
                         'maintenance (Masakari owns it already).' % what)
        elif outcome is notifier.Outcome.REJECTED:
            self._record(notification.node, NOTIFICATION_REJECTED,
                         kube_events.WARNING,
                         'Masakari rejected %s: %s' % (what, result.detail))
        elif outcome is notifier.Outcome.UNKNOWN_HOST:
            self._record(notification.node, HOST_NOT_REGISTERED,
                         kube_events.WARNING,
                         'Masakari does not know host %s: register it in a '
                         'failover segment. %s is retried.'
                         % (notification.hostname, notification.event))

    def _observe_detection(self, notification):
        # Both ends on the API server's clock: the failure time is
        # Kubernetes' own timestamp, and our estimate of the server's
        # "now" is immune to skew between this host and the server.
        latency = (self._server_clock.now().wall
                   - notification.intent.generated_time)
        self._metrics.detection_latency.labels(
            host_status=notification.host_status).observe(max(0.0, latency))

    # -- guards and fencing --------------------------------------------
    def held(self, *args):
        """A guard holds a notification (or a fencing action) back.

        Called ``held(notification, reason)`` by the notification gate, or
        ``held(state_or_node_name, notification, reason)`` where the node
        is not the notification's (or there is no notification).
        """
        if len(args) == 2:
            notification, reason = args
            node = notification.node
        else:
            subject, notification, reason = args
            node = getattr(subject, 'name', subject)
        self._metrics.held.inc()
        if notification is not None:
            what = '%s (host_status %s) for host %s' % (
                notification.event, notification.host_status,
                notification.hostname)
        else:
            what = 'action on node %s' % node
        self._record(node, NOTIFICATION_HELD, kube_events.WARNING,
                     'Holding %s: %s' % (what, reason))

    def fenced(self, node_name, detail):
        """The monitor fenced the node's host itself (power-off verified)."""
        self._metrics.fenced.inc()
        self._record(node_name, HOST_FENCED, kube_events.NORMAL,
                     'Host of node %s fenced: %s' % (node_name, detail))

    def fence_failed(self, node_name, detail):
        """A power-off failed or could not be verified; retried later."""
        self._metrics.fencing_failures.inc()
        self._record(node_name, FENCING_FAILED, kube_events.WARNING,
                     'Could not fence the host of node %s: %s'
                     % (node_name, detail))

    # -- internals -----------------------------------------------------
    def _record(self, node, reason, event_type, message):
        LOG.debug('Node %s: %s: %s', node, reason, message)
        if self._events is None or not self._may_act():
            return
        self._events.record(node, reason, message, event_type=event_type,
                            node_uid=self._uids.get(node))


def _evidence(assessment):
    if assessment.fenced:
        return ('Fencing evidence: %s; Masakari is told host_status NORMAL '
                'and may evacuate.' % assessment.evidence)
    return ('No fencing evidence yet: Masakari is told host_status UNKNOWN '
            'and does not evacuate until the node is fenced.')
