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

"""LIST and WATCH over HTTP with the official kubernetes client."""

import http.client
import json
import socket

from kubernetes import client
from kubernetes import watch
import pytest

from masakarimonitors_k8s.testing.kube_apiserver import server as server_mod
from masakarimonitors_k8s.testing import nodes as nodes_mod
from tests.functional.kube_apiserver import conftest

pytestmark = pytest.mark.timeout(60)


def list_pages(core, token=None, **kwargs):
    pages = []
    while True:
        body = conftest.raw_json(core.list_node(
            _continue=token, _preload_content=False, **kwargs))
        pages.append(body)
        token = body['metadata'].get('continue')
        if not token:
            return pages


def test_paging_1200_realistic_nodes(server, core):
    names = ['compute-%04d' % index for index in range(1200)]
    for name in reversed(names):
        server.store.create('nodes', nodes_mod.make_node(
            name, now=server.clock.wall()))
    first = conftest.raw_json(core.list_node(limit=500,
                                             _preload_content=False))
    # Writes between pages: the pages still show the first page's view.
    server.store.create('nodes', nodes_mod.make_node(
        'compute-9999', now=server.clock.wall()))
    server.store.delete('nodes', 'compute-1100')
    pages = [first] + list_pages(core, first['metadata']['continue'],
                                 limit=500)
    assert [len(page['items']) for page in pages] == [500, 500, 200]
    assert [page['metadata'].get('remainingItemCount') for page in pages] \
        == [700, 200, None]
    assert all(page['metadata'].get('continue') for page in pages[:2])
    assert 'continue' not in pages[2]['metadata']
    assert {page['metadata']['resourceVersion'] for page in pages} == {
        '1200'}
    listed = [item['metadata']['name'] for page in pages
              for item in page['items']]
    assert listed == names
    assert pages[0]['kind'] == 'NodeList' and pages[0]['apiVersion'] == 'v1'
    assert 'kind' not in pages[0]['items'][0]
    # A fresh list sees the writes.
    fresh = [item['metadata']['name'] for page in list_pages(core, limit=500)
             for item in page['items']]
    assert len(fresh) == 1200 and 'compute-9999' in fresh
    assert 'compute-1100' not in fresh


def test_list_with_selectors(server, core):
    for index in range(6):
        server.store.create('nodes', conftest.simple_node(
            'n%d' % index, role='compute' if index < 4 else 'control'))
    body = conftest.raw_json(core.list_node(
        label_selector='role in (compute),role!=control', limit=3,
        _preload_content=False))
    assert [i['metadata']['name'] for i in body['items']] == ['n0', 'n1',
                                                              'n2']
    assert 'remainingItemCount' not in body['metadata']
    body = conftest.raw_json(core.list_node(
        field_selector='metadata.name=n5', _preload_content=False))
    assert [i['metadata']['name'] for i in body['items']] == ['n5']


def test_bad_selector_is_400(core):
    with pytest.raises(client.ApiException) as caught:
        core.list_node(label_selector='role in compute',
                       _preload_content=False)
    assert caught.value.status == 400
    status = json.loads(caught.value.body)
    assert status['reason'] == 'BadRequest'
    assert "expected: '('" in status['message']


def test_expired_continue_is_410_with_inconsistent_token(server, core):
    for index in range(4):
        server.store.create('nodes', conftest.simple_node('n%d' % index))
    first = conftest.raw_json(core.list_node(limit=2,
                                             _preload_content=False))
    server.store.create('nodes', conftest.simple_node('n21'))
    server.faults.expire_history()
    with pytest.raises(client.ApiException) as caught:
        core.list_node(limit=2, _continue=first['metadata']['continue'],
                       _preload_content=False)
    assert caught.value.status == 410
    status = json.loads(caught.value.body)
    assert status['reason'] == 'Expired'
    rest = conftest.raw_json(core.list_node(
        _continue=status['metadata']['continue'], _preload_content=False))
    assert [i['metadata']['name'] for i in rest['items']] == ['n2', 'n21',
                                                              'n3']


def watch_events(core, **kwargs):
    """All events of one watch that ends by itself (timeout_seconds)."""
    stream = watch.Watch().stream(core.list_node, deserialize=False,
                                  **kwargs)
    return [(event['type'], event['object']['metadata'].get('name'),
             event['object']['metadata']['resourceVersion'])
            for event in stream]


def test_watch_resume_misses_nothing_and_repeats_nothing(server, core):
    truth = []
    server.store.subscribe(lambda kind, resource, obj: truth.append(
        (kind, obj['metadata']['name'], obj['metadata']['resourceVersion']))
        if resource == 'nodes' else None)
    store = server.store
    for index in range(3):
        store.create('nodes', conftest.simple_node('n%d' % index))
    list_rv = conftest.raw_json(core.list_node(
        _preload_content=False))['metadata']['resourceVersion']
    store.create('leases', {'metadata': {'name': 'l'}}, 'ns')
    store.patch('nodes', 'n1', {'spec': {'unschedulable': True}})
    store.delete('nodes', 'n0')
    first = watch_events(core, resource_version=list_rv, timeout_seconds=1)
    # Changes made while nobody watches.
    store.create('nodes', conftest.simple_node('n3'))
    store.patch('nodes', 'n2', {'metadata': {'labels': {'x': 'y'}}})
    second = watch_events(core, resource_version=first[-1][2],
                          timeout_seconds=1)
    assert first + second == truth[3:]
    assert [kind for kind, _, _ in first + second] == [
        'MODIFIED', 'DELETED', 'ADDED', 'MODIFIED']


def test_watch_without_version_starts_with_added(server, core):
    for name in ('b', 'a'):
        server.store.create('nodes', conftest.simple_node(name))
    events = watch_events(core, timeout_seconds=1)
    assert events == [('ADDED', 'a', '2'), ('ADDED', 'b', '1')]


def test_watch_after_compaction_gets_410_then_relist_works(server, core,
                                                           api):
    server.store.create('nodes', conftest.simple_node('n1'))
    old_rv = server.store.resource_version
    server.store.create('nodes', conftest.simple_node('n2'))
    server.faults.expire_history()
    response = core.list_node(watch=True, resource_version=old_rv,
                              _preload_content=False)
    lines = response.data.decode().splitlines()
    assert len(lines) == 1
    event = json.loads(lines[0])
    assert event['type'] == 'ERROR'
    assert event['object']['code'] == 410
    assert event['object']['reason'] == 'Expired'
    assert event['object']['message'].startswith('too old resource version')
    # The official Watch surfaces it as ApiException 410 (only when it
    # deserializes: with deserialize=False client 37.0.2 raises KeyError).
    with pytest.raises(client.ApiException) as caught:
        list(watch.Watch().stream(core.list_node, resource_version=old_rv,
                                  timeout_seconds=1))
    assert caught.value.status == 410
    # ... and a relist gives a version to watch from.
    relisted = conftest.raw_json(core.list_node(_preload_content=False))
    assert len(relisted['items']) == 2
    server.store.create('nodes', conftest.simple_node('n3'))
    events = watch_events(
        core, resource_version=relisted['metadata']['resourceVersion'],
        timeout_seconds=1)
    assert events == [('ADDED', 'n3', '3')]


def test_watch_label_selector_sends_deleted_when_unmatched(server, core):
    store = server.store
    store.create('nodes', conftest.simple_node('n1', role='compute'))
    store.create('nodes', conftest.simple_node('n2', role='control'))
    store.patch('nodes', 'n1', {'metadata': {'labels': {'role': 'gone'}}})
    store.patch('nodes', 'n2', {'metadata': {'labels': {'role': 'compute'}}})
    events = watch_events(core, resource_version='0',
                          label_selector='role=compute', timeout_seconds=1)
    assert events == [('ADDED', 'n2', '4')]
    events = watch_events(core, resource_version='2',
                          label_selector='role=compute', timeout_seconds=1)
    assert events == [('DELETED', 'n1', '3'), ('ADDED', 'n2', '4')]


def test_leases_watch_across_namespaces(server, coordination):
    server.store.create('leases', {'metadata': {'name': 'a'}}, 'ns1')
    server.store.create('leases', {'metadata': {'name': 'b'}}, 'ns2')
    stream = watch.Watch().stream(
        coordination.list_lease_for_all_namespaces, timeout_seconds=1)
    seen = [(event['type'], event['object'].metadata.namespace,
             event['object'].metadata.name) for event in stream]
    assert seen == [('ADDED', 'ns1', 'a'), ('ADDED', 'ns2', 'b')]


@pytest.fixture
def manual_core(manual_server, tmp_path):
    with conftest.api_client(manual_server, tmp_path) as handle:
        yield client.CoreV1Api(handle)


def test_bookmarks_arrive_on_the_server_clock(manual_server, manual_clock,
                                              manual_core):
    manual_server.store.create('nodes', conftest.simple_node('n1'))
    watcher = watch.Watch()
    reader = conftest.StreamReader(watcher.stream(
        manual_core.list_node, resource_version='1',
        allow_watch_bookmarks=True, timeout_seconds=3600))
    conftest.wait_for(lambda: manual_server.open_watch_count() == 1,
                      what='the watch to open')
    manual_server.store.create('leases', {'metadata': {'name': 'l'}}, 'ns')
    manual_clock.advance(30)
    conftest.wait_for(lambda: 'BOOKMARK' in reader.types(),
                      what='a bookmark')
    bookmark = reader.snapshot()[0]['raw_object']
    assert bookmark['kind'] == 'Node'
    assert bookmark['metadata']['resourceVersion'] == '2'
    assert watcher.resource_version == '2'
    manual_clock.advance(30)
    conftest.wait_for(lambda: reader.types().count('BOOKMARK') == 2,
                      what='a second bookmark')
    manual_server.faults.drop_watches(clean=True)
    reader.join()


def test_no_bookmarks_without_allow_watch_bookmarks(manual_server,
                                                    manual_clock,
                                                    manual_core):
    reader = conftest.StreamReader(watch.Watch().stream(
        manual_core.list_node, resource_version='0', timeout_seconds=100))
    conftest.wait_for(lambda: manual_server.open_watch_count() == 1,
                      what='the watch to open')
    manual_clock.advance(90)
    manual_server.store.create('nodes', conftest.simple_node('n1'))
    conftest.wait_for(lambda: reader.types() == ['ADDED'],
                      what='the ADDED event')
    manual_clock.advance(11)
    reader.join()
    assert reader.types() == ['ADDED'] and reader.error is None


def test_timeout_seconds_ends_the_stream_with_a_bookmark(manual_server,
                                                         manual_clock,
                                                         manual_core):
    manual_server.store.create('nodes', conftest.simple_node('n1'))
    reader = conftest.StreamReader(watch.Watch().stream(
        manual_core.list_node, resource_version='1',
        allow_watch_bookmarks=True, timeout_seconds=20))
    conftest.wait_for(lambda: manual_server.open_watch_count() == 1,
                      what='the watch to open')
    assert not reader.finished.is_set()
    manual_clock.advance(20)
    reader.join()
    assert reader.error is None
    assert reader.types() == ['BOOKMARK']
    assert manual_server.open_watch_count() == 0
    assert manual_server.store.watcher_count() == 0
    (record,) = [r for r in manual_server.request_log if r.verb == 'watch']
    assert record.status == 200 and record.bytes_sent > 0


def test_watch_without_timeout_gets_a_server_chosen_one(manual_clock,
                                                        tmp_path):
    with server_mod.KubeApiServer(clock=manual_clock, auth=False,
                                  min_request_timeout=100) as server, \
            conftest.api_client(server, tmp_path, token=None) as api:
        watcher = watch.Watch()
        reader = conftest.StreamReader(watcher.stream(
            client.CoreV1Api(api).list_node, resource_version='0',
            _request_timeout=(5, 60)))
        conftest.wait_for(lambda: server.open_watch_count() == 1,
                          what='the watch to open')
        manual_clock.advance(99)

        def watches_ended():
            return [record for record in server.request_log
                    if record.verb == 'watch']

        assert not reader.finished.wait(0.3)
        assert watches_ended() == []
        manual_clock.advance(101)
        # The server ends the stream; the official Watch re-watches.
        conftest.wait_for(lambda: len(watches_ended()) == 1,
                          what='the server to end the watch')
        conftest.wait_for(lambda: server.open_watch_count() == 1,
                          what='the client to watch again')
        watcher.stop()
        server.faults.drop_watches(clean=True)
        reader.join()
        conftest.wait_for(lambda: len(watches_ended()) == 2,
                          what='the second watch to end')
        assert server.open_watch_count() == 0


def test_server_ends_watches_of_clients_that_left(server):
    connection = http.client.HTTPConnection(*server.address, timeout=10)
    connection.request('GET', '/api/v1/nodes?watch=true', headers={
        'Authorization': 'Bearer ' + conftest.ADMIN_TOKEN})
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader('Transfer-Encoding') == 'chunked'
    assert server.open_watch_count() == 1
    connection.sock.shutdown(socket.SHUT_RDWR)
    connection.close()
    conftest.wait_for(lambda: server.open_watch_count() == 0,
                      what='the server to notice the client left')
    assert server.store.watcher_count() == 0
