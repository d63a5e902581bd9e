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

"""Injected faults as the official client sees them."""

import json

from kubernetes import client
from kubernetes import watch
import pytest
import urllib3

from tests.functional.kube_apiserver import conftest

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def no_retry_core(server, tmp_path):
    """A client that reports the first failure instead of retrying."""
    with conftest.api_client(server, tmp_path, retries=0) as api:
        yield client.CoreV1Api(api)


def open_watch(server, core, **kwargs):
    reader = conftest.StreamReader(watch.Watch().stream(
        core.list_node, resource_version=server.store.resource_version,
        timeout_seconds=3600, deserialize=False, **kwargs))
    conftest.wait_for(lambda: server.open_watch_count() == 1,
                      what='the watch to open')
    return reader


def test_drop_cuts_watch_connections(server, core):
    reader = open_watch(server, core)
    server.store.create('nodes', conftest.simple_node('n1'))
    conftest.wait_for(lambda: reader.types() == ['ADDED'],
                      what='the first event')
    server.faults.drop_watches()
    reader.join()
    assert isinstance(reader.error, urllib3.exceptions.ProtocolError)
    assert server.open_watch_count() == 0
    assert server.store.watcher_count() == 0
    # The server itself is fine.
    core.list_node(_preload_content=False)


def test_clean_drop_ends_watch_streams(server, core):
    reader = open_watch(server, core)
    server.faults.drop_watches(clean=True)
    reader.join()
    assert reader.error is None and reader.types() == []


def test_black_hole_times_clients_out_until_lifted(server, no_retry_core):
    server.faults.black_hole()
    with pytest.raises(urllib3.exceptions.HTTPError) as caught:
        no_retry_core.list_node(_preload_content=False,
                                _request_timeout=(5, 0.3))
    assert 'timed out' in str(caught.value)
    server.faults.lift_black_hole()
    body = conftest.raw_json(no_retry_core.list_node(
        _preload_content=False, _request_timeout=(5, 5)))
    assert body['kind'] == 'NodeList'


def test_black_hole_stalls_open_watches(server, core):
    reader = open_watch(server, core)
    server.faults.black_hole()
    server.store.create('nodes', conftest.simple_node('n1'))
    assert not reader.finished.wait(0.3)
    assert reader.types() == []
    server.faults.lift_black_hole()
    conftest.wait_for(lambda: reader.types() == ['ADDED'],
                      what='the held event')
    server.faults.drop_watches(clean=True)
    reader.join()


def test_injected_429_with_retry_after(server, no_retry_core):
    server.faults.fail_next(2, 429, retry_after=7)
    for _ in range(2):
        with pytest.raises(client.ApiException) as caught:
            no_retry_core.list_node(_preload_content=False)
        assert caught.value.status == 429
        assert caught.value.headers['Retry-After'] == '7'
        status = json.loads(caught.value.body)
        assert status['reason'] == 'TooManyRequests'
        assert status['details'] == {'retryAfterSeconds': 7}
    no_retry_core.list_node(_preload_content=False)
    assert [record.status for record in server.request_log] == [429, 429,
                                                                200]


def test_default_client_honours_retry_after_on_reads(server, core):
    # urllib3's default Retry re-sends a GET answered 429/503 with
    # Retry-After, after waiting that long: the caller never sees it.
    server.faults.fail_next(1, 503, retry_after=1)
    core.list_node(_preload_content=False)
    assert [(record.verb, record.status)
            for record in server.request_log] == [('list', 503),
                                                  ('list', 200)]


def test_injected_errors_filtered_by_verb_and_path(server, no_retry_core,
                                                   tmp_path):
    server.faults.fail_next(1, 503, verb='watch')
    server.faults.fail_next(1, 500,
                            path_prefix='/apis/coordination.k8s.io/')
    no_retry_core.list_node(_preload_content=False)
    with pytest.raises(client.ApiException) as caught:
        no_retry_core.list_node(watch=True, _preload_content=False)
    assert caught.value.status == 503
    with conftest.api_client(server, tmp_path, retries=0) as api:
        coordination = client.CoordinationV1Api(api)
        with pytest.raises(client.ApiException) as caught:
            coordination.list_namespaced_lease('ns')
        assert caught.value.status == 500
        assert json.loads(caught.value.body)['reason'] == 'InternalError'
        assert server.faults.pending_failures() == 0
        coordination.list_namespaced_lease('ns')


def test_latency_delays_answers(server, no_retry_core):
    server.faults.set_latency(1.0)
    with pytest.raises(urllib3.exceptions.HTTPError):
        no_retry_core.list_node(_preload_content=False,
                                _request_timeout=(5, 0.2))
    server.faults.set_latency(0)
    no_retry_core.list_node(_preload_content=False,
                            _request_timeout=(5, 5))


def test_request_log_counts_verbs_and_bytes(server, core):
    for index in range(3):
        server.store.create('nodes', conftest.simple_node('n%d' % index))
    server.clear_request_log()
    response = core.list_node(_preload_content=False)
    core.read_node('n1', _preload_content=False)
    with pytest.raises(client.ApiException):
        core.read_node('missing', _preload_content=False)
    log = server.request_log
    assert [(r.verb, r.path, r.status) for r in log] == [
        ('list', '/api/v1/nodes', 200),
        ('get', '/api/v1/nodes/n1', 200),
        ('get', '/api/v1/nodes/missing', 404)]
    assert log[0].bytes_sent == len(response.data)
