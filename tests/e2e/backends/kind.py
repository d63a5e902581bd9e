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

"""The e2e backend on a real cluster: kind, docker, kubectl and helm.

The session (:class:`KindSession`) builds what every scenario uses:

1. a kind cluster from ``tools/kind/cluster.yaml`` (one control plane,
   three workers, Kubernetes 1.35), or the existing one of that name;
2. the monitor image from ``images/masakari-hostmonitor/Dockerfile`` and
   a masakari-api image from ``tools/kind/masakari-api/Dockerfile``
   (masakari 22.0.0), both ``kind load``-ed onto the nodes;
3. a real masakari-api in namespace ``openstack`` (``tools/kind/
   masakari-api.yaml``: SQLite, noauth2, no engine), where the chart's
   ``values/kind.yaml`` expects it, published on 127.0.0.1:30868 through
   a NodePort and the cluster's port mapping;
4. a failover segment with the workers registered as hosts, written in
   the masakari-api pod with masakari's own objects (its host API would
   ask Nova whether the host exists).

Each scenario (:class:`KindBackend`) runs ``helm upgrade --install`` with
``values/kind.yaml``, the scenario's values and the placement of the
monitor on the control plane, breaks workers with ``docker stop``,
``kubectl cordon`` and ``kubectl taint``, and kills the leader pod with a
forced delete. Afterwards it uninstalls the release and brings every
worker back. Notifications and Events are counted from the scenario's
start, so scenarios need no cluster of their own.

Environment: ``E2E_KIND_CLUSTER`` (cluster name, default
``masakari-e2e``), ``E2E_KIND_KEEP=1`` (keep the cluster afterwards; an
existing cluster is always kept).
"""

import contextlib
import datetime
import json
import os
import pathlib
import shutil
import subprocess
import urllib.parse

import yaml

from tests.chart import render
from tests.e2e.backends import base
from tests.e2e.backends import masakari_http
from tests.e2e.backends import pods

REPO_ROOT = render.REPO_ROOT
KIND_DIR = REPO_ROOT / 'tools' / 'kind'
CLUSTER_CONFIG = KIND_DIR / 'cluster.yaml'
MASAKARI_MANIFESTS = KIND_DIR / 'masakari-api.yaml'
MASAKARI_DOCKERFILE = KIND_DIR / 'masakari-api' / 'Dockerfile'
MASAKARI_IMAGE = 'masakari-api-e2e:22.0.0'
MONITOR_DOCKERFILE = REPO_ROOT / 'images' / 'masakari-hostmonitor' / \
    'Dockerfile'
REQUIRED_TOOLS = ('docker', 'kind', 'kubectl', 'helm')
DEFAULT_CLUSTER = 'masakari-e2e'
NAMESPACE = render.NAMESPACE
RELEASE = render.RELEASE
# tools/kind/cluster.yaml maps the masakari-api NodePort here.
MASAKARI_ENDPOINT = 'http://127.0.0.1:30868/v1'
MASAKARI_CONF = '/etc/masakari/masakari.conf'
SEGMENT = 'e2e-kind'
CONTROL_PLANE_LABEL = ('openstack-control-plane', 'enabled')
CONTROL_PLANE_TAINT = 'node-role.kubernetes.io/control-plane'
OUT_OF_SERVICE = 'node.kubernetes.io/out-of-service'
EVENT_NAMESPACE = 'default'
MONITOR_COMPONENT = 'masakari-hostmonitor'
# Image builds pull base images; a slow mirror is not a failure.
BUILD_TIMEOUT = 1800
COMMAND_TIMEOUT = 600


def missing_requirements():
    """Why the kind backend cannot run here, or '' when it can."""
    missing = [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
    problems = []
    if missing:
        problems.append('not on PATH: %s' % ', '.join(missing))
    if 'docker' not in missing:
        done = subprocess.run(['docker', 'info', '--format',
                               '{{.ServerVersion}}'],
                              capture_output=True, text=True, check=False,
                              timeout=60)
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ['no answer'])[-1]
            problems.append('no docker daemon answers (%s)' % reason)
    return '; '.join(problems)


class CommandError(Exception):
    """A tool failed; the message has its command line and stderr."""


class Tools:
    """docker, kind, kubectl and helm, pointed at one cluster."""

    def __init__(self, *, cluster, kubeconfig):
        self.cluster = cluster
        self.kubeconfig = str(kubeconfig)

    def run(self, *argv, stdin=None, timeout=COMMAND_TIMEOUT, check=True):
        environment = dict(os.environ, KUBECONFIG=self.kubeconfig)
        done = subprocess.run(list(argv), input=stdin, capture_output=True,
                              text=True, check=False, timeout=timeout,
                              cwd=REPO_ROOT, env=environment)
        if check and done.returncode != 0:
            raise CommandError('%s exited %d:\n%s%s' % (
                ' '.join(argv), done.returncode, done.stdout[-2000:],
                done.stderr[-4000:]))
        return done

    def kubectl(self, *argv, **options):
        return self.run('kubectl', *argv, **options)

    def kubectl_json(self, *argv):
        return json.loads(self.kubectl(*argv, '-o', 'json').stdout)

    def helm(self, *argv, **options):
        return self.run('helm', *argv, **options)

    def docker(self, *argv, **options):
        return self.run('docker', *argv, **options)

    def kind(self, *argv, **options):
        return self.run('kind', *argv, **options)


class KindSession:
    """The cluster, images, masakari-api and segment of one run."""

    name = 'kind'

    def __init__(self, workdir):
        self._workdir = pathlib.Path(workdir)
        cluster = os.environ.get('E2E_KIND_CLUSTER') or DEFAULT_CLUSTER
        self.tools = Tools(cluster=cluster,
                           kubeconfig=self._workdir / 'kubeconfig')
        self._keep = os.environ.get('E2E_KIND_KEEP') == '1'
        self._created = False
        self.masakari = masakari_http.MasakariHttp(MASAKARI_ENDPOINT)
        self.segment = None
        self.workers = []

    def __enter__(self):
        try:
            self._cluster_up()
            self._images_loaded()
            self._masakari_up()
            self._hosts_registered()
        except BaseException:
            self._cluster_down()
            raise
        return self

    def __exit__(self, *exc_info):
        self._cluster_down()

    @contextlib.contextmanager
    def scenario(self, label):
        backend = KindBackend(self, label=label)
        try:
            yield backend
        finally:
            backend.close()

    def restore_nodes(self):
        """Every node running and Ready; workers schedulable, unfenced."""
        tools = self.tools
        for name in tools.kind('get', 'nodes', '--name',
                               tools.cluster).stdout.split():
            running = tools.docker('inspect', '-f', '{{.State.Running}}',
                                   name).stdout.strip()
            if running != 'true':
                tools.docker('start', name)
        for name in self.workers:
            tools.kubectl('uncordon', name)
            # Fails when the taint is not there, which is fine.
            tools.kubectl('taint', 'nodes', name, OUT_OF_SERVICE + '-',
                          check=False)
        tools.kubectl('wait', '--for=condition=Ready', 'nodes', '--all',
                      '--timeout=300s')

    # -- set-up steps ---------------------------------------------------

    def _cluster_up(self):
        tools = self.tools
        existing = tools.kind('get', 'clusters').stdout.split()
        if tools.cluster in existing:
            kubeconfig = tools.kind('get', 'kubeconfig', '--name',
                                    tools.cluster).stdout
            pathlib.Path(tools.kubeconfig).write_text(kubeconfig)
        else:
            tools.kind('create', 'cluster', '--name', tools.cluster,
                       '--config', str(CLUSTER_CONFIG),
                       '--kubeconfig', tools.kubeconfig, '--wait', '5m',
                       timeout=BUILD_TIMEOUT)
            self._created = True
        self.workers = sorted(
            item['metadata']['name'] for item in tools.kubectl_json(
                'get', 'nodes', '-l', '!node-role.kubernetes.io/'
                'control-plane')['items'])
        # A kept cluster may come from a run that stopped half-way.
        self.restore_nodes()
        # Cluster DNS must survive the workers the scenarios stop: the
        # monitor finds masakari-api by its Service name.
        tools.kubectl('-n', 'kube-system', 'patch', 'deployment', 'coredns',
                      '--type', 'merge', '-p', json.dumps({'spec': {
                          'template': {'spec': {'nodeSelector': dict(
                              [CONTROL_PLANE_LABEL])}}}}))
        tools.kubectl('-n', 'kube-system', 'rollout', 'status',
                      'deployment/coredns', '--timeout=300s')

    def _images_loaded(self):
        monitor_image = monitor_image_tag()
        for tag, dockerfile in ((monitor_image, MONITOR_DOCKERFILE),
                                (MASAKARI_IMAGE, MASAKARI_DOCKERFILE)):
            self.tools.docker('build', '-f', str(dockerfile), '-t', tag,
                              str(REPO_ROOT), timeout=BUILD_TIMEOUT)
            self.tools.kind('load', 'docker-image', tag, '--name',
                            self.tools.cluster, timeout=BUILD_TIMEOUT)

    def _masakari_up(self):
        self.tools.kubectl('apply', '-f', str(MASAKARI_MANIFESTS))
        self.tools.kubectl('-n', NAMESPACE, 'rollout', 'status',
                           'deployment/masakari-api', '--timeout=300s')
        base.wait_until(self.masakari.answers, timeout=120,
                        what='masakari-api to answer on %s'
                        % MASAKARI_ENDPOINT, describe=self._masakari_log)

    def _hosts_registered(self):
        self.segment = (self.masakari.segment_named(SEGMENT)
                        or self.masakari.create_segment(SEGMENT))
        known = set(self.masakari.host_names(self.segment).values())
        missing = [name for name in self.workers if name not in known]
        if not missing:
            return
        request = {'segment_uuid': self.segment, 'hosts': [
            {'name': name, 'type': 'COMPUTE', 'control_attributes': 'SSH',
             'on_maintenance': False, 'reserved': False}
            for name in missing]}
        # The harness' own registration helper, shipped in the image.
        self.tools.kubectl(
            'exec', '-i', '-n', NAMESPACE, 'deployment/masakari-api', '-c',
            'masakari-api', '--', 'python', '-m',
            'masakarimonitors_k8s.testing.masakari_api', 'add-hosts',
            '--config-file', MASAKARI_CONF, stdin=json.dumps(request))

    def _cluster_down(self):
        if self._created and not self._keep:
            self.tools.kind('delete', 'cluster', '--name', self.tools.cluster,
                            check=False)
            self._created = False

    def _masakari_log(self):
        return self.tools.kubectl('-n', NAMESPACE, 'logs',
                                  'deployment/masakari-api', '--tail=30',
                                  check=False).stdout


class KindBackend(base.Backend):
    """One scenario on the kind cluster; see the module docstring."""

    name = 'kind'
    # 50 s grace period, up to one 10 s lease interval and one 5 s
    # controller pass, the settle window, and docker stop itself.
    timeouts = base.Timeouts(failure=240.0, recovery=240.0, deploy=420.0,
                             takeover=120.0)
    # The node lifecycle controller marks nodes stopped together Unknown
    # over up to ~15 s (lease renewals spread over 10 s, a pass every 5 s).
    settle_window = 20.0
    poll_interval = 2.0

    def __init__(self, session, *, label):
        self._session = session
        self._tools = session.tools
        # One cluster serves every scenario: they are told apart by time
        # (notifications, Events); the release's description names it.
        self._label = label
        self._started_wall = self.clock.wall()
        self._after_id = max((item[0] for item in session.masakari.
                              notifications(session.segment)), default=0)
        self._release = None

    def close(self):
        """Uninstall the release and bring every worker back."""
        tools = self._tools
        tools.helm('uninstall', RELEASE, '-n', NAMESPACE, '--wait',
                   '--ignore-not-found', check=False)
        if self._release is not None:
            # Terminating pods release the Lease on their way out; the
            # next scenario's pods must find none.
            tools.kubectl('-n', NAMESPACE, 'wait', '--for=delete', 'pod',
                          '-l', self._pod_selector(), '--timeout=120s',
                          check=False)
            if self._release.lease() is not None:
                namespace, name = self._release.lease()
                tools.kubectl('-n', namespace, 'delete', 'lease', name,
                              '--ignore-not-found', check=False)
        self._session.restore_nodes()

    # -- the monitor ----------------------------------------------------

    def deploy_monitor(self, values):
        values = dict(self._placement_values(), **values)
        # The same render the test-server backend runs, for the names the
        # chart gives things (Lease, pod labels).
        self._release = pods.Release.render(values)
        self._tools.helm(
            'upgrade', '--install', RELEASE,
            str(render.CHART_DIR), '-n', NAMESPACE, '--create-namespace',
            *render.value_arguments([pods.KIND_VALUES], values),
            '--description', 'e2e scenario %s' % self._label,
            '--wait', '--timeout', '%ds' % self.timeouts.deploy,
            timeout=self.timeouts.deploy + 60)
        self.wait_for(lambda: self.leader() in self.monitor_pods(),
                      timeout=self.timeouts.deploy,
                      what='a monitor pod to lead')

    def monitor_pods(self):
        items = self._tools.kubectl_json('-n', NAMESPACE, 'get', 'pods',
                                         '-l', self._pod_selector())['items']
        return sorted(item['metadata']['name'] for item in items
                      if item['status'].get('phase') == 'Running'
                      and not item['metadata'].get('deletionTimestamp'))

    def leader(self):
        lease = self._release and self._release.lease()
        if lease is None:
            return None
        namespace, name = lease
        done = self._tools.kubectl('-n', namespace, 'get', 'lease', name,
                                   '-o', 'json', check=False)
        if done.returncode != 0:
            return None
        return (json.loads(done.stdout).get('spec') or {}).get(
            'holderIdentity')

    def kill_pod(self, name):
        self._tools.kubectl('-n', NAMESPACE, 'delete', 'pod', name,
                            '--grace-period=0', '--force', '--wait=false')

    # -- the cluster ----------------------------------------------------

    def workers(self):
        return list(self._session.workers)

    def stop_workers(self, names):
        # Together, as a power cut would: one docker stop each, at once.
        stopping = [subprocess.Popen(['docker', 'stop', name],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
                    for name in names]
        for name, process in zip(names, stopping):
            _, errors = process.communicate(timeout=COMMAND_TIMEOUT)
            if process.returncode != 0:
                raise CommandError('docker stop %s: %s' % (name, errors))

    def start_worker(self, name):
        self._tools.docker('start', name)

    def cordon(self, name):
        self._tools.kubectl('cordon', name)

    def taint_out_of_service(self, name):
        self._tools.kubectl('taint', 'nodes', name, '--overwrite',
                            OUT_OF_SERVICE + '=nodeshutdown:NoExecute')

    def untaint_out_of_service(self, name):
        self._tools.kubectl('taint', 'nodes', name, OUT_OF_SERVICE + '-')

    # -- observations ---------------------------------------------------

    def notifications(self):
        return [base.Stored(hostname, payload.get('event'),
                            payload.get('host_status'))
                for _id, hostname, payload in self._session.masakari.
                notifications(self._session.segment,
                              after_id=self._after_id)]

    def node_events(self, node):
        # core/v1 by its path: `kubectl get events` could pick the
        # events.k8s.io view, whose field names differ.
        path = '/api/v1/namespaces/%s/events?%s' % (
            EVENT_NAMESPACE, urllib.parse.urlencode({
                'fieldSelector': 'involvedObject.kind=Node,'
                                 'involvedObject.name=%s' % node}))
        items = json.loads(self._tools.kubectl('get', '--raw', path).stdout)[
            'items']
        return [base.NodeEvent(node, item.get('reason'), item.get('message'))
                for item in items
                if (item.get('source') or {}).get('component')
                == MONITOR_COMPONENT
                and _epoch(item['metadata']['creationTimestamp'])
                >= int(self._started_wall)]

    def diagnostics(self):
        if self._release is None:
            return 'no monitor deployed'
        parts = []
        for argv in (('get', 'nodes', '-o', 'wide'),
                     ('-n', NAMESPACE, 'get', 'pods', '-o', 'wide'),
                     ('-n', NAMESPACE, 'logs', '-l', self._pod_selector(),
                      '--prefix', '--tail=40')):
            done = self._tools.kubectl(*argv, check=False)
            parts.append('$ kubectl %s\n%s%s' % (' '.join(argv), done.stdout,
                                                 done.stderr))
        return '\n'.join(parts)

    # -- internals ------------------------------------------------------

    def _pod_selector(self):
        labels = self._release.deployment['spec']['selector']['matchLabels']
        return ','.join('%s=%s' % item for item in sorted(labels.items()))

    def _placement_values(self):
        return placement_values()


def placement_values():
    """The monitor on the control plane, away from the workers.

    The scenarios stop workers; the monitor must not go with them.
    kind's control plane is tainted, hence the toleration.
    """
    chart_values = yaml.safe_load(
        (render.CHART_DIR / 'values.yaml').read_text())
    tolerations = list(chart_values['pod']['tolerations'][
        'masakari_host_monitor']['tolerations'])
    tolerations.append({'key': CONTROL_PLANE_TAINT,
                        'operator': 'Exists', 'effect': 'NoSchedule'})
    key, value = CONTROL_PLANE_LABEL
    return {
        'labels.masakari_host_monitor.node_selector_key': key,
        'labels.masakari_host_monitor.node_selector_value': value,
        'pod.tolerations.masakari_host_monitor.tolerations': tolerations,
    }


def monitor_image_tag():
    """The image values/kind.yaml runs, which the session builds."""
    values = yaml.safe_load(pods.KIND_VALUES.read_text())
    return values['images']['tags']['masakari_host_monitor']


def _epoch(timestamp):
    return datetime.datetime.strptime(
        timestamp, '%Y-%m-%dT%H:%M:%SZ').replace(
            tzinfo=datetime.timezone.utc).timestamp()
