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

"""The resource types the test server serves, and what k8s says of each.

Part of the Kubernetes API test server. Everything that differs between
Nodes, Leases and Events (kind names, API group, namespacing, the field
labels a fieldSelector may use, whether a ``status`` subresource exists) is
declared here once, so the store and the HTTP layer stay generic.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class ResourceType:
    """One served resource, e.g. ``nodes`` in the core group."""

    name: str
    kind: str
    group: str
    version: str
    namespaced: bool
    field_labels: tuple
    has_status: bool = False
    create_on_update: bool = False

    @property
    def api_version(self):
        return '%s/%s' % (self.group, self.version) if self.group \
            else self.version

    @property
    def list_kind(self):
        return self.kind + 'List'

    @property
    def qualified_name(self):
        """``leases.coordination.k8s.io`` as k8s messages spell it."""
        return '%s.%s' % (self.name, self.group) if self.group else self.name

    @property
    def kind_prefix(self):
        """JSON that opens an object of this kind, ahead of its metadata."""
        return ('{"kind":"%s","apiVersion":"%s",'
                % (self.kind, self.api_version)).encode()

    def field_values(self, obj):
        """The values a fieldSelector matches, stringified as k8s does."""
        metadata = obj.get('metadata') or {}
        fields = {'metadata.name': metadata.get('name', '')}
        if self.namespaced:
            fields['metadata.namespace'] = metadata.get('namespace', '')
        if self.name == 'nodes':
            unschedulable = (obj.get('spec') or {}).get('unschedulable')
            fields['spec.unschedulable'] = 'true' if unschedulable \
                else 'false'
        elif self.name == 'events':
            involved = obj.get('involvedObject') or {}
            for field in ('kind', 'namespace', 'name', 'uid', 'apiVersion',
                          'resourceVersion', 'fieldPath'):
                fields['involvedObject.' + field] = str(
                    involved.get(field) or '')
            fields['reason'] = obj.get('reason') or ''
            fields['reportingComponent'] = obj.get('reportingComponent') \
                or ''
            fields['source'] = (obj.get('source') or {}).get(
                'component') or ''
            fields['type'] = obj.get('type') or ''
        return fields


_NAMESPACED_FIELDS = ('metadata.name', 'metadata.namespace')
_EVENT_FIELDS = _NAMESPACED_FIELDS + (
    'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name',
    'involvedObject.uid', 'involvedObject.apiVersion',
    'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason',
    'reportingComponent', 'source', 'type')

NODES = ResourceType(
    name='nodes', kind='Node', group='', version='v1', namespaced=False,
    field_labels=('metadata.name', 'spec.unschedulable'), has_status=True)
LEASES = ResourceType(
    name='leases', kind='Lease', group='coordination.k8s.io', version='v1',
    namespaced=True, field_labels=_NAMESPACED_FIELDS)
EVENTS = ResourceType(
    name='events', kind='Event', group='', version='v1', namespaced=True,
    field_labels=_EVENT_FIELDS, create_on_update=True)

RESOURCE_TYPES = {rtype.name: rtype for rtype in (NODES, LEASES, EVENTS)}


def resource_type(name):
    """The :class:`ResourceType` called ``name``; ``KeyError`` if unknown."""
    try:
        return RESOURCE_TYPES[name]
    except KeyError:
        raise KeyError('the test server does not serve %r' % name) from None
