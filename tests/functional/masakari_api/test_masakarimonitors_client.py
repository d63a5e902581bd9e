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

"""masakari-monitors' own client reaches the API without Keystone.

The stock masakari-hostmonitor with our driver is configured with
``MasakariApi.masakarimonitors_conf_api_section()`` in the functional tests
and the demo; this proves those ``[api]`` options work with the real
``SendNotification`` of masakari-monitors.
"""

import json
import os
import subprocess
import sys
import time

import pytest

SENDER = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      'send_with_masakarimonitors.py')


def _write_config(path, api_section):
    with open(path, 'w') as config:
        config.write('[api]\n')
        for key, value in api_section.items():
            config.write('%s = %s\n' % (key, value))


def _send(config_path, event):
    completed = subprocess.run(
        [sys.executable, SENDER, str(config_path)],
        input=json.dumps(event), capture_output=True, text=True,
        timeout=60, check=False)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout + completed.stderr


def _event(hostname, generated_time):
    return {'notification': {
        'type': 'COMPUTE_HOST',
        'hostname': hostname,
        'generated_time': generated_time,
        'payload': {'event': 'STOPPED', 'host_status': 'NORMAL',
                    'cluster_status': 'OFFLINE'},
    }}


@pytest.mark.timeout(120)
@pytest.mark.parametrize('auth_type', ['admin_token', 'none'])
def test_send_notification_reaches_the_api(masakari, tmp_path, auth_type):
    [host] = masakari.add_hosts(masakari.host_names(1))
    config_path = tmp_path / 'masakarimonitors.conf'
    _write_config(config_path, masakari.api.masakarimonitors_conf_api_section(
        auth_type=auth_type))
    event = _event(host, '2026-03-01T10:00:00')

    _send(config_path, event)

    [stored] = masakari.notifications(host)
    assert stored['type'] == 'COMPUTE_HOST'
    assert stored['status'] == 'new'
    assert stored['payload'] == event['notification']['payload']
    assert stored['generated_time'].startswith('2026-03-01T10:00:00')


@pytest.mark.timeout(120)
def test_send_notification_sees_masakaris_duplicate_answer(masakari,
                                                           tmp_path):
    [host] = masakari.add_hosts(masakari.host_names(1))
    config_path = tmp_path / 'masakarimonitors.conf'
    _write_config(config_path,
                  masakari.api.masakarimonitors_conf_api_section())
    event = _event(host, '2026-03-01T11:00:00')
    _send(config_path, event)

    log = _send(config_path, event)

    assert 'is duplicate' in log
    assert len(masakari.notifications(host)) == 1


def _wait_for(predicate, *, timeout):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)  # polling pace, not a wait for timing
    return True


@pytest.mark.timeout(120)
def test_timeout_option_bounds_a_send_to_a_frozen_api(fresh_masakari,
                                                      tmp_path):
    masakari = fresh_masakari()
    [host] = masakari.add_hosts(['compute-0001'])
    config_path = tmp_path / 'masakarimonitors.conf'
    _write_config(config_path,
                  masakari.api.masakarimonitors_conf_api_section(timeout=1))
    event = _event(host, '2026-03-01T12:00:00')

    masakari.api.pause()
    try:
        started = time.monotonic()
        log = _send(config_path, event)
        elapsed = time.monotonic() - started
    finally:
        masakari.api.resume()

    assert 'Exception caught' in log
    assert elapsed < 20
    # The request waited in the socket and is served after resume: a
    # timed-out send may still be stored, so a resend must be identical
    # to be recognised as a duplicate.
    assert _wait_for(lambda: masakari.notifications(host), timeout=10)
    assert 'is duplicate' in _send(config_path, event)
