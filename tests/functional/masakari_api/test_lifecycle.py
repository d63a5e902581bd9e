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

"""Taking the masakari-api away and bringing it back, as outage tests do.

Each test starts its own API (``fresh_masakari``) so that stopping or
freezing it cannot disturb the session's server.
"""

import socket
import urllib.error
import urllib.request

import psutil
import pytest

from masakarimonitors_k8s.testing import masakari_api

STOPPED = {'event': 'STOPPED', 'host_status': 'NORMAL',
           'cluster_status': 'OFFLINE'}


def _outcome(api, *, timeout):
    """'answered', 'refused' or 'timed out' for one GET on the API."""
    request = urllib.request.Request(
        api.url + '/segments', headers={'X-Auth-Token': api.token})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            answer.read()
            return 'answered'
    except TimeoutError:
        return 'timed out'
    except urllib.error.URLError as error:
        if isinstance(error.reason, ConnectionRefusedError):
            return 'refused'
        if isinstance(error.reason, TimeoutError):
            return 'timed out'
        raise


def _processes(pids):
    return [psutil.Process(pid) for pid in pids]


def _still_running(processes):
    running = []
    for process in processes:
        try:
            if (process.is_running() and
                    process.status() != psutil.STATUS_ZOMBIE):
                running.append(process.pid)
        except psutil.NoSuchProcess:
            pass
    return running


@pytest.mark.timeout(90)
def test_stop_and_start_keep_the_data_and_the_url(fresh_masakari):
    masakari = fresh_masakari()
    api = masakari.api
    [host] = masakari.add_hosts(['compute-0001'])
    connection = masakari.sdk_connection()
    connection.instance_ha.create_notification(
        type='COMPUTE_HOST', hostname=host,
        generated_time='2026-04-01T10:00:00', payload=STOPPED)
    url = api.url
    before = masakari.notifications()

    api.stop()
    assert _outcome(api, timeout=5) == 'refused'
    api.start()

    assert api.url == url
    assert masakari.notifications() == before
    connection.instance_ha.create_notification(
        type='COMPUTE_HOST', hostname=host,
        generated_time='2026-04-01T14:00:00', payload=STOPPED)
    assert len(masakari.notifications(host)) == 2


@pytest.mark.timeout(90)
def test_paused_api_hangs_and_serves_waiting_requests_on_resume(
        fresh_masakari):
    api = fresh_masakari().api
    api.pause()
    try:
        assert _outcome(api, timeout=0.5) == 'timed out'
        # The kernel completes the handshake for a frozen server; the
        # request then waits in the socket until the API runs again.
        waiting = socket.create_connection(('127.0.0.1', api.port),
                                           timeout=30)
        waiting.sendall(b'GET /v1/segments HTTP/1.0\r\n'
                        b'X-Auth-Token: admin:admin\r\n\r\n')
    finally:
        api.resume()
    with waiting, waiting.makefile('rb') as answer:
        status_line = answer.readline()

    assert status_line.split()[1] == b'200'
    assert _outcome(api, timeout=5) == 'answered'


@pytest.mark.timeout(90)
def test_stop_leaves_no_process_behind(tmp_path):
    with masakari_api.MasakariApi(tmp_path) as api:
        processes = _processes(api.pids)
        assert len(processes) == 2  # the parent and one worker
        assert _still_running(processes) == list(api.pids)

    assert _still_running(processes) == []
    assert api.pids == ()
    api.stop()  # a second stop is harmless


@pytest.mark.timeout(90)
def test_stop_of_a_paused_api_leaves_no_process_behind(fresh_masakari):
    api = fresh_masakari().api
    processes = _processes(api.pids)
    api.pause()

    api.stop()

    assert _still_running(processes) == []


@pytest.mark.timeout(90)
def test_failed_start_reports_the_log_and_leaves_nothing_running(tmp_path):
    ours_before = {p.pid for p in psutil.Process().children(recursive=True)}
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        api = masakari_api.MasakariApi(tmp_path,
                                       port=taken.getsockname()[1])

        with pytest.raises(masakari_api.MasakariApiError) as failure:
            api.start()

    assert 'Address already in use' in str(failure.value)
    assert api.pids == ()
    ours_after = {p.pid for p in psutil.Process().children(recursive=True)}
    assert ours_after <= ours_before
