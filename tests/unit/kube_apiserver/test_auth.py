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

"""Bearer tokens and RBAC PolicyRule matching."""

import pytest

from masakarimonitors_k8s.testing.kube_apiserver import auth
from masakarimonitors_k8s.testing.kube_apiserver import errors


def request(verb='get', resource='nodes', api_group='', namespace=None,
            name=None, subresource=None):
    return auth.Request(verb=verb, resource=resource, api_group=api_group,
                        namespace=namespace, name=name,
                        subresource=subresource)


NODE_READER = {'apiGroups': [''], 'resources': ['nodes'],
               'verbs': ['get', 'list', 'watch']}


@pytest.mark.parametrize('rule, req, allowed', [
    (NODE_READER, request(), True),
    (NODE_READER, request(verb='watch'), True),
    (NODE_READER, request(verb='patch'), False),
    (NODE_READER, request(resource='leases',
                          api_group='coordination.k8s.io'), False),
    (NODE_READER, request(api_group='apps'), False),
    (NODE_READER, request(subresource='status'), False),
    ({'apiGroups': [''], 'resources': ['nodes/status'], 'verbs': ['patch']},
     request(verb='patch', subresource='status'), True),
    ({'apiGroups': [''], 'resources': ['*/status'], 'verbs': ['patch']},
     request(verb='patch', subresource='status'), True),
    ({'apiGroups': ['*'], 'resources': ['*'], 'verbs': ['*']},
     request(verb='delete', subresource='status'), True),
    ({'apiGroups': ['coordination.k8s.io'], 'resources': ['leases'],
      'verbs': ['get', 'update'], 'resourceNames': ['masakari-leader']},
     request(verb='update', resource='leases',
             api_group='coordination.k8s.io', namespace='ns',
             name='masakari-leader'), True),
    ({'apiGroups': ['coordination.k8s.io'], 'resources': ['leases'],
      'verbs': ['get', 'update'], 'resourceNames': ['masakari-leader']},
     request(verb='update', resource='leases',
             api_group='coordination.k8s.io', namespace='ns',
             name='other'), False),
    ({'apiGroups': ['coordination.k8s.io'], 'resources': ['leases'],
      'verbs': ['create'], 'resourceNames': ['masakari-leader']},
     request(verb='create', resource='leases',
             api_group='coordination.k8s.io', namespace='ns'), False),
    (dict(NODE_READER, namespaces=['ns']), request(), False),
    ({'apiGroups': [''], 'resources': ['events'], 'verbs': ['create'],
      'namespaces': ['ns']},
     request(verb='create', resource='events', namespace='ns'), True),
    ({'apiGroups': [''], 'resources': ['events'], 'verbs': ['create'],
      'namespaces': ['ns']},
     request(verb='create', resource='events', namespace='other'), False),
    ({'apiGroups': [''], 'resources': ['events'], 'verbs': ['create']},
     request(verb='create', resource='events', namespace='any'), True),
])
def test_policy_rule_matching(rule, req, allowed):
    assert auth.PolicyRule.from_dict(rule).allows(req) is allowed


def test_unknown_rule_fields_are_refused():
    with pytest.raises(ValueError):
        auth.PolicyRule.from_dict({'verbs': ['get'], 'resource': ['nodes']})


def test_rules_round_trip():
    rule = {'verbs': ['get'], 'apiGroups': [''], 'resources': ['nodes'],
            'resourceNames': ['n1'], 'namespaces': ['ns']}
    assert auth.PolicyRule.from_dict(rule).to_dict() == rule


def test_forbidden_messages_follow_kube_apiserver():
    user = auth.User(name='system:serviceaccount:ns:monitor')
    error = auth.forbidden(user, request(verb='list'), 'nodes')
    assert error.code == 403 and error.reason == 'Forbidden'
    assert error.message == (
        'nodes is forbidden: User "system:serviceaccount:ns:monitor" cannot '
        'list resource "nodes" in API group "" at the cluster scope')
    error = auth.forbidden(
        user, request(verb='update', resource='leases',
                      api_group='coordination.k8s.io', namespace='ns',
                      name='l1'), 'leases.coordination.k8s.io')
    assert error.message == (
        'leases.coordination.k8s.io "l1" is forbidden: User '
        '"system:serviceaccount:ns:monitor" cannot update resource "leases" '
        'in API group "coordination.k8s.io" in the namespace "ns"')
    assert error.details == {'kind': 'leases', 'name': 'l1',
                             'group': 'coordination.k8s.io'}
    error = auth.forbidden(user, request(verb='patch', name='n1',
                                         subresource='status'), 'nodes')
    assert 'cannot patch resource "nodes/status"' in error.message


def test_rules_from_rendered_rbac_manifests():
    documents = [
        {'kind': 'ServiceAccount', 'metadata': {'name': 'monitor'}},
        {'kind': 'ClusterRole', 'metadata': {'name': 'monitor'},
         'rules': [NODE_READER]},
        {'kind': 'Role', 'metadata': {'name': 'leader',
                                      'namespace': 'openstack'},
         'rules': [{'apiGroups': ['coordination.k8s.io'],
                    'resources': ['leases'], 'verbs': ['get', 'update']}]},
        None,
    ]
    rules = auth.rules_from_rbac(documents)
    assert [rule.namespaces for rule in rules] == [None, ('openstack',)]
    user = auth.User(name='monitor', rules=tuple(rules))
    assert user.allows(request(verb='watch'))
    assert user.allows(request(verb='get', resource='leases',
                               api_group='coordination.k8s.io',
                               namespace='openstack', name='x'))
    assert not user.allows(request(verb='get', resource='leases',
                                   api_group='coordination.k8s.io',
                                   namespace='default', name='x'))


class TestTokenAuthenticator:
    def test_known_token(self):
        authenticator = auth.TokenAuthenticator()
        authenticator.add_token('secret', user='alice', rules=[NODE_READER])
        user = authenticator.authenticate('Bearer secret')
        assert user.name == 'alice'
        assert user.allows(request(verb='list'))

    @pytest.mark.parametrize('header', [
        None, '', 'Bearer', 'Bearer wrong', 'Basic secret', 'secret'])
    def test_missing_or_unknown_tokens_are_401(self, header):
        authenticator = auth.TokenAuthenticator()
        authenticator.add_token('secret', user='alice')
        with pytest.raises(errors.Unauthorized) as caught:
            authenticator.authenticate(header)
        assert caught.value.status() == {
            'kind': 'Status', 'apiVersion': 'v1', 'metadata': {},
            'status': 'Failure', 'message': 'Unauthorized',
            'reason': 'Unauthorized', 'code': 401}

    def test_removed_token_stops_working(self):
        authenticator = auth.TokenAuthenticator()
        authenticator.add_token('secret', user='alice')
        authenticator.remove_token('secret')
        with pytest.raises(errors.Unauthorized):
            authenticator.authenticate('Bearer secret')

    def test_disabled_auth_allows_everything(self):
        user = auth.TokenAuthenticator(enabled=False).authenticate(None)
        assert user.name == 'system:anonymous'
        assert user.allows(request(verb='deletecollection',
                                   resource='leases',
                                   api_group='coordination.k8s.io'))
