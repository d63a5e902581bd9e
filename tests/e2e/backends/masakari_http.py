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

"""A masakari-api client for the kind backend, over plain HTTP.

The masakari-api of the kind backend runs in the cluster (noauth2), so
the local harness (``masakarimonitors_k8s/testing/masakari_api.py``),
which owns its process, cannot be used; this reads what it stored through
the harness's own JSON client and the same list calls. Hosts are
registered in the pod (``kind.py``), since masakari's host API asks Nova.
"""

from masakarimonitors_k8s.testing import masakari_api

NOAUTH_TOKEN = 'admin:admin'
MasakariHttpError = masakari_api.MasakariApiError


class MasakariHttp(masakari_api.JsonClient):
    """JSON calls to ``<endpoint>`` (ending in /v1)."""

    def __init__(self, endpoint, *, token=NOAUTH_TOKEN, timeout=10.0):
        super().__init__(endpoint, token, timeout=timeout)

    def list_all(self, path, key):
        return self.get_all(path, key)

    def segment_named(self, name):
        """The uuid of the segment called ``name``, or None."""
        for segment in self.list_all('/segments', 'segments'):
            if segment['name'] == name:
                return segment['uuid']
        return None

    def create_segment(self, name):
        answer = self.request('POST', '/segments', {'segment': {
            'name': name, 'recovery_method': 'auto',
            'service_type': 'COMPUTE'}})
        return answer['segment']['uuid']

    def host_names(self, segment_uuid):
        """{host uuid: host name} of a segment."""
        return {host['uuid']: host['name'] for host in self.list_all(
            '/segments/%s/hosts' % segment_uuid, 'hosts')}

    def notifications(self, segment_uuid, *, after_id=0):
        """(id, hostname, payload) of a segment's notifications.

        Only those whose id is above ``after_id``, oldest first.
        """
        names = self.host_names(segment_uuid)
        return [(item['id'], names.get(item['source_host_uuid']),
                 item['payload'])
                for item in self.list_all('/notifications', 'notifications')
                if item['failover_segment_uuid'] == segment_uuid
                and item['id'] > after_id]
