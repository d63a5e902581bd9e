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

"""The Redfish fencer against a real Redfish server, over HTTP.

The server is sushy-tools' emulator with its fake system driver, started
by masakarimonitors_k8s.testing.redfish_bmc; the client is the real sushy
inside RedfishFencer, and targets come from real map and credentials
files through BmcDirectory, as in production. The harness reads and sets
power through the emulator's own Redfish API, independently of the code
under test.

Waiting: retries use a recording sleep that does not sleep (retry
intervals are 0 or skipped); only the power-off verification polls sleep
for real, for the emulator's own power transition.
"""

import contextlib
import socket
import threading
import time

import pytest

from masakarimonitors_k8s import clock as clocks
from masakarimonitors_k8s import conf
from masakarimonitors_k8s.fencing import bmc
from masakarimonitors_k8s.fencing import redfish

pytestmark = pytest.mark.timeout(60)


class RecordingSleep:
    """Records requested sleeps; really sleeps only when told to."""

    def __init__(self, *, real=False):
        self.calls = []
        self._real = real

    def __call__(self, seconds):
        self.calls.append(seconds)
        if self._real:
            time.sleep(seconds)


def make_directory(tmp_path, entries, *, username='admin',
                   password='unused'):
    """A BmcDirectory loaded from real files, as the monitor does."""
    map_file = tmp_path / 'bmc-map.yaml'
    map_file.write_text(''.join('%s: %s\n' % item
                                for item in entries.items()))
    credentials = tmp_path / 'credentials.yaml'
    credentials.write_text('username: %s\npassword: "%s"\n'
                           % (username, password))
    # The emulator speaks plain http (one test uses TLS), refused unless
    # allowed.
    return bmc.BmcDirectory.from_settings(conf.RedfishSettings(
        bmc_map_file=str(map_file), credentials_file=str(credentials),
        allow_http=True))


def make_fencer(*, sleep=None, poll_interval=0.05, **options):
    options.setdefault('timeout', 2.0)
    options.setdefault('retry_max', 2)
    options.setdefault('retry_interval', 0.0)
    return redfish.RedfishFencer(
        conf.RedfishSettings(**options), sleep=sleep or RecordingSleep(),
        clock=clocks.SystemClock(), poll_interval=poll_interval)


def target_of(server, node, tmp_path, *, password=None):
    directory = make_directory(
        tmp_path, {node: server.system_url(node)}, username=server.username,
        password=server.password if password is None else password)
    return directory.target_for(node)


def test_bmc_says_on_reading_is_on(redfish_bmc_server, tmp_path):
    server = redfish_bmc_server
    server.set_power('compute-01', 'On')
    reading = make_fencer().power_state(
        target_of(server, 'compute-01', tmp_path))
    assert (reading.state, reading.is_off) == ('On', False)
    assert reading.system == server.system_path('compute-01')


def test_bmc_says_off_reading_is_off(redfish_bmc_server, tmp_path):
    server = redfish_bmc_server
    server.set_power('compute-02', 'Off')
    reading = make_fencer().power_state(
        target_of(server, 'compute-02', tmp_path))
    assert (reading.state, reading.is_off) == ('Off', True)


def test_the_reading_follows_the_bmc(redfish_bmc_server, tmp_path):
    server = redfish_bmc_server
    fencer = make_fencer()
    target = target_of(server, 'compute-03', tmp_path)
    seen = []
    for state in ('Off', 'On', 'Off'):
        server.set_power('compute-03', state)
        seen.append(fencer.power_state(target).state)
    assert seen == ['Off', 'On', 'Off']


def test_power_off_turns_the_system_off_and_verifies_it(
        redfish_bmc_server, tmp_path):
    server = redfish_bmc_server
    server.set_power('compute-04', 'On')
    reading = make_fencer().power_off(
        target_of(server, 'compute-04', tmp_path))
    assert reading.is_off
    # The emulator agrees, asked through its own API.
    assert server.power_state('compute-04') == 'Off'


def test_power_off_of_an_off_system_sends_no_reset(
        redfish_bmc_server, tmp_path):
    server = redfish_bmc_server
    server.set_power('compute-05', 'Off')
    resets_before = _reset_requests(server, 'compute-05')
    reading = make_fencer().power_off(
        target_of(server, 'compute-05', tmp_path))
    assert reading.is_off
    assert _reset_requests(server, 'compute-05') == resets_before


def test_wrong_password_is_a_clear_error_without_the_password(
        redfish_bmc_server, tmp_path, caplog):
    server = redfish_bmc_server
    wrong = 'Not-The-Pa55word'
    sleep = RecordingSleep()
    target = target_of(server, 'compute-06', tmp_path, password=wrong)
    with pytest.raises(redfish.FencingError) as caught:
        make_fencer(sleep=sleep, retry_max=3).power_state(target)
    message = str(caught.value)
    assert message == (
        "node compute-06: could not read the power state via BMC %s: the "
        "BMC refused user 'admin' (HTTP 401): check [k8s] "
        "redfish_credentials_file" % server.system_url('compute-06'))
    # Not retried: BMCs lock accounts after failed logins.
    assert sleep.calls == []
    for secret in (wrong, server.password):
        assert secret not in message
        assert secret not in caplog.text


def test_service_root_address_finds_the_only_system(
        fresh_redfish_bmc, tmp_path):
    server = fresh_redfish_bmc(systems=['compute-01'], initial_power='Off')
    directory = make_directory(tmp_path, {'compute-01': server.url},
                               password=server.password)
    target = directory.target_for('compute-01')
    assert target.system_path is None
    reading = make_fencer().power_state(target)
    assert reading.is_off
    assert reading.system == server.system_path('compute-01')


def test_service_root_with_several_systems_is_an_error_naming_the_node(
        redfish_bmc_server, tmp_path):
    directory = make_directory(tmp_path,
                               {'compute-07': redfish_bmc_server.url},
                               password=redfish_bmc_server.password)
    sleep = RecordingSleep()
    with pytest.raises(redfish.FencingError,
                       match='node compute-07: .*System count is not '
                             'exactly one; name the system in the BMC '
                             'address'):
        make_fencer(sleep=sleep).power_state(
            directory.target_for('compute-07'))
    assert sleep.calls == []


def test_unreachable_bmc_fails_after_the_retries(tmp_path):
    sleep = RecordingSleep()
    started = time.monotonic()
    with _closed_loopback_port() as closed_port:
        directory = make_directory(
            tmp_path, {'compute-01': 'http://127.0.0.1:%d' % closed_port})
        with pytest.raises(redfish.FencingError) as caught:
            make_fencer(sleep=sleep, retry_max=2, retry_interval=0.0,
                        timeout=0.5).power_state(
                directory.target_for('compute-01'))
    assert 'after 3 attempt(s): ConnectionError' in str(caught.value)
    assert 'Connection refused' in str(caught.value)
    assert sleep.calls == [0.0, 0.0]
    assert time.monotonic() - started < 5


def test_a_silent_bmc_is_bounded_by_the_request_timeout(tmp_path):
    """A BMC that accepts connections and never answers."""
    with _SilentServer() as silent:
        directory = make_directory(
            tmp_path, {'compute-01': 'http://127.0.0.1:%d' % silent.port})
        started = time.monotonic()
        with pytest.raises(redfish.FencingError,
                           match='after 2 attempt.s.: ConnectionError.*'
                                 'Read timed out'):
            make_fencer(retry_max=1, timeout=0.3).power_state(
                directory.target_for('compute-01'))
        elapsed = time.monotonic() - started
    # Two attempts of one request each, 0.3 s apiece, plus slack.
    assert 0.5 < elapsed < 3.0


def test_https_with_the_ca_file_and_without(fresh_redfish_bmc, tmp_path):
    server = fresh_redfish_bmc(systems=['compute-01'], tls=True)
    assert server.url.startswith('https://')
    target = target_of(server, 'compute-01', tmp_path)

    verified = make_fencer(ca_file=server.ca_file).power_state(target)
    assert verified.state == 'On'
    with pytest.raises(redfish.FencingError,
                       match='CERTIFICATE_VERIFY_FAILED'):
        make_fencer(retry_max=0).power_state(target)
    assert make_fencer(insecure=True).power_state(target).state == 'On'


def test_power_off_waits_for_a_slow_transition(fresh_redfish_bmc, tmp_path):
    server = fresh_redfish_bmc(systems=['compute-01'], power_delay=0.5)
    target = target_of(server, 'compute-01', tmp_path)
    sleep = RecordingSleep(real=True)
    started = time.monotonic()
    reading = make_fencer(sleep=sleep, poll_interval=0.1,
                          verify_timeout=10.0).power_off(target)
    assert reading.is_off
    assert time.monotonic() - started >= 0.45
    # The first polls still saw On.
    assert len(sleep.calls) >= 3
    assert server.power_state('compute-01') == 'Off'


def test_power_off_not_verified_in_time_is_an_error(
        fresh_redfish_bmc, tmp_path):
    server = fresh_redfish_bmc(systems=['compute-01'], power_delay=30.0)
    target = target_of(server, 'compute-01', tmp_path)
    with pytest.raises(redfish.FencingError,
                       match='did not report the system Off within 0.3 s '
                             'of the power-off request; PowerState is '
                             'still On'):
        make_fencer(sleep=RecordingSleep(real=True), poll_interval=0.1,
                    verify_timeout=0.3).power_off(target)


def test_a_bmc_refusing_power_off_is_an_error_not_retried(
        fresh_redfish_bmc, tmp_path):
    server = fresh_redfish_bmc(systems=['compute-01'],
                               refuse_power_off=True)
    sleep = RecordingSleep()
    with pytest.raises(redfish.FencingError,
                       match='node compute-01: could not power off via BMC '
                             '.*BadRequestError.*Can not request power off '
                             'transition'):
        make_fencer(sleep=sleep, retry_max=3).power_off(
            target_of(server, 'compute-01', tmp_path))
    assert sleep.calls == []
    assert server.power_state('compute-01') == 'On'


def _reset_requests(server, name):
    needle = 'POST %s/Actions/ComputerSystem.Reset' % server.system_path(
        name)
    with open(server.log_path) as log:
        return sum(needle in line for line in log)


@contextlib.contextmanager
def _closed_loopback_port():
    """A port that refuses connections: bound, never listening.

    Holding the socket keeps any other process from taking the port.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(('127.0.0.1', 0))
        yield holder.getsockname()[1]


class _SilentServer:
    """Accepts TCP connections on loopback and never answers."""

    def __init__(self):
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(('127.0.0.1', 0))
        self._socket.listen(16)
        self._stop = threading.Event()
        self._accepted = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def port(self):
        return self._socket.getsockname()[1]

    def _accept(self):
        self._socket.settimeout(0.05)
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except OSError:
                continue
            self._accepted.append(connection)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(timeout=5)
        for connection in self._accepted:
            connection.close()
        self._socket.close()
