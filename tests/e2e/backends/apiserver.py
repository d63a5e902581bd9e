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

"""The e2e backend that runs anywhere: the Kubernetes API test server.

Per scenario: the project's Kubernetes API test server over TLS with
bearer tokens, a :class:`~masakarimonitors_k8s.testing.cluster.
ClusterModel` shaped like the kind cluster (one control plane, three
workers), and the chart's monitor Deployment run as local processes
(``pods.py``): its masakarimonitors.conf rendered by ``helm template``
with ``values/kind.yaml`` plus only what points it at this backend (API
URL, CA, token file, masakari endpoint), its token allowed exactly the
chart's RBAC rules, ``POD_NAME``/``POD_NAMESPACE`` set as the Deployment
sets them, two replicas as two processes. One real masakari-api (SQLite,
noauth2) serves the whole session; each scenario registers its own
workers in a segment of its own.

Time: the cluster keeps Kubernetes' real timings (50 s grace period,
kubelet leases renewed every 10 s, controller every 5 s) on a ManualClock
that a :class:`RealPace` thread moves along with real time, so leases
renew and the cluster looks alive to the monitor. Where a real cluster
makes an operator wait (a stopped node turns Unknown after the grace
period, a started one Ready after a controller pass), the backend moves
cluster time on at once instead of waiting. The monitor and masakari-api
run on real time; scenarios shorten the monitor's own windows through
chart values.
"""

import contextlib
import itertools
import pathlib
import secrets
import signal
import threading

from masakarimonitors_k8s.clock import ManualClock
from masakarimonitors_k8s.clock import SystemClock
from masakarimonitors_k8s.testing import cluster as test_cluster
from masakarimonitors_k8s.testing.kube_apiserver import errors
from masakarimonitors_k8s.testing.kube_apiserver import server as test_server
from masakarimonitors_k8s.testing import masakari_api
from tests.e2e.backends import base
from tests.e2e.backends import pods

WORKER_COUNT = 3
# Kubernetes' defaults, which the ClusterModel uses too.
GRACE_PERIOD = 50.0
LEASE_RENEW_INTERVAL = 10.0
CONTROLLER_PERIOD = 5.0
# A stopped kubelet's last renewal may be up to one renew interval old,
# and the controller looks every CONTROLLER_PERIOD: past this, the node is
# Unknown for sure.
UNKNOWN_AFTER = GRACE_PERIOD + LEASE_RENEW_INTERVAL + CONTROLLER_PERIOD
# Kubelets spread their first renewals over one interval.
WARM_UP = LEASE_RENEW_INTERVAL + CONTROLLER_PERIOD
EVENT_NAMESPACE = 'default'
MONITOR_COMPONENT = 'masakari-hostmonitor'
# oslo.service exits 0 on SIGTERM; dying of the signal is clean too.
CLEAN_EXIT_CODES = (0, -signal.SIGTERM)


def unclean_exits(exit_codes):
    """{pod: exit code} of the pods that did not stop cleanly."""
    return {name: code for name, code in exit_codes.items()
            if code not in CLEAN_EXIT_CODES}


def kind_worker_name(cluster_name, number):
    """kind's names: <cluster>-worker, <cluster>-worker2, ..."""
    return '%s-worker%s' % (cluster_name, '' if number == 1 else number)


class RealPace:
    """Moves a ClusterModel's ManualClock along with real time.

    A thread advances the model by the real time elapsed every
    ``period``; :meth:`fast_forward` jumps ahead on top. The model's lock
    orders both, and every agenda entry still runs at its due time.
    """

    def __init__(self, model, *, real_clock, period=0.1):
        self._model = model
        self._real_clock = real_clock
        self._period = period
        self._stopped = threading.Event()
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._run,
                                        name='cluster-real-pace',
                                        daemon=True)
        self._thread.start()

    def fast_forward(self, seconds):
        self._model.advance(seconds)

    def stop(self):
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self):
        last = self._real_clock.monotonic()
        while not self._stopped.wait(self._period):
            now = self._real_clock.monotonic()
            self._model.advance(now - last)
            last = now


class TestServerSession:
    """What the scenarios of one run share: a real masakari-api."""

    __test__ = False  # not a pytest class, despite the name
    name = 'test-server'

    def __init__(self, workdir):
        self._workdir = pathlib.Path(workdir)
        self._masakari = masakari_api.MasakariApi(self._workdir / 'masakari')
        self._numbers = itertools.count(1)

    def __enter__(self):
        self._masakari.start()
        return self

    def __exit__(self, *exc_info):
        self._masakari.stop()

    @contextlib.contextmanager
    def scenario(self, label):
        number = next(self._numbers)
        backend = TestServerBackend(
            masakari=self._masakari,
            workdir=self._workdir / ('scenario-%d' % number),
            cluster_name='e2e-s%d' % number, label=label)
        try:
            backend.start()
            yield backend
        finally:
            backend.close()


class TestServerBackend(base.Backend):
    """One scenario on the test server; see the module docstring."""

    __test__ = False
    name = 'test-server'
    timeouts = base.Timeouts(failure=30.0, recovery=30.0, deploy=60.0,
                             takeover=30.0)
    # Workers stopped together turn Unknown within one controller pass
    # here, in the same instant of real time.
    settle_window = 3.0

    def __init__(self, *, masakari, workdir, cluster_name, label):
        self._masakari = masakari
        self._workdir = pathlib.Path(workdir)
        self._cluster_name = cluster_name
        self._label = label
        real_clock = SystemClock()
        self._cluster_clock = ManualClock(wall=real_clock.wall())
        self.server = test_server.KubeApiServer(
            clock=self._cluster_clock, tls=True, auth=True)
        self.model = test_cluster.ClusterModel(
            self.server.store, self._cluster_clock,
            grace_period=GRACE_PERIOD,
            lease_renew_interval=LEASE_RENEW_INTERVAL,
            controller_period=CONTROLLER_PERIOD)
        self._pace = RealPace(self.model, real_clock=real_clock)
        self._workers = [kind_worker_name(cluster_name, number)
                         for number in range(1, WORKER_COUNT + 1)]
        self._segment = None
        self._release = None
        self._deployment = None
        self._token_file = self._workdir / 'serviceaccount' / 'token'

    # -- lifecycle ------------------------------------------------------

    def start(self):
        self._token_file.parent.mkdir(parents=True)
        self.server.start()
        # kind's node names and roles; all in one zone, as kind's nodes
        # (which carry no zone label) are to the storm guard.
        self.model.add_node('%s-control-plane' % self._cluster_name,
                            labels={'node-role.kubernetes.io/'
                                    'control-plane': ''})
        for name in self._workers:
            self.model.add_node(name)
        self._pace.fast_forward(WARM_UP)
        self._pace.start()
        self._segment = self._masakari.create_segment(
            '%s %s' % (self._cluster_name, self._label)[:255])
        self._masakari.add_hosts(self._segment, self._workers)

    def close(self):
        """Uninstall the monitor, stop the cluster.

        Raises if a pod did not stop cleanly on SIGTERM within the chart's
        terminationGracePeriodSeconds (a monitor that must be killed may
        lose a notification in flight).
        """
        exit_codes = {}
        try:
            if self._deployment is not None:
                exit_codes = self._deployment.stop()
        finally:
            self._pace.stop()
            self.model.close()
            self.server.stop()
        unclean = unclean_exits(exit_codes)
        if unclean:
            raise AssertionError('monitor pods did not stop cleanly on '
                                 'SIGTERM: %s\n%s' % (
                                     unclean, self.diagnostics()))

    # -- the monitor ----------------------------------------------------

    def deploy_monitor(self, values):
        if self._deployment is not None:
            raise RuntimeError('the monitor is deployed already')
        release = pods.Release.render(dict(self._endpoint_values(), **values))
        unknown = release.unknown_k8s_options()
        if unknown:
            raise AssertionError('the chart renders [k8s] options the '
                                 'driver does not have: %s' % unknown)
        token = secrets.token_urlsafe(24)
        self.server.add_token(token, user=release.service_account_user,
                              rules=release.rbac_rules())
        self._token_file.write_text(token + '\n')
        self._release = release
        self._deployment = pods.Deployment(release,
                                           workdir=self._workdir / 'pods')
        self._deployment.start()
        self.wait_for(self._monitor_ready, timeout=self.timeouts.deploy,
                      what='the monitor pods to watch and one to lead')

    def monitor_pods(self):
        return self._deployment.pod_names() if self._deployment else []

    def leader(self):
        lease = self._release and self._release.lease()
        if lease is None:
            return None
        namespace, name = lease
        try:
            item = self.server.store.get('leases', name, namespace=namespace)
        except errors.NotFound:
            return None
        return (item.get('spec') or {}).get('holderIdentity')

    def kill_pod(self, name):
        self._deployment.kill(name)

    # -- the cluster ----------------------------------------------------

    def workers(self):
        return list(self._workers)

    def stop_workers(self, names):
        for name in names:
            self.model.power_off(name)
        # Instead of waiting out the node-monitor grace period.
        self._pace.fast_forward(UNKNOWN_AFTER)

    def start_worker(self, name):
        self.model.power_on(name)
        # The controller's next pass clears the unreachable taints.
        self._pace.fast_forward(CONTROLLER_PERIOD)

    def cordon(self, name):
        self.model.cordon(name)

    def taint_out_of_service(self, name):
        self.model.add_out_of_service_taint(name)

    def untaint_out_of_service(self, name):
        self.model.remove_out_of_service_taint(name)

    # -- observations ---------------------------------------------------

    def notifications(self):
        return [base.Stored(item['hostname'], item['payload'].get('event'),
                            item['payload'].get('host_status'))
                for item in self._masakari.notifications(
                    segment_uuid=self._segment)]

    def node_events(self, node):
        items, _version, _token = self.server.store.list(
            'events', namespace=EVENT_NAMESPACE)
        return [base.NodeEvent(node, item.get('reason'), item.get('message'))
                for item in items
                if (item.get('source') or {}).get('component')
                == MONITOR_COMPONENT
                and (item.get('involvedObject') or {}).get('name') == node]

    def diagnostics(self):
        if self._deployment is None:
            return 'no monitor deployed'
        return self._deployment.log_tails()

    # -- internals ------------------------------------------------------

    def _endpoint_values(self):
        """Where this backend's API server and masakari-api are.

        A pod finds the API server through its service account; here the
        same three facts come as [k8s] options.
        """
        return {
            base.K8S_VALUES + 'api_url': self.server.url,
            base.K8S_VALUES + 'ca_file': self.server.ca_file,
            base.K8S_VALUES + 'token_file': str(self._token_file),
            'conf.masakarimonitors.api.endpoint': self._masakari.url,
        }

    def _monitor_ready(self):
        # What `kubectl rollout status` waits for, and a known leader.
        if not self._deployment.ready():
            return False
        return (self._release.lease() is None
                or self.leader() in self.monitor_pods())
