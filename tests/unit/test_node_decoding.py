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

"""The typed Node decoder sees exactly what the general path sees."""

import json
import socket

import hypothesis
from hypothesis import strategies as st
import pytest

from masakarimonitors_k8s.kube import client as kube_client
from masakarimonitors_k8s.kube import decoding
from masakarimonitors_k8s.kube import nodes as kube_nodes
from masakarimonitors_k8s.testing import nodes as model_nodes
from tests.unit import factories

TRANSLATORS = (
    kube_nodes.NodeTranslator(),
    kube_nodes.NodeTranslator(
        hostname_source='annotation', hostname_key='example.org/host',
        exclude_label='example.org/skip', bmc_annotation='example.org/bmc',
        hostname_domain='cloud.example'),
    kube_nodes.NodeTranslator(hostname_source='label',
                              hostname_key='example.org/host'),
)


def line(kind, obj):
    return json.dumps({'type': kind, 'object': obj}).encode()


def both_ways(obj, kind='MODIFIED'):
    """(translations the general way, the typed way, fallbacks)."""
    decoder = decoding.NodeDecoder()
    general_kind, general = decoding.json_event(line(kind, obj))
    typed_kind, typed = decoder.event(line(kind, obj))
    assert typed_kind == general_kind == kind
    return ([t.translate(general) for t in TRANSLATORS],
            [t.translate(typed) for t in TRANSLATORS], decoder.fallbacks)


REALISTIC = model_nodes.make_node('compute-00042', now=factories.EPOCH,
                                  index=42)
model_nodes.apply_kubelet_status(REALISTIC, now=factories.EPOCH + 300)


@pytest.mark.parametrize('obj', [
    REALISTIC,
    factories.ready_node(labels={'example.org/host': 'h1'}),
    factories.powered_off_node(annotations={
        'example.org/bmc': 'https://10.0.0.9', 'example.org/host': 'h1'}),
    factories.not_ready_node(labels={'example.org/skip': 'true'},
                             unschedulable=True),
    factories.node(ready=None),
    factories.node(taints=(factories.taint('x', time_added=None),)),
], ids=['kubelet-report', 'label-host', 'fenced', 'excluded-cordoned',
        'no-conditions', 'taint-without-time'])
def test_typed_decoding_translates_like_json(obj):
    general, typed, fallbacks = both_ways(obj)
    assert typed == general
    assert fallbacks == 0


def test_only_the_fields_read_survive():
    _kind, typed = decoding.NodeDecoder().event(line('MODIFIED', REALISTIC))
    assert set(typed) == {'metadata', 'spec', 'status'}
    assert 'managedFields' not in typed['metadata']
    assert 'images' not in typed['status']
    assert len(json.dumps(typed)) < len(json.dumps(REALISTIC)) / 5


def odd(path, value):
    obj = factories.ready_node(annotations={'example.org/bmc': 'b'})
    target = obj
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return obj


@pytest.mark.parametrize('obj', [
    odd(('metadata', 'labels'), ['a']),
    odd(('metadata', 'labels'), {'example.org/skip': 1}),
    odd(('metadata', 'annotations'), 'text'),
    odd(('metadata', 'resourceVersion'), 17),
    odd(('spec', 'taints'), {'key': 'x'}),
    odd(('spec', 'unschedulable'), 'true'),
    odd(('status', 'conditions'), 'Ready'),
    odd(('status',), []),
    odd(('metadata', 'name'), 5),
], ids=['labels-list', 'label-int', 'annotations-text', 'rv-int',
        'taints-map', 'unschedulable-text', 'conditions-text', 'status-list',
        'name-int'])
def test_odd_objects_go_the_general_way_and_are_counted(obj):
    general, typed, fallbacks = both_ways(obj)
    assert typed == general
    assert fallbacks == 1


def test_nulls_are_read_as_absent():
    obj = factories.ready_node()
    obj['metadata']['labels'] = None
    obj['spec'] = {'taints': None}
    general, typed, fallbacks = both_ways(obj)
    assert typed == general
    assert fallbacks == 0


def test_an_error_event_keeps_its_status():
    status = {'kind': 'Status', 'code': 410, 'reason': 'Expired',
              'message': 'too old resource version'}
    decoder = decoding.NodeDecoder()
    kind, obj = decoder.event(line('ERROR', status))
    assert (kind, obj) == ('ERROR', status)
    with pytest.raises(kube_client.Expired):
        kube_client._watch_event(line('ERROR', status), '/api/v1/nodes',
                                 decoder.event)


@pytest.mark.parametrize('text', [
    b'{"type": "ADDED"}', b'not json', b'[1, 2]',
    b'{"type": "ADDED", "object": 3}'])
def test_a_broken_line_is_an_api_error(text):
    with pytest.raises(kube_client.ApiError, match='undecodable event'):
        kube_client._watch_event(text, '/api/v1/nodes',
                                 decoding.NodeDecoder().event)


def test_a_bookmark_keeps_its_resource_version():
    bookmark = {'kind': 'Node', 'metadata': {'resourceVersion': '123'}}
    kind, obj = decoding.NodeDecoder().event(line('BOOKMARK', bookmark))
    assert kind == 'BOOKMARK'
    assert obj['metadata'] == {'resourceVersion': '123'}


def test_a_list_page_keeps_items_and_continue():
    page = {'kind': 'NodeList', 'metadata': {'resourceVersion': '77',
                                             'continue': 'abc'},
            'items': [REALISTIC, factories.powered_off_node('node-2')]}
    document = decoding.NodeDecoder().document(json.dumps(page).encode())
    assert document['metadata'] == {'resourceVersion': '77',
                                    'continue': 'abc'}
    translator = kube_nodes.NodeTranslator()
    assert [translator.translate(obj) for obj in document['items']] == [
        translator.translate(obj) for obj in page['items']]


def test_an_odd_item_sends_the_page_the_general_way():
    page = {'metadata': {'resourceVersion': '77'},
            'items': [REALISTIC, odd(('metadata', 'labels'), ['a'])]}
    decoder = decoding.NodeDecoder()
    document = decoder.document(json.dumps(page).encode())
    assert document == page
    assert decoder.fallbacks == 1


def test_a_status_instead_of_a_list_is_kept_whole():
    status = {'kind': 'Status', 'code': 410, 'reason': 'Expired',
              'message': 'continue token expired'}
    assert decoding.NodeDecoder().document(
        json.dumps(status).encode()) == status


@hypothesis.given(
    lines=st.lists(st.binary(min_size=0, max_size=40).map(
        lambda data: data.replace(b'\n', b'')), max_size=8),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=10),
    final_newline=st.booleans())
def test_lines_do_not_depend_on_chunk_boundaries(lines, cuts, final_newline):
    body = b'\n'.join(lines) + (b'\n' if final_newline else b'')
    edges = sorted({0, len(body)} | {cut for cut in cuts if cut < len(body)})
    chunks = [body[start:end] for start, end in zip(edges, edges[1:])]
    expected = [item for item in body.split(b'\n') if item.strip()]
    assert list(kube_client._lines(chunks)) == expected


class FakeTlsSocket:
    """Bytes already decrypted by the TLS layer, or none (pending())."""

    def __init__(self, sock, pending=0):
        self._sock = sock
        self.pending_bytes = pending

    def pending(self):
        return self.pending_bytes

    def fileno(self):
        return self._sock.fileno()


def test_the_reader_naps_only_when_nothing_is_waiting():
    ours, theirs = socket.socketpair()
    tls = FakeTlsSocket(ours)
    naps = []

    def chunks():
        yield b'a\n'            # nothing waiting after it: nap
        theirs.sendall(b'x')
        yield b'b\n'            # the socket is readable: read on
        ours.recv(1)
        tls.pending_bytes = 5
        yield b'c\n'            # TLS holds decrypted bytes: read on
        tls.pending_bytes = 0
        yield b'd\n'            # nothing again: nap

    try:
        lines = list(kube_client._lines(kube_client._coalesced(
            chunks(), tls, 0.5, nap=naps.append)))
    finally:
        ours.close()
        theirs.close()
    assert lines == [b'a', b'b', b'c', b'd']
    assert naps == [0.5, 0.5]


def test_the_reader_says_idle_before_each_nap_after_the_lines_read():
    ours, theirs = socket.socketpair()
    seen = []

    def chunks():
        yield b'a\nb'          # nothing waiting: idle once 'a' was read
        theirs.sendall(b'x')
        yield b'\nc\n'          # more waiting: no idle after 'b', 'c'
        ours.recv(1)
        yield b'd\n'

    try:
        for line in kube_client._lines(kube_client._coalesced(
                chunks(), ours, 0.5, nap=lambda seconds: seen.append('nap'),
                on_idle=lambda: seen.append('idle'))):
            seen.append(line)
    finally:
        ours.close()
        theirs.close()
    assert seen == [b'a', 'idle', 'nap', b'b', b'c', b'd', 'idle', 'nap']


def test_without_a_socket_each_read_is_all_there_is():
    seen = []
    for line in kube_client._lines(kube_client._each_then(
            [b'a\nb\n', b'c\n'], lambda: seen.append('idle'))):
        seen.append(line)
    assert seen == [b'a', b'b', 'idle', b'c', 'idle']


def test_a_closed_socket_does_not_nap():
    ours, theirs = socket.socketpair()
    theirs.close()
    naps = []
    ours.close()
    assert list(kube_client._coalesced([b'a'], ours, 0.5,
                                       nap=naps.append)) == [b'a']
    assert naps == []
