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

"""Bearer tokens, RBAC denials, SSAR, TLS, Date header and discovery."""

import email.utils
import json
import time

from kubernetes import client
import pytest
import urllib3

from masakarimonitors_k8s.testing.kube_apiserver import server as server_mod
from tests.functional.kube_apiserver import conftest

pytestmark = pytest.mark.timeout(60)

LEADER_RULES = [
    {'apiGroups': [''], 'resources': ['nodes'], 'verbs': ['list', 'watch']},
    {'apiGroups': ['coordination.k8s.io'], 'resources': ['leases'],
     'verbs': ['get', 'update'], 'resourceNames': ['masakari-leader'],
     'namespaces': ['openstack']},
]


def status_of(caught):
    return json.loads(caught.value.body)


def test_no_token_is_401(server, tmp_path):
    with conftest.api_client(server, tmp_path, token=None) as api:
        with pytest.raises(client.ApiException) as caught:
            client.CoreV1Api(api).list_node(_preload_content=False)
    assert caught.value.status == 401
    assert status_of(caught)['reason'] == 'Unauthorized'


def test_unknown_token_is_401(server, tmp_path):
    with conftest.api_client(server, tmp_path, token='wrong') as api:
        with pytest.raises(client.ApiException) as caught:
            client.CoreV1Api(api).list_node(_preload_content=False)
    assert caught.value.status == 401


def test_missing_rule_is_403_naming_what_was_denied(server, tmp_path):
    server.add_token('monitor', user='system:serviceaccount:openstack:mon',
                     rules=LEADER_RULES)
    server.store.create('leases', {'metadata': {'name': 'masakari-leader'}},
                        'openstack')
    server.store.create('leases', {'metadata': {'name': 'other'}},
                        'openstack')
    with conftest.api_client(server, tmp_path, token='monitor') as api:
        core = client.CoreV1Api(api)
        coordination = client.CoordinationV1Api(api)
        core.list_node(_preload_content=False)
        with pytest.raises(client.ApiException) as caught:
            core.patch_node('n1', {'spec': {}}, _preload_content=False)
        assert caught.value.status == 403
        status = status_of(caught)
        assert status['reason'] == 'Forbidden'
        assert status['message'] == (
            'nodes "n1" is forbidden: User '
            '"system:serviceaccount:openstack:mon" cannot patch resource '
            '"nodes" in API group "" at the cluster scope')
        lease = coordination.read_namespaced_lease('masakari-leader',
                                                   'openstack')
        assert lease.metadata.name == 'masakari-leader'
        with pytest.raises(client.ApiException) as caught:
            coordination.read_namespaced_lease('other', 'openstack')
        assert caught.value.status == 403
        assert 'cannot get resource "leases" in API group ' \
            '"coordination.k8s.io" in the namespace "openstack"' in \
            status_of(caught)['message']
        with pytest.raises(client.ApiException) as caught:
            coordination.list_namespaced_lease('openstack')
        assert caught.value.status == 403


def test_removed_token_is_401(server, tmp_path):
    server.add_token('temporary', user='t', rules=conftest.ADMIN_RULES)
    with conftest.api_client(server, tmp_path, token='temporary') as api:
        core = client.CoreV1Api(api)
        core.list_node(_preload_content=False)
        server.remove_token('temporary')
        with pytest.raises(client.ApiException) as caught:
            core.list_node(_preload_content=False)
    assert caught.value.status == 401


def review(verb, resource, group='', namespace=None, name=None):
    return client.V1SelfSubjectAccessReview(
        spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(
                verb=verb, resource=resource, group=group,
                namespace=namespace, name=name)))


def test_self_subject_access_review(server, tmp_path):
    server.add_token('monitor', user='mon', rules=LEADER_RULES)
    with conftest.api_client(server, tmp_path, token='monitor') as api:
        authorization = client.AuthorizationV1Api(api)
        allowed = authorization.create_self_subject_access_review(
            review('watch', 'nodes'))
        assert allowed.status.allowed is True
        denied = authorization.create_self_subject_access_review(
            review('patch', 'nodes'))
        assert denied.status.allowed is False
        named = authorization.create_self_subject_access_review(
            review('update', 'leases', 'coordination.k8s.io', 'openstack',
                   'masakari-leader'))
        assert named.status.allowed is True
        elsewhere = authorization.create_self_subject_access_review(
            review('update', 'leases', 'coordination.k8s.io', 'default',
                   'masakari-leader'))
        assert elsewhere.status.allowed is False
    with conftest.api_client(server, tmp_path, token=None) as api:
        with pytest.raises(client.ApiException) as caught:
            client.AuthorizationV1Api(
                api).create_self_subject_access_review(
                    review('get', 'nodes'))
        assert caught.value.status == 401


def test_auth_disabled_allows_anonymous(tmp_path):
    with server_mod.KubeApiServer(auth=False) as server, \
            conftest.api_client(server, tmp_path, token=None) as api:
        server.store.create('nodes', conftest.simple_node('n1'))
        body = conftest.raw_json(client.CoreV1Api(api).list_node(
            _preload_content=False))
        assert [item['metadata']['name'] for item in body['items']] == ['n1']


@pytest.fixture(scope='module')
def tls_server():
    with server_mod.KubeApiServer(tls=True) as server:
        server.add_token(conftest.ADMIN_TOKEN, user='admin',
                         rules=conftest.ADMIN_RULES)
        yield server


def test_tls_verifies_against_the_ca(tls_server, tmp_path):
    assert tls_server.url.startswith('https://127.0.0.1:')
    with conftest.api_client(tls_server, tmp_path) as api:
        assert api.configuration.ssl_ca_cert == tls_server.ca_file
        body = conftest.raw_json(client.CoreV1Api(api).list_node(
            _preload_content=False))
        assert body['kind'] == 'NodeList'


def test_tls_without_the_ca_fails(tls_server):
    configuration = client.Configuration(host=tls_server.url)
    configuration.retries = 0
    with client.ApiClient(configuration) as api:
        with pytest.raises(urllib3.exceptions.HTTPError) as caught:
            client.CoreV1Api(api).list_node(_preload_content=False)
    assert 'CERTIFICATE_VERIFY_FAILED' in str(caught.value)


def test_tls_server_survives_a_failed_handshake(tls_server, tmp_path):
    test_tls_without_the_ca_fails(tls_server)
    test_tls_verifies_against_the_ca(tls_server, tmp_path)


def test_date_header_follows_the_clock_offset(manual_server, manual_clock,
                                              tmp_path):
    with conftest.api_client(manual_server, tmp_path) as api:
        core = client.CoreV1Api(api)
        response = core.list_node(_preload_content=False)
        assert response.headers['Date'] == email.utils.formatdate(
            manual_clock.wall(), usegmt=True)
        manual_server.clock_offset = 90.0
        response = core.list_node(_preload_content=False)
        assert response.headers['Date'] == email.utils.formatdate(
            manual_clock.wall() + 90, usegmt=True)
        manual_clock.advance(3600)
        with pytest.raises(client.ApiException) as caught:
            core.read_node('missing', _preload_content=False)
        assert caught.value.headers['Date'] == email.utils.formatdate(
            manual_clock.wall() + 90, usegmt=True)
    # The server owns its store, so the timestamps it stamps are skewed too.
    created = manual_server.store.create('nodes', conftest.simple_node('n'))
    assert created['metadata']['creationTimestamp'] == time.strftime(
        '%Y-%m-%dT%H:%M:%SZ', time.gmtime(manual_clock.wall() + 90))


def test_discovery_and_version(server, api):
    version = client.VersionApi(api).get_code()
    assert version.git_version == 'v1.35.0'
    core_versions = client.CoreApi(api).get_api_versions()
    assert core_versions.versions == ['v1']
    groups = client.ApisApi(api).get_api_versions()
    assert {group.name for group in groups.groups} == {
        'coordination.k8s.io', 'authorization.k8s.io'}
    resources = client.CoreV1Api(api).get_api_resources()
    assert {r.name for r in resources.resources} == {
        'events', 'nodes', 'nodes/status'}
    leases = client.CoordinationV1Api(api).get_api_resources()
    assert [r.name for r in leases.resources] == ['leases']
