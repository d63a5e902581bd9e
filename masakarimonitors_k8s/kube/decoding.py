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

"""Bytes from the API -> the few fields of a Node the monitor reads.

Position in the flow: Kubernetes API -> **decoding** -> reflector -> node
state. A Node is about 14 KB of JSON (managedFields, images, addresses)
and the monitor reads a dozen fields of it; at 5,000 nodes it receives
about 17 of them a second, each the kubelet's periodic status report.
``json.loads`` builds the whole object only for it to be dropped.
msgspec decodes into typed structs that declare the fields
:class:`~masakarimonitors_k8s.kube.nodes.NodeTranslator` reads and skips
the rest without building it. Measured on the benchmark's Node watch
lines (``python -m masakarimonitors_k8s.bench.decoding``), decode and
translate per event: ``json`` 0.072 ms, ``orjson`` 0.038 ms, ``msgspec``
untyped 0.038 ms, ``msgspec`` typed 0.017 ms.

The typed decoders are strict about the types of the fields they keep (a
label value must be a string); anything they refuse (an ``ERROR`` event,
an odd object from a broken API server) is decoded again by ``json`` and
goes down the general path, where the translator reports what is wrong:
nothing is lost and nothing is invented, and each such object is counted
(:attr:`NodeDecoder.fallbacks`).
"""

import json

import msgspec
from oslo_log import log as logging

LOG = logging.getLogger(__name__)


class Condition(msgspec.Struct):
    type: str | None = None
    status: str | None = None
    reason: str | None = None
    lastTransitionTime: str | None = None


class Taint(msgspec.Struct):
    key: str | None = None
    timeAdded: str | None = None


class Metadata(msgspec.Struct):
    name: str | None = None
    resourceVersion: str | None = None
    uid: str | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None


class Spec(msgspec.Struct):
    taints: list[Taint] | None = None
    unschedulable: bool | None = None


class Status(msgspec.Struct):
    conditions: list[Condition] | None = None


class Node(msgspec.Struct):
    metadata: Metadata | None = None
    spec: Spec | None = None
    status: Status | None = None


class NodeEvent(msgspec.Struct):
    type: str
    object: Node


class ListMetadata(msgspec.Struct):
    resourceVersion: str | None = None
    # ``continue`` is a Python keyword.
    continue_token: str | None = msgspec.field(default=None,
                                               name='continue')


class NodeList(msgspec.Struct):
    items: list[Node] | None = None
    metadata: ListMetadata | None = None


def slim(node):
    """A typed :class:`Node` -> the dict shape the translator reads."""
    obj = {}
    metadata = node.metadata
    if metadata is not None:
        obj['metadata'] = {
            key: value for key, value in (
                ('name', metadata.name),
                ('resourceVersion', metadata.resourceVersion),
                ('uid', metadata.uid), ('labels', metadata.labels),
                ('annotations', metadata.annotations))
            if value is not None}
    spec = node.spec
    if spec is not None:
        obj['spec'] = {}
        if spec.taints is not None:
            obj['spec']['taints'] = [
                {'key': taint.key, 'timeAdded': taint.timeAdded}
                for taint in spec.taints]
        if spec.unschedulable is not None:
            obj['spec']['unschedulable'] = spec.unschedulable
    status = node.status
    if status is not None:
        obj['status'] = {}
        if status.conditions is not None:
            obj['status']['conditions'] = [
                {'type': condition.type, 'status': condition.status,
                 'reason': condition.reason,
                 'lastTransitionTime': condition.lastTransitionTime}
                for condition in status.conditions]
    return obj


def json_event(line):
    """A watch line -> (type, object dict) the general way, or ValueError.

    ValueError when the line is not JSON, or not an event with an object.
    """
    event = json.loads(line)
    if not isinstance(event, dict) or not isinstance(
            event.get('object'), dict):
        raise ValueError('event without an object')
    return event.get('type'), event['object']


def json_document(data):
    return json.loads(data) if data else {}


class NodeDecoder:
    """Node watch lines and LIST pages -> slim dicts, typed when it can."""

    def __init__(self):
        self._event = msgspec.json.Decoder(NodeEvent)
        self._page = msgspec.json.Decoder(NodeList)
        # Objects the typed decoders refused, decoded by json instead.
        self.fallbacks = 0

    def _fell_back(self, what, exc):
        self.fallbacks += 1
        log = LOG.info if self.fallbacks == 1 else LOG.debug
        log('Decoding a Node %s the general way (%s); objects like this '
            'are reported as problems of the node if they are any '
            '(%d such so far).', what, exc, self.fallbacks)

    def event(self, line):
        """Like :func:`json_event`, with the Node slimmed down."""
        try:
            event = self._event.decode(line)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            self._fell_back('watch event', exc)
            return json_event(line)
        if event.type == 'ERROR':
            # A Status, not a Node: its fields are what matters.
            return json_event(line)
        return event.type, slim(event.object)

    def document(self, data):
        """A LIST page (or an error Status) -> dict with slim items."""
        if not data:
            return {}
        try:
            page = self._page.decode(data)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            self._fell_back('LIST page', exc)
            return json_document(data)
        if page.items is None:
            # Not a list: an error Status, whose fields we did not keep.
            return json_document(data)
        document = {'items': [slim(node) for node in page.items]}
        if page.metadata is not None:
            document['metadata'] = {
                key: value for key, value in (
                    ('resourceVersion', page.metadata.resourceVersion),
                    ('continue', page.metadata.continue_token))
                if value is not None}
        return document
