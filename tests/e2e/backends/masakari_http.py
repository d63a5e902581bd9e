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
the same list calls, with the standard library only. Hosts are
registered in the pod (``kind.py``), since masakari's host API asks Nova.
"""

import json
import urllib.error
import urllib.parse
import urllib.request

# noauth2 makes any token an admin; this is the form its docs use.
NOAUTH_TOKEN = 'admin:admin'
_PAGE_SIZE = 500


class MasakariHttpError(Exception):
    pass


class MasakariHttp:
    """JSON calls to ``<endpoint>`` (ending in /v1)."""

    def __init__(self, endpoint, *, token=NOAUTH_TOKEN, timeout=10.0):
        self._endpoint = endpoint.rstrip('/')
        self._token = token
        self._timeout = timeout

    def answers(self):
        """True once the API serves its segment list."""
        try:
            self.request('GET', '/segments?limit=1')
        except (MasakariHttpError, OSError):
            return False
        return True

    def request(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode('utf-8')
        request = urllib.request.Request(
            self._endpoint + path, data=data, method=method,
            headers={'X-Auth-Token': self._token,
                     'Content-Type': 'application/json',
                     'Accept': 'application/json'})
        try:
            with urllib.request.urlopen(request,
                                        timeout=self._timeout) as answer:
                return json.loads(answer.read() or b'null')
        except urllib.error.HTTPError as error:
            raise MasakariHttpError('%s %s: %s %s' % (
                method, path, error.code,
                error.read().decode('utf-8', 'replace'))) from None

    def list_all(self, path, key):
        """Every item of a list call, oldest first, page by page."""
        items = []
        marker = None
        while True:
            query = {'limit': _PAGE_SIZE, 'sort_key': 'id',
                     'sort_dir': 'asc'}
            if marker is not None:
                query['marker'] = marker
            page = self.request('GET', '%s?%s' % (
                path, urllib.parse.urlencode(query)))[key]
            items.extend(page)
            if len(page) < _PAGE_SIZE:
                return items
            marker = page[-1]['id']

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
