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

"""The kind backend's masakari-api client, against a real masakari-api.

The kind backend reads the in-cluster masakari-api with
``backends/masakari_http.py``; here the same client reads a local one
(the test harness, same masakari release, same noauth2 setup), so that
what the kind scenarios assert on is known to be read right.
"""

import pytest

from masakarimonitors_k8s.testing import masakari_api
from tests.e2e.backends import masakari_http

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope='module')
def api(tmp_path_factory):
    with masakari_api.MasakariApi(tmp_path_factory.mktemp('masakari')) as api:
        yield api


def post_stopped(client, hostname, *, host_status, generated_time):
    client.request('POST', '/notifications', {'notification': {
        'type': 'COMPUTE_HOST', 'hostname': hostname,
        'generated_time': generated_time,
        'payload': {'event': 'STOPPED', 'host_status': host_status,
                    'cluster_status': 'OFFLINE'}}})


def test_segment_hosts_and_notifications_read_back(api):
    client = masakari_http.MasakariHttp(api.url)
    assert client.answers()
    assert client.segment_named('http-client') is None
    segment = client.create_segment('http-client')
    assert client.segment_named('http-client') == segment
    api.add_hosts(segment, ['http-0001', 'http-0002'])
    assert sorted(client.host_names(segment).values()) == [
        'http-0001', 'http-0002']

    post_stopped(client, 'http-0001', host_status='UNKNOWN',
                 generated_time='2026-01-01T00:00:00Z')
    (first_id, host, payload), = client.notifications(segment)
    assert (host, payload['event'], payload['host_status']) == (
        'http-0001', 'STOPPED', 'UNKNOWN')

    post_stopped(client, 'http-0002', host_status='NORMAL',
                 generated_time='2026-01-01T00:01:00Z')
    later = client.notifications(segment, after_id=first_id)
    assert [(host, payload['host_status'])
            for _id, host, payload in later] == [('http-0002', 'NORMAL')]


def test_other_segments_are_left_out(api):
    client = masakari_http.MasakariHttp(api.url)
    mine = client.create_segment('mine')
    other = client.create_segment('other')
    api.add_hosts(other, ['other-0001'])
    post_stopped(client, 'other-0001', host_status='UNKNOWN',
                 generated_time='2026-01-02T00:00:00Z')
    assert client.notifications(mine) == []
    assert len(client.notifications(other)) == 1


def test_refused_requests_raise_with_the_answer(api):
    client = masakari_http.MasakariHttp(api.url)
    with pytest.raises(masakari_http.MasakariHttpError, match='404'):
        client.request('GET', '/segments/no-such-segment')


def test_no_api_does_not_answer():
    client = masakari_http.MasakariHttp('http://127.0.0.1:9/v1',
                                        timeout=1.0)
    assert not client.answers()
