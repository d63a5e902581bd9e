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

"""Creates, updates, patches and deletes over HTTP, with k8s errors."""

import http.client
import json

from kubernetes import client
import pytest

from masakarimonitors_k8s.testing.kube_apiserver import patches
from tests.functional.kube_apiserver import conftest

pytestmark = pytest.mark.timeout(60)

MERGE = patches.MERGE_PATCH
NS = conftest.LEASE_NS


def status_of(caught):
    return json.loads(caught.value.body)


def new_lease(name, holder):
    return client.V1Lease(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1LeaseSpec(holder_identity=holder,
                                lease_duration_seconds=15))


def test_two_lease_writers_one_gets_409(coordination):
    created = coordination.create_namespaced_lease(
        NS, new_lease('masakari-leader', 'a'))
    # Opaque to clients; kube-apiserver's is etcd's global revision.
    assert created.metadata.resource_version
    mine = coordination.read_namespaced_lease('masakari-leader', NS)
    theirs = coordination.read_namespaced_lease('masakari-leader', NS)
    mine.spec.holder_identity = 'mine'
    won = coordination.replace_namespaced_lease('masakari-leader', NS, mine)
    assert won.spec.holder_identity == 'mine'
    assert int(won.metadata.resource_version) > int(
        created.metadata.resource_version)
    theirs.spec.holder_identity = 'theirs'
    with pytest.raises(client.ApiException) as caught:
        coordination.replace_namespaced_lease('masakari-leader', NS, theirs)
    assert caught.value.status == 409
    status = status_of(caught)
    assert status['reason'] == 'Conflict'
    assert status['message'] == (
        'Operation cannot be fulfilled on leases.coordination.k8s.io '
        '"masakari-leader": the object has been modified; please apply '
        'your changes to the latest version and try again')
    assert status['details'] == {'name': 'masakari-leader',
                                 'kind': 'leases',
                                 'group': 'coordination.k8s.io'}
    assert coordination.read_namespaced_lease(
        'masakari-leader', NS).spec.holder_identity == 'mine'


def test_create_twice_is_409_already_exists(coordination):
    coordination.create_namespaced_lease(NS, new_lease('l1', 'a'))
    with pytest.raises(client.ApiException) as caught:
        coordination.create_namespaced_lease(NS, new_lease('l1', 'b'))
    assert caught.value.status == 409
    assert status_of(caught)['reason'] == 'AlreadyExists'


def test_not_found_is_a_status(core):
    with pytest.raises(client.ApiException) as caught:
        core.read_node('missing', _preload_content=False)
    assert caught.value.status == 404
    assert status_of(caught) == {
        'kind': 'Status', 'apiVersion': 'v1', 'metadata': {},
        'status': 'Failure', 'message': 'nodes "missing" not found',
        'reason': 'NotFound', 'details': {'name': 'missing',
                                          'kind': 'nodes'},
        'code': 404}


def test_merge_patch_of_a_node_taint(server, core):
    server.store.create('nodes', conftest.simple_node('n1'))
    taint = {'key': 'masakari/host-down', 'effect': 'NoExecute'}
    body = conftest.raw_json(core.patch_node(
        'n1', {'spec': {'taints': [taint]}}, _content_type=MERGE,
        _preload_content=False))
    assert body['spec']['taints'] == [taint]
    assert body['metadata']['resourceVersion'] == '2'
    assert server.store.get('nodes', 'n1')['spec']['taints'] == [taint]
    body = conftest.raw_json(core.patch_node(
        'n1', {'spec': {'taints': None}}, _content_type=MERGE,
        _preload_content=False))
    assert 'taints' not in body['spec']


def test_patch_with_stale_resource_version_is_409(server, core):
    server.store.create('nodes', conftest.simple_node('n1'))
    server.store.patch('nodes', 'n1', {'metadata': {'labels': {'x': '1'}}})
    with pytest.raises(client.ApiException) as caught:
        core.patch_node('n1', {'metadata': {'resourceVersion': '1'},
                               'spec': {'unschedulable': True}},
                        _content_type=MERGE, _preload_content=False)
    assert caught.value.status == 409


def test_main_resource_patch_keeps_status_status_patch_changes_it(
        server, core):
    server.store.create('nodes', conftest.simple_node('n1'))
    down = {'status': {'conditions': [{'type': 'Ready',
                                       'status': 'Unknown'}]}}
    body = conftest.raw_json(core.patch_node(
        'n1', down, _content_type=MERGE, _preload_content=False))
    assert body['status']['conditions'][0]['status'] == 'True'
    body = conftest.raw_json(core.patch_node_status(
        'n1', down, _content_type=MERGE, _preload_content=False))
    assert body['status']['conditions'][0]['status'] == 'Unknown'


def test_default_patch_content_type_works_for_simple_patches(server, core):
    # The client sends a dict body as a strategic merge patch.
    server.store.create('nodes', conftest.simple_node('n1', a='1'))
    body = conftest.raw_json(core.patch_node(
        'n1', {'metadata': {'labels': {'a': None, 'b': '2'}}},
        _preload_content=False))
    assert body['metadata']['labels'] == {'b': '2'}
    # ... and a list body as a JSON patch.
    body = conftest.raw_json(core.patch_node(
        'n1', [{'op': 'add', 'path': '/spec/unschedulable', 'value': True}],
        _preload_content=False))
    assert body['spec']['unschedulable'] is True


def test_unemulated_patches_are_415(server, core):
    server.store.create('nodes', conftest.simple_node('n1'))
    with pytest.raises(client.ApiException) as caught:
        core.patch_node_status('n1', {'status': {'conditions': []}},
                               _preload_content=False)
    assert caught.value.status == 415
    with pytest.raises(client.ApiException) as caught:
        core.patch_node('n1', {'spec': {}},
                        _content_type=patches.APPLY_PATCH,
                        _preload_content=False)
    assert caught.value.status == 415
    assert status_of(caught)['reason'] == 'UnsupportedMediaType'


def node_event(namespace):
    return client.CoreV1Event(
        metadata=client.V1ObjectMeta(generate_name='compute-1.',
                                     namespace=namespace),
        involved_object=client.V1ObjectReference(kind='Node',
                                                 name='compute-1'),
        reason='HostDown', message='notified masakari', type='Warning')


def test_events_with_generate_name(core):
    created = core.create_namespaced_event('default', node_event('default'))
    assert created.metadata.name.startswith('compute-1.')
    assert created.metadata.namespace == 'default'
    found = core.list_namespaced_event(
        'default', field_selector='involvedObject.name=compute-1,'
        'reason=HostDown')
    assert [item.metadata.name for item in found.items] == [
        created.metadata.name]
    everywhere = core.list_event_for_all_namespaces()
    assert len(everywhere.items) == 1


def test_event_about_a_node_outside_default_is_422(core):
    # A cluster-scoped involvedObject (no namespace): kube-apiserver
    # takes the Event in "default" only.
    with pytest.raises(client.ApiException) as caught:
        core.create_namespaced_event('openstack', node_event('openstack'))
    assert caught.value.status == 422
    status = status_of(caught)
    assert status['reason'] == 'Invalid'
    assert status['message'].endswith(
        'is invalid: involvedObject.namespace: Invalid value: "": does not '
        'match event.namespace')


def test_invalid_name_is_422(coordination):
    with pytest.raises(client.ApiException) as caught:
        coordination.create_namespaced_lease(NS, new_lease('Not_Valid', 'a'))
    assert caught.value.status == 422
    status = status_of(caught)
    assert status['reason'] == 'Invalid'
    assert status['details']['causes'][0]['field'] == 'metadata.name'


def test_put_with_a_different_name_is_400(coordination):
    coordination.create_namespaced_lease(NS, new_lease('l1', 'a'))
    with pytest.raises(client.ApiException) as caught:
        coordination.replace_namespaced_lease('l1', NS, new_lease('l2', 'a'))
    assert caught.value.status == 400


def test_delete_answers_success_status(server, coordination):
    created = coordination.create_namespaced_lease(NS, new_lease('l1', 'a'))
    answer = coordination.delete_namespaced_lease(
        'l1', NS, body=client.V1DeleteOptions(
            preconditions=client.V1Preconditions(
                uid=created.metadata.uid)))
    # The client types this answer as a plain object (a dict).
    assert answer['status'] == 'Success'
    assert answer['details'] == {'name': 'l1', 'kind': 'leases',
                                 'group': 'coordination.k8s.io',
                                 'uid': created.metadata.uid}
    assert server.store.count('leases') == 0


def raw_call(api, method, path, body=None):
    headers = dict(api.default_headers,
                   Authorization='Bearer ' + conftest.ADMIN_TOKEN,
                   **{'Content-Type': 'application/json'})
    response = api.call_api(method, api.configuration.host + path,
                            header_params=headers, body=body)
    response.read()
    return response.status, json.loads(response.data)


# Resources the test server does not serve; kube-apiserver does.
NOT_EMULATED = pytest.mark.test_server_only(
    reason='pods and deployments are not emulated by the test server')


@pytest.mark.parametrize('method, path, code', [
    pytest.param('GET', '/api/v1/pods', 404, marks=NOT_EMULATED),
    ('GET', '/api/v2/nodes', 404),
    ('GET', '/api/v1/namespaces/x/nodes', 404),
    ('GET', '/api/v1/events/name-without-namespace', 404),
    ('GET', '/api/v1/nodes/n1/proxy', 404),
    pytest.param('GET', '/apis/apps/v1/deployments', 404,
                 marks=NOT_EMULATED),
    ('GET', '/apis/coordination.k8s.io/v1/nodes', 404),
    ('POST', '/api/v1/nodes/n1', 405),
    ('POST', '/api/v1/events', 405),
    ('PUT', '/api/v1/nodes', 405),
])
def test_method_and_path_errors(api, method, path, code):
    status, body = raw_call(api, method, path, body={} if method in (
        'POST', 'PUT') else None)
    assert status == code
    assert body['kind'] == 'Status' and body['code'] == code


def test_bad_bodies_are_400(server, api):
    status, body = raw_call(api, 'POST', '/api/v1/nodes', body='a string')
    assert status == 400
    assert body['message'] == 'the object must be a JSON object'
    connection = http.client.HTTPConnection(*server.address, timeout=10)
    connection.request('POST', '/api/v1/nodes', body=b'{not json',
                       headers={'Authorization': 'Bearer '
                                + conftest.ADMIN_TOKEN})
    response = connection.getresponse()
    assert response.status == 400
    assert 'not valid JSON' in json.loads(response.read())['message']
    connection.close()
    status, body = raw_call(api, 'POST', '/api/v1/nodes', body={
        'metadata': {'name': 'n1', 'resourceVersion': '5'}})
    assert status == 400
    assert body['message'] == (
        'resourceVersion should not be set on objects to be created')
