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

"""Fixtures: a Kubernetes API test server and official-client handles.

``--kube-apiserver=real`` runs the same tests against the real
kube-apiserver (``masakarimonitors_k8s.testing.controlplane``, etcd and
kube-apiserver only) instead: the differential conformance check. Only
the tests that speak to the server through the official client alone
(``api``, ``core``, ``coordination``) apply; those that read or drive the
test server itself are skipped, saying so. ``tox -e e2e-controlplane``
runs this; see doc/source/contributor/kube-apiserver.rst for the
differences found.
"""

import json
import threading
import time

from kubernetes import client
from kubernetes import config
import pytest

from masakarimonitors_k8s import clock as clock_mod
from masakarimonitors_k8s.testing import controlplane
from masakarimonitors_k8s.testing.kube_apiserver import server as server_mod

REAL = 'real'
ADMIN_TOKEN = 'admin-token'
ADMIN_RULES = [{'verbs': ['*'], 'apiGroups': ['*'], 'resources': ['*']}]
LEASE_NS = 'kube-node-lease'
# Fixtures that are the test server itself: no real counterpart.
TEST_SERVER_FIXTURES = {'server', 'manual_server', 'manual_clock',
                        'tls_server', 'tls_process', 'tmp_path'}
# Namespaces the tests write into; a real server wants them to exist.
REAL_NAMESPACES = ('openstack',)


def pytest_addoption(parser):
    parser.addoption(
        '--kube-apiserver', choices=('test-server', REAL),
        default='test-server',
        help='run the API conformance tests against the test server '
             '(default) or the real kube-apiserver built by '
             'tools/controlplane/build.sh')


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'test_server_only(reason): a test server behaviour that '
        'kube-apiserver does not share, skipped with --kube-apiserver=real')


def against_real(config):
    return config.getoption('--kube-apiserver', default=None) == REAL


def pytest_collection_modifyitems(config, items):
    if not against_real(config):
        return
    skip = pytest.mark.skip(reason='reads or drives the test server '
                                   'itself: no real counterpart')
    for item in items:
        if not item.nodeid.startswith('tests/functional/kube_apiserver/'):
            continue
        names = set(getattr(item, 'fixturenames', ()))
        if 'api' not in names or names & TEST_SERVER_FIXTURES:
            item.add_marker(skip)
        only = item.get_closest_marker('test_server_only')
        if only is not None:
            item.add_marker(pytest.mark.skip(
                reason='test server only: %s' % only.kwargs['reason']))


def wait_for(predicate, *, timeout=10.0, what='the condition'):
    """Poll ``predicate`` until true; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail('timed out waiting for %s' % what)
        pause.wait(0.01)


def api_client(server, tmp_path, token=ADMIN_TOKEN, **settings):
    """An official ApiClient configured from the server's kubeconfig."""
    path = tmp_path / ('kubeconfig-%s' % (token or 'anonymous'))
    server.write_kubeconfig(str(path), token=token)
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(path),
                            client_configuration=configuration)
    for name, value in settings.items():
        setattr(configuration, name, value)
    return client.ApiClient(configuration)


def raw_json(response):
    return json.loads(response.data)


def simple_node(name, **labels):
    return {'metadata': {'name': name, 'labels': labels},
            'spec': {}, 'status': {'conditions': [
                {'type': 'Ready', 'status': 'True'}]}}


class StreamReader:
    """Reads a watch in a thread, so the test can act while it streams."""

    def __init__(self, watch_stream):
        self.events = []
        self.error = None
        self.finished = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run,
                                        args=(watch_stream,), daemon=True)
        self._thread.start()

    def _run(self, watch_stream):
        try:
            for event in watch_stream:
                with self._lock:
                    self.events.append(event)
        except Exception as exc:  # the test inspects what ended the stream
            self.error = exc
        finally:
            self.finished.set()

    def snapshot(self):
        with self._lock:
            return list(self.events)

    def types(self):
        return [event['type'] for event in self.snapshot()]

    def join(self, timeout=10.0):
        assert self.finished.wait(timeout), 'the watch did not end'
        self._thread.join(timeout)


@pytest.fixture
def manual_clock():
    return clock_mod.ManualClock(wall=1_800_000_000.0)


@pytest.fixture
def server():
    with server_mod.KubeApiServer(bookmark_interval=60.0) as running:
        running.add_token(ADMIN_TOKEN, user='admin', rules=ADMIN_RULES)
        yield running


@pytest.fixture
def manual_server(manual_clock):
    """A server whose time only moves when the test advances it."""
    with server_mod.KubeApiServer(clock=manual_clock,
                                  bookmark_interval=30.0) as running:
        running.add_token(ADMIN_TOKEN, user='admin', rules=ADMIN_RULES)
        yield running


@pytest.fixture(scope='session')
def real_control_plane(tmp_path_factory):
    plane = controlplane.ControlPlane(
        tmp_path_factory.mktemp('kube-apiserver-real'),
        bin_dir=controlplane.build(), controllers=False)
    with plane:
        for name in REAL_NAMESPACES:
            plane.api('POST', '/api/v1/namespaces', {
                'apiVersion': 'v1', 'kind': 'Namespace',
                'metadata': {'name': name}})
        yield plane


def real_api_client(plane):
    configuration = client.Configuration()
    config.load_kube_config(config_file=plane.endpoints.admin_kubeconfig,
                            client_configuration=configuration)
    return client.ApiClient(configuration)


def _clean_real(plane):
    """What one test wrote, gone before the next test starts."""
    plane.api('DELETE', '/api/v1/nodes')
    for namespace in (LEASE_NS, 'default') + REAL_NAMESPACES:
        plane.api('DELETE', '/apis/coordination.k8s.io/v1/namespaces/%s/'
                  'leases' % namespace)
        plane.api('DELETE', '/api/v1/namespaces/%s/events' % namespace)


@pytest.fixture
def api(request):
    if against_real(request.config):
        plane = request.getfixturevalue('real_control_plane')
        with real_api_client(plane) as handle:
            yield handle
        _clean_real(plane)
        return
    server = request.getfixturevalue('server')
    tmp_path = request.getfixturevalue('tmp_path')
    with api_client(server, tmp_path) as handle:
        yield handle


@pytest.fixture
def core(api):
    return client.CoreV1Api(api)


@pytest.fixture
def coordination(api):
    return client.CoordinationV1Api(api)
