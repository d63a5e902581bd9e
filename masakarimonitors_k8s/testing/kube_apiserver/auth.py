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

"""Bearer-token authentication and RBAC-style authorization.

Part of the Kubernetes API test server. The monitor's Helm chart grants it
a ClusterRole/Role; tests load those PolicyRules here unchanged (shape
``{apiGroups, resources, verbs, resourceNames}``), bind them to a token,
and so find out whether the chart grants exactly what the driver uses.
``namespaces`` is the one addition to the k8s shape: it stands for the
binding (None for a ClusterRoleBinding, a list of namespaces for
RoleBindings).

Denials use kube-apiserver's wording, which names the user, verb, resource,
API group and namespace, because that message is what an operator sees
when a chart lacks a permission.
"""

import dataclasses
import threading

from masakarimonitors_k8s.testing.kube_apiserver import errors

VERBS = ('get', 'list', 'watch', 'create', 'update', 'patch', 'delete',
         'deletecollection')


@dataclasses.dataclass(frozen=True)
class PolicyRule:
    """One rbac.authorization.k8s.io/v1 PolicyRule plus its binding scope."""

    verbs: tuple
    api_groups: tuple
    resources: tuple
    resource_names: tuple = ()
    namespaces: tuple = None

    @classmethod
    def from_dict(cls, rule):
        """Accept the k8s PolicyRule shape (camelCase keys)."""
        if isinstance(rule, cls):
            return rule
        unknown = set(rule) - {'verbs', 'apiGroups', 'resources',
                               'resourceNames', 'namespaces',
                               'nonResourceURLs'}
        if unknown:
            raise ValueError('unknown PolicyRule fields: %s'
                             % ', '.join(sorted(unknown)))
        namespaces = rule.get('namespaces')
        return cls(
            verbs=tuple(rule.get('verbs') or ()),
            api_groups=tuple(rule.get('apiGroups') or ()),
            resources=tuple(rule.get('resources') or ()),
            resource_names=tuple(rule.get('resourceNames') or ()),
            namespaces=None if namespaces is None else tuple(namespaces))

    def to_dict(self):
        rule = {'verbs': list(self.verbs), 'apiGroups': list(self.api_groups),
                'resources': list(self.resources)}
        if self.resource_names:
            rule['resourceNames'] = list(self.resource_names)
        if self.namespaces is not None:
            rule['namespaces'] = list(self.namespaces)
        return rule

    def allows(self, request):
        if '*' not in self.verbs and request.verb not in self.verbs:
            return False
        if '*' not in self.api_groups \
                and request.api_group not in self.api_groups:
            return False
        if not self._matches_resource(request):
            return False
        if self.resource_names and request.name not in self.resource_names:
            return False
        if self.namespaces is not None \
                and request.namespace not in self.namespaces:
            return False
        return True

    def _matches_resource(self, request):
        if request.subresource:
            wanted = '%s/%s' % (request.resource, request.subresource)
            return any(resource in ('*', wanted,
                                    '*/' + request.subresource)
                       for resource in self.resources)
        return any(resource in ('*', request.resource)
                   for resource in self.resources)


@dataclasses.dataclass(frozen=True)
class Request:
    """What is being asked: k8s authorizer attributes."""

    verb: str
    resource: str
    api_group: str = ''
    namespace: str = None
    name: str = None
    subresource: str = None


@dataclasses.dataclass(frozen=True)
class User:
    name: str
    groups: tuple = ()
    rules: tuple = ()

    def allows(self, request):
        return any(rule.allows(request) for rule in self.rules)


ANONYMOUS_ADMIN = User(
    name='system:anonymous', groups=('system:unauthenticated',),
    rules=(PolicyRule(verbs=('*',), api_groups=('*',), resources=('*',)),))


def rules_from_rbac(documents):
    """PolicyRules of the Roles/ClusterRoles among ``documents``.

    ClusterRole rules apply cluster-wide (as if bound by a
    ClusterRoleBinding); Role rules apply in the Role's namespace. Other
    documents (ServiceAccounts, bindings) are skipped, so a rendered Helm
    chart can be passed as it is.
    """
    rules = []
    for document in documents:
        if not isinstance(document, dict):
            continue
        kind = document.get('kind')
        if kind not in ('ClusterRole', 'Role'):
            continue
        namespaces = None
        if kind == 'Role':
            namespaces = [(document.get('metadata') or {}).get(
                'namespace', 'default')]
        for rule in document.get('rules') or ():
            rule = dict(rule)
            rule['namespaces'] = namespaces
            rules.append(PolicyRule.from_dict(rule))
    return rules


def forbidden(user, request, qualified_resource):
    """The 403 kube-apiserver answers when RBAC denies ``request``."""
    resource = request.resource
    if request.subresource:
        resource += '/' + request.subresource
    if request.namespace:
        where = 'in the namespace "%s"' % request.namespace
    else:
        where = 'at the cluster scope'
    reason = 'User "%s" cannot %s resource "%s" in API group "%s" %s' % (
        user.name, request.verb, resource, request.api_group, where)
    if request.name:
        message = '%s "%s" is forbidden: %s' % (qualified_resource,
                                                request.name, reason)
    else:
        message = '%s is forbidden: %s' % (qualified_resource, reason)
    details = {'kind': request.resource}
    if request.name:
        details['name'] = request.name
    if request.api_group:
        details['group'] = request.api_group
    return errors.Forbidden(message, details=details)


class TokenAuthenticator:
    """Maps bearer tokens to users; thread-safe, changeable at run time."""

    def __init__(self, *, enabled=True):
        self.enabled = enabled
        self._lock = threading.Lock()
        self._users = {}

    def add_token(self, token, *, user, rules=(), groups=()):
        if not token:
            raise ValueError('a token must not be empty')
        account = User(name=user, groups=tuple(groups),
                       rules=tuple(PolicyRule.from_dict(rule)
                                   for rule in rules))
        with self._lock:
            self._users[token] = account
        return account

    def remove_token(self, token):
        with self._lock:
            self._users.pop(token, None)

    def tokens(self):
        """``{token: User}``, a snapshot."""
        with self._lock:
            return dict(self._users)

    def authenticate(self, authorization_header):
        """The User for an ``Authorization`` header; raises Unauthorized."""
        if not self.enabled:
            return ANONYMOUS_ADMIN
        scheme, _, token = (authorization_header or '').partition(' ')
        token = token.strip()
        if scheme.lower() == 'bearer' and token:
            with self._lock:
                user = self._users.get(token)
            if user is not None:
                return user
        raise errors.Unauthorized('Unauthorized')
