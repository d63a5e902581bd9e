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

"""A minimal in-memory object store for the cluster model's unit tests.

It has the methods of the test API server's ``ObjectStore`` that the model
calls, raises the same exceptions, and additionally keeps a log of every
write, so unit tests can check what the model wrote and in how many steps
without depending on the real store's watch machinery.
"""

import copy
import itertools

from masakarimonitors_k8s.testing.kube_apiserver import errors
from masakarimonitors_k8s.testing import nodes


class FakeStore:
    def __init__(self, clock):
        self._clock = clock
        self._objects = {}
        self._versions = itertools.count(1)
        self.resource_version = '0'
        # (verb, resource, namespace, name, object written), oldest first.
        self.writes = []
        self.subscribers = []

    def subscribe(self, callback):
        self.subscribers.append(callback)

    def unsubscribe(self, callback):
        self.subscribers.remove(callback)

    def _notify(self, change_type, resource, obj):
        for callback in list(self.subscribers):
            callback(change_type, resource, copy.deepcopy(obj))

    def _key(self, resource, name, namespace):
        return resource, namespace, name

    def _stamp(self, resource, obj, namespace, verb):
        self.resource_version = str(next(self._versions))
        obj['metadata']['resourceVersion'] = self.resource_version
        self.writes.append((verb, resource, namespace,
                            obj['metadata']['name'], copy.deepcopy(obj)))
        self._notify('ADDED' if verb == 'create' else 'MODIFIED', resource,
                     obj)

    def create(self, resource, obj, namespace=None):
        obj = copy.deepcopy(obj)
        key = self._key(resource, obj['metadata']['name'], namespace)
        if key in self._objects:
            raise errors.AlreadyExists('%s %s exists' % (resource, key[2]))
        obj['metadata']['uid'] = 'uid-%s-%s' % (resource, key[2])
        obj['metadata']['creationTimestamp'] = nodes.format_time(
            self._clock.wall())
        if namespace is not None:
            obj['metadata']['namespace'] = namespace
        self._stamp(resource, obj, namespace, 'create')
        self._objects[key] = obj
        return copy.deepcopy(obj)

    def get(self, resource, name, namespace=None):
        try:
            return copy.deepcopy(
                self._objects[self._key(resource, name, namespace)])
        except KeyError:
            raise errors.NotFound('%s %s not found' % (resource, name))

    def update(self, resource, obj, namespace=None):
        current = self.get(resource, obj['metadata']['name'], namespace)
        wanted = obj['metadata'].get('resourceVersion')
        if wanted and wanted != current['metadata']['resourceVersion']:
            raise errors.Conflict('stale resourceVersion')
        obj = copy.deepcopy(obj)
        self._stamp(resource, obj, namespace, 'update')
        self._objects[self._key(resource, obj['metadata']['name'],
                                namespace)] = obj
        return copy.deepcopy(obj)

    def mutate(self, resource, name, fn, namespace=None):
        current = self.get(resource, name, namespace)
        edited = copy.deepcopy(current)
        returned = fn(edited)
        if returned is not None:
            edited = returned
        if edited == current:
            return current
        self._stamp(resource, edited, namespace, 'mutate')
        self._objects[self._key(resource, name, namespace)] = edited
        return copy.deepcopy(edited)

    def delete(self, resource, name, namespace=None):
        obj = self.get(resource, name, namespace)
        del self._objects[self._key(resource, name, namespace)]
        self.writes.append(('delete', resource, namespace, name, obj))
        self._notify('DELETED', resource, obj)
        return obj

    def list(self, resource, namespace=None, label_selector=None,
             field_selector=None, limit=None, continue_token=None,
             resource_version=None):
        items = [copy.deepcopy(obj) for (kind, space, _), obj
                 in sorted(self._objects.items())
                 if kind == resource and (namespace is None
                                          or space == namespace)]
        return items, self.resource_version, None
