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

"""Fault switches: injected errors, black hole, latency, events."""

import threading

import pytest

from masakarimonitors_k8s.testing.kube_apiserver import faults as faults_mod

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def calls():
    return []


@pytest.fixture
def faults(calls):
    return faults_mod.Faults(
        on_drop_watches=lambda clean: calls.append(('drop', clean)),
        on_expire_history=lambda: calls.append(('expire',)))


def test_fail_next_counts_down(faults):
    faults.fail_next(2, 429, retry_after=3)
    first = faults.take_failure('list', '/api/v1/nodes')
    assert first.code == 429 and first.reason == 'TooManyRequests'
    assert first.headers == {'Retry-After': '3'}
    assert first.status()['details'] == {'retryAfterSeconds': 3}
    assert faults.pending_failures() == 1
    assert faults.take_failure('get', '/version').code == 429
    assert faults.take_failure('get', '/version') is None


def test_fail_next_filters_by_verb_and_path(faults):
    faults.fail_next(1, 503, verb='watch', path_prefix='/apis/coordination')
    assert faults.take_failure('list', '/apis/coordination.k8s.io/v1/x') \
        is None
    assert faults.take_failure('watch', '/api/v1/nodes') is None
    error = faults.take_failure('watch', '/apis/coordination.k8s.io/v1/x')
    assert error.code == 503 and error.reason == 'ServiceUnavailable'
    assert faults.pending_failures() == 0


def test_rules_are_consumed_in_order(faults):
    faults.fail_next(1, 500, retry_after=None)
    faults.fail_next(1, 503)
    first = faults.take_failure('get', '/')
    assert first.code == 500 and first.headers == {}
    assert faults.take_failure('get', '/').code == 503


@pytest.mark.parametrize('count, status', [(0, 503), (1, 200), (1, 600)])
def test_fail_next_validates(faults, count, status):
    with pytest.raises(ValueError):
        faults.fail_next(count, status)


def test_black_hole_holds_until_lifted(faults):
    faults.black_hole()
    assert faults.black_holed
    assert faults.wait_while_black_holed(timeout=0.01) is False
    released = threading.Event()

    def waiter():
        faults.wait_while_black_holed()
        released.set()

    thread = threading.Thread(target=waiter)
    thread.start()
    assert not released.wait(0.05)
    faults.lift_black_hole()
    assert released.wait(10)
    thread.join(10)


def test_release_lets_held_requests_go(faults):
    faults.black_hole()
    faults.release()
    assert faults.wait_while_black_holed(timeout=10) is True
    assert faults.black_holed


def test_latency_and_clear(faults):
    faults.set_latency(0.5)
    faults.black_hole()
    faults.fail_next(3)
    assert faults.describe() == {
        'latency': 0.5, 'black_hole': True,
        'fail_next': [{'count': 3, 'status': 503, 'path_prefix': None,
                       'verb': None, 'retry_after': 1}]}
    faults.clear()
    assert faults.describe() == {'latency': 0.0, 'black_hole': False,
                                 'fail_next': []}
    with pytest.raises(ValueError):
        faults.set_latency(-1)


def test_event_faults_call_the_server(faults, calls):
    faults.drop_watches()
    faults.drop_watches(clean=True)
    faults.expire_history()
    assert calls == [('drop', False), ('drop', True), ('expire',)]
