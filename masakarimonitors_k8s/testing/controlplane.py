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

"""A real Kubernetes control plane on loopback, with kwok as the kubelets.

Where the e2e suite's ``controlplane`` backend and the differential
conformance tests get their cluster: the same kube-apiserver, etcd,
kube-controller-manager and kube-scheduler a kind cluster runs, built from
pinned Go modules by ``tools/controlplane/build.sh``, and kwok playing the
kubelet of every Node created through :meth:`ControlPlane.add_node`.

* etcd keeps its data on tmpfs (``/dev/shm`` when there is one) without
  fsync: nothing here must survive the process.
* kube-apiserver listens on 127.0.0.1 only, with a PKI of its own made
  here (one CA; serving, admin and component client certificates),
  ``--authorization-mode=Node,RBAC``, a ServiceAccount issuer and signing
  key (TokenRequest works), PodSecurity admission on.
* kube-controller-manager runs the real node lifecycle controller with a
  short ``--node-monitor-grace-period`` (:data:`GRACE_PERIOD`).
* kwok manages the Nodes carrying :data:`KUBELET_LABEL` and renews their
  Leases every :data:`LEASE_DURATION` / 4 seconds. :meth:`ControlPlane.
  stop_kubelet` removes the label: the Lease goes stale and the real
  controller marks the Node ``Ready=Unknown`` and taints it, as it would
  a powered-off host. :meth:`ControlPlane.start_kubelet` puts it back.

Every process gets a free loopback port and is stopped by its PID; logs
go to ``<workdir>/logs``. Run it by hand with ``python -m
masakarimonitors_k8s.testing.controlplane`` (see ``--help``).
"""

import argparse
import dataclasses
import datetime
import ipaddress
import json
import logging
import os
import pathlib
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.oid import NameOID
import yaml

from masakarimonitors_k8s.clock import SystemClock
from masakarimonitors_k8s.testing import processes

LOG = logging.getLogger(__name__)

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO_ROOT / 'tools' / 'controlplane' / 'build.sh'
# A directory of prebuilt binaries wins over the build script.
BIN_DIR_VARIABLE = 'MASAKARI_K8S_CONTROLPLANE_BIN'
BINARIES = ('etcd', 'kube-apiserver', 'kube-controller-manager',
            'kube-scheduler', 'kwok', 'kwok-stages', 'kubectl')

#: kwok manages (renews the Lease of) exactly the Nodes with this label.
KUBELET_LABEL = ('kwok.masakari-e2e/kubelet', 'running')
#: The Node Lease duration kwok writes; it renews every quarter of it.
LEASE_DURATION = 20
#: --node-monitor-grace-period: >= 4 renewals, as Kubernetes advises.
GRACE_PERIOD = 20
#: --node-monitor-period: how often the node lifecycle controller looks.
MONITOR_PERIOD = 2
SERVICE_CIDR = '10.96.0.0/16'
SERVICE_IP = '10.96.0.1'
ISSUER = 'https://kubernetes.default.svc.cluster.local'
ZONE = 'nova'
REGION = 'RegionOne'
LOOPBACK = '127.0.0.1'
# A cold kube-apiserver installs its bootstrap RBAC and priority levels
# before /readyz says ok; on a loaded 2-core machine that takes a while.
START_TIMEOUT = 180
STOP_TIMEOUT = 20
_LOG_TAIL_LINES = 40


class ControlPlaneError(Exception):
    """The control plane cannot be built, started or used."""


# -- binaries ---------------------------------------------------------------

def build(*, output=None):
    """Build (or find cached) binaries; return their directory.

    ``$MASAKARI_K8S_CONTROLPLANE_BIN`` names a directory of binaries to
    use instead. Progress of a build goes to ``output`` (a file object,
    default stderr).
    """
    prebuilt = os.environ.get(BIN_DIR_VARIABLE)
    if prebuilt:
        directory = pathlib.Path(prebuilt)
    else:
        if not BUILD_SCRIPT.exists():
            raise ControlPlaneError(
                '%s is not there (not a source checkout); set %s to a '
                'directory with %s' % (BUILD_SCRIPT, BIN_DIR_VARIABLE,
                                       ', '.join(BINARIES)))
        done = subprocess.run(['bash', str(BUILD_SCRIPT)],
                              stdout=subprocess.PIPE,
                              stderr=output or sys.stderr, text=True,
                              check=False)
        if done.returncode != 0:
            raise ControlPlaneError('%s exited %d (its output says why)'
                                    % (BUILD_SCRIPT, done.returncode))
        directory = pathlib.Path(done.stdout.strip().splitlines()[-1])
    missing = [name for name in BINARIES
               if not os.access(directory / name, os.X_OK)]
    if missing:
        raise ControlPlaneError('%s lacks %s' % (directory,
                                                 ', '.join(missing)))
    return directory


def versions(bin_dir):
    """{KUBERNETES_VERSION: ..., ETCD_VERSION: ..., ...} of a build."""
    path = pathlib.Path(bin_dir) / 'versions.env'
    if not path.exists():
        return {}
    return dict(line.split('=', 1) for line in
                path.read_text().split() if '=' in line)


# -- PKI --------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Credentials:
    """A client certificate and key (PEM files)."""

    cert_file: str
    key_file: str


class Pki:
    """One CA; the API server's serving certificate; client certificates.

    Certificates are valid from a day back to a year ahead of the real
    time (the binaries check them against it). EC P-256 keys: quick to
    make, accepted everywhere here.
    """

    def __init__(self, directory):
        self.directory = pathlib.Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._ca_key = ec.generate_private_key(ec.SECP256R1())
        self._ca_name = _x509_name('masakari-e2e-ca')
        self._ca_cert = self._sign(
            self._ca_key.public_key(), self._ca_name, ca=True)
        self.ca_file = self._write('ca.crt', self._ca_cert.public_bytes(
            serialization.Encoding.PEM))
        self.sa_key_file, self.sa_public_file = self._service_account_key()

    def server(self, name, *, hosts):
        """A serving certificate for ``hosts`` (IPs or DNS names)."""
        key = ec.generate_private_key(ec.SECP256R1())
        names = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        cert = self._sign(key.public_key(), _x509_name(name),
                          usage=ExtendedKeyUsageOID.SERVER_AUTH,
                          alternative_names=names)
        return self._pair(name, cert, key)

    def client(self, user, *, groups=()):
        """A client certificate: CN is the user, O the groups."""
        key = ec.generate_private_key(ec.SECP256R1())
        attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, group)
                      for group in groups]
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, user))
        cert = self._sign(key.public_key(), x509.Name(attributes),
                          usage=ExtendedKeyUsageOID.CLIENT_AUTH)
        return self._pair(user.replace(':', '-'), cert, key)

    def _service_account_key(self):
        key = ec.generate_private_key(ec.SECP256R1())
        public = key.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo)
        return (self._write('sa.key', _pem_key(key)),
                self._write('sa.pub', public))

    def _pair(self, name, cert, key):
        return Credentials(
            self._write(name + '.crt',
                        cert.public_bytes(serialization.Encoding.PEM)),
            self._write(name + '.key', _pem_key(key)))

    def _sign(self, public_key, subject, *, ca=False, usage=None,
              alternative_names=()):
        now = datetime.datetime.now(datetime.timezone.utc)
        builder = (x509.CertificateBuilder()
                   .subject_name(subject)
                   .issuer_name(self._ca_name if not ca else subject)
                   .public_key(public_key)
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=365))
                   .add_extension(x509.BasicConstraints(ca=ca,
                                                        path_length=None),
                                  critical=True))
        if ca:
            builder = builder.add_extension(x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False,
                encipher_only=False, decipher_only=False), critical=True)
        else:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([usage]), critical=False)
        if alternative_names:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(list(alternative_names)),
                critical=False)
        return builder.sign(self._ca_key, hashes.SHA256())

    def _write(self, name, data):
        path = self.directory / name
        path.write_bytes(data)
        os.chmod(path, 0o600)
        return str(path)


def _x509_name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


# -- processes --------------------------------------------------------------

class Component:
    """One control-plane binary run as a process with its own log."""

    def __init__(self, name, argv, *, log_dir):
        self.name = name
        self.argv = [str(arg) for arg in argv]
        self.log_path = pathlib.Path(log_dir) / (name + '.log')
        self.process = None

    def start(self):
        with open(self.log_path, 'ab') as log:
            log.write(('+ %s\n' % ' '.join(self.argv)).encode())
            log.flush()
            self.process = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self):
        return self.process.pid if self.process else None

    @property
    def running(self):
        return self.process is not None and self.process.poll() is None

    def stop(self):
        """SIGTERM to our PID, SIGKILL after STOP_TIMEOUT; the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def log_tail(self, lines=_LOG_TAIL_LINES):
        return processes.file_tail(self.log_path, lines)


@dataclasses.dataclass
class Endpoints:
    """Where the control plane answers, and how to authenticate there."""

    api_url: str
    ca_file: str
    admin: Credentials
    admin_kubeconfig: str


class ControlPlane:
    """etcd, kube-apiserver, controller-manager, scheduler and kwok.

    :param workdir: PKI, kubeconfigs, configs and ``logs/`` go here.
    :param bin_dir: the binaries (:func:`build`).
    :param grace_period: ``--node-monitor-grace-period`` in seconds.
    :param lease_duration: kwok's Node Lease duration in seconds.
    :param controllers: False runs etcd and kube-apiserver only (API
        conformance checks need no controllers, and no kwok).
    """

    def __init__(self, workdir, *, bin_dir, grace_period=GRACE_PERIOD,
                 monitor_period=MONITOR_PERIOD,
                 lease_duration=LEASE_DURATION, controllers=True,
                 clock=None):
        if grace_period < 4 * (lease_duration / 4.0):
            raise ValueError('grace_period %s s is shorter than 4 Lease '
                             'renewals (%s s each)' % (
                                 grace_period, lease_duration / 4.0))
        self.workdir = pathlib.Path(workdir)
        self.bin_dir = pathlib.Path(bin_dir)
        self.grace_period = grace_period
        self.monitor_period = monitor_period
        self.lease_duration = lease_duration
        self.controllers = controllers
        self.clock = clock or SystemClock()
        self.log_dir = self.workdir / 'logs'
        self.versions = versions(self.bin_dir)
        self.components = []
        self.endpoints = None
        self.start_seconds = None
        self._etcd_dir = None
        self._etcd_url = None
        self._api_url = None
        self._pki = None

    # -- lifecycle ------------------------------------------------------

    def start(self):
        """Start every component; return once the cluster is usable.

        Usable: /readyz ok, the default ServiceAccount and the scheduler
        and controller-manager healthy.
        """
        started = self.clock.monotonic()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._start_etcd()
            self._start_apiserver()
            if self.controllers:
                self._start_controller_manager()
                self._start_scheduler()
                self._start_kwok()
                self._wait(self._default_service_account,
                           what='the default ServiceAccount (the '
                                'controller-manager works)')
        except BaseException:
            self.stop()
            raise
        self.start_seconds = self.clock.monotonic() - started
        LOG.info('control plane up in %.1f s: %s', self.start_seconds,
                 self.endpoints.api_url)
        return self.endpoints

    def stop(self):
        """Stop every component by its PID, newest first; remove etcd data.

        Returns {name: exit code}.
        """
        codes = {}
        for component in reversed(self.components):
            codes[component.name] = component.stop()
        self.components = []
        if self._etcd_dir is not None:
            shutil.rmtree(self._etcd_dir, ignore_errors=True)
            self._etcd_dir = None
        return codes

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def check(self):
        """Raise ControlPlaneError if a component exited."""
        for component in self.components:
            if not component.running:
                raise ControlPlaneError('%s exited with %s; log tail:\n%s'
                                        % (component.name,
                                           component.process.returncode,
                                           component.log_tail()))

    def log_tails(self, lines=_LOG_TAIL_LINES):
        return '\n'.join(
            '--- %s ---\n%s' % (component.name, component.log_tail(lines))
            for component in self.components)

    # -- API access -----------------------------------------------------

    def api(self, method, path, body=None, *, content_type=None,
            expect=(200, 201)):
        """One request as the admin; the decoded JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.endpoints.api_url + path, data=data, method=method,
            headers={'Content-Type': content_type or 'application/json',
                     'Accept': 'application/json'})
        try:
            with urllib.request.urlopen(request, context=self._ssl(),
                                        timeout=30) as answer:
                status, text = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read()
        if status not in expect:
            raise ControlPlaneError('%s %s: %d %s' % (
                method, path, status, text[:2000].decode(errors='replace')))
        return json.loads(text) if text else None

    def kubectl(self, *argv, check=True, timeout=120):
        done = subprocess.run(
            [str(self.bin_dir / 'kubectl'),
             '--kubeconfig', self.endpoints.admin_kubeconfig, *argv],
            capture_output=True, text=True, check=False, timeout=timeout)
        if check and done.returncode != 0:
            raise ControlPlaneError('kubectl %s exited %d:\n%s' % (
                ' '.join(argv), done.returncode, done.stderr[-4000:]))
        return done

    def server_version(self):
        return self.api('GET', '/version')['gitVersion']

    def token(self, namespace, service_account, *, seconds=3600,
              audiences=None):
        """A token issued by TokenRequest for a ServiceAccount."""
        spec = {'expirationSeconds': seconds}
        if audiences:
            spec['audiences'] = list(audiences)
        answer = self.api(
            'POST', '/api/v1/namespaces/%s/serviceaccounts/%s/token'
            % (namespace, service_account),
            {'apiVersion': 'authentication.k8s.io/v1',
             'kind': 'TokenRequest', 'spec': spec})
        return answer['status']['token']

    # -- nodes ----------------------------------------------------------

    def add_node(self, name, *, labels=None, taints=(), zone=ZONE,
                 compute=True):
        """Create a Node that kwok then keeps Ready, as a kubelet would.

        Labels as a kubelet and OpenStack-Helm's node labelling give an
        OpenStack host (hostname, OS, arch, zone, region and, when
        ``compute``, openstack-compute-node=enabled) plus ``labels``.
        """
        key, value = KUBELET_LABEL
        node_labels = {
            'kubernetes.io/hostname': name,
            'kubernetes.io/os': 'linux',
            'kubernetes.io/arch': 'amd64',
            'topology.kubernetes.io/zone': zone,
            'topology.kubernetes.io/region': REGION,
            'openstack-compute-node': 'enabled',
            'type': 'kwok',
            key: value,
        }
        if not compute:
            del node_labels['openstack-compute-node']
        node_labels.update(labels or {})
        kube_version = self.versions.get('KUBERNETES_VERSION', 'v1.35.0')
        body = {
            'apiVersion': 'v1', 'kind': 'Node',
            'metadata': {'name': name, 'labels': node_labels,
                         'annotations': {'node.alpha.kubernetes.io/ttl':
                                         '0',
                                         'kwok.x-k8s.io/node': 'fake'}},
            'spec': {'taints': list(taints)},
            'status': {
                'allocatable': {'cpu': '32', 'memory': '256Gi',
                                'pods': '110'},
                'capacity': {'cpu': '32', 'memory': '256Gi',
                             'pods': '110'},
                'nodeInfo': {'architecture': 'amd64',
                             'operatingSystem': 'linux',
                             'kubeletVersion': kube_version,
                             'kubeProxyVersion': kube_version,
                             'osImage': 'Ubuntu 24.04 LTS (kwok)',
                             'containerRuntimeVersion': 'kwok',
                             'kernelVersion': '6.8.0',
                             'bootID': '', 'machineID': '',
                             'systemUUID': ''},
            },
        }
        return self.api('POST', '/api/v1/nodes', body)

    def delete_node(self, name):
        self.api('DELETE', '/api/v1/nodes/%s' % name, expect=(200, 404))

    def node(self, name):
        return self.api('GET', '/api/v1/nodes/%s' % name)

    def node_ready(self, name):
        """'True', 'False', 'Unknown' or None (no Ready condition yet)."""
        for condition in (self.node(name).get('status') or {}).get(
                'conditions') or ():
            if condition['type'] == 'Ready':
                return condition['status']
        return None

    def stop_kubelet(self, name):
        """The host goes silent: kwok stops renewing the Node's Lease."""
        self._label_node(name, KUBELET_LABEL[0], None)

    def start_kubelet(self, name):
        """The host is back: kwok renews its Lease and sets it Ready."""
        self._label_node(name, KUBELET_LABEL[0], KUBELET_LABEL[1])

    def _label_node(self, name, key, value):
        self.api('PATCH', '/api/v1/nodes/%s' % name,
                 {'metadata': {'labels': {key: value}}},
                 content_type='application/merge-patch+json')

    # -- internals ------------------------------------------------------

    def _ssl(self):
        context = ssl.create_default_context(cafile=self.endpoints.ca_file)
        context.load_cert_chain(self.endpoints.admin.cert_file,
                                self.endpoints.admin.key_file)
        return context

    def _wait(self, predicate, *, what, timeout=START_TIMEOUT):
        deadline = self.clock.monotonic() + timeout
        while True:
            self.check()
            try:
                if predicate():
                    return
            except (OSError, ControlPlaneError) as error:
                last = error
            else:
                last = None
            if self.clock.monotonic() > deadline:
                raise ControlPlaneError(
                    'timed out after %d s waiting for %s (last error: %s)\n'
                    '%s' % (timeout, what, last, self.log_tails()))
            threading.Event().wait(0.2)

    def _run(self, name, *argv):
        component = Component(name, [self.bin_dir / argv[0], *argv[1:]],
                              log_dir=self.log_dir)
        component.start()
        self.components.append(component)
        return component

    def _start_etcd(self):
        tmpfs = '/dev/shm' if os.path.isdir('/dev/shm') else None
        self._etcd_dir = tempfile.mkdtemp(prefix='masakari-e2e-etcd-',
                                          dir=tmpfs)
        client = processes.free_loopback_port()
        peer = processes.free_loopback_port()
        self._etcd_url = 'http://%s:%d' % (LOOPBACK, client)
        peer_url = 'http://%s:%d' % (LOOPBACK, peer)
        self._run('etcd', 'etcd',
                  '--name', 'default',
                  '--data-dir', self._etcd_dir,
                  '--listen-client-urls', self._etcd_url,
                  '--advertise-client-urls', self._etcd_url,
                  '--listen-peer-urls', peer_url,
                  '--initial-advertise-peer-urls', peer_url,
                  '--initial-cluster', 'default=' + peer_url,
                  '--unsafe-no-fsync',
                  '--log-level', 'warn')
        self._wait(lambda: _http_ok(self._etcd_url + '/health'),
                   what='etcd /health')

    def _start_apiserver(self):
        pki = self._pki = Pki(self.workdir / 'pki')
        serving = pki.server('kube-apiserver', hosts=(
            LOOPBACK, 'localhost', SERVICE_IP, 'kubernetes',
            'kubernetes.default', 'kubernetes.default.svc',
            'kubernetes.default.svc.cluster.local'))
        admin = pki.client('kubernetes-admin', groups=('system:masters',))
        port = processes.free_loopback_port()
        api_url = self._api_url = 'https://%s:%d' % (LOOPBACK, port)
        self.endpoints = Endpoints(
            api_url=api_url, ca_file=pki.ca_file, admin=admin,
            admin_kubeconfig=self._kubeconfig('admin', admin))
        self._run('kube-apiserver', 'kube-apiserver',
                  '--etcd-servers', self._etcd_url,
                  '--bind-address', LOOPBACK,
                  '--advertise-address', LOOPBACK,
                  '--secure-port', port,
                  '--tls-cert-file', serving.cert_file,
                  '--tls-private-key-file', serving.key_file,
                  '--client-ca-file', pki.ca_file,
                  '--authorization-mode', 'Node,RBAC',
                  '--enable-admission-plugins', 'NodeRestriction',
                  '--service-account-issuer', ISSUER,
                  '--service-account-key-file', pki.sa_public_file,
                  '--service-account-signing-key-file', pki.sa_key_file,
                  '--service-cluster-ip-range', SERVICE_CIDR,
                  '--endpoint-reconciler-type', 'none',
                  '--allow-privileged=false',
                  '--profiling=false',
                  '--v', '1')
        self._wait(lambda: self._get_text('/readyz') == 'ok',
                   what='kube-apiserver /readyz')

    def _component_kubeconfig(self, user):
        return self._kubeconfig(user.split(':')[-1],
                                self._pki.client(user))

    def _start_controller_manager(self):
        kubeconfig = self._component_kubeconfig(
            'system:kube-controller-manager')
        port = processes.free_loopback_port()
        self._run('kube-controller-manager', 'kube-controller-manager',
                  '--kubeconfig', kubeconfig,
                  '--authentication-kubeconfig', kubeconfig,
                  '--authorization-kubeconfig', kubeconfig,
                  '--bind-address', LOOPBACK, '--secure-port', port,
                  '--leader-elect=false',
                  # Each controller with its own ServiceAccount and the
                  # bootstrap role of that name, as kubeadm runs them;
                  # the component's own user may do little.
                  '--use-service-account-credentials=true',
                  '--service-account-private-key-file',
                  self._pki.sa_key_file,
                  '--root-ca-file', self._pki.ca_file,
                  '--node-monitor-grace-period', '%ds' % self.grace_period,
                  '--node-monitor-period', '%ds' % self.monitor_period,
                  '--v', '1')
        self._wait(lambda: _http_ok('https://%s:%d/healthz'
                                    % (LOOPBACK, port)),
                   what='kube-controller-manager /healthz')

    def _start_scheduler(self):
        kubeconfig = self._component_kubeconfig('system:kube-scheduler')
        port = processes.free_loopback_port()
        self._run('kube-scheduler', 'kube-scheduler',
                  '--kubeconfig', kubeconfig,
                  '--authentication-kubeconfig', kubeconfig,
                  '--authorization-kubeconfig', kubeconfig,
                  '--bind-address', LOOPBACK, '--secure-port', port,
                  '--leader-elect=false', '--v', '1')
        self._wait(lambda: _http_ok('https://%s:%d/healthz'
                                    % (LOOPBACK, port)),
                   what='kube-scheduler /healthz')

    def _start_kwok(self):
        stages = subprocess.run([str(self.bin_dir / 'kwok-stages')],
                                capture_output=True, text=True, check=True)
        config = self.workdir / 'kwok-stages.yaml'
        config.write_text(stages.stdout)
        # kwok plays many kubelets; the admin identity (system:masters)
        # covers every Node, Lease and Pod it writes, which no single
        # system:node:<name> could.
        self._run('kwok', 'kwok',
                  '--kubeconfig', self.endpoints.admin_kubeconfig,
                  '--config', config,
                  '--manage-all-nodes=false',
                  '--manage-nodes-with-label-selector',
                  '%s=%s' % KUBELET_LABEL,
                  '--node-lease-duration-seconds', self.lease_duration,
                  '--server-address', '%s:%d' % (
                      LOOPBACK, processes.free_loopback_port()))

    def _kubeconfig(self, name, credentials):
        config = {
            'apiVersion': 'v1', 'kind': 'Config',
            'clusters': [{'name': 'masakari-e2e', 'cluster': {
                'server': self._api_url,
                'certificate-authority': self._pki.ca_file}}],
            'users': [{'name': name, 'user': {
                'client-certificate': credentials.cert_file,
                'client-key': credentials.key_file}}],
            'contexts': [{'name': name, 'context': {
                'cluster': 'masakari-e2e', 'user': name}}],
            'current-context': name,
        }
        path = self.workdir / ('%s.kubeconfig' % name)
        path.write_text(yaml.safe_dump(config))
        os.chmod(path, 0o600)
        return str(path)

    def _get_text(self, path):
        request = urllib.request.Request(self.endpoints.api_url + path)
        try:
            with urllib.request.urlopen(request, context=self._ssl(),
                                        timeout=5) as answer:
                return answer.read().decode()
        except urllib.error.HTTPError:
            return None

    def _default_service_account(self):
        self.api('GET', '/api/v1/namespaces/default/serviceaccounts/'
                 'default')
        return True


def _http_ok(url):
    context = None
    if url.startswith('https:'):
        # Only a liveness probe of a component's own self-signed port.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(url, context=context,
                                    timeout=5) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


# -- command line -----------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='python -m masakarimonitors_k8s.testing.controlplane',
        description='Build (if needed) and run a real Kubernetes control '
                    'plane on loopback: etcd, kube-apiserver, '
                    'kube-controller-manager, kube-scheduler and kwok. '
                    'Prints the admin kubeconfig path and waits for '
                    'Ctrl-C.')
    parser.add_argument('--workdir', help='PKI, kubeconfigs and logs '
                        '(default: a new temporary directory)')
    parser.add_argument('--nodes', type=int, default=3,
                        help='kwok worker nodes to create (default: 3)')
    parser.add_argument('--build-only', action='store_true',
                        help='build the binaries, print their directory')
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO,
                        format='%(asctime)s %(message)s')
    bin_dir = build()
    if args.build_only:
        print(bin_dir)
        return 0
    workdir = args.workdir or tempfile.mkdtemp(prefix='masakari-e2e-cp-')
    plane = ControlPlane(workdir, bin_dir=bin_dir)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with plane:
        for number in range(1, args.nodes + 1):
            plane.add_node('worker-%d' % number)
        print('kube-apiserver %s at %s, up in %.1f s' % (
            plane.server_version(), plane.endpoints.api_url,
            plane.start_seconds))
        print('export KUBECONFIG=%s' % plane.endpoints.admin_kubeconfig)
        print('kubectl: %s' % (plane.bin_dir / 'kubectl'))
        print('logs: %s' % plane.log_dir)
        sys.stdout.flush()
        try:
            while not stopped.wait(1):
                plane.check()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
