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

"""The harness's own promises beyond the notification contract."""

import pytest

from masakarimonitors_k8s.testing import masakari_api


@pytest.mark.timeout(60)
def test_a_taken_host_name_is_refused_with_the_reason(masakari):
    [host] = masakari.add_hosts(masakari.host_names(1))
    other_segment = masakari.api.create_segment(host + '-other')

    with pytest.raises(masakari_api.MasakariApiError) as refused:
        masakari.api.add_host(other_segment, host)

    assert host in str(refused.value)
    assert 'already exists' in str(refused.value)


@pytest.mark.timeout(60)
def test_hosts_are_registered_with_the_given_attributes(masakari):
    [host] = masakari.host_names(1)
    uuid = masakari.api.add_host(
        masakari.segment_uuid, host, control_attributes='IPMI',
        reserved=True, on_maintenance=True)

    [stored] = masakari.api.hosts(masakari.segment_uuid)

    assert (stored['uuid'], stored['name'], stored['type']) == (
        uuid, host, 'COMPUTE')
    assert stored['control_attributes'] == 'IPMI'
    assert stored['reserved'] is True
    assert stored['on_maintenance'] is True


@pytest.mark.timeout(60)
def test_starting_a_running_api_is_refused(masakari_api_server):
    pids = masakari_api_server.pids

    with pytest.raises(masakari_api.MasakariApiError):
        masakari_api_server.start()

    assert masakari_api_server.pids == pids


@pytest.mark.timeout(90)
def test_without_the_installed_api_paste_the_fallback_serves(
        fresh_masakari, monkeypatch):
    monkeypatch.setattr(masakari_api.MasakariApi, '_installed_api_paste',
                        lambda api: None)

    masakari = fresh_masakari()

    [host] = masakari.add_hosts(['compute-0001'])
    masakari.sdk_connection().instance_ha.create_notification(
        type='COMPUTE_HOST', hostname=host,
        generated_time='2026-05-01T10:00:00',
        payload={'event': 'STOPPED', 'host_status': 'NORMAL',
                 'cluster_status': 'OFFLINE'})
    assert [n['status'] for n in masakari.notifications(host)] == ['new']
    with open(masakari.api.workdir + '/api-paste.ini') as paste:
        assert 'keystonecontext' not in paste.read()
