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

"""EventRecorder: Event shape, client-go style aggregation, and never
raising; the background queue in front of it."""

import threading

import pytest

from masakarimonitors_k8s.clock import ManualClock
from masakarimonitors_k8s.kube import client as kube_client
from masakarimonitors_k8s.kube import events
from masakarimonitors_k8s.kube import nodes as kube_nodes

COLLECTION = '/api/v1/namespaces/default/events'


class FakeEventsApi:
    """Stores Events like the API would; failures can be queued."""

    def __init__(self):
        self.stored = {}
        self.calls = []
        self.failures = []   # exceptions raised by the next calls

    def _maybe_fail(self):
        if self.failures:
            raise self.failures.pop(0)

    def post_json(self, path, body):
        self.calls.append(('POST', path))
        self._maybe_fail()
        assert path == COLLECTION
        name = body['metadata']['name']
        self.stored[name] = dict(body)
        return body

    def patch_merge(self, path, body):
        self.calls.append(('PATCH', path))
        self._maybe_fail()
        name = path.rsplit('/', 1)[1]
        if name not in self.stored:
            raise kube_client.ApiError('not found', status=404)
        self.stored[name].update(body)
        return self.stored[name]

    def only(self):
        assert len(self.stored) == 1, self.stored
        return next(iter(self.stored.values()))


@pytest.fixture
def api():
    return FakeEventsApi()


@pytest.fixture
def clock():
    return ManualClock(wall=1_800_000_000.0)


@pytest.fixture
def recorder(api, clock):
    return events.EventRecorder(client=api, clock=clock,
                                instance='monitor-0')


def failed_event(message='Ready=Unknown'):
    return events.NodeEvent(node='compute-1', reason='HostFailed',
                            message=message, type=events.WARNING)


def test_event_is_shaped_like_kubelets_for_kubectl_describe_node(
        recorder, api, clock):
    assert recorder.write(failed_event()) is True
    event = api.only()
    stamp = kube_nodes.format_time(clock.wall())
    assert event['metadata']['namespace'] == 'default'
    assert event['metadata']['name'].startswith('compute-1.')
    # A Node is cluster-scoped: the reference has no namespace, and the
    # node name stands in for the uid as kubelet's does.
    assert event['involvedObject'] == {'apiVersion': 'v1', 'kind': 'Node',
                                       'name': 'compute-1',
                                       'uid': 'compute-1'}
    assert (event['reason'], event['message'], event['type']) == (
        'HostFailed', 'Ready=Unknown', 'Warning')
    assert event['source'] == {'component': 'masakari-hostmonitor'}
    assert event['reportingComponent'] == 'masakari-hostmonitor'
    assert event['reportingInstance'] == 'monitor-0'
    assert (event['firstTimestamp'], event['lastTimestamp'],
            event['count']) == (stamp, stamp, 1)
    assert recorder.stats.as_dict() == {'created': 1, 'aggregated': 0,
                                        'failed': 0, 'dropped': 0}


def test_known_uid_is_used(recorder, api):
    recorder.write(events.NodeEvent('compute-1', 'HostFailed', 'down',
                                    node_uid='4f1c-uid'))
    assert api.only()['involvedObject']['uid'] == '4f1c-uid'


def test_repeats_count_up_the_first_event(recorder, api, clock):
    recorder.write(failed_event())
    first = kube_nodes.format_time(clock.wall())
    clock.advance(300)
    recorder.write(failed_event())
    clock.advance(300)
    recorder.write(failed_event())
    event = api.only()
    assert event['count'] == 3
    assert event['firstTimestamp'] == first
    assert event['lastTimestamp'] == kube_nodes.format_time(clock.wall())
    assert [method for method, _ in api.calls] == ['POST', 'PATCH',
                                                   'PATCH']
    assert recorder.stats.created == 1
    assert recorder.stats.aggregated == 2


@pytest.mark.parametrize('other', [
    events.NodeEvent('compute-1', 'HostFailed', 'another message',
                     type=events.WARNING),
    events.NodeEvent('compute-1', 'HostSuspect', 'Ready=Unknown',
                     type=events.WARNING),
    events.NodeEvent('compute-2', 'HostFailed', 'Ready=Unknown',
                     type=events.WARNING),
    events.NodeEvent('compute-1', 'HostFailed', 'Ready=Unknown',
                     type=events.NORMAL),
])
def test_anything_different_is_a_new_event(recorder, api, other):
    recorder.write(failed_event())
    recorder.write(other)
    assert len(api.stored) == 2
    assert all(event['count'] == 1 for event in api.stored.values())


def test_event_names_stay_unique_within_one_instant(recorder, api):
    for number in range(5):
        recorder.write(failed_event('message %d' % number))
    assert len(api.stored) == 5


def test_expired_event_starts_a_new_series(recorder, api):
    recorder.write(failed_event())
    api.stored.clear()     # kube-apiserver's event TTL ran out
    assert recorder.write(failed_event()) is True
    assert api.only()['count'] == 1
    assert [method for method, _ in api.calls] == ['POST', 'PATCH', 'POST']
    assert recorder.stats.created == 2


def test_forbidden_is_counted_and_never_raised(recorder, api):
    api.failures.append(kube_client.ApiError('forbidden', status=403))
    assert recorder.write(failed_event()) is False
    assert recorder.stats.failed == 1
    assert api.stored == {}
    # The next one is tried again from scratch.
    assert recorder.write(failed_event()) is True
    assert api.only()['count'] == 1


def test_failed_count_up_keeps_the_series(recorder, api):
    recorder.write(failed_event())
    api.failures.append(kube_client.ApiError('timeout'))
    assert recorder.write(failed_event()) is False
    assert recorder.write(failed_event()) is True
    assert api.only()['count'] == 2


def test_a_taken_name_is_retried_once_with_another(recorder, api):
    api.failures.append(kube_client.ApiError('already exists', status=409))
    assert recorder.write(failed_event()) is True
    assert [method for method, _ in api.calls] == ['POST', 'POST']
    assert api.only()['count'] == 1
    assert recorder.stats.failed == 0


def test_a_bug_in_the_client_is_not_raised(recorder, api):
    api.failures.append(TypeError('boom'))
    assert recorder.write(failed_event()) is False
    assert recorder.stats.failed == 1


def test_aggregation_forgets_the_oldest_beyond_the_cache(api, clock):
    recorder = events.EventRecorder(client=api, clock=clock, instance='m',
                                    cache_size=2)
    for message in ('a', 'b', 'c'):
        recorder.write(failed_event(message))
    recorder.write(failed_event('a'))   # evicted: created again
    recorder.write(failed_event('c'))   # still known: counted up
    counts = sorted((e['message'], e['count']) for e in api.stored.values())
    assert counts == [('a', 1), ('a', 1), ('b', 1), ('c', 2)]


def test_long_messages_are_cut(recorder, api):
    recorder.write(failed_event('x' * 5000))
    message = api.only()['message']
    assert len(message) == events.MAX_MESSAGE_LENGTH
    assert message.endswith('...')


class TestBackground:

    @pytest.mark.timeout(10)
    def test_writes_in_order_from_its_own_thread(self, recorder, api):
        writer_threads = set()
        original = api.post_json

        def post(path, body):
            writer_threads.add(threading.current_thread().name)
            return original(path, body)

        api.post_json = post
        background = events.BackgroundEventRecorder(recorder)
        background.start()
        try:
            for number in range(20):
                assert background.record('compute-1', 'HostFailed',
                                         'message %02d' % number)
            assert background.flush(5.0)
        finally:
            background.stop(5.0)
        messages = [event['message'] for event in api.stored.values()]
        assert messages == ['message %02d' % n for n in range(20)]
        assert writer_threads == {'node-events'}
        assert not background.is_alive()

    def test_full_queue_drops_and_counts(self, recorder, api):
        background = events.BackgroundEventRecorder(recorder, queue_size=2)
        assert background.record('compute-1', 'HostFailed', 'a')
        assert background.record('compute-1', 'HostFailed', 'b')
        assert background.record('compute-1', 'HostFailed', 'c') is False
        assert background.stats.dropped == 1
        assert api.calls == []

    @pytest.mark.timeout(10)
    def test_stop_writes_out_what_is_queued(self, recorder, api):
        background = events.BackgroundEventRecorder(recorder)
        for message in ('a', 'b', 'c'):
            background.record('compute-1', 'HostFailed', message)
        background.start()
        background.stop(5.0)
        assert sorted(e['message'] for e in api.stored.values()) == [
            'a', 'b', 'c']
        assert not background.is_alive()

    @pytest.mark.timeout(10)
    def test_flush_times_out_while_the_api_hangs(self, recorder, api):
        release = threading.Event()
        original = api.post_json

        def hanging_post(path, body):
            release.wait(5.0)
            return original(path, body)

        api.post_json = hanging_post
        background = events.BackgroundEventRecorder(recorder)
        background.start()
        try:
            background.record('compute-1', 'HostFailed', 'a')
            assert background.flush(0.05) is False
            release.set()
            assert background.flush(5.0) is True
        finally:
            release.set()
            background.stop(5.0)
