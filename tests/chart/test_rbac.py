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

"""The chart grants its ServiceAccount exactly what the monitor uses.

Each values file gets its exact rule set: a permission added to a
template without a reason shows up here as a diff. The rules are read
back through ``render.rbac_rules`` (only what a binding grants), the same
function the functional test uses to run the monitor with these rules.
"""

import pytest

from masakarimonitors_k8s.testing.kube_apiserver import auth
from tests.chart import manifests
from tests.chart import render

NAMESPACE = render.NAMESPACE
LEASE_GROUP = 'coordination.k8s.io'


def rule(namespaces, groups, resources, verbs, names=()):
    """A PolicyRule in a comparable form."""
    return (None if namespaces is None else tuple(sorted(namespaces)),
            tuple(sorted(groups)), tuple(sorted(resources)),
            tuple(sorted(verbs)), tuple(sorted(names)))


def granted(objects):
    return {rule(item['namespaces'], item['apiGroups'], item['resources'],
                 item['verbs'], item.get('resourceNames', ()))
            for item in render.rbac_rules(objects)}


READ_NODES = rule(None, [''], ['nodes'], ['get', 'list', 'watch'])
READ_AND_TAINT_NODES = rule(None, [''], ['nodes'],
                            ['get', 'list', 'watch', 'patch'])
# Node Events: core/v1, namespace default only (kube/events.py).
RECORD_EVENTS = rule(['default'], [''], ['events'], ['create', 'patch'])
CREATE_LEASE = rule([NAMESPACE], [LEASE_GROUP], ['leases'], ['create'])
HOLD_LEASE = rule([NAMESPACE], [LEASE_GROUP], ['leases'], ['get', 'update'],
                  ['masakari-hostmonitor'])
READ_NODE_LEASES = rule(['kube-node-lease'], [LEASE_GROUP], ['leases'],
                        ['get', 'list', 'watch'])

EXPECTED_RULES = {
    'defaults': {READ_NODES, RECORD_EVENTS, CREATE_LEASE, HOLD_LEASE},
    'kind': {READ_NODES, RECORD_EVENTS, CREATE_LEASE, HOLD_LEASE,
             READ_NODE_LEASES},
    'openstack-helm': {READ_NODES, RECORD_EVENTS, CREATE_LEASE, HOLD_LEASE},
    'genestack': {READ_NODES, RECORD_EVENTS, CREATE_LEASE, HOLD_LEASE},
    'atmosphere': {READ_NODES, RECORD_EVENTS, CREATE_LEASE, HOLD_LEASE},
    'production-ha': {READ_AND_TAINT_NODES, RECORD_EVENTS, CREATE_LEASE,
                      HOLD_LEASE, READ_NODE_LEASES},
    'all-features': {READ_AND_TAINT_NODES, RECORD_EVENTS, CREATE_LEASE,
                     HOLD_LEASE, READ_NODE_LEASES},
}

# Verbs that would let the monitor do more than read nodes, keep a lease
# and write events, whatever the values say.
FORBIDDEN_VERBS = {'*', 'delete', 'deletecollection', 'escalate', 'bind',
                   'impersonate', 'approve', 'sign'}


def test_every_render_has_its_expected_rule_set():
    assert set(EXPECTED_RULES) == {
        name for name, _, _ in render.named_renders()}


def test_rules_are_exactly_the_expected_ones(named_render):
    name, objects = named_render
    assert granted(objects) == EXPECTED_RULES[name]


def test_no_wildcard_and_no_secrets(named_render):
    _, objects = named_render
    rules = render.rbac_rules(objects)
    assert rules
    for item in rules:
        for field in ('apiGroups', 'resources', 'verbs'):
            assert '*' not in item[field], item
        assert not {'secrets', 'pods', 'configmaps', 'nodes/proxy',
                    'serviceaccounts/token'} & set(item['resources']), item
        assert not FORBIDDEN_VERBS & set(item['verbs']), item
        assert not item.get('nonResourceURLs'), item


def test_bindings_name_the_chart_service_account_and_a_rendered_role(
        named_render):
    _, objects = named_render
    account = manifests.the_object(objects, 'ServiceAccount')
    roles = {(item['kind'], item['metadata']['name'],
              item['metadata'].get('namespace'))
             for item in objects if item['kind'] in render.RBAC_ROLE_KINDS}
    bindings = [item for item in objects
                if item['kind'] in render.RBAC_BINDING_KINDS]
    assert bindings
    for binding in bindings:
        assert binding['subjects'] == [{
            'kind': 'ServiceAccount',
            'name': account['metadata']['name'],
            'namespace': account['metadata']['namespace']}]
        ref = binding['roleRef']
        role_namespace = (binding['metadata']['namespace']
                          if ref['kind'] == 'Role' else None)
        assert (ref['kind'], ref['name'], role_namespace) in roles


def test_nodes_are_patched_only_with_the_fence_action(chart):
    evidence_only = chart.render(set_values={
        'conf.masakarimonitors.k8s.fencing': 'redfish',
        'secrets.redfish.credentials.name': 'bmc'})
    with_action = chart.render(set_values={
        'conf.masakarimonitors.k8s.fencing': 'redfish',
        'conf.masakarimonitors.k8s.fence_action': 'redfish-power-off',
        'secrets.redfish.credentials.name': 'bmc'})
    assert READ_NODES in granted(evidence_only)
    assert READ_AND_TAINT_NODES not in granted(evidence_only)
    assert READ_AND_TAINT_NODES in granted(with_action)


def test_without_leader_election_no_lease_is_writable(chart):
    objects = chart.render(set_values={
        'conf.masakarimonitors.k8s.leader_election': False})
    assert granted(objects) == {READ_NODES, RECORD_EVENTS}


def test_events_only_with_node_events(chart):
    objects = chart.render(set_values={
        'conf.masakarimonitors.k8s.node_events': False})
    assert granted(objects) == {READ_NODES, CREATE_LEASE, HOLD_LEASE}
    assert not [item for item in objects
                if item['metadata']['name'].endswith('-events')]


def test_events_are_a_role_in_the_namespace_the_driver_writes_to(chart):
    from masakarimonitors_k8s.kube import events
    objects = chart.render()
    role, = [item for item in objects if item['kind'] == 'Role'
             and item['metadata']['name'].endswith('-events')]
    assert role['metadata']['namespace'] == events.EVENT_NAMESPACE
    # Nothing cluster-wide mentions events any more.
    for cluster_role in manifests.objects_of_kind(objects, 'ClusterRole'):
        for item in cluster_role['rules']:
            assert 'events' not in item['resources']


def test_two_releases_in_one_namespace_share_no_lease_or_secret():
    def names(release):
        objects = render.render(
            [render.VALUES_DIR / 'openstack-helm.yaml'], release=release)
        held = {name for item in render.rbac_rules(objects)
                for name in item.get('resourceNames', ())}
        secrets = {item['metadata']['name']
                   for item in manifests.objects_of_kind(objects, 'Secret')}
        namespaced = {(item['kind'], item['metadata']['name'])
                      for item in objects
                      if item['metadata'].get('namespace') == NAMESPACE}
        return held, secrets, namespaced

    held_1, secrets_1, objects_1 = names('mon-az1')
    held_2, secrets_2, objects_2 = names('mon-az2')
    assert held_1 == {'mon-az1'} and held_2 == {'mon-az2'}
    assert secrets_1 and not secrets_1 & secrets_2
    assert not objects_1 & objects_2


def test_lease_role_follows_the_configured_lease(chart):
    objects = chart.render(set_values={
        'conf.masakarimonitors.k8s.leader_election_namespace': 'ha',
        'conf.masakarimonitors.k8s.leader_election_lease_name': 'mon'})
    rules = granted(objects)
    assert rule(['ha'], [LEASE_GROUP], ['leases'], ['create']) in rules
    assert rule(['ha'], [LEASE_GROUP], ['leases'], ['get', 'update'],
                ['mon']) in rules
    assert CREATE_LEASE not in rules and HOLD_LEASE not in rules


def test_node_lease_role_follows_lease_namespace(chart):
    objects = chart.render(set_values={
        'conf.masakarimonitors.k8s.watch_leases': True,
        'conf.masakarimonitors.k8s.lease_namespace': 'heartbeats'})
    assert rule(['heartbeats'], [LEASE_GROUP], ['leases'],
                ['get', 'list', 'watch']) in granted(objects)


@pytest.mark.parametrize('toggle', [
    'manifests.role_binding_leader_election',
    'manifests.role_leader_election',
])
def test_an_unbound_or_missing_role_grants_nothing(chart, toggle):
    objects = chart.render(set_values={toggle: False})
    assert granted(objects) == {READ_NODES, RECORD_EVENTS}


@pytest.mark.parametrize('toggle', ['manifests.role_binding_events',
                                    'manifests.role_events'])
def test_events_role_toggles(chart, toggle):
    objects = chart.render(set_values={toggle: False})
    assert RECORD_EVENTS not in granted(objects)


def test_cluster_scoped_names_carry_the_namespace(chart):
    first = chart.render()
    second = render.render(namespace='openstack-2')
    names = {item['metadata']['name'] for item in first
             if item['kind'] in ('ClusterRole', 'ClusterRoleBinding')}
    other = {item['metadata']['name'] for item in second
             if item['kind'] in ('ClusterRole', 'ClusterRoleBinding')}
    assert names and not names & other


def test_rules_load_into_the_api_test_server_authorizer(chart):
    """rbac_rules() feeds the Kubernetes API test server's token auth.

    The rules it returns are taken as they are, and they allow what the
    monitor does and deny what it must not.
    """
    objects = chart.render()
    user = auth.User(name='system:serviceaccount:openstack:monitor',
                     rules=tuple(auth.PolicyRule.from_dict(item)
                                 for item in render.rbac_rules(objects)))

    def allowed(verb, resource, *, group='', namespace=None, name=None):
        return user.allows(auth.Request(
            verb=verb, resource=resource, api_group=group,
            namespace=namespace, name=name))

    assert allowed('watch', 'nodes')
    assert allowed('create', 'events', namespace='default')
    assert allowed('update', 'leases', group=LEASE_GROUP,
                   namespace=NAMESPACE, name='masakari-hostmonitor')
    assert not allowed('patch', 'nodes', name='compute-01')
    assert not allowed('update', 'leases', group=LEASE_GROUP,
                       namespace=NAMESPACE, name='someone-else')
    assert not allowed('create', 'leases', group=LEASE_GROUP,
                       namespace='kube-system')
    assert not allowed('list', 'secrets', namespace=NAMESPACE)
