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

"""ObjectStore semantics: versions, conflicts, patches, watch, history."""

import json
import threading

import pytest

from masakarimonitors_k8s import clock as clock_mod
from masakarimonitors_k8s.testing.kube_apiserver import errors
from masakarimonitors_k8s.testing.kube_apiserver import patches
from masakarimonitors_k8s.testing.kube_apiserver import store as store_mod

NS = 'kube-node-lease'
pytestmark = pytest.mark.timeout(60)


def node(name, labels=None, **spec):
    return {'kind': 'Node', 'apiVersion': 'v1',
            'metadata': {'name': name, 'labels': dict(labels or {})},
            'spec': dict(spec), 'status': {'phase': 'Running'}}


def lease(name, holder='me'):
    return {'metadata': {'name': name},
            'spec': {'holderIdentity': holder, 'leaseDurationSeconds': 40}}


@pytest.fixture
def clock():
    return clock_mod.ManualClock(wall=1_800_000_000.0)


@pytest.fixture
def store(clock):
    return store_mod.ObjectStore(clock=clock, history_limit=100)


def rv(obj):
    return int(obj['metadata']['resourceVersion'])


def drain(watcher):
    events = []
    while True:
        event = watcher.next(timeout=0)
        if event is None:
            return events
        events.append((event[0], event[1]['metadata'].get('name'),
                       event[1]['metadata']['resourceVersion']))


class TestWrites:
    def test_objects_are_stored_as_compact_utf8_json_in_write_order(
            self, store):
        store.create('nodes', node('n1', labels={'zone': 'a'},
                                   note='caf\u00e9 \u2713', count=3))

        body = store.get_entry('nodes', 'n1').body

        assert body == json.dumps(json.loads(body), ensure_ascii=False,
                                  separators=(',', ':')).encode()
        assert 'caf\u00e9 \u2713'.encode() in body
        assert list(json.loads(body)) == ['metadata', 'spec', 'status']

    def test_keys_the_fast_encoder_refuses_are_written_as_json_does(
            self, store):
        store.create('nodes', node('n1', odd={True: 'x', None: 'y'}))

        assert store.get('nodes', 'n1')['spec']['odd'] == {'true': 'x',
                                                           'null': 'y'}

    def test_create_sets_server_fields(self, store):
        created = store.create('nodes', node('n1'))
        metadata = created['metadata']
        assert created['kind'] == 'Node' and created['apiVersion'] == 'v1'
        assert metadata['resourceVersion'] == '1'
        assert metadata['creationTimestamp'] == '2027-01-15T08:00:00Z'
        assert len(metadata['uid']) == 36
        assert 'namespace' not in metadata
        assert store.get('nodes', 'n1') == created

    def test_create_namespaced_takes_the_namespace(self, store):
        created = store.create('leases', lease('l1'), namespace=NS)
        assert created['metadata']['namespace'] == NS
        assert created['apiVersion'] == 'coordination.k8s.io/v1'
        assert store.get('leases', 'l1', NS)['spec']['holderIdentity'] == \
            'me'
        with pytest.raises(errors.BadRequest):
            store.create('leases', lease('l2'))
        with pytest.raises(errors.BadRequest):
            other = lease('l3')
            other['metadata']['namespace'] = 'elsewhere'
            store.create('leases', other, namespace=NS)

    def test_resource_version_is_one_cluster_wide_counter(self, store):
        versions = [rv(store.create('nodes', node('n1'))),
                    rv(store.create('leases', lease('l1'), NS)),
                    rv(store.patch('nodes', 'n1', {'spec': {'x': 1}})),
                    rv(store.delete('leases', 'l1', NS))]
        assert versions == [1, 2, 3, 4]
        assert store.resource_version == '4'

    def test_already_exists_and_not_found(self, store):
        store.create('nodes', node('n1'))
        with pytest.raises(store_mod.AlreadyExists) as caught:
            store.create('nodes', node('n1'))
        assert caught.value.status()['message'] == \
            'nodes "n1" already exists'
        with pytest.raises(store_mod.NotFound) as caught:
            store.get('leases', 'nope', NS)
        assert caught.value.status()['message'] == \
            'leases.coordination.k8s.io "nope" not found'
        assert caught.value.status()['details'] == {
            'name': 'nope', 'kind': 'leases', 'group': 'coordination.k8s.io'}
        for call in (lambda: store.update('nodes', node('nope')),
                     lambda: store.patch('nodes', 'nope', {}),
                     lambda: store.delete('nodes', 'nope'),
                     lambda: store.mutate('nodes', 'nope', dict)):
            with pytest.raises(store_mod.NotFound):
                call()

    def test_get_returns_private_copies(self, store):
        store.create('nodes', node('n1', labels={'a': 'b'}))
        copy = store.get('nodes', 'n1')
        copy['metadata']['labels']['a'] = 'changed'
        assert store.get('nodes', 'n1')['metadata']['labels'] == {'a': 'b'}

    def test_caller_object_is_not_modified(self, store):
        original = node('n1')
        store.create('nodes', original)
        assert 'resourceVersion' not in original['metadata']
        assert original['kind'] == 'Node'

    def test_update_with_stale_version_conflicts(self, store):
        created = store.create('leases', lease('l1'), NS)
        first = store.get('leases', 'l1', NS)
        second = store.get('leases', 'l1', NS)
        first['spec']['holderIdentity'] = 'a'
        updated = store.update('leases', first, NS)
        assert rv(updated) > rv(created)
        second['spec']['holderIdentity'] = 'b'
        with pytest.raises(store_mod.Conflict) as caught:
            store.update('leases', second, NS)
        assert caught.value.code == 409
        assert 'the object has been modified' in caught.value.message
        assert store.get('leases', 'l1', NS)['spec']['holderIdentity'] == 'a'

    def test_update_without_version_is_unconditional(self, store):
        store.create('nodes', node('n1'))
        replacement = node('n1', unschedulable=True)
        updated = store.update('nodes', replacement)
        assert updated['spec'] == {'unschedulable': True}

    def test_update_keeps_uid_and_creation_time(self, store, clock):
        created = store.create('nodes', node('n1'))
        clock.advance(60)
        replacement = node('n1')
        replacement['metadata']['uid'] = 'forged'
        replacement['metadata']['creationTimestamp'] = 'forged'
        replacement['spec'] = {'x': 1}
        updated = store.update('nodes', replacement)
        for field in ('uid', 'creationTimestamp'):
            assert updated['metadata'][field] == created['metadata'][field]

    def test_noop_writes_do_not_bump_the_version(self, store):
        created = store.create('nodes', node('n1', labels={'a': 'b'}))
        watcher = store.watch('nodes', resource_version=store.resource_version)
        assert store.update('nodes', store.get('nodes', 'n1')) == created
        assert store.patch('nodes', 'n1', {'metadata': {'labels': {
            'a': 'b'}}}) == created
        assert store.mutate('nodes', 'n1', lambda obj: None) == created
        # Same content, keys in another order.
        reordered = dict(reversed(list(store.get('nodes', 'n1').items())))
        assert store.update('nodes', reordered) == created
        assert store.resource_version == '1'
        assert drain(watcher) == []

    def test_merge_patch_with_null_deletes(self, store):
        store.create('nodes', node('n1', labels={'a': '1', 'b': '2'},
                                   taints=[{'key': 'k'}]))
        patched = store.patch('nodes', 'n1', {
            'metadata': {'labels': {'a': None, 'c': '3'}},
            'spec': {'taints': None, 'unschedulable': True}})
        assert patched['metadata']['labels'] == {'b': '2', 'c': '3'}
        assert patched['spec'] == {'unschedulable': True}

    def test_patch_with_stale_version_conflicts(self, store):
        created = store.create('nodes', node('n1'))
        store.patch('nodes', 'n1', {'spec': {'x': 1}})
        with pytest.raises(store_mod.Conflict):
            store.patch('nodes', 'n1', {'metadata': {
                'resourceVersion': created['metadata']['resourceVersion']},
                'spec': {'x': 2}})
        current = store.get('nodes', 'n1')['metadata']['resourceVersion']
        patched = store.patch('nodes', 'n1', {'metadata': {
            'resourceVersion': current}, 'spec': {'x': 3}})
        assert patched['spec'] == {'x': 3}

    def test_patch_cannot_rename(self, store):
        store.create('nodes', node('n1'))
        with pytest.raises(errors.Invalid):
            store.patch('nodes', 'n1', {'metadata': {'name': 'n2'}})

    def test_json_patch(self, store):
        store.create('nodes', node('n1', taints=[]))
        patched = store.patch(
            'nodes', 'n1',
            [{'op': 'add', 'path': '/spec/taints/-',
              'value': {'key': 'k', 'effect': 'NoExecute'}}],
            content_type=patches.JSON_PATCH)
        assert patched['spec']['taints'] == [{'key': 'k',
                                              'effect': 'NoExecute'}]

    def test_mutate_edits_in_place_or_returns(self, store):
        store.create('leases', lease('l1'), NS)

        def renew(obj):
            obj['spec']['renewTime'] = '2027-01-15T08:00:10.000000Z'

        renewed = store.mutate('leases', 'l1', renew, NS)
        assert renewed['spec']['renewTime'] == '2027-01-15T08:00:10.000000Z'
        assert rv(renewed) == 2

        def replace(obj):
            return {'metadata': obj['metadata'],
                    'spec': {'holderIdentity': 'other'}}

        replaced = store.mutate('leases', 'l1', replace, NS)
        assert replaced['spec'] == {'holderIdentity': 'other'}
        assert rv(replaced) == 3

    def test_mutate_is_atomic_under_concurrency(self, store):
        store.create('nodes', node('n1', count=0))

        def increment(obj):
            obj['spec']['count'] += 1

        def worker():
            for _ in range(200):
                store.mutate('nodes', 'n1', increment)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        final = store.get('nodes', 'n1')
        assert final['spec']['count'] == 800
        assert rv(final) == 801

    def test_delete_returns_object_with_new_version(self, store):
        store.create('nodes', node('n1'))
        watcher = store.watch('nodes', resource_version='1')
        deleted = store.delete('nodes', 'n1')
        assert rv(deleted) == 2
        assert drain(watcher) == [('DELETED', 'n1', '2')]
        with pytest.raises(store_mod.NotFound):
            store.get('nodes', 'n1')

    def test_delete_preconditions(self, store):
        created = store.create('nodes', node('n1'))
        with pytest.raises(store_mod.Conflict) as caught:
            store.delete('nodes', 'n1', preconditions={'uid': 'other'})
        assert 'Precondition failed: UID' in caught.value.message
        store.delete('nodes', 'n1', preconditions={
            'uid': created['metadata']['uid'], 'resourceVersion': '1'})

    def test_generate_name(self, store):
        first = store.create('events', {'metadata': {
            'generateName': 'node-1.'}, 'reason': 'NodeNotReady'}, 'default')
        second = store.create('events', {'metadata': {
            'generateName': 'node-1.'}, 'reason': 'NodeNotReady'}, 'default')
        for created in (first, second):
            assert created['metadata']['name'].startswith('node-1.')
            assert len(created['metadata']['name']) == len('node-1.') + 5
        assert first['metadata']['name'] != second['metadata']['name']

    @pytest.mark.parametrize('bad', [
        {'metadata': {'name': 'Upper'}},
        {'metadata': {'name': 'under_score'}},
        {'metadata': {}},
        {'metadata': {'name': 'ok', 'labels': {'bad key': 'x'}}},
        {'metadata': {'name': 'ok', 'labels': {'k': 'bad value'}}},
        {'metadata': {'name': 'ok', 'labels': {'k': 1}}},
    ])
    def test_invalid_objects_are_422(self, store, bad):
        with pytest.raises(errors.Invalid) as caught:
            store.create('nodes', bad)
        assert caught.value.code == 422

    def test_wrong_kind_is_rejected(self, store):
        with pytest.raises(errors.BadRequest):
            store.create('nodes', {'kind': 'Lease',
                                   'metadata': {'name': 'x'}})

    def test_main_write_scope_keeps_status(self, store):
        store.create('nodes', node('n1'))
        changed = node('n1', unschedulable=True)
        changed['status'] = {'phase': 'Forged'}
        updated = store.update('nodes', changed,
                               write_scope=store_mod.WRITE_MAIN)
        assert updated['spec'] == {'unschedulable': True}
        assert updated['status'] == {'phase': 'Running'}
        patched = store.patch('nodes', 'n1', {'status': {'phase': 'X'}},
                              write_scope=store_mod.WRITE_MAIN)
        assert patched['status'] == {'phase': 'Running'}

    def test_status_write_scope_changes_only_status(self, store):
        store.create('nodes', node('n1'))
        patched = store.patch(
            'nodes', 'n1', {'spec': {'unschedulable': True},
                            'status': {'phase': 'Gone'}},
            write_scope=store_mod.WRITE_STATUS)
        assert patched['spec'] == {}
        assert patched['status'] == {'phase': 'Gone'}

    def test_events_are_created_on_update(self, store):
        created = store.update('events', {'metadata': {'name': 'e1'},
                                          'reason': 'x'}, 'default')
        assert created['metadata']['resourceVersion'] == '1'
        with pytest.raises(store_mod.NotFound):
            store.update('nodes', node('n1'))

    def test_subscribers_see_every_change_in_order(self, store):
        seen = []
        store.subscribe(lambda kind, resource, obj: seen.append(
            (kind, resource, obj['metadata']['name'], rv(obj))))
        store.create('nodes', node('n1'))
        store.create('leases', lease('l1'), NS)
        store.patch('nodes', 'n1', {'spec': {'x': 1}})
        store.delete('nodes', 'n1')
        assert seen == [('ADDED', 'nodes', 'n1', 1),
                        ('ADDED', 'leases', 'l1', 2),
                        ('MODIFIED', 'nodes', 'n1', 3),
                        ('DELETED', 'nodes', 'n1', 4)]

    def test_delete_collection(self, store):
        for index in range(3):
            store.create('nodes', node('n%d' % index,
                                       labels={'odd': str(index % 2)}))
        deleted = store.delete_collection('nodes', label_selector='odd=0')
        assert sorted(entry.key[1] for entry in deleted) == ['n0', 'n2']
        assert store.count('nodes') == 1


class TestWatch:
    def test_watch_without_version_starts_with_current_objects(self, store):
        store.create('nodes', node('b'))
        store.create('nodes', node('a'))
        watcher = store.watch('nodes')
        store.create('nodes', node('c'))
        assert drain(watcher) == [('ADDED', 'a', '2'), ('ADDED', 'b', '1'),
                                  ('ADDED', 'c', '3')]

    def test_resume_replays_exactly_the_later_changes(self, store):
        store.create('nodes', node('a'))
        store.create('leases', lease('l1'), NS)
        store.create('nodes', node('b'))
        store.patch('nodes', 'a', {'spec': {'x': 1}})
        watcher = store.watch('nodes', resource_version='2')
        store.delete('nodes', 'b')
        assert drain(watcher) == [('ADDED', 'b', '3'), ('MODIFIED', 'a', '4'),
                                  ('DELETED', 'b', '5')]

    def test_namespace_filter(self, store):
        watcher = store.watch('leases', namespace=NS)
        store.create('leases', lease('mine'), NS)
        store.create('leases', lease('theirs'), 'default')
        assert drain(watcher) == [('ADDED', 'mine', '1')]
        everywhere = store.watch('leases', resource_version='0')
        assert [name for _, name, _ in drain(everywhere)] == ['theirs',
                                                              'mine']

    def test_selector_transitions_become_added_and_deleted(self, store):
        store.create('nodes', node('n1', labels={'role': 'compute'}))
        watcher = store.watch('nodes', label_selector='role=compute')
        store.patch('nodes', 'n1', {'metadata': {'labels': {
            'role': 'control'}}})
        store.patch('nodes', 'n1', {'spec': {'x': 1}})
        store.patch('nodes', 'n1', {'metadata': {'labels': {
            'role': 'compute'}}})
        store.patch('nodes', 'n1', {'spec': {'x': 2}})
        events = []
        while True:
            event = watcher.next(timeout=0)
            if event is None:
                break
            events.append(event)
        assert [(kind, obj['metadata']['resourceVersion'])
                for kind, obj in events] == [
            ('ADDED', '1'), ('DELETED', '2'), ('ADDED', '4'),
            ('MODIFIED', '5')]
        # The DELETED carries the last state that matched.
        assert events[1][1]['metadata']['labels'] == {'role': 'compute'}

    def test_field_selector_watch(self, store):
        watcher = store.watch('nodes',
                              field_selector='metadata.name=wanted')
        store.create('nodes', node('other'))
        store.create('nodes', node('wanted'))
        assert drain(watcher) == [('ADDED', 'wanted', '2')]

    def test_too_old_version_is_expired(self, store):
        for index in range(105):
            store.create('nodes', node('n%d' % index))
        assert store.compacted_resource_version == '5'
        with pytest.raises(store_mod.Expired) as caught:
            store.watch('nodes', resource_version='4')
        assert caught.value.code == 410
        assert caught.value.message == 'too old resource version: 4 (5)'
        watcher = store.watch('nodes', resource_version='5')
        assert len(drain(watcher)) == 100

    def test_expire_history_forces_410_for_any_older_version(self, store):
        store.create('nodes', node('n1'))
        store.create('nodes', node('n2'))
        store.watch('nodes', resource_version='1').close()
        store.expire_history()
        with pytest.raises(store_mod.Expired):
            store.watch('nodes', resource_version='1')
        watcher = store.watch('nodes', resource_version='2')
        store.create('nodes', node('n3'))
        assert drain(watcher) == [('ADDED', 'n3', '3')]

    def test_bookmarks_follow_the_clock(self, store, clock):
        store.create('nodes', node('n1'))
        watcher = store.watch('nodes', resource_version='1', bookmarks=True,
                              bookmark_interval=10)
        assert watcher.next(timeout=0.01) is None
        store.create('leases', lease('l1'), NS)
        clock.advance(10)
        kind, obj = watcher.next(timeout=5)
        assert kind == 'BOOKMARK'
        assert obj == {'kind': 'Node', 'apiVersion': 'v1', 'metadata': {
            'resourceVersion': '2', 'creationTimestamp': None}}
        assert watcher.next(timeout=0.01) is None

    def test_no_bookmarks_unless_asked(self, store, clock):
        watcher = store.watch('nodes', resource_version='0')
        clock.advance(3600)
        assert watcher.next(timeout=0.01) is None

    def test_close_wakes_a_waiting_consumer(self, store):
        watcher = store.watch('nodes')
        result = []
        consumer = threading.Thread(
            target=lambda: result.append(watcher.next(timeout=30)))
        consumer.start()
        watcher.close()
        consumer.join(10)
        assert not consumer.is_alive()
        assert result == [None] and watcher.closed
        assert store.watcher_count('nodes') == 0

    def test_a_watcher_that_falls_behind_is_closed(self, clock):
        store = store_mod.ObjectStore(clock=clock, history_limit=10)
        watcher = store.watch('nodes', resource_version='0')
        for index in range(11):
            store.create('nodes', node('n%d' % index))
        assert watcher.closed
        assert 'behind' in watcher.close_reason

    def test_events_reach_a_blocked_consumer(self, store):
        watcher = store.watch('nodes', resource_version='0')
        got = []
        consumer = threading.Thread(
            target=lambda: got.append(watcher.next(timeout=30)))
        consumer.start()
        store.create('nodes', node('n1'))
        consumer.join(10)
        assert got[0][0] == 'ADDED'
        assert got[0][1]['metadata']['name'] == 'n1'

    def test_next_lines_are_k8s_watch_json(self, store):
        store.create('nodes', node('n1'))
        watcher = store.watch('nodes')
        (line,) = watcher.next_lines(timeout=0)
        assert line.startswith(b'{"type":"ADDED","object":{"kind":"Node",'
                               b'"apiVersion":"v1","metadata":')
        assert line.endswith(b'}\n')
