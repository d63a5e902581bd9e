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

"""The notification contract of the real masakari-api, through openstacksdk.

These are the answers the notifier is built around (accepted, duplicate,
unknown host, host on maintenance, invalid payload); they run against the
session's masakari-api, one segment per test.
"""

from openstack import exceptions
import pytest

STOPPED = {'event': 'STOPPED', 'host_status': 'NORMAL',
           'cluster_status': 'OFFLINE'}


def _post(connection, hostname, generated_time, payload=None):
    return connection.instance_ha.create_notification(
        type='COMPUTE_HOST', hostname=hostname,
        generated_time=generated_time,
        payload=STOPPED if payload is None else payload)


@pytest.mark.timeout(60)
def test_accepted_notification_is_stored_as_new(masakari):
    [host] = masakari.add_hosts(masakari.host_names(1))
    connection = masakari.sdk_connection()

    answer = connection.instance_ha.post(
        '/notifications', json={'notification': {
            'type': 'COMPUTE_HOST', 'hostname': host,
            'generated_time': '2026-02-01T08:00:00', 'payload': STOPPED}})

    assert answer.status_code == 202
    posted = answer.json()['notification']
    [stored] = masakari.notifications()
    assert stored == {
        'notification_uuid': posted['notification_uuid'],
        'type': 'COMPUTE_HOST',
        'hostname': host,
        'generated_time': '2026-02-01T08:00:00.000000',
        'payload': STOPPED,
        'status': 'new',
        'segment_uuid': masakari.segment_uuid,
    }


@pytest.mark.timeout(60)
def test_sdk_create_notification_returns_the_stored_one(masakari):
    [host] = masakari.add_hosts(masakari.host_names(1))

    created = _post(masakari.sdk_connection(), host, '2026-02-01T09:00:00')

    [stored] = masakari.notifications(host)
    # An endpoint without /v1 would give an empty object here.
    assert created.notification_uuid == stored['notification_uuid']
    assert created.payload == STOPPED


@pytest.mark.timeout(60)
def test_same_payload_and_time_again_is_a_duplicate(masakari):
    [host] = masakari.add_hosts(masakari.host_names(1))
    connection = masakari.sdk_connection()
    _post(connection, host, '2026-02-01T10:00:00')

    with pytest.raises(exceptions.ConflictException) as conflict:
        _post(connection, host, '2026-02-01T10:00:00')

    assert 'is duplicate' in conflict.value.details
    assert len(masakari.notifications(host)) == 1


@pytest.mark.timeout(60)
def test_later_time_within_the_interval_is_still_a_duplicate(masakari):
    [host] = masakari.add_hosts(masakari.host_names(1))
    connection = masakari.sdk_connection()
    _post(connection, host, '2026-02-01T10:00:00')

    with pytest.raises(exceptions.ConflictException):
        _post(connection, host, '2026-02-01T10:00:02')


@pytest.mark.timeout(60)
def test_fresh_api_with_short_interval_accepts_a_later_repeat(
        fresh_masakari):
    masakari = fresh_masakari(duplicate_interval=1)
    [host] = masakari.add_hosts(['compute-0001'])
    connection = masakari.sdk_connection()
    _post(connection, host, '2026-02-01T10:00:00')

    _post(connection, host, '2026-02-01T10:00:02')

    times = [n['generated_time'] for n in masakari.notifications(host)]
    assert times == ['2026-02-01T10:00:00.000000',
                     '2026-02-01T10:00:02.000000']


@pytest.mark.timeout(60)
def test_unknown_host_is_a_bad_request(masakari):
    connection = masakari.sdk_connection()
    [unknown] = masakari.host_names(1)

    with pytest.raises(exceptions.BadRequestException) as bad:
        _post(connection, unknown, '2026-02-01T11:00:00')

    assert 'Host with name %s could not be found' % unknown in (
        bad.value.details)


@pytest.mark.timeout(60)
def test_host_on_maintenance_is_a_conflict(masakari):
    [host] = masakari.add_hosts(masakari.host_names(1))
    masakari.set_maintenance(host, True)

    with pytest.raises(exceptions.ConflictException) as conflict:
        _post(masakari.sdk_connection(), host, '2026-02-01T12:00:00')

    assert 'already under maintenance' in conflict.value.details
    assert masakari.notifications(host) == []


@pytest.mark.timeout(60)
def test_maintenance_can_be_lifted_again(masakari):
    [host] = masakari.add_hosts(masakari.host_names(1))
    masakari.set_maintenance(host, True)
    masakari.set_maintenance(host, False)

    _post(masakari.sdk_connection(), host, '2026-02-01T12:30:00')

    assert len(masakari.notifications(host)) == 1


@pytest.mark.timeout(60)
@pytest.mark.parametrize('payload', [
    {'event': 'STOPPED', 'host_status': 'BROKEN',
     'cluster_status': 'OFFLINE'},
    {'host_status': 'NORMAL', 'cluster_status': 'OFFLINE'},
], ids=['bad-host-status', 'no-event'])
def test_invalid_payload_is_a_bad_request(masakari, payload):
    [host] = masakari.add_hosts(masakari.host_names(1))

    with pytest.raises(exceptions.BadRequestException):
        _post(masakari.sdk_connection(), host, '2026-02-01T13:00:00',
              payload=payload)

    assert masakari.notifications(host) == []


@pytest.mark.timeout(60)
def test_notifications_are_read_back_per_host(masakari):
    first, second = masakari.add_hosts(masakari.host_names(2))
    connection = masakari.sdk_connection()
    _post(connection, first, '2026-02-01T14:00:00')
    _post(connection, second, '2026-02-01T14:00:00')
    _post(connection, first, '2026-02-01T18:00:00')

    assert [n['generated_time'] for n in masakari.notifications(first)] == [
        '2026-02-01T14:00:00.000000', '2026-02-01T18:00:00.000000']
    assert [n['hostname'] for n in masakari.notifications(second)] == [
        second]
    assert len(masakari.notifications()) == 3
