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

"""Leader election on a ``coordination.k8s.io/v1`` Lease.

Position in the flow: beside the guards. Several monitor replicas watch and
decide; only the leader delivers notifications and fences. The protocol is
client-go's (tools/leaderelection): the holder renews ``spec.renewTime``
every ``retry_period``; a candidate takes the lease over when it has seen
no change of it for ``lease_duration`` *on its own monotonic clock* (never
comparing the holder's timestamps with ours, so clock skew cannot hand the
lease to two replicas); every write carries the resourceVersion read, so
two candidates racing get one 409 Conflict and one lease.

What client-go leaves to its callers and the Python client's elector does
not do at all, this does: :attr:`LeaderElector.is_leader` is a *deadline*,
not a flag. Leadership is valid only until ``renew_deadline`` after the
last successful renewal, so if the elector's thread is stuck in a request
to a black-holed API server, the leader-only work (delivery, fencing) stops
at that deadline anyway, before any other replica can take over
(``renew_deadline < lease_duration``).

Holding the lease is not enough to lead: a replica whose node view has
been stale for too long (``view_healthy`` says no: its node watch is
broken while its small Lease writes still pass) releases the lease and
stops competing until it sees the nodes again, so that a standby that
does see them takes over.
"""

import datetime
import os
import threading

from oslo_log import log as logging

from masakarimonitors_k8s.kube import client as kube_client
from masakarimonitors_k8s import loops

LOG = logging.getLogger(__name__)

SERVICE_ACCOUNT_NAMESPACE = (
    '/var/run/secrets/kubernetes.io/serviceaccount/namespace')


def default_identity():
    return os.environ.get('POD_NAME') or os.uname().nodename


def default_namespace(configured=None):
    if configured:
        return configured
    if os.environ.get('POD_NAMESPACE'):
        return os.environ['POD_NAMESPACE']
    try:
        with open(SERVICE_ACCOUNT_NAMESPACE) as stream:
            return stream.read().strip() or 'default'
    except OSError:
        return 'default'


def micro_time(epoch):
    return datetime.datetime.fromtimestamp(
        epoch, tz=datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


class LeaderElector(loops.Loop):
    """Acquire and renew one Lease; call back on gain and loss.

    :param kube: kube.client.KubeClient.
    :param settings: conf.LeaderSettings.
    :param namespace: namespace of the Lease.
    :param identity: this replica's name (the pod name).
    :param clock: Clock; monotonic for deadlines, wall for the timestamps
        written into the Lease (for humans; no decision reads them).
    :param on_change: callable(is_leader: bool), called from the elector's
        thread when leadership is gained or lost.
    """

    def __init__(self, *, kube, settings, namespace, identity, clock,
                 stop_event, on_change=None, view_healthy=None):
        self._view_healthy = view_healthy
        self._kube = kube
        self._settings = settings
        self.namespace = namespace
        self.identity = identity
        self._clock = clock
        self._stop = stop_event
        self._on_change = on_change
        self._path = ('/apis/coordination.k8s.io/v1/namespaces/%s/leases'
                      % kube_client.quote(namespace))
        self._lock = threading.Lock()
        self._valid_until = None     # monotonic; leadership deadline
        self._announced = False
        self._observed = None        # (resourceVersion, our monotonic)
        self.holder = None
        self.transitions = 0
        self.errors = 0
        # False only in tests that emulate a crashed replica.
        self.release_on_stop = True

    # -- state ---------------------------------------------------------
    @property
    def is_leader(self):
        with self._lock:
            valid_until = self._valid_until
        return (valid_until is not None
                and self._clock.monotonic() < valid_until)

    def describe(self):
        if self.is_leader:
            return 'leader (%s)' % self.identity
        return 'standby (leader: %s)' % (self.holder or 'none')

    # -- the loop ------------------------------------------------------
    thread_name = 'leader-election'

    def run(self):
        LOG.info('Leader election: %s competing for Lease %s/%s.',
                 self.identity, self.namespace, self._settings.lease_name)
        while not self._stop.is_set():
            self.try_once()
            self._stop.wait(self._settings.retry_period)
        self._set_leader(False)
        if self.release_on_stop:
            self._release()

    def try_once(self):
        """One acquire-or-renew attempt; returns whether we lead."""
        if self._view_healthy is not None and not self._view_healthy():
            self._step_down_blind()
            return False
        started = self._clock.monotonic()
        try:
            leading = self._acquire_or_renew()
        except kube_client.ApiError as exc:
            self.errors += 1
            LOG.warning('Leader election: %s', exc)
            leading = False
            if exc.status == 409:
                leading = None  # lost a race; state unchanged this round
        if leading:
            with self._lock:
                # Valid from when we *sent* the renewal, not when it came
                # back: a slow answer must not stretch leadership.
                self._valid_until = started + self._settings.renew_deadline
            self._set_leader(True)
        elif leading is False and not self.is_leader:
            self._set_leader(False)
        self._check_deadline()
        return self.is_leader

    def _check_deadline(self):
        if self._announced and not self.is_leader:
            self._set_leader(False)

    def _acquire_or_renew(self):
        name = self._settings.lease_name
        now_mono = self._clock.monotonic()
        timeout = self._settings.retry_period
        try:
            lease = self._kube.get_json(
                '%s/%s' % (self._path, kube_client.quote(name)),
                timeout=timeout)
        except kube_client.ApiError as exc:
            if exc.status != 404:
                raise
            self._kube.post_json(self._path, self._lease_body(None, 0),
                                 timeout=timeout)
            LOG.info('Leader election: created Lease %s/%s; %s leads.',
                     self.namespace, name, self.identity)
            self.holder = self.identity
            return True

        spec = lease.get('spec') or {}
        metadata = lease.get('metadata') or {}
        holder = spec.get('holderIdentity') or None
        version = metadata.get('resourceVersion')
        if self._observed is None or self._observed[0] != version:
            self._observed = (version, now_mono)
        self.holder = holder
        duration = spec.get('leaseDurationSeconds') or (
            self._settings.lease_duration)
        expired = now_mono - self._observed[1] >= duration
        if holder and holder != self.identity and not expired:
            return False
        transitions = int(spec.get('leaseTransitions') or 0)
        if holder != self.identity:
            transitions += 1
        body = self._lease_body(lease, transitions)
        body['metadata']['resourceVersion'] = version
        self._kube.put_json('%s/%s' % (self._path, kube_client.quote(name)),
                            body, timeout=timeout)
        if holder != self.identity:
            LOG.info('Leader election: %s took over Lease %s/%s from %s.',
                     self.identity, self.namespace, name,
                     holder or 'nobody')
        self.holder = self.identity
        return True

    def _lease_body(self, lease, transitions):
        now = micro_time(self._clock.wall())
        spec = dict((lease or {}).get('spec') or {})
        if spec.get('holderIdentity') != self.identity:
            spec['acquireTime'] = now
        spec.update({'holderIdentity': self.identity,
                     'leaseDurationSeconds': int(round(
                         self._settings.lease_duration)),
                     'renewTime': now,
                     'leaseTransitions': transitions})
        return {'apiVersion': 'coordination.k8s.io/v1', 'kind': 'Lease',
                'metadata': {'name': self._settings.lease_name,
                             'namespace': self.namespace},
                'spec': spec}

    def _set_leader(self, leading):
        if leading == self._announced:
            return
        self._announced = leading
        if leading:
            self.transitions += 1
            LOG.warning('Leader election: %s is now the LEADER: it '
                        'notifies Masakari and fences.', self.identity)
        else:
            with self._lock:
                self._valid_until = None
            LOG.warning('Leader election: %s is NOT the leader any more: '
                        'notifications and fencing stop here.',
                        self.identity)
        if self._on_change is not None:
            self._on_change(leading)

    def _step_down_blind(self):
        if self._announced or self.holder == self.identity:
            LOG.error('Leader election: %s has had no current view of the '
                      'nodes for too long; releasing the Lease so that a '
                      'replica that sees them leads.', self.identity)
            self._set_leader(False)
            if self.holder == self.identity:
                self._release()
                self.holder = None

    def _release(self):
        """On a clean stop, hand the lease over at once.

        Like client-go's ReleaseOnCancel: the next replica needn't wait the
        lease out.
        """
        if self.holder != self.identity:
            return
        name = self._settings.lease_name
        try:
            lease = self._kube.get_json(
                '%s/%s' % (self._path, kube_client.quote(name)),
                timeout=self._settings.retry_period)
            if (lease.get('spec') or {}).get('holderIdentity') != (
                    self.identity):
                return
            lease['spec']['holderIdentity'] = None
            lease['spec']['leaseDurationSeconds'] = 1
            self._kube.put_json(
                '%s/%s' % (self._path, kube_client.quote(name)), lease,
                timeout=self._settings.retry_period)
            LOG.info('Leader election: released Lease %s/%s.',
                     self.namespace, name)
        except kube_client.ApiError as exc:
            LOG.warning('Leader election: could not release the Lease: %s',
                        exc)
