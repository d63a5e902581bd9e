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

"""The status endpoint over real HTTP, and what ``wiring.attach`` starts.

A monitor-shaped fake stands in for the monitor (the scenario with the
real one is test_metrics_and_events.py): these tests are about the HTTP
answers and the attach/stop life cycle, for each setting.
"""

import http.client
import socket

import pytest

from masakarimonitors_k8s import conf as k8s_conf
from masakarimonitors_k8s.observability import status_server
from masakarimonitors_k8s.observability import wiring
from masakarimonitors_k8s import policy
from tests.unit.observability import fakes

pytestmark = pytest.mark.timeout(30)


class FakeKube:
    """The two things attach() takes from the Kubernetes client."""

    def __init__(self):
        self.posted = []
        self.server_clock = self

    def now(self):
        return policy.Instant(wall=0.0, monotonic=0.0)

    def post_json(self, path, body):
        self.posted.append(body)
        return body


@pytest.fixture
def monitor():
    monitor = fakes.FakeMonitor()
    monitor.kube = FakeKube()
    monitor.settings = k8s_conf.Settings()
    return monitor


@pytest.fixture
def attached(monitor):
    handles = []

    def attach(settings=None, **options):
        handle = wiring.attach(monitor, settings, **options)
        handles.append(handle)
        return handle

    yield attach
    for handle in handles:
        handle.stop()


def request(handle, path, *, method='GET', headers=None):
    port = handle.server.port
    connection = http.client.HTTPConnection('127.0.0.1', port, timeout=5)
    try:
        connection.request(method, path, headers=headers or {})
        answer = connection.getresponse()
        return answer.status, answer.getheader('Content-Type'), answer.read()
    finally:
        connection.close()


def test_answers_on_a_free_port(attached, monitor):
    handle = attached(port=0)
    assert handle.url == 'http://127.0.0.1:%d' % handle.server.port
    status, content_type, body = request(handle, '/healthz')
    assert (status, content_type) == (200, 'text/plain; charset=utf-8')
    assert body.startswith(b'ok: running: ')
    monitor.reflectors[0].alive = False
    status, _type, body = request(handle, '/healthz')
    assert (status, body) == (500, b'not ok: not running: watch of nodes\n')
    assert request(handle, '/readyz')[0] == 503
    monitor.reflectors[0].stats.lists = 1
    assert request(handle, '/readyz')[0] == 200


def test_metrics_text_and_openmetrics(attached, monitor):
    monitor.engine.counts[policy.Health.FAILED] = 2
    handle = attached(port=0)
    status, content_type, body = request(handle, '/metrics')
    assert status == 200
    assert content_type.startswith('text/plain; version=')
    assert b'masakari_k8s_nodes{health="failed"} 2.0' in body
    status, content_type, body = request(
        handle, '/metrics',
        headers={'Accept': 'application/openmetrics-text; version=1.0.0'})
    assert content_type.startswith('application/openmetrics-text')
    assert body.rstrip().endswith(b'# EOF')


def test_head_unknown_paths_and_query_strings(attached):
    handle = attached(port=0)
    status, _type, body = request(handle, '/healthz', method='HEAD')
    assert (status, body) == (200, b'')
    assert request(handle, '/healthz?verbose=1')[0] == 200
    status, _type, body = request(handle, '/')
    assert status == 404
    assert b'/healthz' in body


def test_a_failing_probe_is_a_500_not_a_dead_endpoint():
    def broken():
        raise KeyError('nodes')

    server = status_server.StatusServer(
        liveness=broken, readiness=broken,
        metrics=lambda accept: (b'', 'text/plain'), host='127.0.0.1')
    server.start()
    try:
        connection = http.client.HTTPConnection('127.0.0.1', server.port,
                                                timeout=5)
        connection.request('GET', '/readyz')
        answer = connection.getresponse()
        assert answer.status == 500
        assert answer.read() == b"error: KeyError: 'nodes'\n"
        connection.close()
    finally:
        server.stop()
    assert not server.is_alive()


def test_status_port_0_turns_the_endpoint_off(attached, monitor):
    handle = attached()
    assert handle.server is None
    assert handle.url is None
    # Metrics and events still observe.
    assert handle.listener in monitor.listeners


def test_the_configured_port_is_used(attached):
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
    handle = attached(k8s_conf.StatusSettings(port=port,
                                              bind_host='127.0.0.1'))
    assert handle.server.port == port
    assert request(handle, '/healthz')[0] == 200


def test_a_taken_port_leaves_the_monitor_running(attached, monitor):
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        port = taken.getsockname()[1]
        handle = attached(k8s_conf.StatusSettings(port=port,
                                                  bind_host='127.0.0.1'))
    assert handle.server is None
    assert handle.listener in monitor.listeners


def test_stop_detaches_everything(attached, monitor):
    handle = attached(port=0)
    port = handle.server.port
    assert handle.events.is_alive()
    handle.stop()
    assert handle.listener not in monitor.listeners
    assert not handle.events.is_alive()
    with pytest.raises(OSError):
        socket.create_connection(('127.0.0.1', port), timeout=2).close()


def test_node_events_off(attached):
    handle = attached(k8s_conf.StatusSettings(node_events=False), port=0)
    assert handle.events is None
    _status, _type, body = request(handle, '/metrics')
    assert b'masakari_k8s_node_events_total' not in body


def test_events_go_through_the_monitors_client(attached, monitor):
    handle = attached(port=0, instance='pod-7')
    handle.listener.fenced('compute-1', 'powered off')
    assert handle.events.flush(5.0)
    [event] = monitor.kube.posted
    assert (event['reason'], event['reportingInstance']) == ('HostFenced',
                                                             'pod-7')
