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

import dataclasses
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
        self.continue_tokens = []
        self.waits_before_list = []   # backoffs taken before each LIST
        self.watch_calls = []
        self.streams_closed = 0

    def list_pages(self, path, *, params, page_size, continue_token=None,
                   decode=None):
        self.list_calls.append({'path': path, 'params': dict(params),
                                'page_size': page_size})
        self.continue_tokens.append(continue_token)
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
              idle_timeout, answer_timeout=None, new_connection=False,
              coalesce=0.0, decode_event=None, on_idle=None):
        self.on_idle = on_idle
        self.watch_calls.append({
            'coalesce': coalesce,
            'path': path, 'params': dict(params),
            'resource_version': resource_version,
            'timeout_seconds': timeout_seconds,
            'idle_timeout': idle_timeout,
            'answer_timeout': answer_timeout,
            'new_connection': new_connection})
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
                if callable(item):   # e.g. time passing mid-stream
                    item()
                    continue
                yield item
        finally:
            self.streams_closed += 1

    @property
    def watched_from(self):
        return [call['resource_version'] for call in self.watch_calls]


class RecordingSink:
    def __init__(self):
        self.log = []
        self.batches = []   # sizes of the event batches, in order

    def replace(self, states):
        self.log.append(('replace', list(states)))

    def events(self, batch):
        self.batches.append(len(batch))
        self.log.extend(batch)

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
                  transform=name_of, clock=None, idle_timeout=90.0):
    return kube_reflector.Reflector(
        name='nodes', client=kube, path='/api/v1/nodes', params=PARAMS,
        transform=transform, sink=sink or RecordingSink(),
        settings=settings, idle_timeout=idle_timeout,
        clock=clock or ManualClock(), stop_event=kube.stop,
        rng=rng or random.Random(1))


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
    # Silence is checked after watch_check_after, below the idle timeout.
    assert call['idle_timeout'] == 10.0
    assert call['answer_timeout'] == 5.0
    # Events that arrive within watch_read_interval are read together.
    assert call['coalesce'] == 0.5
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
    def list_pages(self, path, *, params, page_size, continue_token=None,
                   decode=None):
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


# -- error handling like client-go's reflector (issue 15, item 3) --------

def answered(status, *, retry_after=None, reason=None):
    return kube_client.ApiError('WATCH /api/v1/nodes: HTTP %d' % status,
                                status=status, reason=reason,
                                retry_after=retry_after)


def unanswered():
    return kube_client.ApiError('GET /api/v1/nodes: ReadTimeoutError',
                                unanswered=True)


def silent():
    return kube_client.StreamSilent('WATCH /api/v1/nodes: nothing for 10 s')


def test_backoff_starts_over_after_each_watch_that_delivered_events():
    # Review finding 8 (s7_watch_backoff.py): a load balancer cuts every
    # watch after it delivered an event. Before: 0.8, 1.6, 3.2 ... 30 s.
    stop = RecordingStop()
    kube = FakeKube(stop, lists=[[page('a', resource_version='10')]],
                    watches=[[('MODIFIED', obj('a', str(11 + n))), broken()]
                             for n in range(8)])

    reflector, _ = run(kube, rng=MidRandom())

    assert stop.waits == [0.8] * 8
    assert len(kube.list_calls) == 1


def test_backoff_starts_over_after_a_watch_that_lived_a_minute():
    stop = RecordingStop()
    clock = ManualClock()

    def a_minute_passes():
        clock.advance(kube_reflector.HEALTHY_WATCH)

    kube = FakeKube(stop, lists=[[page('a', resource_version='10')]],
                    watches=[broken(), [a_minute_passes, broken()],
                             broken()])

    run(kube, rng=MidRandom(), clock=clock)

    # The second watch was healthy for a minute: its end is a first
    # failure, not a second one.
    assert stop.waits == [0.8, 0.8, 1.6]


def test_consecutive_watch_errors_lead_to_a_relist():
    stop = RecordingStop()
    kube = FakeKube(stop, lists=[[page('a', resource_version='10')],
                                 [page('a', resource_version='50')]],
                    watches=[answered(500), answered(500), answered(500)])

    reflector, _ = run(kube, rng=MidRandom())

    assert kube.watched_from[:4] == ['10', '10', '10', '50']
    assert kube.waits_before_list == [0, 3]
    assert reflector.stats.relists_after_errors == 1


@pytest.mark.parametrize('error', [
    kube_client.TooLargeResourceVersion(
        'WATCH /api/v1/nodes: HTTP 504 Timeout: Too large resource version',
        status=504, reason='Timeout'),
    answered(504),
])
def test_a_too_large_resource_version_relists_at_once(error):
    stop = RecordingStop()
    kube = FakeKube(stop, lists=[[page('a', resource_version='10')],
                                 [page('a', resource_version='9')]],
                    watches=[error])

    reflector, _ = run(kube, rng=MidRandom())

    assert len(kube.list_calls) == 2
    assert kube.watched_from[:2] == ['10', '9']
    assert reflector.stats.relists_after_errors == 1


def test_too_large_resource_version_is_recognised_in_a_status():
    status = {'kind': 'Status', 'code': 504, 'reason': 'Timeout',
              'message': 'Too large resource version: 99, current: 10',
              'details': {'causes': [{'reason': 'ResourceVersionTooLarge',
                                      'message': 'Too large resource '
                                                 'version'}]}}

    error = kube_client._status_error(status, 504, 'WATCH', '/api/v1/nodes')

    assert isinstance(error, kube_client.TooLargeResourceVersion)
    assert error.status == 504


@pytest.mark.parametrize('retry_after, waited', [
    (7.0, 7.0),      # longer than the backoff: the server's word counts
    (0.1, 0.8),      # shorter: the backoff still applies
    (600.0, 30.0),   # capped at backoff_max
])
def test_retry_after_is_honoured_up_to_backoff_max(retry_after, waited):
    stop = RecordingStop()
    kube = FakeKube(stop, lists=[[page('a', resource_version='10')]],
                    watches=[answered(429, retry_after=retry_after)])

    run(kube, rng=MidRandom())

    assert stop.waits[0] == pytest.approx(waited)


def test_retry_after_header_parsing():
    assert kube_client.retry_after_seconds('5') == 5.0
    assert kube_client.retry_after_seconds(None) is None
    assert kube_client.retry_after_seconds('soon') is None
    assert kube_client.retry_after_seconds(
        'Wed, 21 Oct 2015 07:28:00 GMT') == 0.0


def test_unanswered_requests_are_retried_within_two_seconds():
    # Knocking on a server that does not answer costs it nothing, and the
    # view must be current soon after the API is back.
    stop = RecordingStop()
    kube = FakeKube(stop, lists=[unanswered() for _ in range(4)] + [
        [page('a', resource_version='10')]], watches=[unanswered()] * 6)

    run(kube, rng=MidRandom())

    assert len(stop.waits) == 10
    assert max(stop.waits) <= kube_reflector.UNANSWERED_RETRY_MAX
    assert stop.waits[0] == 0.8
    # No answer says nothing about the resourceVersion: no relist.
    assert len(kube.list_calls) == 5
    assert set(kube.watched_from) == {'10'}


def test_a_failed_list_page_is_fetched_again_with_its_continue_token():
    stop = RecordingStop()
    kube = FakeKube(stop, lists=[
        [page('a', 'b', resource_version='10', token='t1'),
         page('c', 'd', resource_version='10', token='t2'), broken()],
        [page('e', resource_version='10')]])

    reflector, sink = run(kube, rng=MidRandom())

    assert kube.continue_tokens == [None, 't2']
    assert sink.log[0] == ('replace', ['a', 'b', 'c', 'd', 'e'])
    assert reflector.stats.list_page_retries == 1
    assert kube.watched_from[0] == '10'


def test_an_expired_continue_token_restarts_the_list_from_page_one():
    stop = RecordingStop()
    kube = FakeKube(stop, lists=[
        [page('a', resource_version='10', token='t1'), broken()],
        gone(),
        [page('a', 'b', resource_version='20')]])

    reflector, sink = run(kube, rng=MidRandom())

    assert kube.continue_tokens == [None, 't1', None]
    assert sink.log[0] == ('replace', ['a', 'b'])
    assert kube.watched_from[0] == '20'


# -- a silent flow (issue 15, item 2) ------------------------------------

def test_a_quiet_watch_is_checked_by_watching_again_without_going_stale():
    stop = RecordingStop()
    kube = FakeKube(stop, lists=[[page('a', resource_version='10')]],
                    watches=[[silent()], [bookmark('12'), silent()],
                             [silent()]])

    reflector, sink = run(kube, rng=MidRandom())

    # Each check is the next watch, at once, from the last version, on a
    # connection of its own.
    assert kube.watched_from == ['10', '10', '12', '12']
    assert [call['new_connection'] for call in kube.watch_calls] == [
        False, True, True, True]
    assert stop.waits == []
    assert sink.freshness == [True, False]   # False only at the stop
    assert reflector.stats.silence_checks == 3
    assert reflector.stats.errors == 0


def test_a_check_that_gets_no_answer_makes_the_view_stale():
    stop = RecordingStop()
    kube = FakeKube(stop, lists=[[page('a', resource_version='10')]],
                    watches=[[silent()], unanswered(),
                             [('MODIFIED', obj('a', '11'))]])

    reflector, sink = run(kube, rng=MidRandom())

    assert sink.freshness == [True, False, True, False]
    assert stop.waits == [0.8]
    assert len(kube.list_calls) == 1


def test_answers_without_any_news_for_the_idle_timeout_are_an_error():
    stop = RecordingStop()
    kube = FakeKube(stop, lists=[[page('a', resource_version='10')]],
                    watches=[[silent()] for _ in range(3)])

    reflector, sink = run(kube, rng=MidRandom(), idle_timeout=30.0)

    # Checks every 10 s; the third makes 30 s without a bookmark.
    assert reflector.stats.silence_checks == 2
    assert reflector.stats.errors == 1
    assert sink.freshness[:2] == [True, False]


# -- batches: the events read together reach the sink together ----------

def watched(*items):
    """A list and one watch of ``items`` (events, or callables run)."""
    stop = RecordingStop()
    kube = FakeKube(stop, lists=[[page(resource_version='10')]],
                    watches=[list(items)])
    return kube


def idle(kube):
    return lambda: kube.on_idle()


def test_events_read_in_one_go_reach_the_sink_as_one_batch():
    kube = watched()
    kube.watches[0] = [('ADDED', obj('a', '11')), ('ADDED', obj('b', '12')),
                       idle(kube), ('MODIFIED', obj('a', '13')), idle(kube),
                       idle(kube)]

    _reflector, sink = run(kube)

    assert sink.batches == [2, 1]
    assert [entry for entry in sink.log if entry[0] != 'fresh'] == [
        ('replace', []), ('ADDED', 'a'), ('ADDED', 'b'), ('MODIFIED', 'a')]


def test_without_a_read_interval_each_event_goes_alone():
    kube = watched()
    kube.watches[0] = [('ADDED', obj('a', '11')), ('ADDED', obj('b', '12')),
                       ('ADDED', obj('c', '13'))]
    settings = dataclasses.replace(WATCH, read_interval=0.0)

    _reflector, sink = run(kube, settings=settings)

    assert sink.batches == [1, 1, 1]


def test_a_stream_that_never_pauses_is_handed_on_each_read_interval():
    clock = ManualClock()
    kube = watched()
    kube.watches[0] = [('ADDED', obj('a', '11')),
                       lambda: clock.advance(0.3), ('ADDED', obj('b', '12')),
                       lambda: clock.advance(0.3), ('ADDED', obj('c', '13')),
                       ('ADDED', obj('d', '14'))]

    _reflector, sink = run(kube, clock=clock)

    # c came 0.6 s after a, the first of the batch: a, b, c go at once.
    assert sink.batches == [3, 1]


def test_a_batch_is_never_larger_than_its_limit():
    kube = watched()
    kube.watches[0] = [('ADDED', obj('n%d' % index, str(11 + index)))
                       for index in range(kube_reflector.MAX_BATCH + 3)]

    _reflector, sink = run(kube)

    assert sink.batches == [kube_reflector.MAX_BATCH, 3]


def test_freshness_never_overtakes_the_events_before_it():
    kube = watched()
    kube.watches[0] = [('ADDED', obj('a', '11')),
                       kube_client.ApiError('stream broke')]

    _reflector, sink = run(kube)

    assert sink.log.index(('ADDED', 'a')) < sink.log.index(('fresh', False))
