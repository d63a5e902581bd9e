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

"""Retry, verification and error logic of the Redfish fencer.

The BMC is a scripted fake with sushy's shape (``get_system`` returning a
system with ``power_state``, ``refresh``, ``reset_system`` and
``get_allowed_reset_system_values``) and raising sushy's own exceptions.
Time is a ManualClock that the fake ``sleep`` advances, so nothing here
really waits. The same code against a real Redfish server is in
tests/functional/fencing.
"""

import threading

import sushy
from sushy import exceptions as sushy_exceptions

import pytest

from masakarimonitors_k8s import clock as clocks
from masakarimonitors_k8s import conf
from masakarimonitors_k8s.fencing import bmc
from masakarimonitors_k8s.fencing import redfish

SECRET = 'hunter2-Secret'
SYSTEM = '/redfish/v1/Systems/1'
ALL_RESETS = set(sushy.ResetType)


def refused():
    return sushy_exceptions.ConnectionError(
        url='https://192.0.2.1/redfish/v1/', error='Connection refused')


class FakeResponse:
    """Just enough of requests.Response for sushy's HTTPError."""

    def __init__(self, status_code, message):
        self.status_code = status_code
        self._message = message

    def json(self):
        return {'error': {'code': 'Base.1.0.GeneralError',
                          'message': self._message}}


def http_error(cls, status, message='no'):
    return cls(method='GET', url='https://192.0.2.1' + SYSTEM,
               response=FakeResponse(status, message))


class FakeBmc:
    """A scripted BMC: queued failures, a power state, delayed resets.

    Every "request" (connect, get_system, refresh, reset) first takes the
    next queued failure, if any, and raises it; a queued None lets that
    request through. ``lose_reset_answer``: the reset is done, but its
    answer never arrives.
    """

    def __init__(self, state='On', *, allowed=ALL_RESETS, off_after=0,
                 lose_reset_answer=False):
        self.state = state
        self.lose_reset_answer = lose_reset_answer
        self.allowed = set(allowed)
        # Reads after a reset before the state becomes Off.
        self.off_after = off_after
        self.failures = []
        self.requests = []
        self.resets = []
        self.connects = []
        self.closed = 0
        self._pending_reads = None

    def fail_next(self, *exceptions):
        self.failures.extend(exceptions)

    def request(self, what):
        self.requests.append(what)
        failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            raise failure

    def read(self):
        self.request('GET system')
        if self._pending_reads is not None:
            if self._pending_reads == 0:
                self.state, self._pending_reads = 'Off', None
            else:
                self._pending_reads -= 1

    def connect(self, target, *, verify, timeout):
        self.connects.append({'target': target, 'verify': verify,
                              'timeout': timeout})
        self.request('connect')
        return FakeConnection(self)


class FakeConnection:
    def __init__(self, bmc_):
        self._bmc = bmc_

    def get_system(self, path):
        self._bmc.read()
        return FakeSystem(self._bmc, path or SYSTEM)

    def close(self):
        self._bmc.closed += 1


class FakeSystem:
    def __init__(self, bmc_, path):
        self._bmc = bmc_
        self.path = path

    @property
    def power_state(self):
        try:
            return sushy.PowerState(self._bmc.state)
        except ValueError:
            return None  # as sushy's MappedField does

    @property
    def json(self):
        return {'PowerState': self._bmc.state} if self._bmc.state else {}

    def refresh(self):
        self._bmc.read()

    def get_allowed_reset_system_values(self):
        return set(self._bmc.allowed)

    def reset_system(self, value):
        self._bmc.request('POST Reset')
        self._bmc.resets.append(value)
        self._bmc._pending_reads = self._bmc.off_after
        if self._bmc.lose_reset_answer:
            raise refused()


class Sleeper:
    """A sleep that only advances the ManualClock and remembers."""

    def __init__(self, clock):
        self.clock = clock
        self.calls = []

    def __call__(self, seconds):
        self.calls.append(seconds)
        self.clock.advance(seconds)


@pytest.fixture
def clock():
    return clocks.ManualClock()


@pytest.fixture
def sleep(clock):
    return Sleeper(clock)


@pytest.fixture
def target():
    return bmc.BmcTarget('compute-01', 'https://192.0.2.1', SYSTEM,
                         'admin', SECRET)


@pytest.fixture
def make_fencer(clock, sleep):
    def make(fake, **options):
        poll_interval = options.pop('poll_interval', 2.0)
        options.setdefault('retry_max', 3)
        options.setdefault('retry_interval', 10.0)
        return redfish.RedfishFencer(
            conf.RedfishSettings(**options), sleep=sleep, clock=clock,
            poll_interval=poll_interval, connect=fake.connect)
    return make


# -- readings ---------------------------------------------------------------

@pytest.mark.parametrize('state, is_off', [
    ('On', False), ('Off', True), ('PoweringOff', False),
    ('PoweringOn', False), ('Paused', False)])
def test_the_reading_is_what_the_bmc_says(make_fencer, target, state,
                                          is_off):
    fake = FakeBmc(state)
    reading = make_fencer(fake).power_state(target)
    assert (reading.state, reading.is_off, reading.system) == (
        state, is_off, SYSTEM)
    assert state in reading.detail and target.address in reading.detail


def test_a_state_sushy_does_not_know_is_kept_verbatim(make_fencer, target):
    reading = make_fencer(FakeBmc('Hibernating')).power_state(target)
    assert (reading.state, reading.is_off) == ('Hibernating', False)


def test_a_missing_power_state_reads_unknown(make_fencer, target):
    reading = make_fencer(FakeBmc(None)).power_state(target)
    assert (reading.state, reading.is_off) == ('Unknown', False)


def test_every_call_opens_and_closes_its_own_connection(
        make_fencer, target):
    fake = FakeBmc('On')
    fencer = make_fencer(fake, timeout=2.5)
    fencer.power_state(target)
    fencer.power_state(target)
    assert len(fake.connects) == 2 and fake.closed == 2
    assert {c['timeout'] for c in fake.connects} == {2.5}
    assert fake.connects[0]['target'] is target


# -- retries ----------------------------------------------------------------

def test_transient_errors_are_retried_every_retry_interval(
        make_fencer, target, sleep):
    fake = FakeBmc('Off')
    # Attempt 1 cannot connect; attempt 2 connects, its read gets a 503.
    fake.fail_next(refused(), None,
                   http_error(sushy_exceptions.ServerSideError, 503))
    reading = make_fencer(fake, retry_max=3,
                          retry_interval=7.0).power_state(target)
    assert reading.is_off
    assert sleep.calls == [7.0, 7.0]
    assert len(fake.connects) == 3
    # The connection whose read failed, and the last one.
    assert fake.closed == 2


def test_after_the_last_retry_a_fencing_error_says_why(
        make_fencer, target, sleep):
    fake = FakeBmc('Off')
    fake.fail_next(*[refused() for _ in range(10)])
    with pytest.raises(redfish.FencingError) as caught:
        make_fencer(fake, retry_max=3, retry_interval=10.0).power_state(
            target)
    message = str(caught.value)
    assert caught.value.node == 'compute-01'
    assert message.startswith(
        'node compute-01: could not read the power state via BMC '
        'https://192.0.2.1/redfish/v1/Systems/1 after 4 attempt(s): '
        'ConnectionError')
    assert 'Connection refused' in message
    assert len(fake.connects) == 4
    assert sleep.calls == [10.0, 10.0, 10.0]


def test_retry_max_zero_means_one_attempt(make_fencer, target, sleep):
    fake = FakeBmc('Off')
    fake.fail_next(refused())
    with pytest.raises(redfish.FencingError, match='after 1 attempt'):
        make_fencer(fake, retry_max=0).power_state(target)
    assert sleep.calls == []


@pytest.mark.parametrize('failure, complaint', [
    (http_error(sushy_exceptions.AccessError, 401),
     "the BMC refused user 'admin' \\(HTTP 401\\)"),
    (http_error(sushy_exceptions.ResourceNotFoundError, 404),
     'no such system'),
    (sushy_exceptions.UnknownDefaultError(
        entity='ComputerSystem', error='System count is not exactly one'),
     'name the system in the BMC address'),
    (sushy_exceptions.MissingAttributeError(attribute='Systems',
                                            resource='/redfish/v1/'),
     'MissingAttributeError'),
])
def test_permanent_errors_are_not_retried(make_fencer, target, sleep,
                                          failure, complaint):
    fake = FakeBmc('Off')
    # The connection opens; reading the system fails.
    fake.fail_next(None, failure)
    with pytest.raises(redfish.FencingError, match=complaint) as caught:
        make_fencer(fake, retry_max=3).power_state(target)
    assert 'attempt' not in str(caught.value)
    assert sleep.calls == []
    assert len(fake.connects) == 1 and fake.closed == 1


def test_passwords_never_reach_errors_or_logs(make_fencer, target, caplog):
    # A BMC that echoes what it got (it happens) must not leak it.
    fake = FakeBmc('Off')
    fake.fail_next(*[sushy_exceptions.ConnectionError(
        url='https://192.0.2.1', error='echo ' + SECRET) for _ in range(3)])
    with pytest.raises(redfish.FencingError) as caught:
        make_fencer(fake, retry_max=2).power_state(target)
    assert 'echo ***' in str(caught.value)
    assert SECRET not in str(caught.value)
    assert 'echo ***' in caplog.text

    fake.fail_next(None, http_error(sushy_exceptions.AccessError, 401,
                                    'wrong password ' + SECRET))
    with pytest.raises(redfish.FencingError) as caught:
        make_fencer(fake, retry_max=2).power_state(target)
    assert 'HTTP 401' in str(caught.value)

    assert SECRET not in str(caught.value)
    assert SECRET not in caplog.text


# -- power-off --------------------------------------------------------------

def test_power_off_sends_force_off_and_polls_until_off(
        make_fencer, target, sleep, clock):
    fake = FakeBmc('On', off_after=2)
    start = clock.monotonic()
    reading = make_fencer(fake, poll_interval=2.0,
                          verify_timeout=60.0).power_off(target)
    assert reading.is_off and reading.system == SYSTEM
    assert fake.resets == [sushy.ResetType.FORCE_OFF]
    # Read right after the request, then every poll_interval.
    assert sleep.calls == [2.0, 2.0]
    assert clock.monotonic() - start == 4.0
    # One connection for the request and all the polls.
    assert len(fake.connects) == 1 and fake.closed == 1


def test_power_off_falls_back_to_push_power_button(make_fencer, target):
    fake = FakeBmc('On', allowed={sushy.ResetType.ON,
                                  sushy.ResetType.PUSH_POWER_BUTTON,
                                  sushy.ResetType.GRACEFUL_SHUTDOWN})
    assert make_fencer(fake).power_off(target).is_off
    assert fake.resets == [sushy.ResetType.PUSH_POWER_BUTTON]


def test_power_off_refuses_without_a_hard_power_off(make_fencer, target):
    fake = FakeBmc('On', allowed={sushy.ResetType.ON,
                                  sushy.ResetType.GRACEFUL_SHUTDOWN})
    with pytest.raises(redfish.FencingError,
                       match='allows none of ForceOff, PushPowerButton for '
                             'the system \\(it allows: GracefulShutdown, '
                             'On\\)'):
        make_fencer(fake).power_off(target)
    assert fake.resets == [] and fake.state == 'On'


def test_power_off_leaves_an_off_system_alone(make_fencer, target, sleep):
    fake = FakeBmc('Off')
    assert make_fencer(fake).power_off(target).is_off
    assert fake.resets == [] and sleep.calls == []


def test_power_off_times_out_when_the_system_stays_on(
        make_fencer, target, sleep, clock):
    fake = FakeBmc('On', off_after=1000)
    start = clock.monotonic()
    with pytest.raises(redfish.FencingError) as caught:
        make_fencer(fake, poll_interval=4.0,
                    verify_timeout=10.0).power_off(target)
    assert str(caught.value) == (
        'node compute-01: BMC https://192.0.2.1/redfish/v1/Systems/1 did '
        'not report the system Off within 10 s of the power-off request; '
        'PowerState is still On')
    # Polls at 0, 4, 8 and at the deadline, never past it.
    assert sleep.calls == [4.0, 4.0, 2.0]
    assert clock.monotonic() - start == 10.0
    assert len(fake.resets) == 1


def test_power_off_rides_out_errors_while_polling(
        make_fencer, target, sleep):
    fake = FakeBmc('On', off_after=1)
    fencer = make_fencer(fake, poll_interval=1.0, verify_timeout=30.0)
    # Connect, read, reset go through; the first poll fails.
    fake.fail_next(None, None, None, refused())
    reading = fencer.power_off(target)
    assert reading.is_off
    assert len(fake.resets) == 1
    # The broken connection was dropped and a new one opened.
    assert len(fake.connects) == 2 and fake.closed == 2


def test_power_off_gives_up_when_polls_keep_failing(
        make_fencer, target, clock):
    fake = FakeBmc('On', off_after=0)
    fencer = make_fencer(fake, poll_interval=1.0, verify_timeout=3.0)
    fake.fail_next(None, None, None, *[refused() for _ in range(20)])
    with pytest.raises(redfish.FencingError,
                       match='did not report the system Off within 3 s '
                             'of the power-off request; the last request '
                             'failed: .*Connection refused'):
        fencer.power_off(target)


def test_power_off_stops_at_a_permanent_error_while_polling(
        make_fencer, target, sleep):
    fake = FakeBmc('On', off_after=5)
    fencer = make_fencer(fake, poll_interval=1.0, verify_timeout=30.0)
    fake.fail_next(None, None, None,
                   http_error(sushy_exceptions.AccessError, 403))
    with pytest.raises(redfish.FencingError,
                       match='could not verify the power-off .*HTTP 403'):
        fencer.power_off(target)
    assert sleep.calls == []


def test_a_retried_power_off_does_not_reset_twice(
        make_fencer, target, sleep):
    """The BMC acted on the request, but the answer was lost."""
    fake = FakeBmc('On', lose_reset_answer=True)
    reading = make_fencer(fake, retry_interval=5.0).power_off(target)
    assert reading.is_off
    assert fake.resets == [sushy.ResetType.FORCE_OFF]
    assert sleep.calls == [5.0]


def test_power_off_fails_after_the_retries(make_fencer, target, sleep):
    fake = FakeBmc('On')
    fake.fail_next(*[refused() for _ in range(10)])
    with pytest.raises(redfish.FencingError,
                       match='node compute-01: could not power off via BMC '
                             '.* after 3 attempt.s.: ConnectionError'):
        make_fencer(fake, retry_max=2, retry_interval=1.0).power_off(target)
    assert fake.resets == [] and sleep.calls == [1.0, 1.0]


# -- TLS settings -----------------------------------------------------------

def test_tls_verification_follows_the_settings(tmp_path, clock, sleep,
                                               target):
    ca_file = tmp_path / 'ca.pem'
    ca_file.write_text('not checked here')
    cases = [({}, True), ({'ca_file': str(ca_file)}, str(ca_file)),
             ({'insecure': True}, False)]
    for options, verify in cases:
        fake = FakeBmc('On')
        redfish.RedfishFencer(conf.RedfishSettings(**options), sleep=sleep,
                              clock=clock, connect=fake.connect
                              ).power_state(target)
        assert fake.connects[0]['verify'] == verify, options


def test_a_missing_ca_file_is_a_config_error(tmp_path):
    missing = str(tmp_path / 'absent.pem')
    with pytest.raises(conf.ConfigError,
                       match=r"\[k8s\] redfish_ca_file = '.*absent.pem': "
                             "no such file"):
        redfish.RedfishFencer(conf.RedfishSettings(ca_file=missing))


# -- a stop ends the waits (issue 15, item 5) -------------------------------

class StopDuringWait(threading.Event):
    """A stop event set by the monitor while the fencer waits."""

    def __init__(self):
        super().__init__()
        self.waits = []

    def wait(self, timeout=None):
        self.waits.append(timeout)
        self.set()
        return True


def test_a_stop_ends_the_verification_wait(clock, target):
    stop = StopDuringWait()
    fake = FakeBmc('On', off_after=1000)
    fencer = redfish.RedfishFencer(
        conf.RedfishSettings(verify_timeout=60.0), clock=clock,
        poll_interval=2.0, connect=fake.connect, stop_event=stop)

    with pytest.raises(redfish.FencingInterrupted, match='stopping'):
        fencer.power_off(target)

    # One wait, on the stop event, not a minute of polls.
    assert stop.waits == [2.0]


def test_a_stop_ends_the_retry_wait(clock, target):
    stop = StopDuringWait()
    fake = FakeBmc('Off')
    fake.fail_next(*[refused() for _ in range(10)])
    fencer = redfish.RedfishFencer(
        conf.RedfishSettings(retry_max=3, retry_interval=10.0), clock=clock,
        connect=fake.connect, stop_event=stop)

    with pytest.raises(redfish.FencingInterrupted):
        fencer.power_state(target)

    assert stop.waits == [10.0]
    assert len(fake.connects) == 1
