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

"""Delivery to Masakari: retry, supersede, and what each answer means.

The DeliveryQueue runs against a scripted sender (one answer per attempt)
and a ManualClock, so retries happen when a test advances time, never by
sleeping. MasakariSender is checked against a fake ``instance_ha`` that
raises the exceptions openstacksdk really raises, built by openstacksdk's
own ``raise_from_response`` from a response shaped like masakari-api's.
"""

import json
import logging
import random
import threading
import types

from openstack import exceptions as sdk_exceptions
import pytest
import requests

from masakarimonitors_k8s.clock import ManualClock
from masakarimonitors_k8s.clock import SystemClock
from masakarimonitors_k8s import conf as k8s_conf
from masakarimonitors_k8s import engine as k8s_engine
from masakarimonitors_k8s import hosts
from masakarimonitors_k8s import notifier
from masakarimonitors_k8s import policy

Outcome = notifier.Outcome
DELIVERY = k8s_conf.DeliverySettings(retry_initial=1.0, retry_max=60.0,
                                     unknown_host_recheck=300.0)
T0 = 1_800_000_000.0


def notification(host='cmp-1', event='STOPPED', host_status='UNKNOWN',
                 generated_time=T0):
    cluster = 'OFFLINE' if event == 'STOPPED' else 'ONLINE'
    return k8s_engine.Notification(
        hostname=host, node=host,
        intent=policy.Intent(policy.Event(event), host_status, cluster,
                             generated_time, 'test'))


class ScriptedSender:
    """Answers each attempt from a script; ACCEPTED once it runs out.

    A script entry is an Outcome, a Result, or a callable taking the
    notification (to act while "on the wire", e.g. offer something new).
    """

    def __init__(self, *script):
        self.script = list(script)
        self.sent = []

    def send(self, note):
        self.sent.append(note)
        step = self.script.pop(0) if self.script else Outcome.ACCEPTED
        if not isinstance(step, (Outcome, notifier.Result)):
            step = step(note)
        if isinstance(step, Outcome):
            step = notifier.Result(step, 'scripted %s' % step.value,
                                   'uuid-%d' % len(self.sent))
        return step


class MidRandom:
    """A jitter source that always yields the middle: factor exactly 1."""

    def __init__(self, value=0.5):
        self.value = value

    def random(self):
        return self.value


class Rig:
    def __init__(self, *script, settings=DELIVERY, rng=None):
        self.clock = ManualClock()
        self.sender = ScriptedSender(*script)
        self.finals = []
        self.queue = notifier.DeliveryQueue(
            sender=self.sender, clock=self.clock, settings=settings,
            on_result=lambda note, result: self.finals.append(
                (note, result.outcome)),
            rng=rng or MidRandom())

    def advance(self, seconds):
        self.clock.advance(seconds)
        return self.queue.run_due()

    def until_next_attempt(self):
        """Seconds from now to the next due delivery."""
        return self.queue.next_due() - self.clock.monotonic()


def test_accepted_on_the_first_attempt():
    rig = Rig(Outcome.ACCEPTED)
    note = notification()

    rig.queue.offer(note)
    attempted = rig.queue.run_due()

    assert attempted == 1
    assert rig.sender.sent == [note]
    assert rig.queue.pending() == {}
    assert rig.finals == [(note, Outcome.ACCEPTED)]
    assert rig.queue.stats.results == {('STOPPED', 'accepted'): 1}
    assert list(rig.queue.stats.latencies) == [0.0]
    assert rig.queue.next_due() is None


def test_transient_failure_is_retried_after_backoff():
    rig = Rig(Outcome.FAILED, Outcome.FAILED, Outcome.ACCEPTED)
    note = notification()
    rig.queue.offer(note)

    assert rig.queue.run_due() == 1
    assert rig.queue.pending() == {'cmp-1': note}
    assert rig.until_next_attempt() == 1.0
    assert rig.queue.run_due() == 0
    assert rig.advance(0.999) == 0
    assert rig.advance(0.001) == 1
    assert rig.until_next_attempt() == 2.0
    assert rig.advance(2.0) == 1

    # The very same notification every time: Masakari's duplicate check
    # relies on an unchanged generated_time and payload.
    assert rig.sender.sent == [note, note, note]
    assert rig.finals == [(note, Outcome.ACCEPTED)]
    assert rig.queue.pending() == {}
    assert list(rig.queue.stats.latencies) == [3.0]


def test_backoff_doubles_up_to_retry_max():
    rig = Rig(*[Outcome.FAILED] * 9)
    rig.queue.offer(notification())
    rig.queue.run_due()

    delays = []
    for _ in range(8):
        delays.append(rig.until_next_attempt())
        rig.advance(delays[-1])

    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]


def test_backoff_jitter_stays_within_twenty_percent():
    rig = Rig(*[Outcome.FAILED] * 12, rng=random.Random(20260101))
    rig.queue.offer(notification())
    rig.queue.run_due()

    for attempt in range(1, 12):
        base = min(60.0, 2.0 ** (attempt - 1))
        delay = rig.until_next_attempt()
        assert 0.8 * base <= delay <= 1.2 * base
        rig.advance(delay)


def test_retry_delay_never_exceeds_retry_max():
    rig = Rig(*[Outcome.FAILED] * 10, rng=MidRandom(0.99))
    rig.queue.offer(notification())
    rig.queue.run_due()

    for _ in range(9):
        assert rig.until_next_attempt() <= DELIVERY.retry_max
        rig.advance(rig.until_next_attempt())


@pytest.mark.timeout(60)
def test_long_outage_keeps_retrying():
    rig = Rig(*[Outcome.FAILED] * 1100)
    rig.queue.offer(notification())
    rig.queue.run_due()

    for _ in range(1099):
        rig.advance(rig.until_next_attempt())

    assert len(rig.sender.sent) == 1100
    assert rig.until_next_attempt() <= 1.2 * DELIVERY.retry_max


def test_newer_notification_supersedes_a_failing_one():
    rig = Rig(Outcome.FAILED, Outcome.ACCEPTED)
    stopped = notification(event='STOPPED')
    started = notification(event='STARTED', host_status='NORMAL',
                           generated_time=T0 + 100)
    rig.queue.offer(stopped)
    rig.queue.run_due()

    rig.queue.offer(started)
    rig.queue.run_due()
    rig.advance(3600)

    assert rig.sender.sent == [stopped, started]
    assert rig.finals == [(started, Outcome.ACCEPTED)]
    assert rig.queue.stats.superseded == 1
    assert rig.queue.pending() == {}


def test_upgrade_to_normal_goes_out_at_once_despite_backoff():
    rig = Rig(Outcome.FAILED, Outcome.FAILED, Outcome.FAILED)
    unknown = notification(host_status='UNKNOWN')
    normal = notification(host_status='NORMAL')
    rig.queue.offer(unknown)
    rig.queue.run_due()
    rig.advance(1.0)
    rig.clock.advance(0.5)   # the retry of UNKNOWN is due in 1.5 s

    rig.queue.offer(normal)

    assert rig.queue.run_due() == 1
    assert rig.sender.sent == [unknown, unknown, normal]
    assert rig.queue.pending() == {'cmp-1': normal}


@pytest.mark.parametrize('outcome', [Outcome.DUPLICATE,
                                     Outcome.REJECTED])
def test_final_answers_end_the_delivery(outcome):
    rig = Rig(outcome)
    note = notification()
    rig.queue.offer(note)

    rig.queue.run_due()
    rig.advance(24 * 3600)

    assert rig.sender.sent == [note]
    assert rig.finals == [(note, outcome)]
    assert rig.queue.pending() == {}


def test_unknown_host_is_rechecked_slowly(caplog):
    rig = Rig(Outcome.UNKNOWN_HOST, Outcome.UNKNOWN_HOST, Outcome.ACCEPTED,
              rng=random.Random(7))
    note = notification()
    rig.queue.offer(note)

    rig.queue.run_due()
    assert rig.until_next_attempt() == 300.0    # no jitter, no doubling
    assert rig.advance(299.9) == 0
    assert rig.advance(0.1) == 1
    assert rig.until_next_attempt() == 300.0
    assert rig.finals == []
    assert rig.advance(300.0) == 1

    assert rig.finals == [(note, Outcome.ACCEPTED)]
    assert 'does not know host cmp-1' in caplog.text


def test_result_for_a_superseded_attempt_keeps_the_newer_one():
    started = notification(event='STARTED', host_status='NORMAL',
                           generated_time=T0 + 100)

    def offer_during_send(note):
        # The decision thread offers STARTED while STOPPED is on the wire.
        rig.queue.offer(started)
        return Outcome.ACCEPTED

    rig = Rig(offer_during_send, Outcome.FAILED)
    stopped = notification()
    rig.queue.offer(stopped)

    rig.queue.run_due()

    assert rig.sender.sent == [stopped, started]
    assert rig.finals == [(stopped, Outcome.ACCEPTED)]
    assert rig.queue.pending() == {'cmp-1': started}
    assert rig.until_next_attempt() == 1.0


def test_failure_of_a_superseded_attempt_is_not_retried():
    started = notification(event='STARTED', host_status='NORMAL',
                           generated_time=T0 + 100)

    def offer_during_send(note):
        rig.queue.may_send = lambda: False   # hold the newer one back
        rig.queue.offer(started)
        return Outcome.FAILED

    rig = Rig(offer_during_send)
    stopped = notification()
    rig.queue.offer(stopped)
    rig.queue.run_due()
    rig.queue.may_send = lambda: True

    rig.advance(3600)

    assert rig.sender.sent == [stopped, started]


def test_hosts_are_independent():
    rig = Rig(Outcome.FAILED, Outcome.ACCEPTED)
    first, second = notification('cmp-1'), notification('cmp-2')

    rig.queue.offer(first)
    rig.queue.offer(second)
    assert rig.queue.run_due() == 2

    assert rig.queue.pending() == {'cmp-1': first}
    assert rig.finals == [(second, Outcome.ACCEPTED)]


def test_nothing_is_sent_while_sending_is_not_allowed():
    rig = Rig()
    rig.queue.may_send = lambda: False
    rig.queue.offer(notification())

    assert rig.advance(60) == 0
    assert rig.sender.sent == []

    rig.queue.may_send = lambda: True
    assert rig.queue.run_due() == 1


@pytest.mark.timeout(10)
def test_wait_returns_at_once_when_stopped():
    rig = Rig()
    stop = threading.Event()
    stop.set()

    rig.queue.wait(stop, max_wait=3600)   # would hang the test otherwise


@pytest.mark.timeout(20)
def test_worker_thread_delivers_and_stops():
    delivered = threading.Event()

    class SignallingSender:
        def send(self, note):
            delivered.set()
            return notifier.Result(Outcome.ACCEPTED, 'ok', 'uuid-1')

    stop = threading.Event()
    queue = notifier.DeliveryQueue(sender=SignallingSender(),
                                   clock=SystemClock(), settings=DELIVERY)
    worker = notifier.DeliveryWorker(queue, stop, max_wait=5.0)
    worker.start()
    try:
        queue.offer(notification())
        assert delivered.wait(10)
    finally:
        stop.set()
        worker.join(10)
    assert not worker.is_alive()
    assert queue.pending() == {}


# -- what masakari-api's answers mean ----------------------------------------

@pytest.mark.parametrize('status, message, outcome', [
    (409, "Notification received from host cmp-1 of type 'COMPUTE_HOST' is "
          "ignored as the host is already under maintenance.",
     Outcome.HOST_ON_MAINTENANCE),
    (409, 'Notification received from host cmp-1 of type COMPUTE_HOST is '
          'duplicate.', Outcome.DUPLICATE),
    (409, None, Outcome.DUPLICATE),
    (400, 'Host with name cmp-1 could not be found.', Outcome.UNKNOWN_HOST),
    (400, 'Invalid input for field/attribute host_status.',
     Outcome.REJECTED),
    (400, 'Malformed request body', Outcome.REJECTED),
    (401, 'Unauthorized', Outcome.FAILED),
    (403, 'Policy does not allow', Outcome.FAILED),
    (404, 'Not Found', Outcome.FAILED),
    (500, 'Internal Server Error', Outcome.FAILED),
    (503, 'Service Unavailable', Outcome.FAILED),
    (None, '', Outcome.FAILED),
])
def test_classify_http_error(status, message, outcome):
    assert notifier.classify_http_error(status, message) is outcome


@pytest.mark.parametrize('outcome, final', [
    (Outcome.ACCEPTED, True),
    (Outcome.DUPLICATE, True),
    (Outcome.HOST_ON_MAINTENANCE, True),
    (Outcome.REJECTED, True),
    (Outcome.UNKNOWN_HOST, False),
    (Outcome.FAILED, False),
])
def test_which_outcomes_are_final(outcome, final):
    assert outcome.final is final


def sdk_error(status, fault, message):
    """The exception openstacksdk raises for masakari-api's JSON fault."""
    response = requests.Response()
    response.status_code = status
    response.reason = {400: 'Bad Request', 409: 'Conflict'}.get(status)
    response.headers['content-type'] = 'application/json'
    response._content = json.dumps(
        {fault: {'code': status, 'message': message}}).encode()
    try:
        sdk_exceptions.raise_from_response(response)
    except sdk_exceptions.HttpException as exc:
        return exc
    raise AssertionError('openstacksdk raised nothing for %s' % status)


class FakeInstanceHA:
    def __init__(self, answer):
        self.answer = answer
        self.calls = []

    def create_notification(self, **kwargs):
        self.calls.append(kwargs)
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer


def test_sender_posts_a_compute_host_notification():
    instance_ha = FakeInstanceHA(types.SimpleNamespace(
        notification_uuid='9f1c', id=None))
    note = notification(host_status='NORMAL', generated_time=T0 + 0.75)

    result = notifier.MasakariSender(instance_ha).send(note)

    assert result == notifier.Result(Outcome.ACCEPTED, 'stored', '9f1c')
    assert instance_ha.calls == [{
        'type': 'COMPUTE_HOST', 'hostname': 'cmp-1',
        'generated_time': '2027-01-15T08:00:00Z',
        'payload': {'event': 'STOPPED', 'host_status': 'NORMAL',
                    'cluster_status': 'OFFLINE'}}]


def test_sender_accepts_an_id_only_answer():
    instance_ha = FakeInstanceHA(types.SimpleNamespace(id='77aa'))

    result = notifier.MasakariSender(instance_ha).send(notification())

    assert result.outcome is Outcome.ACCEPTED
    assert result.notification_uuid == '77aa'


@pytest.mark.parametrize('exc, outcome', [
    (sdk_error(409, 'conflictingRequest',
               "Notification received from host cmp-1 of type "
               "'COMPUTE_HOST' is ignored as the host is already under "
               "maintenance."), Outcome.HOST_ON_MAINTENANCE),
    (sdk_error(409, 'conflictingRequest',
               'Notification received from host cmp-1 of type '
               'COMPUTE_HOST is duplicate.'), Outcome.DUPLICATE),
    (sdk_error(400, 'badRequest',
               'Host with name cmp-1 could not be found.'),
     Outcome.UNKNOWN_HOST),
    (sdk_error(400, 'badRequest',
               "Invalid input for field/attribute event."),
     Outcome.REJECTED),
    (sdk_error(503, 'serviceUnavailable', 'try later'), Outcome.FAILED),
])
def test_sender_classifies_sdk_exceptions(exc, outcome):
    result = notifier.MasakariSender(FakeInstanceHA(exc)).send(
        notification())

    assert result.outcome is outcome
    assert result.detail == exc.details    # masakari's own words


def test_sdk_exceptions_are_the_real_classes():
    assert isinstance(sdk_error(409, 'conflictingRequest', 'x'),
                      sdk_exceptions.ConflictException)
    assert isinstance(sdk_error(400, 'badRequest', 'x'),
                      sdk_exceptions.BadRequestException)


@pytest.mark.parametrize('exc', [
    requests.exceptions.ConnectionError('Connection refused'),
    requests.exceptions.ReadTimeout('read timed out'),
    sdk_exceptions.SDKException('auth plugin broke'),
])
def test_sender_treats_connection_trouble_as_transient(exc):
    result = notifier.MasakariSender(FakeInstanceHA(exc)).send(
        notification())

    assert result.outcome is Outcome.FAILED
    assert type(exc).__name__ in result.detail


@pytest.mark.parametrize('answer', [
    types.SimpleNamespace(),
    types.SimpleNamespace(id=None, notification_uuid=None),
    None,
])
def test_answer_without_an_id_is_not_a_delivery(answer):
    # What openstacksdk returns when the endpoint lacks /v1 (HTTP 300).
    result = notifier.MasakariSender(FakeInstanceHA(answer)).send(
        notification())

    assert result.outcome is Outcome.FAILED
    assert '/v1' in result.detail


# -- a Masakari client built on the first send (issue 15, item 1) --------

class Connector:
    """Builds the proxy, failing the first ``failures`` times."""

    def __init__(self, failures, instance_ha):
        self.failures = failures
        self.instance_ha = instance_ha
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.calls <= self.failures:
            raise requests.exceptions.ConnectTimeout(
                'keystone: connect timed out')
        return self.instance_ha


def test_the_client_is_built_on_the_first_send_not_before():
    connector = Connector(0, FakeInstanceHA(types.SimpleNamespace(id='1')))

    sender = notifier.MasakariSender(connect=connector)

    assert connector.calls == 0
    assert not sender.client_ready
    assert sender.send(notification()).outcome is Outcome.ACCEPTED
    assert sender.send(notification()).outcome is Outcome.ACCEPTED
    assert connector.calls == 1
    assert sender.client_ready


def test_a_client_that_cannot_be_built_is_a_failed_delivery_retried(caplog):
    caplog.set_level(logging.INFO)
    instance_ha = FakeInstanceHA(types.SimpleNamespace(id='1'))
    connector = Connector(3, instance_ha)
    sender = notifier.MasakariSender(connect=connector)

    results = [sender.send(notification()) for _ in range(4)]

    assert [r.outcome for r in results] == [Outcome.FAILED] * 3 + [
        Outcome.ACCEPTED]
    assert 'ConnectTimeout' in results[0].detail
    assert sender.client_failures == 3
    assert sender.client_ready
    assert len(instance_ha.calls) == 1
    # Logged once per state change, not once per attempt.
    warnings = [r for r in caplog.records
                if 'Cannot reach Masakari' in r.getMessage()]
    assert len(warnings) == 1
    assert any('ready after 3 failed' in r.getMessage()
               for r in caplog.records)


def test_delivery_queue_retries_until_the_client_can_be_built():
    instance_ha = FakeInstanceHA(types.SimpleNamespace(id='1'))
    connector = Connector(2, instance_ha)
    clock = ManualClock()
    queue = notifier.DeliveryQueue(
        sender=notifier.MasakariSender(connect=connector), clock=clock,
        settings=k8s_conf.DeliverySettings(retry_initial=1.0,
                                           retry_max=4.0),
        rng=random.Random(3))
    queue.offer(notification())

    for _ in range(10):
        queue.run_due()
        clock.advance(5.0)

    assert connector.calls == 3
    assert len(instance_ha.calls) == 1
    assert queue.pending() == {}
    assert queue.stats.results == {('STOPPED', 'failed'): 2,
                                   ('STOPPED', 'accepted'): 1}


def test_latency_samples_are_bounded():
    stats = notifier.DeliveryStats()
    for n in range(notifier.LATENCY_SAMPLES + 500):
        stats.latencies.append(float(n))

    assert len(stats.latencies) == notifier.LATENCY_SAMPLES
    assert stats.latencies[-1] == notifier.LATENCY_SAMPLES + 499.0


# -- review finding 13: "on maintenance" is not final for a STOPPED ------

def test_stopped_on_maintenance_is_sent_again_until_accepted():
    rig = Rig(Outcome.HOST_ON_MAINTENANCE, Outcome.HOST_ON_MAINTENANCE,
              Outcome.ACCEPTED)
    note = notification()
    rig.queue.offer(note)

    rig.queue.run_due()
    assert rig.queue.pending() == {'cmp-1': note}
    assert rig.until_next_attempt() == DELIVERY.maintenance_recheck
    rig.advance(DELIVERY.maintenance_recheck)
    rig.advance(DELIVERY.maintenance_recheck)

    assert rig.sender.sent == [note, note, note]
    assert rig.finals == [(note, Outcome.ACCEPTED)]
    assert rig.queue.pending() == {}


def test_started_on_maintenance_is_final():
    rig = Rig(Outcome.HOST_ON_MAINTENANCE)
    note = notification(event='STARTED', host_status='NORMAL')
    rig.queue.offer(note)

    rig.queue.run_due()
    rig.advance(24 * 3600)

    assert rig.sender.sent == [note]
    assert rig.finals == [(note, Outcome.HOST_ON_MAINTENANCE)]


# -- review finding 4: the queue re-reads the host before each attempt ---

def test_a_host_that_no_longer_warrants_it_is_withdrawn():
    rig = Rig(Outcome.FAILED)
    note = notification()
    verdict = {'now': hosts.Warrant.ACT}
    rig.queue.warrant = lambda n: verdict['now']
    rig.queue.offer(note)
    rig.queue.run_due()

    verdict['now'] = hosts.Warrant.DROP
    rig.advance(3600)

    assert rig.sender.sent == [note]
    assert rig.queue.pending() == {}
    assert rig.queue.stats.withdrawn == 1


def test_a_host_that_asks_to_wait_is_looked_at_again():
    rig = Rig()
    note = notification()
    verdict = {'now': hosts.Warrant.WAIT}
    rig.queue.warrant = lambda n: verdict['now']
    rig.queue.offer(note)

    assert rig.queue.run_due() == 0
    assert rig.until_next_attempt() == notifier.WAIT_RECHECK
    verdict['now'] = hosts.Warrant.ACT
    rig.advance(notifier.WAIT_RECHECK)

    assert rig.sender.sent == [note]


def test_started_supersedes_a_stopped_another_replica_may_have_sent():
    # A standby queues what the leader sends; after a takeover, the
    # recovery's STARTED must still reach Masakari, which may have stored
    # the old leader's STOPPED.
    rig = Rig()
    stopped = notification()
    started = notification(event='STARTED', host_status='NORMAL')
    rig.queue.may_send = lambda: False
    rig.queue.offer(stopped)
    rig.queue.offer(started)
    rig.queue.may_send = lambda: True
    rig.queue.run_due()

    assert rig.sender.sent == [started]
    assert rig.queue.pending() == {}


# -- review finding 16: leadership is re-checked right before the POST ---

def test_leadership_lost_between_the_look_and_the_post_sends_nothing():
    rig = Rig()
    note = notification()
    leading = iter([True, False, False])
    rig.queue.may_send = lambda: next(leading)
    rig.queue.offer(note)

    assert rig.queue.run_due() == 0
    assert rig.sender.sent == []
    assert rig.queue.pending() == {'cmp-1': note}


# -- review finding 16: a POST ends before a standby may lead ------------

@pytest.mark.parametrize('configured, enabled, expected', [
    (None, False, notifier.DEFAULT_API_TIMEOUT),
    (12.0, False, 12.0),
    (None, True, 5.0),
    (30.0, True, 5.0),
    (3.0, True, 3.0),
])
def test_request_timeout_stays_below_the_leadership_margin(
        configured, enabled, expected):
    leader = k8s_conf.LeaderSettings(enabled=enabled, lease_duration=15.0,
                                     renew_deadline=10.0)

    assert notifier.request_timeout(configured, leader) == expected


def test_the_connector_caps_the_session_timeout_with_leader_election():
    from keystoneauth1 import loading as ks_loading
    from oslo_config import cfg
    conf = cfg.ConfigOpts()
    ks_loading.register_auth_conf_options(conf, 'api')
    ks_loading.register_session_conf_options(conf, 'api')
    conf.register_opts(ks_loading.get_auth_plugin_conf_options(
        'admin_token'), group='api')
    conf.register_opts([cfg.StrOpt('api_interface', default='public'),
                        cfg.StrOpt('region')], group='api')
    conf([], default_config_files=[])
    for name, value in (('auth_type', 'admin_token'), ('timeout', 30),
                        ('endpoint', 'http://127.0.0.1:9/v1'),
                        ('token', 'admin:admin')):
        conf.set_override(name, value, group='api')
    leader = k8s_conf.LeaderSettings(enabled=True, lease_duration=20.0,
                                     renew_deadline=12.0)

    capped = notifier.instance_ha_connector(conf, leader=leader)
    plain = notifier.instance_ha_connector(conf)

    assert capped.session.timeout == 8.0
    assert plain.session.timeout == 30
