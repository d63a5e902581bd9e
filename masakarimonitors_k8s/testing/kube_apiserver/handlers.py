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

"""Kubernetes API requests: routing, verbs, list/watch, discovery, SSAR.

Part of the Kubernetes API test server. This is where URLs become store
calls, with kube-apiserver's answers: list bodies built from cached bytes,
chunked watch streams (410 as an ERROR event, bookmarks, timeoutSeconds),
Status errors, RBAC checks before anything is touched, and the minimal
discovery documents the official client and kubectl look at.
"""

import dataclasses
import json
import logging
import random

from masakarimonitors_k8s.testing.kube_apiserver import auth
from masakarimonitors_k8s.testing.kube_apiserver import errors
from masakarimonitors_k8s.testing.kube_apiserver import resources
from masakarimonitors_k8s.testing.kube_apiserver import selectors
from masakarimonitors_k8s.testing.kube_apiserver import store as store_mod

LOG = logging.getLogger(__name__)

EMULATED_VERSION = {
    'major': '1', 'minor': '35', 'gitVersion': 'v1.35.0',
    'gitCommit': '0000000000000000000000000000000000000000',
    'gitTreeState': 'clean', 'buildDate': '2025-12-17T00:00:00Z',
    'goVersion': 'go1.25.5', 'compiler': 'gc', 'platform': 'linux/amd64',
}
_ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list',
              'patch', 'update', 'watch']
_SSAR_GROUP = 'authorization.k8s.io'
_SHORT_NAMES = {'nodes': ['no'], 'events': ['ev']}


@dataclasses.dataclass
class Route:
    """What a request path names."""

    kind: str
    rtype: resources.ResourceType = None
    namespace: str = None
    name: str = None
    subresource: str = None
    group: str = None


def _groups():
    return sorted({rtype.group for rtype in resources.RESOURCE_TYPES.values()
                   if rtype.group} | {_SSAR_GROUP})


def route(path):
    """Parse an API path into a :class:`Route`; NotFound if not served."""
    parts = [part for part in path.split('/') if part]
    not_found = errors.NotFound(
        'the server could not find the requested resource', details={})
    if not parts:
        return Route('root')
    if parts == ['version']:
        return Route('version')
    if parts[0] in ('healthz', 'livez', 'readyz') and len(parts) == 1:
        return Route('health')
    if parts[0] == 'api':
        if len(parts) <= 2:
            if len(parts) == 2 and parts[1] != 'v1':
                raise not_found
            return Route('discovery', group='' if len(parts) == 2 else None)
        if parts[1] != 'v1':
            raise not_found
        group, rest = '', parts[2:]
    elif parts[0] == 'apis':
        if len(parts) == 1:
            return Route('discovery', group='*')
        if parts[1] not in _groups():
            raise not_found
        if len(parts) == 2:
            return Route('discovery', group=parts[1] + '/')
        if parts[2] != 'v1':
            raise not_found
        if len(parts) == 3:
            return Route('discovery', group=parts[1])
        group, rest = parts[1], parts[3:]
        if group == _SSAR_GROUP:
            if rest == ['selfsubjectaccessreviews']:
                return Route('ssar')
            raise not_found
    else:
        raise not_found
    namespace = None
    if rest[0] == 'namespaces' and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    if len(rest) > 3:
        raise not_found
    rtype = resources.RESOURCE_TYPES.get(rest[0])
    if rtype is None or rtype.group != group:
        raise not_found
    if namespace is not None and not rtype.namespaced:
        raise not_found
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else None
    if subresource is not None and not (subresource == 'status'
                                        and rtype.has_status):
        raise not_found
    if rtype.namespaced and namespace is None and name is not None:
        raise not_found
    return Route('resource', rtype=rtype, namespace=namespace, name=name,
                 subresource=subresource)


def verb_of(method, route_, exchange):
    """The k8s verb of a request to a resource route."""
    collection = route_.name is None
    if method == 'GET':
        if collection:
            return 'watch' if exchange.flag('watch') else 'list'
        return 'get'
    if collection:
        if method == 'POST':
            if route_.rtype.namespaced and route_.namespace is None:
                raise errors.MethodNotAllowed(
                    'create is only served in a namespace for %s'
                    % route_.rtype.name)
            return 'create'
        if method == 'DELETE':
            return 'deletecollection'
    else:
        verb = {'PUT': 'update', 'PATCH': 'patch',
                'DELETE': 'delete'}.get(method)
        if verb:
            return verb
    raise errors.MethodNotAllowed(
        'the server does not allow this method on the requested resource')


class ApiHandler:
    """Answers Kubernetes API requests for one :class:`KubeApiServer`."""

    def __init__(self, server):
        self._server = server
        self._random = random.Random()

    @property
    def _store(self):
        return self._server.store

    def classify(self, exchange):
        """Route the request and set ``exchange.verb``; raises ApiError."""
        route_ = route(exchange.path)
        if route_.kind == 'resource':
            exchange.verb = verb_of(exchange.method, route_, exchange)
        elif route_.kind == 'ssar':
            if exchange.method != 'POST':
                raise errors.MethodNotAllowed(
                    'selfsubjectaccessreviews only supports create')
            exchange.verb = 'create'
        elif exchange.method != 'GET':
            raise errors.MethodNotAllowed(
                'the server does not allow this method on the requested '
                'resource')
        else:
            exchange.verb = 'get'
        return route_

    def handle(self, exchange, route_):
        if route_.kind == 'version':
            return exchange.send_json(200, EMULATED_VERSION)
        if route_.kind == 'health':
            return exchange.send(200, b'ok', content_type='text/plain')
        user = self._server.authenticator.authenticate(
            exchange.header('Authorization'))
        if route_.kind == 'root':
            return exchange.send_json(200, {'paths': self._paths()})
        if route_.kind == 'discovery':
            return exchange.send_json(200, self._discovery(route_.group))
        if route_.kind == 'ssar':
            return self._self_subject_access_review(exchange, user)
        self._authorize(exchange, route_, user)
        method = getattr(self, '_' + exchange.verb)
        return method(exchange, route_)

    # -- authorization ----------------------------------------------------

    def _authorize(self, exchange, route_, user):
        rtype = route_.rtype
        name = route_.name
        if name is None and exchange.verb in ('list', 'watch'):
            try:
                fields = selectors.parse_field_selector(
                    exchange.query.get('fieldSelector'))
            except errors.BadRequest:
                fields = selectors.FieldSelector()
            name = fields.exact_value('metadata.name')
        request = auth.Request(
            verb=exchange.verb, resource=rtype.name, api_group=rtype.group,
            namespace=route_.namespace, name=name,
            subresource=route_.subresource)
        if not user.allows(request):
            raise auth.forbidden(user, request, rtype.qualified_name)

    def _self_subject_access_review(self, exchange, user):
        review = exchange.json_body()
        if not isinstance(review, dict):
            raise errors.BadRequest('a SelfSubjectAccessReview is an object')
        spec = review.get('spec') or {}
        attributes = spec.get('resourceAttributes')
        status = {'allowed': False}
        if attributes:
            request = auth.Request(
                verb=attributes.get('verb', ''),
                resource=attributes.get('resource', ''),
                api_group=attributes.get('group', ''),
                namespace=attributes.get('namespace') or None,
                name=attributes.get('name') or None,
                subresource=attributes.get('subresource') or None)
            if user.allows(request):
                status = {'allowed': True,
                          'reason': 'allowed by the rules of user "%s"'
                          % user.name}
        elif spec.get('nonResourceAttributes'):
            status['reason'] = ('non-resource URLs are not emulated by the '
                                'test server')
        else:
            raise errors.Invalid(
                'SelfSubjectAccessReview is invalid: spec: Invalid value: '
                'exactly one of nonResourceAttributes or resourceAttributes '
                'must be specified')
        answer = {
            'kind': 'SelfSubjectAccessReview',
            'apiVersion': '%s/v1' % _SSAR_GROUP,
            'metadata': {'creationTimestamp': None},
            'spec': spec,
            'status': status,
        }
        exchange.send_json(201, answer)

    # -- reads ------------------------------------------------------------

    def _get(self, exchange, route_):
        entry = self._store.get_entry(route_.rtype.name, route_.name,
                                      route_.namespace)
        exchange.send(200, entry.full())

    def _list(self, exchange, route_):
        rtype = route_.rtype
        query = exchange.query
        page = self._store.list_page(
            rtype.name, namespace=route_.namespace,
            label_selector=query.get('labelSelector'),
            field_selector=query.get('fieldSelector'),
            limit=exchange.int_param('limit'),
            continue_token=query.get('continue'),
            resource_version=query.get('resourceVersion'),
            resource_version_match=query.get('resourceVersionMatch'))
        exchange.send(200, self._list_body(rtype, page))

    @staticmethod
    def _list_body(rtype, page):
        metadata = {'resourceVersion': page.resource_version}
        if page.continue_token:
            metadata['continue'] = page.continue_token
        if page.remaining_item_count is not None:
            metadata['remainingItemCount'] = page.remaining_item_count
        # One join of all the parts: a LIST of 15,000 Nodes is 210 MB,
        # which a nested join would copy twice.
        parts = [b'{"kind":"%s","apiVersion":"%s","metadata":' % (
                 rtype.list_kind.encode(), rtype.api_version.encode()),
                 json.dumps(metadata, separators=(',', ':')).encode(),
                 b',"items":[']
        for entry in page.entries:
            parts.append(entry.body)
            parts.append(b',')
        if page.entries:
            parts.pop()
        parts.append(b']}')
        return b''.join(parts)

    def _watch(self, exchange, route_):
        query = exchange.query
        if exchange.flag('sendInitialEvents'):
            raise errors.BadRequest(
                'sendInitialEvents (watch-list) is not emulated by the test '
                'server')
        timeout = exchange.int_param('timeoutSeconds')
        if timeout is None or timeout <= 0:
            # kube-apiserver picks a random duration in
            # [minRequestTimeout, 2*minRequestTimeout) for watches without
            # a timeout, so clients must re-watch anyway.
            minimum = self._server.min_request_timeout
            timeout = self._random.uniform(minimum, 2 * minimum)
        bookmarks = exchange.flag('allowWatchBookmarks')
        try:
            watcher = self._store.watch(
                route_.rtype.name, namespace=route_.namespace,
                resource_version=query.get('resourceVersion'),
                label_selector=query.get('labelSelector'),
                field_selector=query.get('fieldSelector'),
                bookmarks=bookmarks,
                bookmark_interval=self._server.bookmark_interval)
        except errors.Expired as expired:
            # A watch from a compacted rv is answered 200 with one ERROR
            # event, as kube-apiserver does.
            exchange.start_stream()
            exchange.send_chunk(b'{"type":"ERROR","object":%s}\n'
                                % json.dumps(expired.status()).encode())
            exchange.end_stream()
            return
        self._server.stream_watch(exchange, watcher, timeout=timeout,
                                  bookmarks=bookmarks)

    # -- writes -----------------------------------------------------------

    def _write_scope(self, route_):
        if route_.subresource == 'status':
            return store_mod.WRITE_STATUS
        return store_mod.WRITE_MAIN

    def _reject_unemulated(self, exchange):
        if exchange.query.get('dryRun'):
            raise errors.BadRequest('dryRun is not emulated by the test '
                                    'server')

    def _create(self, exchange, route_):
        self._reject_unemulated(exchange)
        obj = exchange.json_body()
        if isinstance(obj, dict) and (obj.get('metadata') or {}).get(
                'resourceVersion'):
            raise errors.BadRequest(
                'resourceVersion should not be set on objects to be created')
        entry = self._store.create_entry(route_.rtype.name, obj,
                                         route_.namespace)
        exchange.send(201, entry.full())

    def _update(self, exchange, route_):
        self._reject_unemulated(exchange)
        obj = exchange.json_body()
        if not isinstance(obj, dict):
            raise errors.BadRequest('the object must be a JSON object')
        body_name = (obj.get('metadata') or {}).get('name')
        if body_name != route_.name:
            raise errors.BadRequest(
                'the name of the object (%s) does not match the name on the '
                'URL (%s)' % (body_name, route_.name))
        existed = True
        if route_.rtype.create_on_update:
            try:
                self._store.get_entry(route_.rtype.name, route_.name,
                                      route_.namespace)
            except errors.NotFound:
                existed = False
        entry = self._store.update_entry(
            route_.rtype.name, obj, route_.namespace,
            write_scope=self._write_scope(route_))
        exchange.send(200 if existed else 201, entry.full())

    def _patch(self, exchange, route_):
        self._reject_unemulated(exchange)
        patch = exchange.json_body()
        entry = self._store.patch_entry(
            route_.rtype.name, route_.name, patch, route_.namespace,
            content_type=exchange.header('Content-Type'),
            write_scope=self._write_scope(route_))
        exchange.send(200, entry.full())

    def _delete(self, exchange, route_):
        self._reject_unemulated(exchange)
        options = exchange.json_body(required=False) or {}
        entry = self._store.delete_entry(
            route_.rtype.name, route_.name, route_.namespace,
            preconditions=options.get('preconditions'))
        details = {'name': route_.name, 'kind': route_.rtype.name,
                   'uid': json.loads(entry.body)['metadata'].get('uid')}
        if route_.rtype.group:
            details['group'] = route_.rtype.group
        exchange.send_json(200, {
            'kind': 'Status', 'apiVersion': 'v1', 'metadata': {},
            'status': 'Success', 'details': details})

    def _deletecollection(self, exchange, route_):
        self._reject_unemulated(exchange)
        deleted = self._store.delete_collection(
            route_.rtype.name, namespace=route_.namespace,
            label_selector=exchange.query.get('labelSelector'),
            field_selector=exchange.query.get('fieldSelector'))
        page = store_mod.ListPage(deleted, self._store.resource_version,
                                  None, None)
        exchange.send(200, self._list_body(route_.rtype, page))

    # -- discovery --------------------------------------------------------

    def _paths(self):
        paths = ['/api', '/api/v1', '/apis', '/healthz', '/livez',
                 '/readyz', '/version']
        for group in _groups():
            paths += ['/apis/' + group, '/apis/%s/v1' % group]
        return sorted(paths)

    def _discovery(self, group):
        if group is None:
            host, port = self._server.address
            return {'kind': 'APIVersions', 'versions': ['v1'],
                    'serverAddressByClientCIDRs': [{
                        'clientCIDR': '0.0.0.0/0',
                        'serverAddress': '%s:%d' % (host, port)}]}
        if group == '*':
            return {'kind': 'APIGroupList', 'apiVersion': 'v1',
                    'groups': [self._group(name) for name in _groups()]}
        if group.endswith('/'):
            return self._group(group[:-1])
        resources_ = []
        if group == _SSAR_GROUP:
            resources_.append({
                'name': 'selfsubjectaccessreviews', 'singularName':
                'selfsubjectaccessreview', 'namespaced': False,
                'kind': 'SelfSubjectAccessReview', 'verbs': ['create']})
        for rtype in resources.RESOURCE_TYPES.values():
            if rtype.group != group:
                continue
            described = {'name': rtype.name,
                         'singularName': rtype.kind.lower(),
                         'namespaced': rtype.namespaced,
                         'kind': rtype.kind, 'verbs': list(_ALL_VERBS)}
            if rtype.name in _SHORT_NAMES:
                described['shortNames'] = _SHORT_NAMES[rtype.name]
            resources_.append(described)
            if rtype.has_status:
                resources_.append({
                    'name': rtype.name + '/status', 'singularName': '',
                    'namespaced': rtype.namespaced, 'kind': rtype.kind,
                    'verbs': ['get', 'patch', 'update']})
        return {'kind': 'APIResourceList', 'apiVersion': 'v1',
                'groupVersion': '%s/v1' % group if group else 'v1',
                'resources': sorted(resources_, key=lambda r: r['name'])}

    @staticmethod
    def _group(name):
        version = {'groupVersion': '%s/v1' % name, 'version': 'v1'}
        return {'kind': 'APIGroup', 'apiVersion': 'v1', 'name': name,
                'versions': [version], 'preferredVersion': version}
