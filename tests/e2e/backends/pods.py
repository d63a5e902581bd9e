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

"""The chart's monitor Deployment, run as local processes.

Used by the test-server backend (``apiserver.py``; the kind backend reads
a :class:`Release` only for the names the chart gives). Without a kubelet, the
next best thing to a pod is a process started from exactly what the chart
renders: :class:`Release` holds ``helm template`` output (with
``values/kind.yaml``, as the kind backend installs it), and :class:`Pod`
turns the Deployment's container into a process:

* the container's ``command`` and ``args`` run as they are, the binary
  taken from this virtualenv (the image's is the same console script);
* each volume mount is a directory under the pod's root, filled from the
  rendered Secrets and ConfigMaps, with the projected ``defaultMode``;
  paths in the command under a mount point are mapped there;
* ``env`` is resolved as the kubelet does (``fieldRef`` to the pod's name
  and namespace, ``secretKeyRef`` from the release's Secrets or, given
  ``cluster``, from the cluster's), on top of an almost empty environment;
* the pods share this machine's network instead of having one each, so
  the container's one port (the status port of the probes) is published
  on a free loopback port, as ``docker run -p 127.0.0.1::8080`` would:
  oslo.config's environment source (``OS_K8S__STATUS_PORT``, checked
  before configuration files) moves the listener there, and the rendered
  file stays as it is. The probes' HTTP GETs are made against it.

Anything in the template this does not know how to run (another volume
type, another field reference, a second container) raises, so a chart
change cannot silently make the test run something else than a pod would.
:class:`Deployment` keeps ``spec.replicas`` pods, replacing killed ones
as the ReplicaSet would.
"""

import base64
import configparser
import hashlib
import json
import os
import pathlib
import random
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request

from masakarimonitors_k8s import conf as k8s_conf
from masakarimonitors_k8s.testing import processes
from tests.chart import render

KIND_VALUES = render.VALUES_DIR / 'kind.yaml'
CONF_KEY = 'masakarimonitors.conf'
# The characters Kubernetes uses in generated names (rand.SafeEncodeString).
NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789'
DEFAULT_LEASE_NAME = 'masakari-hostmonitor'
LOOPBACK = '127.0.0.1'
# oslo.config reads OS_<GROUP>__<OPTION> before the configuration files.
STATUS_PORT_VARIABLE = 'OS_K8S__STATUS_PORT'
STATUS_HOST_VARIABLE = 'OS_K8S__STATUS_BIND_HOST'
_LOG_TAIL_LINES = 30


class UnsupportedTemplate(Exception):
    """The pod template asks for something a local process cannot be."""


class PodFailed(Exception):
    """A monitor process exited on its own; the message has its log."""


class Release:
    """``helm template`` of the chart: the objects a cluster would get."""

    def __init__(self, objects):
        self.objects = objects
        self.deployment = self._one('Deployment')
        self.namespace = self.deployment['metadata']['namespace']
        template = self.deployment['spec']['template']
        self.pod_spec = template['spec']
        containers = self.pod_spec['containers']
        if len(containers) != 1 or self.pod_spec.get('initContainers'):
            raise UnsupportedTemplate('one container, no init containers '
                                      'expected; got %d and %r' % (
                                          len(containers),
                                          self.pod_spec.get(
                                              'initContainers')))
        self.container = containers[0]
        self.replicas = int(self.deployment['spec'].get('replicas', 1))
        self.termination_grace = float(
            self.pod_spec.get('terminationGracePeriodSeconds', 30))
        self.template_hash = _safe_hash(template)

    @classmethod
    def render(cls, values):
        """Render the chart with ``values/kind.yaml`` and ``values``.

        ``values`` maps dotted paths to values, as ``helm --set-json``.
        """
        return cls(render.render([KIND_VALUES], values))

    @property
    def name(self):
        return self.deployment['metadata']['name']

    @property
    def service_account_user(self):
        return 'system:serviceaccount:%s:%s' % (
            self.namespace, self.pod_spec['serviceAccountName'])

    def rbac_rules(self):
        """The rules the chart binds to its ServiceAccount."""
        return render.rbac_rules(self.objects)

    def data_of(self, kind, name):
        """{key: bytes} of a rendered Secret or ConfigMap, or None."""
        for item in self.objects:
            if item['kind'] == kind and item['metadata']['name'] == name:
                if kind == 'Secret':
                    return {key: base64.b64decode(value) for key, value
                            in (item.get('data') or {}).items()}
                return {key: value.encode('utf-8') for key, value
                        in (item.get('data') or {}).items()}
        return None

    def monitor_conf(self):
        """masakarimonitors.conf as the chart renders it, parsed."""
        etc = self._etc_secret_name()
        # oslo.config's [DEFAULT] is a section like the others, not
        # configparser's defaults for every section.
        parser = configparser.ConfigParser(interpolation=None,
                                           default_section='\0')
        parser.read_string(self.data_of('Secret', etc)[CONF_KEY].decode())
        return parser

    def k8s_options(self):
        conf = self.monitor_conf()
        return dict(conf[k8s_conf.GROUP]) if conf.has_section(
            k8s_conf.GROUP) else {}

    def unknown_k8s_options(self):
        """``[k8s]`` options in the rendered conf that the driver lacks.

        oslo.config ignores unknown options silently, so a chart value
        with a typo would otherwise change nothing without a word.
        """
        known = {opt.dest for opt in k8s_conf.ALL_OPTS}
        return sorted(set(self.k8s_options()) - known)

    def lease(self):
        """(namespace, name) of the leader election Lease, or None.

        The driver's defaults: the pod's namespace, masakari-hostmonitor.
        """
        options = self.k8s_options()
        if options.get('leader_election', 'false').lower() != 'true':
            return None
        return (options.get('leader_election_namespace') or self.namespace,
                options.get('leader_election_lease_name')
                or DEFAULT_LEASE_NAME)

    def _one(self, kind):
        found = [item for item in self.objects if item['kind'] == kind]
        if len(found) != 1:
            raise UnsupportedTemplate('expected one %s, rendered %d'
                                      % (kind, len(found)))
        return found[0]

    def _etc_secret_name(self):
        for volume in self.pod_spec.get('volumes') or ():
            for source in (volume.get('projected') or {}).get('sources', ()):
                secret = source.get('secret')
                if secret and self._has_conf(secret['name']):
                    return secret['name']
            secret = volume.get('secret')
            if secret and self._has_conf(secret['secretName']):
                return secret['secretName']
        raise UnsupportedTemplate('no volume carries %s' % CONF_KEY)

    def _has_conf(self, secret_name):
        data = self.data_of('Secret', secret_name)
        return bool(data) and CONF_KEY in data


class Pod:
    """One replica: the Deployment's container as a local process."""

    def __init__(self, release, *, name, root, cluster=None):
        self.release = release
        self.name = name
        self.root = pathlib.Path(root)
        # (kind, name) -> {key: bytes} or None: the objects a cluster has
        # besides the release's, e.g. an existing Keystone user Secret.
        self._cluster = cluster
        self.log_path = self.root / 'container.log'
        self._mounts = {}
        self._process = None
        self.published = self._publish_ports()

    def start(self):
        self.root.mkdir(parents=True)
        self._mount_volumes()
        with open(self.log_path, 'wb') as log:
            self._process = subprocess.Popen(
                self.argv(), env=self.environment(), cwd=str(self.root),
                stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self):
        return self._process.pid

    @property
    def running(self):
        return self._process is not None and self._process.poll() is None

    @property
    def exit_code(self):
        return None if self._process is None else self._process.poll()

    def kill(self):
        """SIGKILL: what a node crash or a forced delete leaves behind."""
        if self.running:
            self._process.send_signal(signal.SIGKILL)
        if self._process is not None:
            self._process.wait()

    def terminate(self):
        """SIGTERM, then SIGKILL after terminationGracePeriodSeconds."""
        if not self.running:
            return self.exit_code
        self._process.send_signal(signal.SIGTERM)
        try:
            return self._process.wait(self.release.termination_grace)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.exit_code

    def log_tail(self, lines=_LOG_TAIL_LINES):
        try:
            text = self.log_path.read_text(errors='replace')
        except FileNotFoundError:
            return ''
        return '\n'.join(text.splitlines()[-lines:])

    # -- the pod spec, made local ---------------------------------------

    def argv(self):
        container = self.release.container
        command = list(container.get('command') or ()) + list(
            container.get('args') or ())
        if not command:
            raise UnsupportedTemplate('the container relies on the image\'s '
                                      'entrypoint, which is not known here')
        binary = shutil.which(command[0], path=_search_path())
        if binary is None:
            raise UnsupportedTemplate('%s is not installed next to %s'
                                      % (command[0], sys.executable))
        return [binary] + [self.host_argument(arg) for arg in command[1:]]

    def environment(self):
        environment = {
            'PATH': _search_path(),
            'HOME': str(self.root),
            'LANG': 'C.UTF-8',
        }
        tmp = self.host_path('/tmp')
        if tmp != '/tmp':
            environment['TMPDIR'] = tmp
        for variable in self.release.container.get('env') or ():
            value = self._env_value(variable)
            if value is not None:
                environment[variable['name']] = value
        # The pod's own network, made a loopback port of this machine.
        environment[STATUS_HOST_VARIABLE] = LOOPBACK
        environment[STATUS_PORT_VARIABLE] = str(next(
            iter(self.published.values()), 0))
        return environment

    def probe(self, kind):
        """One HTTP GET of ``readinessProbe`` or ``livenessProbe``.

        True on a 2xx or 3xx answer, as the kubelet counts it; True when
        the container has no such probe (the kubelet then assumes
        success).
        """
        spec = self.release.container.get(kind)
        if spec is None:
            return True
        if set(spec) & {'exec', 'tcpSocket', 'grpc'}:
            raise UnsupportedTemplate('%s: only httpGet is emulated' % kind)
        get = spec['httpGet']
        url = 'http://%s:%d%s' % (LOOPBACK, self._host_port(get['port']),
                                  get.get('path', '/'))
        try:
            with urllib.request.urlopen(
                    url, timeout=spec.get('timeoutSeconds', 1)) as answer:
                return 200 <= answer.status < 400
        except urllib.error.HTTPError as error:
            return 200 <= error.code < 400
        except OSError:
            return False

    def host_path(self, path):
        """Where a path inside the container is on this machine."""
        for mount_path in sorted(self._mounts, key=len, reverse=True):
            if path == mount_path or path.startswith(mount_path + '/'):
                return str(self._mounts[mount_path]) + path[len(mount_path):]
        return path

    def host_argument(self, argument):
        if argument.startswith('/'):
            return self.host_path(argument)
        option, equals, value = argument.partition('=')
        if equals and value.startswith('/'):
            return option + equals + self.host_path(value)
        return argument

    def _publish_ports(self):
        ports = self.release.container.get('ports') or []
        if len(ports) > 1:
            raise UnsupportedTemplate('one container port (the status '
                                      'port) expected, got %d' % len(ports))
        return {port['containerPort']: processes.free_loopback_port()
                for port in ports}

    def _host_port(self, port):
        for declared in self.release.container.get('ports') or ():
            if port in (declared.get('name'), declared['containerPort']):
                return self.published[declared['containerPort']]
        raise UnsupportedTemplate('probe port %r is not a container port'
                                  % (port,))

    def data_of(self, kind, name):
        """{key: bytes} of a Secret or ConfigMap the pod can read, or None."""
        data = self.release.data_of(kind, name)
        if data is None and self._cluster is not None:
            data = self._cluster(kind, name)
        return data

    def _env_value(self, variable):
        """The variable's value; None when an optional source is absent."""
        if 'value' in variable:
            return variable['value']
        secret_ref = (variable.get('valueFrom') or {}).get('secretKeyRef')
        if secret_ref is not None:
            data = self.data_of('Secret', secret_ref['name'])
            if data is None or secret_ref['key'] not in data:
                if secret_ref.get('optional'):
                    return None
                # A kubelet would hold the pod in CreateContainerConfigError.
                raise UnsupportedTemplate('env %s: Secret %s has no key %s'
                                          % (variable['name'],
                                             secret_ref['name'],
                                             secret_ref['key']))
            return data[secret_ref['key']].decode()
        field = ((variable.get('valueFrom') or {}).get('fieldRef')
                 or {}).get('fieldPath')
        fields = {
            'metadata.name': self.name,
            'metadata.namespace': self.release.namespace,
            'spec.serviceAccountName':
                self.release.pod_spec.get('serviceAccountName', 'default'),
        }
        if field not in fields:
            raise UnsupportedTemplate('env %s: cannot resolve %r'
                                      % (variable['name'],
                                         variable.get('valueFrom')))
        return fields[field]

    def _mount_volumes(self):
        volumes = {volume['name']: volume
                   for volume in self.release.pod_spec.get('volumes') or ()}
        for mount in self.release.container.get('volumeMounts') or ():
            if mount.get('subPath'):
                raise UnsupportedTemplate('subPath mounts are not emulated')
            target = self.root / 'mounts' / mount['mountPath'].lstrip('/')
            target.mkdir(parents=True)
            self._fill(volumes[mount['name']], target)
            self._mounts[mount['mountPath']] = target

    def _fill(self, volume, target):
        if 'emptyDir' in volume:
            return
        if 'projected' in volume:
            mode = volume['projected'].get('defaultMode', 0o644)
            for source in volume['projected'].get('sources') or ():
                self._fill_from(source, target, mode)
            return
        for kind in ('secret', 'configMap'):
            if kind in volume:
                self._fill_from({kind: volume[kind]}, target,
                                volume[kind].get('defaultMode', 0o644))
                return
        raise UnsupportedTemplate('volume %s: type not emulated (%s)'
                                  % (volume['name'], sorted(volume)))

    def _fill_from(self, source, target, mode):
        if set(source) - {'secret', 'configMap'}:
            raise UnsupportedTemplate('projected source not emulated: %s'
                                      % sorted(source))
        kind, spec = next(iter(source.items()))
        name = spec.get('name') or spec.get('secretName')
        data = self.data_of(
            'Secret' if kind == 'secret' else 'ConfigMap', name)
        if data is None:
            if spec.get('optional'):
                return
            # A kubelet would keep the pod in ContainerCreating.
            raise UnsupportedTemplate('%s %s is not part of the release'
                                      % (kind, name))
        items = spec.get('items') or [{'key': key, 'path': key}
                                      for key in data]
        for item in items:
            path = target / item['path']
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data[item['key']])
            os.chmod(path, item.get('mode', mode))


class Deployment:
    """The release's Deployment: ``spec.replicas`` pods, kept running.

    :param release: :class:`Release`.
    :param workdir: where the pods' roots go.
    :param rng: random.Random for the pods' name suffixes.
    """

    def __init__(self, release, *, workdir, rng=None):
        self.release = release
        self._workdir = pathlib.Path(workdir)
        self._rng = rng or random.Random()
        self._pods = []
        self.gone = []   # killed or stopped pods, for their logs

    def start(self):
        for _ in range(self.release.replicas):
            self._start_pod()

    @property
    def pods(self):
        return list(self._pods)

    def pod_names(self):
        return [pod.name for pod in self._pods if pod.running]

    def check(self):
        """Raise PodFailed if a pod exited on its own."""
        for pod in self._pods:
            if not pod.running:
                raise PodFailed('pod %s exited with %s; log tail:\n%s'
                                % (pod.name, pod.exit_code, pod.log_tail()))

    def ready(self):
        """Every pod runs and passes its liveness and readiness probes."""
        self.check()
        return all(pod.probe('livenessProbe') and pod.probe('readinessProbe')
                   for pod in self._pods)

    def kill(self, name):
        """SIGKILL a pod; the ReplicaSet starts a new one."""
        pod = next(pod for pod in self._pods if pod.name == name)
        pod.kill()
        self._pods.remove(pod)
        self.gone.append(pod)
        return self._start_pod()

    def stop(self):
        """What ``helm uninstall`` does to the pods: SIGTERM, then grace."""
        exit_codes = {pod.name: pod.terminate() for pod in self._pods}
        self.gone.extend(self._pods)
        self._pods = []
        return exit_codes

    def log_tails(self):
        return '\n'.join('--- pod %s (%s) ---\n%s' % (
            pod.name, 'running' if pod.running else 'exit %s'
            % pod.exit_code, pod.log_tail())
            for pod in self.gone + self._pods)

    def _start_pod(self):
        suffix = ''.join(self._rng.choice(NAME_ALPHABET) for _ in range(5))
        name = '%s-%s-%s' % (self.release.name, self.release.template_hash,
                             suffix)
        pod = Pod(self.release, name=name, root=self._workdir / name)
        pod.start()
        self._pods.append(pod)
        return pod


def _safe_hash(template):
    """A pod-template-hash look-alike: stable, 10 safe characters."""
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode())
    number = int.from_bytes(digest.digest()[:8], 'big')
    characters = []
    for _ in range(10):
        number, index = divmod(number, len(NAME_ALPHABET))
        characters.append(NAME_ALPHABET[index])
    return ''.join(characters)


def _search_path():
    # This virtualenv first: it is the image's /var/lib/openstack/bin.
    return os.pathsep.join([os.path.dirname(sys.executable),
                            os.environ.get('PATH', os.defpath)])
