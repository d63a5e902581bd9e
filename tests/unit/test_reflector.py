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

"""The reflector's list+watch loop against a scripted client.

``FakeKube`` plays back LIST results and watch streams (objects, errors at
the call or mid-stream) and records how it was called; when its script
runs out it sets the stop event, which ends ``Reflector.run()`` in the test
thread. The stop event never blocks: its ``wait`` records the backoff the
reflector asked for and returns at once.
"""

import random
import threading

import pytest

from masakarimonitors_k8s.clock import ManualClock
from masakarimonitors_k8s import conf as k8s_conf
from masakarimonitors_k8s.kube import client as kube_client
from masakarimonitors_k8s.kube import nodes as kube_nodes
from masakarimonitors_k8s.kube import reflector as kube_reflector

pytestmark = pytest.mark.timeout(30)

WATCH = k8s_conf.WatchSettings(watch_timeout=300, page_size=2,
                               backoff_initial=0.8, backoff_max=30.0)
PARAMS = {'labelSelector': 'openstack-compute-node=enabled'}


def obj(name, resource_version):
    return {'metadata': {'name': name,
                         'resourceVersion': resource_version}}


def page(*names, resource_version, token=None):
    metadata = {'resourceVersion': resource_version}
    if token:
        metadata['continue'] = token
    return {'items': [obj(name, '1') for name in names],
            'metadata': metadata}


def bookmark(resource_version):
    return ('BOOKMARK', {'metadata': {'resourceVersion': resource_version}})


def gone():
    return kube_client.Expired('WATCH /api/v1/nodes: HTTP 410 Expired',
                               status=410, reason='Expired')


def broken():
    return kube_client.ApiError('WATCH /api/v1/nodes: stream broke')


class RecordingStop(threading.Event):
    """A stop event whose wait() records the delay and never blocks."""

    def __init__(self):
        super().__init__()
        self.waits = []

    def wait(self, timeout=None):
        self.waits.append(timeout)
        if len(self.waits) > 500:   # a runaway loop ends the test
            self.set()
        return self.is_set()


class FakeKube:
    """Plays back LISTs and watches; sets ``stop`` when out of script.

    ``lists``: each entry a list of pages, or an exception raised by the
    LIST. ``watches``: each entry a list of (type, object) events, in
    which an exception instance is raised at that point of the stream, or
    an exception raised by the watch request itself.
    """

    def __init__(self, stop, *, lists=(), watches=()):
        self.stop = stop
        self.lists = list(lists)
        self.watches = list(watches)
        self.list_calls = []
        self.waits_before_list = []   # backoffs taken before each LIST
        self.watch_calls = []
        self.streams_closed = 0

    def list_pages(self, path, *, params, page_size):
        self.list_calls.append({'path': path, 'params': dict(params),
                                'page_size': page_size})
        self.waits_before_list.append(len(self.stop.waits))
        if not self.lists:
            self.stop.set()
            raise kube_client.ApiError('script over')
        script = self.lists.pop(0)
        if isinstance(script, Exception):
            raise script
        for item in script:
            if isinstance(item, Exception):
                raise item
            yield item

    def watch(self, path, *, params, resource_version, timeout_seconds,
              idle_timeout):
        self.watch_calls.append({
            'path': path, 'params': dict(params),
            'resource_version': resource_version,
            'timeout_seconds': timeout_seconds,
            'idle_timeout': idle_timeout})
        if len(self.watch_calls) > 500:   # a runaway loop ends the test
            self.stop.set()
        if not self.watches:
            self.stop.set()
            return self._stream([])
        script = self.watches.pop(0)
        if isinstance(script, Exception):
            raise script
        return self._stream(script)

    def _stream(self, items):
        try:
            for item in items:
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:
            self.streams_closed += 1

    @property
    def watched_from(self):
        return [call['resource_version'] for call in self.watch_calls]


class RecordingSink:
    def __init__(self):
        self.log = []

    def replace(self, states):
        self.log.append(('replace', list(states)))

    def event(self, kind, state):
        self.log.append((kind, state))

    def fresh(self, fresh):
        self.log.append(('fresh', fresh))

    @property
    def freshness(self):
        return [fresh for what, fresh in self.log if what == 'fresh']


class MidRandom:
    """Jitter factor exactly 1 and watch timeouts of 1.5 x."""

    def __init__(self, value=0.5):
        self.value = value

    def random(self):
        return self.value


def name_of(raw):
    return raw['metadata']['name']


def reflector_for(kube, sink=None, *, settings=WATCH, rng=None,
                  transform=name_of):
    return kube_reflector.Reflector(
        name='nodes', client=kube, path='/api/v1/nodes', params=PARAMS,
        transform=transform, sink=sink or RecordingSink(),
        settings=settings, idle_timeout=90.0, clock=ManualClock(),
        stop_event=kube.stop, rng=rng or random.Random(1))


def run(kube, **kwargs):
    sink = RecordingSink()
    reflector = reflector_for(kube, sink, **kwargs)
    reflector.run()
    return reflector, sink


def test_list_then_watch_reach_the_sink_in_order():
    stop = RecordingStop()
    kube = FakeKube(stop, lists=[[
        page('a', 'b', resource_version='10', token='next'),
        page('c', resource_version='10')]], watches=[[
            ('ADDED', obj('d', '11')),
            ('MODIFIED', obj('a', '12')),
            ('DELETED', obj('b', '13'))]])

    reflector, sink = run(kube)

    assert sink.log == [('replace', ['a', 'b', 'c']), ('fresh', True),
                        ('ADDED', 'd'), ('MODIFIED', 'a'), ('DELETED', 'b'),
                        ('fresh', False)]
    assert kube.list_calls == [{'path': '/api/v1/nodes', 'params': PARAMS,
                                'page_size': 2}]
    assert kube.watched_from == ['10', '13']
    assert kube.streams_closed == 2
    assert reflector.stats.lists == 1
    assert reflector.stats.events == 3
    assert reflector.stats.resource_version == '13'


def test_watch_request_carries_selector_and_timeouts():
    stop = RecordingStop()
    kube = FakeKube(stop, lists=[[page(resource_version='1')]])

    run(kube, rng=random.Random(99))

    call = kube.watch_calls[0]
    assert call['params'] == PARAMS
    assert call['idle_timeout'] == 90.0
    # Randomised between 1x and 2x so replicas do not reconnect in step.
    assert 300 <= call['timeout_seconds'] < 600


def test_watch_end_rewatches_from_the_last_version_and_bookmark():
    stop = RecordingStop()
    kube = FakeKube(stop, lists=[[page('a', resource_version='10')]],
                    watches=[[('MODIFIED', obj('a', '11')), bookmark('15')],
                             [bookmark('20')],
                             [('WEIRD', obj('a', '21'))]])

    reflector, sink = run(kube)

    assert kube.watched_from == ['10', '15', '20', '21']
    assert len(kube.list_calls) == 1
    assert sink.log == [('replace', ['a']), ('fresh', True),
                        ('MODIFIED', 'a'), ('fresh', False)]
    assert reflector.stats.bookmarks == 2


def test_expired_version_relists_without_backoff():
    stop = RecordingStop()
    kube = FakeKube(stop, lists=[[page('a', resource_version='10')],
                                 [page('a', 'b', resource_version='500')]],
                    watches=[[('MODIFIED', obj('a', '11')), gone()]])

    reflector, sink = run(kube)

    assert sink.log == [('replace', ['a']), ('fresh', True),
                        ('MODIFIED', 'a'), ('replace', ['a', 'b']),
                        ('fresh', False)]
    assert kube.watched_from == ['10', '500']
    assert reflector.stats.relists_after_expiry == 1
    assert kube.waits_before_list == [0, 0]


def test_expired_watch_request_relists():
    stop = RecordingStop()
    kube = FakeKube(stop, lists=[[page('a', resource_version='10')],
                                 [page('a', resource_version='700')]],
                    watches=[gone()])

    run(kube)

    assert len(kube.list_calls) == 2
    assert kube.watched_from == ['10', '700']


def test_failed_list_backs_off_then_lists_again():
    stop = RecordingStop()
    kube = FakeKube(stop, lists=[broken(), [page('a', resource_version='1'),
                                            broken()],
                                 [page('a', 'b', resource_version='9')]])

    reflector, sink = run(kube, rng=MidRandom())

    # Nothing half-listed reaches the sink; the view was never fresh, so
    # there is no fresh(False) to send either.
    assert sink.log == [('replace', ['a', 'b']), ('fresh', True),
                        ('fresh', False)]
    assert stop.waits[:2] == [0.8, 1.6]
    assert kube.waits_before_list == [0, 1, 2]
    assert reflector.stats.errors == 2
    assert kube.watched_from == ['9']


def test_backoff_doubles_with_jitter_up_to_the_cap():
    stop = RecordingStop()
    failures = 10
    kube = FakeKube(stop, lists=[broken() for _ in range(failures)])

    run(kube, rng=random.Random(2026))

    # The same seed gives the same jitter sequence: recompute it.
    rng = random.Random(2026)
    expected = [min(30.0, min(30.0, 0.8 * 2 ** (n - 1))
                    * (0.8 + 0.4 * rng.random()))
                for n in range(1, failures + 1)]
    assert stop.waits == pytest.approx(expected)
    assert stop.waits[1] > stop.waits[0]
    assert all(24.0 <= wait <= 30.0 for wait in stop.waits[7:])


def test_freshness_follows_the_connection():
    stop = RecordingStop()
    kube = FakeKube(stop, lists=[[page('a', resource_version='10')],
                                 [page('a', resource_version='30')]],
                    watches=[broken(), [('MODIFIED', obj('a', '31'))]])

    reflector, sink = run(kube, rng=MidRandom())

    assert sink.freshness == [True, False, True, False]
    assert sink.log[-2] == ('MODIFIED', 'a')
    assert not reflector.stats.synced


def test_watch_error_resumes_from_the_last_version_without_listing():
    stop = RecordingStop()
    kube = FakeKube(stop, lists=[[page('a', resource_version='10')],
                                 [page('a', resource_version='30')]],
                    watches=[[('MODIFIED', obj('a', '12')), broken()],
                             [('MODIFIED', obj('a', '13'))]])

    run(kube, rng=MidRandom())

    assert len(kube.list_calls) == 1
    assert kube.watched_from[:2] == ['10', '12']


def test_failure_count_resets_after_a_good_watch():
    stop = RecordingStop()
    lists = [[page('a', resource_version=str(rv))] for rv in range(1, 6)]
    kube = FakeKube(stop, lists=lists, watches=[
        broken(), broken(), [('MODIFIED', obj('a', '40'))], broken()])

    run(kube, rng=MidRandom())

    assert stop.waits[:3] == [0.8, 1.6, 0.8]


def test_unexpected_error_relists_and_carries_on():
    calls = []

    def flaky_transform(raw):
        calls.append(raw)
        if len(calls) == 2:
            raise KeyError('a bug in the transform')
        return name_of(raw)

    stop = RecordingStop()
    kube = FakeKube(stop, lists=[[page('a', 'b', resource_version='10')],
                                 [page('a', 'b', resource_version='11')]])

    reflector, sink = run(kube, rng=MidRandom(), transform=flaky_transform)

    assert sink.log[0] == ('replace', ['a', 'b'])
    assert len(kube.list_calls) == 2
    assert stop.waits[:1] == [0.8]
    assert reflector.stats.errors == 1


class StopsDuringListKube(FakeKube):
    def list_pages(self, path, *, params, page_size):
        yield page('a', resource_version='1', token='more')
        self.stop.set()
        yield page('b', resource_version='1')


def test_stop_during_the_list_delivers_nothing():
    kube = StopsDuringListKube(RecordingStop())

    reflector, sink = run(kube)

    assert sink.log == []
    assert reflector.stats.lists == 0


def test_stop_during_the_list_opens_no_watch():
    kube = StopsDuringListKube(RecordingStop())

    run(kube)

    assert kube.watch_calls == []


def test_events_after_stop_are_not_delivered():
    stop = RecordingStop()

    class StoppingKube(FakeKube):
        def _stream(self, items):
            yield ('ADDED', obj('x', '2'))
            self.stop.set()
            yield ('ADDED', obj('y', '3'))

    kube = StoppingKube(stop, lists=[[page(resource_version='1')]],
                        watches=[[]])

    reflector, sink = run(kube)

    assert ('ADDED', 'x') in sink.log
    assert ('ADDED', 'y') not in sink.log


def test_watches_that_end_at_once_are_backed_off():
    stop = RecordingStop()
    kube = FakeKube(stop, lists=[[page('a', resource_version='10')]],
                    watches=[[] for _ in range(50)])

    run(kube)

    assert len(stop.waits) > 0
    assert all(wait > 0 for wait in stop.waits)


@pytest.mark.parametrize('failures, base', [
    (1, 0.8), (2, 1.6), (3, 3.2), (6, 25.6), (7, 30.0), (40, 30.0),
])
def test_backoff_delay_table(failures, base):
    stop = RecordingStop()
    reflector = reflector_for(FakeKube(stop), rng=MidRandom())

    assert reflector.backoff_delay(failures) == pytest.approx(base)


def test_backoff_delay_after_a_very_long_outage():
    stop = RecordingStop()
    reflector = reflector_for(FakeKube(stop), rng=MidRandom())

    assert reflector.backoff_delay(1100) == pytest.approx(30.0)


def test_backoff_delay_never_exceeds_backoff_max():
    stop = RecordingStop()
    reflector = reflector_for(FakeKube(stop), rng=MidRandom(0.99))

    assert all(reflector.backoff_delay(n) <= WATCH.backoff_max
               for n in range(1, 20))


def test_events_that_change_nothing_the_policy_reads_are_dropped():
    """A kubelet's periodic status report moves only heartbeat times."""
    def node(name, rv, ready, heartbeat):
        return {'metadata': {'name': name, 'resourceVersion': rv},
                'status': {'conditions': [{
                    'type': 'Ready', 'status': ready, 'reason': 'r',
                    'lastHeartbeatTime': heartbeat,
                    'lastTransitionTime': '2026-01-01T00:00:00Z'}]}}

    translator = kube_nodes.NodeTranslator()
    stop = RecordingStop()
    kube = FakeKube(stop, lists=[[{
        'items': [node('a', '1', 'True', '2026-01-01T00:00:00Z')],
        'metadata': {'resourceVersion': '1'}}]], watches=[[
            ('MODIFIED', node('a', '2', 'True', '2026-01-01T00:05:00Z')),
            ('MODIFIED', node('a', '3', 'True', '2026-01-01T00:10:00Z')),
            ('MODIFIED', node('a', '4', 'Unknown', '2026-01-01T00:10:00Z')),
            ('MODIFIED', node('a', '5', 'Unknown', '2026-01-01T00:10:00Z')),
            ('DELETED', node('a', '6', 'Unknown', '2026-01-01T00:10:00Z')),
        ]])

    reflector, sink = run(kube, transform=translator.translate)

    events = [(kind, state.resource_version, state.ready)
              for kind, state in sink.log
              if kind in ('MODIFIED', 'DELETED')]
    assert events == [('MODIFIED', '4', 'Unknown'),
                      ('DELETED', '6', 'Unknown')]
    assert reflector.stats.unchanged == 3
    assert reflector.stats.resource_version == '6'
