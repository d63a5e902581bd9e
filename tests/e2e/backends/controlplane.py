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

"""The e2e backend on a real Kubernetes control plane, without Docker.

The session (:class:`ControlPlaneSession`) runs what every scenario uses:
:class:`~masakarimonitors_k8s.testing.controlplane.ControlPlane` (the real
kube-apiserver, etcd, kube-controller-manager and kube-scheduler, built
from pinned Go modules; kwok playing the kubelets), a control-plane Node
for the monitor's pods, namespace ``openstack`` labelled for the
``restricted`` Pod Security level, and one real masakari-api.

Each scenario (:class:`ControlPlaneBackend`) creates its own kwok worker
Nodes (kind's names, prefixed by the scenario) and registers them as hosts
of a segment of its own, then ``deploy_monitor`` installs the chart with
the real helm (``helm upgrade --install``, server-side apply in helm 4)
exactly as the kind backend does. The cluster runs the Deployment:
ReplicaSet, Pod Security admission, the scheduler places the pods on the
control-plane Node and kwok marks them Running. Nothing executes in a kwok
pod, so each pod the cluster created is run as a local process
(``pods.py``) under that pod's name, with a token that TokenRequest issued
for the chart's own ServiceAccount: the real API server enforces exactly
the chart's RBAC.

``helm test`` (:meth:`ControlPlaneBackend.helm_test`) gets the same
treatment: helm creates the chart's test hook Pod, the scheduler places it
on the control-plane Node and kwok marks it Running (kwok's ``pod-ready``
stage; the ``pod-complete`` one is for Job pods only). This backend then
plays that Pod's kubelet: it runs the Pod's command as the API server
holds it (env from ``secretKeyRef`` read from the real Secret, the
mounted conf Secret, the ServiceAccount token volume filled with a
TokenRequest token bound to the Pod), and writes the exit code to the
Pod's status subresource as ``Succeeded`` or ``Failed``. kwok's stages
select Pending pods (ready) or deleted ones (delete) only, so the
terminal phase stays; helm reads it and passes or fails.

Failures are real: stopping a worker stops kwok renewing its Lease, and
the real node lifecycle controller marks it ``Ready=Unknown`` and taints
it after its grace period (20 s here); starting it again lets kwok report
it Ready. Cordon and taints go through the kubectl built with the rest.
"""

import base64
import contextlib
import datetime
import itertools
import json
import os
import pathlib
import subprocess
import urllib.parse

from masakarimonitors_k8s.testing import controlplane
from masakarimonitors_k8s.testing import masakari_api
from tests.chart import render
from tests.e2e.backends import apiserver
from tests.e2e.backends import base
from tests.e2e.backends import kind
from tests.e2e.backends import pods

NAMESPACE = render.NAMESPACE
RELEASE = render.RELEASE
WORKER_COUNT = 3
CONTROL_PLANE_NODE = 'e2e-control-plane'
OUT_OF_SERVICE = kind.OUT_OF_SERVICE
EVENT_NAMESPACE = 'default'
MONITOR_COMPONENT = 'masakari-hostmonitor'
# What the namespace of an OpenStack deployment should enforce; the
# chart's pods must pass it.
POD_SECURITY_LABELS = {
    'pod-security.kubernetes.io/enforce': 'restricted',
    'pod-security.kubernetes.io/enforce-version': 'latest',
    'pod-security.kubernetes.io/warn': 'restricted',
    'pod-security.kubernetes.io/audit': 'restricted',
}
HELM_TIMEOUT = 300
TOKEN_SECONDS = 3600
# How long `helm test` and the check it runs may take; the check's own
# requests time out well before.
HELM_TEST_TIMEOUT = 180
HOOK_ANNOTATION = 'helm.sh/hook'
TOKEN_FILE_VARIABLE = 'OS_K8S__TOKEN_FILE'


class ControlPlaneSession:
    """The control plane and masakari-api every scenario of a run shares."""

    name = 'controlplane'

    def __init__(self, workdir):
        self._workdir = pathlib.Path(workdir)
        self.plane = None
        self.masakari = masakari_api.MasakariApi(self._workdir / 'masakari')
        self._numbers = itertools.count(1)
        #: Printed at the end of the run (conftest's terminal summary).
        self.summary = None

    def __enter__(self):
        bin_dir = controlplane.build()
        self.plane = controlplane.ControlPlane(
            self._workdir / 'controlplane', bin_dir=bin_dir)
        self.plane.start()
        try:
            self.masakari.start()
            self.plane.add_node(
                CONTROL_PLANE_NODE, compute=False,
                labels=dict([kind.CONTROL_PLANE_LABEL,
                             ('node-role.kubernetes.io/control-plane',
                              '')]),
                taints=[{'key': kind.CONTROL_PLANE_TAINT,
                         'effect': 'NoSchedule'}])
            self.plane.api('POST', '/api/v1/namespaces', {
                'apiVersion': 'v1', 'kind': 'Namespace',
                'metadata': {'name': NAMESPACE,
                             'labels': POD_SECURITY_LABELS}})
            versions = self.plane.versions
            self.summary = (
                'kube-apiserver %s (etcd %s, kwok %s), control plane up in '
                '%.1f s; logs in %s' % (
                    self.plane.server_version(),
                    versions.get('ETCD_VERSION', '?'),
                    versions.get('KWOK_VERSION', '?'),
                    self.plane.start_seconds, self.plane.log_dir))
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(self, *exc_info):
        self._stop()

    def _stop(self):
        try:
            self.masakari.stop()
        finally:
            self.plane.stop()

    def helm(self, *argv, timeout=HELM_TIMEOUT, check=True):
        done = subprocess.run(
            [render.helm_binary(), *argv], capture_output=True, text=True,
            check=False, timeout=timeout, cwd=render.REPO_ROOT,
            env=dict(os.environ,
                     KUBECONFIG=self.plane.endpoints.admin_kubeconfig))
        if check and done.returncode != 0:
            raise controlplane.ControlPlaneError('helm %s exited %d:\n%s' % (
                ' '.join(argv), done.returncode, done.stderr[-4000:]))
        return done

    @contextlib.contextmanager
    def scenario(self, label):
        number = next(self._numbers)
        backend = ControlPlaneBackend(
            self, workdir=self._workdir / ('scenario-%d' % number),
            prefix='e2e-s%d' % number, label=label)
        try:
            backend.start()
            yield backend
        finally:
            backend.close()


class ClusterPods(pods.Deployment):
    """Local processes for the pods the cluster's ReplicaSet created.

    A pod's process takes the cluster pod's name (the leader identity),
    and a kill deletes the cluster pod too, so the ReplicaSet replaces it
    and the replacement's process runs under the new pod's name.
    """

    def __init__(self, release, *, workdir, backend, exclude=()):
        super().__init__(release, workdir=workdir)
        self._backend = backend
        self._exclude = set(exclude)

    def kill(self, name):
        self._backend.delete_cluster_pod(name)
        return super().kill(name)

    def _start_pod(self):
        taken = self._exclude | {pod.name for pod in self.gone + self._pods}
        name = self._backend.wait_for(
            lambda: next((pod for pod in self._backend.cluster_pods()
                          if pod not in taken), None),
            timeout=self._backend.timeouts.deploy,
            what='the ReplicaSet to create a pod')
        pod = pods.Pod(self.release, name=name, root=self._workdir / name,
                       cluster=self._backend.cluster_data)
        pod.start()
        self._pods.append(pod)
        return pod


class LivePod:
    """A Pod as the API server holds it, in the shape pods.Pod reads.

    pods.Pod runs a :class:`pods.Release`'s rendered pod template; a hook
    Pod is run from the object helm created instead, with the fields the
    API server's admission added (the ServiceAccount token volume).
    """

    def __init__(self, item, cluster_data):
        self.item = item
        self.namespace = item['metadata']['namespace']
        self.pod_spec = item['spec']
        containers = self.pod_spec['containers']
        if len(containers) != 1 or self.pod_spec.get('initContainers'):
            raise pods.UnsupportedTemplate(
                'hook Pod %s: one container, no init containers expected'
                % item['metadata']['name'])
        self.container = containers[0]
        self.termination_grace = float(
            self.pod_spec.get('terminationGracePeriodSeconds', 30))
        self.data_of = cluster_data


class HookPod(pods.Pod):
    """A helm hook Pod's container as a local process.

    Besides what pods.Pod emulates, fills the projected ServiceAccount
    volume a kubelet fills (token, ``kube-root-ca.crt``, namespace); the
    token is ``token`` (TokenRequest, bound to this Pod). The conf the
    backend renders names its own token file, so the environment points
    ``[k8s] token_file`` at the mounted one, where the kubelet puts it.
    """

    def __init__(self, live_pod, *, root, token):
        super().__init__(live_pod, name=live_pod.item['metadata']['name'],
                         root=root)
        self._token = token
        self._token_path = None

    def environment(self):
        environment = super().environment()
        if self._token_path is not None:
            environment[TOKEN_FILE_VARIABLE] = str(self._token_path)
        return environment

    def wait(self, timeout):
        """The exit code; SIGKILL and None past ``timeout`` seconds."""
        try:
            return self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def _fill_from(self, source, target, mode):
        if 'serviceAccountToken' in source:
            path = target / source['serviceAccountToken']['path']
            path.write_text(self._token)
            os.chmod(path, mode)
            self._token_path = path
            return
        if 'downwardAPI' in source:
            fields = {'metadata.namespace': self.release.namespace,
                      'metadata.name': self.name}
            for item in source['downwardAPI'].get('items') or ():
                field = (item.get('fieldRef') or {}).get('fieldPath')
                if field not in fields:
                    raise pods.UnsupportedTemplate(
                        'downwardAPI %r is not emulated' % (item,))
                path = target / item['path']
                path.write_text(fields[field])
                os.chmod(path, item.get('mode', mode))
            return
        super()._fill_from(source, target, mode)


class HelmTestRun:
    """What one ``helm test`` did: helm's exit code and output, the Pod."""

    def __init__(self, returncode, output, pod):
        self.returncode = returncode
        self.output = output
        #: The HookPod run for the test Pod (its log), or None.
        self.pod = pod

    @property
    def pod_log(self):
        if self.pod is None:
            return ''
        return self.pod.log_path.read_text(errors='replace')


class ControlPlaneBackend(base.Backend):
    """One scenario on the real control plane; see the module docstring."""

    name = 'controlplane'
    # Grace period (20 s), up to one Lease renewal (5 s) and one
    # controller pass (2 s), then the monitor; generous for a loaded
    # 2-core machine.
    timeouts = base.Timeouts(failure=120.0, recovery=90.0, deploy=240.0,
                             takeover=60.0)
    # Workers stopped together turn Unknown up to one renewal interval
    # plus one controller pass apart.
    settle_window = 10.0
    poll_interval = 0.5

    def __init__(self, session, *, workdir, prefix, label):
        self._session = session
        self.plane = session.plane
        self._masakari = session.masakari
        self._workdir = pathlib.Path(workdir)
        self._label = label
        self._workers = [apiserver.kind_worker_name(prefix, number)
                         for number in range(1, WORKER_COUNT + 1)]
        self._segment = None
        self._release = None
        self._deployment = None
        self._retired = []
        self._token_file = self._workdir / 'serviceaccount' / 'token'
        self._helm_tests = itertools.count(1)

    # -- lifecycle ------------------------------------------------------

    def start(self):
        self._token_file.parent.mkdir(parents=True)
        for name in self._workers:
            self.plane.add_node(name)
        self.wait_for(lambda: all(self.plane.node_ready(name) == 'True'
                                  for name in self._workers),
                      timeout=self.timeouts.deploy,
                      what='kwok to report the workers Ready')
        self._segment = self._masakari.create_segment(
            ('%s %s' % (self._workers[0], self._label))[:255])
        self._masakari.add_hosts(self._segment, self._workers)

    def close(self):
        """Uninstall the release, remove the workers.

        Raises if a pod did not stop cleanly on SIGTERM.
        """
        exit_codes = {}
        try:
            if self._deployment is not None:
                exit_codes = self._deployment.stop()
        finally:
            self._session.helm('uninstall', RELEASE, '-n', NAMESPACE,
                               '--wait', '--ignore-not-found', check=False)
            if self._release is not None and self._release.lease():
                namespace, name = self._release.lease()
                self.plane.api('DELETE', '/apis/coordination.k8s.io/v1/'
                               'namespaces/%s/leases/%s' % (namespace, name),
                               expect=(200, 404))
            for name in self._workers:
                self.plane.delete_node(name)
        unclean = apiserver.unclean_exits(exit_codes)
        if unclean:
            raise AssertionError('monitor pods did not stop cleanly on '
                                 'SIGTERM: %s\n%s' % (
                                     unclean, self.diagnostics()))

    # -- the monitor ----------------------------------------------------

    def deploy_monitor(self, values):
        if self._deployment is not None:
            raise RuntimeError('the monitor is deployed already')
        values = dict(kind.placement_values(), **self._endpoint_values(),
                      **values)
        release = pods.Release.render(values)
        unknown = release.unknown_k8s_options()
        if unknown:
            raise AssertionError('the chart renders [k8s] options the '
                                 'driver does not have: %s' % unknown)
        self._release = release
        self._session.helm(
            'upgrade', '--install', RELEASE, str(render.CHART_DIR),
            '-n', NAMESPACE,
            *render.value_arguments([pods.KIND_VALUES], values),
            '--description', 'e2e scenario %s' % self._label,
            '--wait', '--timeout', '%ds' % self.timeouts.deploy,
            timeout=self.timeouts.deploy + 60)
        self._write_token()
        self._deployment = ClusterPods(release, workdir=self._workdir / 'pods',
                                       backend=self)
        self._deployment.start()
        self.wait_for(self._monitor_ready, timeout=self.timeouts.deploy,
                      what='the monitor pods to watch and one to lead')

    def upgrade_monitor(self, values):
        """``helm upgrade`` with other values: the Deployment rolls.

        Once the rollout is done, the new pods' processes start beside the
        old ones, which then get SIGTERM as the deleted pods' containers
        would: the new replicas must take the Lease over.
        Returns (old pod names, new pod names).
        """
        old = self._deployment
        old_names = set(old.pod_names()) | set(self.cluster_pods())
        values = dict(kind.placement_values(), **self._endpoint_values(),
                      **values)
        release = pods.Release.render(values)
        self._session.helm(
            'upgrade', RELEASE, str(render.CHART_DIR), '-n', NAMESPACE,
            *render.value_arguments([pods.KIND_VALUES], values),
            '--description', 'e2e scenario %s (upgrade)' % self._label,
            '--wait', '--timeout', '%ds' % self.timeouts.deploy,
            timeout=self.timeouts.deploy + 60)
        self._release = release
        new = ClusterPods(release, workdir=self._workdir / 'pods-upgraded',
                          backend=self, exclude=old_names)
        new.start()
        self._deployment = new
        exit_codes = old.stop()
        unclean = apiserver.unclean_exits(exit_codes)
        if unclean:
            raise AssertionError('old pods did not stop cleanly: %s\n%s'
                                 % (unclean, old.log_tails()))
        self._retired.append(old)
        self.wait_for(self._monitor_ready, timeout=self.timeouts.deploy,
                      what='the upgraded pods to watch and one to lead')
        return sorted(old_names), new.pod_names()

    def helm_test(self, *, timeout=HELM_TEST_TIMEOUT):
        """``helm test`` of the release, this backend as the Pod's kubelet.

        Returns a :class:`HelmTestRun`; helm's exit code is not checked.
        """
        number = next(self._helm_tests)
        workdir = self._workdir / ('helm-test-%d' % number)
        workdir.mkdir(parents=True)
        name = self._test_pod_name()
        previous = self._api_pod(name)
        previous_uid = previous and previous['metadata']['uid']
        output_path = workdir / 'helm-test.log'
        with open(output_path, 'wb') as output:
            helm = subprocess.Popen(
                [render.helm_binary(), 'test', RELEASE, '-n', NAMESPACE,
                 '--timeout', '%ds' % timeout],
                stdin=subprocess.DEVNULL, stdout=output,
                stderr=subprocess.STDOUT, cwd=render.REPO_ROOT,
                env=dict(os.environ,
                         KUBECONFIG=self.plane.endpoints.admin_kubeconfig))
        hook = None
        try:
            # helm deletes the last run's Pod first (before-hook-creation);
            # the new one is the one with another uid, once kwok has
            # "started" it.
            item = self.wait_for(
                lambda: helm.poll() is not None or self._started_pod(
                    name, previous_uid),
                timeout=timeout, what='helm to create the test Pod and '
                'kwok to mark it Running')
            if isinstance(item, dict):
                hook = self._run_hook_pod(item, workdir, timeout)
            helm.wait(timeout + 60)
        finally:
            if helm.poll() is None:
                helm.kill()
                helm.wait()
        return HelmTestRun(helm.returncode,
                           output_path.read_text(errors='replace'), hook)

    def cluster_data(self, kind, name):
        """{key: bytes} of a Secret or ConfigMap in the namespace, or None."""
        resource = {'Secret': 'secrets', 'ConfigMap': 'configmaps'}[kind]
        item = self.plane.api('GET', '/api/v1/namespaces/%s/%s/%s' % (
            NAMESPACE, resource, name), expect=(200, 404))
        if item.get('kind') != kind:
            return None
        if kind == 'Secret':
            return {key: base64.b64decode(value)
                    for key, value in (item.get('data') or {}).items()}
        return {key: value.encode('utf-8')
                for key, value in (item.get('data') or {}).items()}

    def put_secret(self, name, string_data):
        """Create or replace a Secret the operator keeps (not the chart's)."""
        body = {'apiVersion': 'v1', 'kind': 'Secret',
                'metadata': {'name': name, 'namespace': NAMESPACE},
                'type': 'Opaque', 'stringData': dict(string_data)}
        path = '/api/v1/namespaces/%s/secrets' % NAMESPACE
        existing = self.plane.api('GET', '%s/%s' % (path, name),
                                  expect=(200, 404))
        if existing.get('kind') == 'Secret':
            self.plane.api('PUT', '%s/%s' % (path, name), body)
        else:
            self.plane.api('POST', path, body)

    def monitor_pods(self):
        return self._deployment.pod_names() if self._deployment else []

    def leader(self):
        lease = self._release and self._release.lease()
        if lease is None:
            return None
        namespace, name = lease
        item = self.plane.api(
            'GET', '/apis/coordination.k8s.io/v1/namespaces/%s/leases/%s'
            % (namespace, name), expect=(200, 404))
        if item.get('kind') != 'Lease':
            return None
        return (item.get('spec') or {}).get('holderIdentity')

    def kill_pod(self, name):
        self._deployment.kill(name)

    # -- what ClusterPods needs -------------------------------------------

    def cluster_pods(self):
        """Names of the release's Running, not deleted pods, oldest first."""
        items = self.plane.api('GET', '/api/v1/namespaces/%s/pods?%s' % (
            NAMESPACE, urllib.parse.urlencode(
                {'labelSelector': self._pod_selector()})))['items']
        running = [item for item in items
                   if (item.get('status') or {}).get('phase') == 'Running'
                   and not item['metadata'].get('deletionTimestamp')]
        running.sort(key=lambda item: (item['metadata']['creationTimestamp'],
                                       item['metadata']['name']))
        return [item['metadata']['name'] for item in running]

    def delete_cluster_pod(self, name):
        """A forced delete, as the kind backend's kill does."""
        self.plane.api('DELETE', '/api/v1/namespaces/%s/pods/%s' % (
            NAMESPACE, name), {'gracePeriodSeconds': 0}, expect=(200, 404))

    def _test_pod_name(self):
        names = [item['metadata']['name'] for item in self._release.objects
                 if item['kind'] == 'Pod'
                 and HOOK_ANNOTATION in (item['metadata'].get('annotations')
                                         or {})]
        if len(names) != 1:
            raise AssertionError('expected one test hook Pod, rendered %s'
                                 % names)
        return names[0]

    def _api_pod(self, name):
        item = self.plane.api('GET', '/api/v1/namespaces/%s/pods/%s' % (
            NAMESPACE, name), expect=(200, 404))
        return item if item.get('kind') == 'Pod' else None

    def _started_pod(self, name, previous_uid):
        item = self._api_pod(name)
        if (item is None or item['metadata']['uid'] == previous_uid
                or item['metadata'].get('deletionTimestamp')
                or (item.get('status') or {}).get('phase') != 'Running'):
            return None
        return item

    def _run_hook_pod(self, item, workdir, timeout):
        """Run the Pod's container to its end; write the phase as kubelet."""
        metadata = item['metadata']
        token = self.plane.api(
            'POST', '/api/v1/namespaces/%s/serviceaccounts/%s/token' % (
                NAMESPACE, item['spec']['serviceAccountName']),
            {'apiVersion': 'authentication.k8s.io/v1',
             'kind': 'TokenRequest',
             'spec': {'expirationSeconds': TOKEN_SECONDS,
                      'boundObjectRef': {'apiVersion': 'v1', 'kind': 'Pod',
                                         'name': metadata['name'],
                                         'uid': metadata['uid']}}}
        )['status']['token']
        hook = HookPod(LivePod(item, self.cluster_data),
                       root=workdir / metadata['name'], token=token)
        hook.start()
        exit_code = hook.wait(timeout)
        self._set_terminated(item, exit_code)
        return hook

    def _set_terminated(self, item, exit_code):
        """PATCH pods/status: phase and container state, as a kubelet."""
        now = datetime.datetime.now(datetime.timezone.utc).strftime(
            '%Y-%m-%dT%H:%M:%SZ')
        failed = exit_code != 0
        status = item.get('status') or {}
        containers = []
        for container in status.get('containerStatuses') or ():
            started = ((container.get('state') or {}).get('running')
                       or {}).get('startedAt', now)
            containers.append(dict(container, ready=False, started=False,
                                   state={'terminated': {
                                       'exitCode': (137 if exit_code is None
                                                    else exit_code),
                                       'reason': ('Error' if failed
                                                  else 'Completed'),
                                       'startedAt': started,
                                       'finishedAt': now}}))
        reason = 'PodFailed' if failed else 'PodCompleted'
        conditions = [
            dict(condition, status='False', reason=reason,
                 lastTransitionTime=now)
            if condition['type'] in ('Ready', 'ContainersReady')
            else condition
            for condition in status.get('conditions') or ()]
        self.plane.api(
            'PATCH', '/api/v1/namespaces/%s/pods/%s/status' % (
                NAMESPACE, item['metadata']['name']),
            {'status': {'phase': 'Failed' if failed else 'Succeeded',
                        'conditions': conditions,
                        'containerStatuses': containers}},
            content_type='application/merge-patch+json')

    def _write_token(self):
        """A TokenRequest token of the chart's ServiceAccount.

        Not bound to a pod, unlike a kubelet's projected token: the local
        pods share the one token file the conf names, and a token bound
        to a killed pod would die with it.
        """
        token = self.plane.token(
            NAMESPACE, self._release.pod_spec['serviceAccountName'],
            seconds=TOKEN_SECONDS)
        self._token_file.write_text(token + '\n')

    # -- the cluster ----------------------------------------------------

    def workers(self):
        return list(self._workers)

    def stop_workers(self, names):
        for name in names:
            self.plane.stop_kubelet(name)

    def start_worker(self, name):
        self.plane.start_kubelet(name)

    def cordon(self, name):
        self.plane.kubectl('cordon', name)

    def taint_out_of_service(self, name):
        self.plane.kubectl('taint', 'nodes', name, '--overwrite',
                           OUT_OF_SERVICE + '=nodeshutdown:NoExecute')

    def untaint_out_of_service(self, name):
        self.plane.kubectl('taint', 'nodes', name, OUT_OF_SERVICE + '-')

    # -- observations ---------------------------------------------------

    def notifications(self):
        return [base.Stored(item['hostname'], item['payload'].get('event'),
                            item['payload'].get('host_status'))
                for item in self._masakari.notifications(
                    segment_uuid=self._segment)]

    def node_events(self, node):
        items = self.plane.api('GET', '/api/v1/namespaces/%s/events?%s' % (
            EVENT_NAMESPACE, urllib.parse.urlencode({
                'fieldSelector': 'involvedObject.kind=Node,'
                                 'involvedObject.name=%s' % node})))['items']
        return [base.NodeEvent(node, item.get('reason'), item.get('message'))
                for item in items
                if (item.get('source') or {}).get('component')
                == MONITOR_COMPONENT]

    def diagnostics(self):
        parts = [deployment.log_tails() for deployment in self._retired]
        if self._deployment is not None:
            parts.append(self._deployment.log_tails())
        done = self.plane.kubectl('get', 'nodes,leases', '-A', '-o', 'wide',
                                  check=False)
        parts.append('$ kubectl get nodes,leases -A\n%s%s'
                     % (done.stdout, done.stderr))
        try:
            self.plane.check()
        except controlplane.ControlPlaneError as error:
            parts.append(str(error))
        return '\n'.join(parts)

    # -- internals ------------------------------------------------------

    def _endpoint_values(self):
        """Where the API server and masakari-api are (see apiserver.py)."""
        return {
            base.K8S_VALUES + 'api_url': self.plane.endpoints.api_url,
            base.K8S_VALUES + 'ca_file': self.plane.endpoints.ca_file,
            base.K8S_VALUES + 'token_file': str(self._token_file),
            'conf.masakarimonitors.api.endpoint': self._masakari.url,
        }

    def _pod_selector(self):
        labels = self._release.deployment['spec']['selector']['matchLabels']
        return ','.join('%s=%s' % item for item in sorted(labels.items()))

    def _monitor_ready(self):
        if not self._deployment.ready():
            return False
        return (self._release.lease() is None
                or self.leader() in self.monitor_pods())


def replica_set_failures(plane):
    """FailedCreate Events of ReplicaSets in the namespace (Pod Security)."""
    items = plane.api('GET', '/api/v1/namespaces/%s/events?%s' % (
        NAMESPACE, urllib.parse.urlencode(
            {'fieldSelector': 'reason=FailedCreate'})))['items']
    return [json.dumps({'object': item['involvedObject']['name'],
                        'message': item.get('message')})
            for item in items]
