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

"""The API server's clock as the monitor sees it, and where it comes from.

``ServerClock`` turns ``Date`` headers into an estimate of the server's
wall time; lease staleness is judged on it, so a monitor whose own clock is
minutes off must still judge right. The second half drives ``KubeClient``
over a fake ``ApiClient`` (no sockets) to check that every answer feeds the
clock and that pages, errors and watch streams come out as the reflector
expects.
"""

import email.utils
import json

import pytest

from masakarimonitors_k8s.clock import ManualClock
from masakarimonitors_k8s.kube import client as kube_client

T0 = 1_800_000_000.0


def date_header(epoch):
    return email.utils.formatdate(epoch, usegmt=True)


def test_without_any_answer_the_server_clock_is_ours():
    clock = ManualClock(wall=T0, monotonic=50.0)
    server = kube_client.ServerClock(clock)

    now = server.now()

    assert server.offset is None
    assert now.wall == T0
    assert now.monotonic == 50.0


@pytest.mark.parametrize('skew', [300.0, -300.0, 0.0, 0.4, -0.4])
@pytest.mark.parametrize('fraction', [0.0, 0.3, 0.99])
def test_now_follows_the_server_clock(skew, fraction):
    clock = ManualClock(wall=T0 + fraction, monotonic=50.0)
    server = kube_client.ServerClock(clock)
    server_truth = T0 + fraction + skew

    server.observe(date_header(server_truth))

    # Date has one-second resolution: the estimate is within half of it.
    assert server.now().wall == pytest.approx(server_truth, abs=0.5)
    clock.advance(125.0)
    assert server.now().wall == pytest.approx(server_truth + 125.0, abs=0.5)
    assert server.now().monotonic == 175.0


def test_latest_answer_wins():
    clock = ManualClock(wall=T0)
    server = kube_client.ServerClock(clock)
    server.observe(date_header(T0 + 300))

    server.observe(date_header(T0 - 60))

    assert server.now().wall == pytest.approx(T0 - 60, abs=0.5)


@pytest.mark.parametrize('header', [None, '', 'yesterday', 'Mon, 99 Foo'])
def test_unreadable_date_keeps_the_last_estimate(header):
    clock = ManualClock(wall=T0)
    server = kube_client.ServerClock(clock)
    server.observe(date_header(T0 + 300))
    before = server.offset

    server.observe(header)

    assert server.offset == before


def test_local_clock_step_does_not_move_the_server_estimate():
    clock = ManualClock(wall=T0)
    server = kube_client.ServerClock(clock)
    server.observe(date_header(T0))
    before = server.now().wall

    clock.set_wall(T0 + 60)   # NTP steps our clock; no time passes

    assert server.now().wall == pytest.approx(before, abs=0.01)


def test_a_slow_answer_cannot_set_the_estimate_back():
    # Its Date was written while the request was in flight, up to the
    # round trip before we read it: a cause of the flaky stale-lease test
    # (the test advanced its cluster clock by 5-10 s while a watch's
    # answer was on its way) and, in production, of slow LIST pages
    # making every lease look fresher.
    clock = ManualClock(wall=T0, monotonic=100.0)
    server = kube_client.ServerClock(clock)
    server.observe(date_header(T0), sent_at=100.0)
    sent = clock.monotonic()
    clock.advance(10.0)

    server.observe(date_header(T0 + 0.2), sent_at=sent)

    assert server.now().wall == pytest.approx(T0 + 10.0, abs=0.5)
    assert server.steps == 1


def test_a_slow_answer_may_move_the_estimate_forward():
    clock = ManualClock(wall=T0, monotonic=100.0)
    server = kube_client.ServerClock(clock)
    server.observe(date_header(T0), sent_at=100.0)
    sent = clock.monotonic()
    clock.advance(10.0)

    server.observe(date_header(T0 + 40.0), sent_at=sent)

    assert server.now().wall == pytest.approx(T0 + 40.0, abs=0.5)
    assert server.steps == 2


def test_a_slow_answer_far_behind_is_a_step_back_of_the_server_clock():
    clock = ManualClock(wall=T0, monotonic=100.0)
    server = kube_client.ServerClock(clock)
    server.observe(date_header(T0), sent_at=100.0)
    sent = clock.monotonic()
    clock.advance(10.0)

    server.observe(date_header(T0 - 300.0), sent_at=sent)

    assert server.now().wall == pytest.approx(T0 - 300.0, abs=0.5)
    assert server.steps == 2


def test_a_fast_answer_behind_is_taken_as_it_is():
    clock = ManualClock(wall=T0, monotonic=100.0)
    server = kube_client.ServerClock(clock)
    server.observe(date_header(T0 + 10.0), sent_at=100.0)
    clock.advance(5.0)

    server.observe(date_header(T0 + 5.0), sent_at=clock.monotonic() - 0.2)

    assert server.now().wall == pytest.approx(T0 + 5.0, abs=0.5)


# -- KubeClient over a fake ApiClient --------------------------------------

class FakeRaw:
    """urllib3 response body of a watch: chunks, then the end."""

    def __init__(self, chunks):
        self.chunks = chunks
        self.released = False

    def stream(self, amt=None, decode_content=True):
        for chunk in self.chunks:
            if isinstance(chunk, Exception):
                raise chunk
            yield chunk

    def release_conn(self):
        self.released = True


class FakeResponse:
    def __init__(self, status, body, date):
        self.status = status
        self._body = body
        self._date = date
        self.response = FakeRaw(body if isinstance(body, list) else [])

    def getheader(self, name, default=None):
        return self._date if name == 'Date' else default

    def read(self):
        return self._body


class FakeApiClient:
    """Stands in for kubernetes.client.ApiClient: scripted answers."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.queries = []
        self.requests = []

    @property
    def last_query(self):
        return self.queries[-1]

    def param_serialize(self, method, resource_path, query_params=None,
                        header_params=None, body=None, auth_settings=None):
        self.queries.append(dict(query_params or []))
        return method, resource_path, header_params, body, None

    def call_api(self, method, url, header_params=None, body=None,
                 _request_timeout=None):
        answer = self.answers.pop(0)
        self.requests.append({'method': method, 'url': url,
                              'timeout': _request_timeout})
        if isinstance(answer, Exception):
            raise answer
        return answer


def kube_with(*answers, clock=None):
    api = FakeApiClient(*answers)
    server = kube_client.ServerClock(clock or ManualClock(wall=T0))
    kube = kube_client.KubeClient(api, server_clock=server,
                                  connect_timeout=5.0, read_timeout=30.0)
    return kube, api


def json_answer(document, *, status=200, date=T0):
    return FakeResponse(status, json.dumps(document).encode(),
                        date_header(date))


def test_every_answer_feeds_the_server_clock():
    clock = ManualClock(wall=T0)
    kube, _ = kube_with(json_answer({'kind': 'Node'}, date=T0 - 300),
                        clock=clock)

    kube.get_json('/api/v1/nodes/n1')

    assert kube.server_clock.now().wall == pytest.approx(T0 - 300, abs=0.5)


def test_list_pages_follow_continue_tokens():
    kube, api = kube_with(
        json_answer({'items': [1, 2], 'metadata': {'continue': 'tok',
                                                   'resourceVersion': '5'}}),
        json_answer({'items': [3], 'metadata': {'resourceVersion': '5'}}))

    pages = list(kube.list_pages('/api/v1/nodes',
                                 params={'labelSelector': 'a=b'},
                                 page_size=2))

    assert [p['items'] for p in pages] == [[1, 2], [3]]
    assert api.queries == [{'labelSelector': 'a=b', 'limit': 2},
                           {'labelSelector': 'a=b', 'limit': 2,
                            'continue': 'tok'}]
    assert api.requests[0]['timeout'] == (5.0, 30.0)


@pytest.mark.parametrize('document, status, error', [
    ({'kind': 'Status', 'code': 410, 'reason': 'Expired',
      'message': 'continue token expired'}, 410, kube_client.Expired),
    ({'kind': 'Status', 'code': 500, 'reason': 'InternalError'}, 500,
     kube_client.ApiError),
    ({'kind': 'Status', 'code': 403, 'reason': 'Forbidden'}, 403,
     kube_client.ApiError),
])
def test_error_statuses_raise(document, status, error):
    kube, _ = kube_with(json_answer(document, status=status))

    with pytest.raises(error) as caught:
        kube.get_json('/api/v1/nodes')

    assert caught.value.status == status


def test_transport_failure_is_an_api_error():
    kube, _ = kube_with(ConnectionResetError('peer reset'))

    with pytest.raises(kube_client.ApiError, match='ConnectionResetError'):
        kube.get_json('/api/v1/nodes')


def test_answer_that_is_not_json_is_an_api_error():
    kube, _ = kube_with(FakeResponse(200, b'<html>proxy</html>',
                                     date_header(T0)))

    with pytest.raises(kube_client.ApiError, match='not JSON'):
        kube.get_json('/api/v1/nodes')


def watch_line(kind, obj):
    return json.dumps({'type': kind, 'object': obj}).encode() + b'\n'


def test_watch_splits_events_across_chunks():
    first = watch_line('ADDED', {'metadata': {'name': 'a'}})
    second = watch_line('BOOKMARK', {'metadata': {'resourceVersion': '9'}})
    stream = first + second
    answer = FakeResponse(200, [stream[:7], stream[7:50], stream[50:-1],
                                stream[-1:]], date_header(T0))
    kube, api = kube_with(answer)

    events = list(kube.watch('/api/v1/nodes', params={},
                             resource_version='5', timeout_seconds=450.7,
                             idle_timeout=90.0, answer_timeout=4.0))

    assert events == [('ADDED', {'metadata': {'name': 'a'}}),
                      ('BOOKMARK', {'metadata': {'resourceVersion': '9'}})]
    assert api.last_query == {'watch': 'true', 'allowWatchBookmarks': 'true',
                              'timeoutSeconds': 450, 'resourceVersion': '5'}
    # The headers must come within answer_timeout; the stream's silence
    # is bounded by idle_timeout on the socket.
    assert api.requests[0]['timeout'] == (5.0, 4.0)
    assert answer.response.released


@pytest.mark.parametrize('chunks, error', [
    ([watch_line('ERROR', {'kind': 'Status', 'code': 410,
                           'reason': 'Expired',
                           'message': 'too old resource version'})],
     kube_client.Expired),
    ([watch_line('ERROR', {'kind': 'Status', 'code': 500})],
     kube_client.ApiError),
    ([b'{not json}\n'], kube_client.ApiError),
    ([b'{"type": "ADDED"}\n'], kube_client.ApiError),
    ([watch_line('ADDED', {}), TimeoutError('read timed out')],
     kube_client.ApiError),
])
def test_watch_stream_errors(chunks, error):
    answer = FakeResponse(200, chunks, date_header(T0))
    kube, _ = kube_with(answer)

    with pytest.raises(error):
        list(kube.watch('/api/v1/nodes', params={}, resource_version='5',
                        timeout_seconds=300, idle_timeout=90.0))

    assert answer.response.released


def test_a_stop_breaks_an_answer_being_read():
    class StalledRead(FakeResponse):
        """A LIST page whose body stalls until its socket is shut down."""

        def read(self):
            kube.interrupt_streams()   # the monitor stops meanwhile
            if self.response.shut:
                raise OSError('socket shut down')
            return self._body

    class ShutdownRaw(FakeRaw):
        shut = False

        def shutdown(self):
            self.shut = True

    answer = StalledRead(200, b'{}', date_header(T0))
    answer.response = ShutdownRaw([])
    kube, _ = kube_with(answer)

    with pytest.raises(kube_client.ApiError, match='reading the answer'):
        kube.get_json('/api/v1/nodes')
    assert answer.response.shut
