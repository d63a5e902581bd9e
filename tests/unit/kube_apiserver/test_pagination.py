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

"""List pagination and resourceVersion semantics of ObjectStore.list."""

import pytest

from masakarimonitors_k8s import clock as clock_mod
from masakarimonitors_k8s.testing.kube_apiserver import errors
from masakarimonitors_k8s.testing.kube_apiserver import store as store_mod


def node(name, **labels):
    return {'metadata': {'name': name, 'labels': labels}}


@pytest.fixture
def store():
    store = store_mod.ObjectStore(clock=clock_mod.ManualClock(),
                                  history_limit=50)
    for index in range(10):
        store.create('nodes', node('n%02d' % index,
                                   parity='even' if index % 2 == 0
                                   else 'odd'))
    return store


def names(items):
    return [item['metadata']['name'] for item in items]


def list_all(store, **kwargs):
    pages, token = [], None
    while True:
        items, list_rv, token = store.list('nodes', continue_token=token,
                                           **kwargs)
        pages.append((names(items), list_rv))
        if token is None:
            return pages


def test_items_are_sorted_and_carry_no_kind(store):
    items, list_rv, token = store.list('nodes')
    assert names(items) == ['n%02d' % index for index in range(10)]
    assert list_rv == '10' and token is None
    assert 'kind' not in items[0] and 'apiVersion' not in items[0]


def test_pages_cover_every_item_once(store):
    pages = list_all(store, limit=4)
    assert [page for page, _ in pages] == [
        ['n00', 'n01', 'n02', 'n03'], ['n04', 'n05', 'n06', 'n07'],
        ['n08', 'n09']]
    assert {list_rv for _, list_rv in pages} == {'10'}


def test_remaining_item_count_only_without_selectors(store):
    page = store.list_page('nodes', limit=4)
    assert page.remaining_item_count == 6
    page = store.list_page('nodes', limit=4, continue_token=page
                           .continue_token)
    assert page.remaining_item_count == 2
    assert store.list_page('nodes', limit=3,
                           label_selector='parity=odd'
                           ).remaining_item_count is None


def test_selector_pages_and_no_empty_last_page(store):
    pages = list_all(store, limit=5, label_selector='parity=odd')
    assert [page for page, _ in pages] == [['n01', 'n03', 'n05', 'n07',
                                            'n09']]
    pages = list_all(store, limit=2, label_selector='parity=even')
    assert [page for page, _ in pages] == [['n00', 'n02'], ['n04', 'n06'],
                                           ['n08']]


def test_continuation_serves_the_first_page_snapshot(store):
    first, list_rv, token = store.list('nodes', limit=4)
    store.create('nodes', node('n035'))       # after the cursor: hidden
    store.delete('nodes', 'n05')              # after the cursor: still seen
    store.patch('nodes', 'n06', {'metadata': {'labels': {'new': 'x'}}})
    store.create('nodes', node('a-first'))    # before the cursor
    rest, rest_rv, token = store.list('nodes', continue_token=token)
    assert token is None and rest_rv == list_rv == '10'
    assert names(first + rest) == ['n%02d' % index for index in range(10)]
    assert 'new' not in rest[2]['metadata']['labels']
    assert rest[2]['metadata']['resourceVersion'] == '7'


def test_expired_continue_offers_an_inconsistent_continuation(store):
    _, _, token = store.list('nodes', limit=4)
    store.create('nodes', node('n045'))
    store.expire_history()
    with pytest.raises(store_mod.Expired) as caught:
        store.list('nodes', continue_token=token)
    status = caught.value.status()
    assert status['code'] == 410 and status['reason'] == 'Expired'
    assert 'too old to display a consistent list' in status['message']
    items, list_rv, _ = store.list(
        'nodes', continue_token=status['metadata']['continue'])
    assert names(items)[:3] == ['n04', 'n045', 'n05']
    assert list_rv == store.resource_version


def test_history_trimming_expires_old_tokens(store):
    _, _, token = store.list('nodes', limit=4)
    # 50 changes of history: the token's rv 10 is still just resumable.
    for index in range(50):
        store.patch('nodes', 'n00', {'metadata': {'labels': {
            'i': str(index)}}})
    assert len(store.list('nodes', continue_token=token)[0]) == 6
    store.patch('nodes', 'n00', {'metadata': {'labels': {'i': 'last'}}})
    with pytest.raises(store_mod.Expired):
        store.list('nodes', continue_token=token)


@pytest.mark.parametrize('token', [
    'not base64 !', 'eyJ2IjogMX0', 'bm90IGpzb24'])
def test_garbage_tokens_are_400(store, token):
    with pytest.raises(errors.BadRequest) as caught:
        store.list('nodes', continue_token=token)
    assert 'continue key is not valid' in caught.value.message


def test_token_of_another_resource_is_400(store):
    store.create('leases', {'metadata': {'name': 'a'}}, 'ns')
    store.create('leases', {'metadata': {'name': 'b'}}, 'ns')
    _, _, token = store.list('leases', limit=1)
    with pytest.raises(errors.BadRequest):
        store.list('nodes', continue_token=token)


def test_exact_resource_version_lists_the_past(store):
    store.delete('nodes', 'n03')
    store.patch('nodes', 'n04', {'metadata': {'labels': {'x': 'y'}}})
    items, list_rv, _ = store.list('nodes', resource_version='10',
                                   resource_version_match='Exact')
    assert list_rv == '10'
    assert len(items) == 10 and 'x' not in items[4]['metadata']['labels']
    items, list_rv, _ = store.list('nodes', resource_version='10',
                                   resource_version_match='NotOlderThan')
    assert list_rv == '12' and len(items) == 9
    items, list_rv, _ = store.list('nodes', resource_version='0')
    assert list_rv == '12'


def test_resource_version_errors(store):
    with pytest.raises(errors.Timeout) as caught:
        store.list('nodes', resource_version='99')
    assert caught.value.code == 504
    store.expire_history()
    store.create('nodes', node('x'))
    with pytest.raises(store_mod.Expired):
        store.list('nodes', resource_version='5',
                   resource_version_match='Exact')
    for kwargs in ({'resource_version_match': 'Exact'},
                   {'resource_version': '0',
                    'resource_version_match': 'Exact'},
                   {'resource_version': '3',
                    'resource_version_match': 'Sometime'},
                   {'resource_version': 'abc'},
                   {'resource_version': '3', 'continue_token': 'x'}):
        with pytest.raises(errors.BadRequest):
            store.list('nodes', **kwargs)


def test_namespaced_lists(store):
    for namespace, name in (('b', 'x'), ('a', 'y'), ('a', 'x'), ('c', 'z')):
        store.create('leases', {'metadata': {'name': name}}, namespace)
    items, _, _ = store.list('leases', namespace='a')
    assert [(i['metadata']['namespace'], i['metadata']['name'])
            for i in items] == [('a', 'x'), ('a', 'y')]
    items, _, token = store.list('leases', limit=3)
    assert [i['metadata']['namespace'] for i in items] == ['a', 'a', 'b']
    items, _, token = store.list('leases', continue_token=token)
    assert names(items) == ['z'] and token is None
    items, _, _ = store.list('leases', field_selector='metadata.namespace=c')
    assert names(items) == ['z']
