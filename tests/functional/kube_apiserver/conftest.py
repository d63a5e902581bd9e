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

"""Fixtures: a Kubernetes API test server and official-client handles."""

import json
import threading
import time

from kubernetes import client
from kubernetes import config
import pytest

from masakarimonitors_k8s import clock as clock_mod
from masakarimonitors_k8s.testing.kube_apiserver import server as server_mod

ADMIN_TOKEN = 'admin-token'
ADMIN_RULES = [{'verbs': ['*'], 'apiGroups': ['*'], 'resources': ['*']}]
LEASE_NS = 'kube-node-lease'


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


@pytest.fixture
def api(server, tmp_path):
    with api_client(server, tmp_path) as handle:
        yield handle


@pytest.fixture
def core(api):
    return client.CoreV1Api(api)


@pytest.fixture
def coordination(api):
    return client.CoordinationV1Api(api)
