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

"""A Keystone v3 that checks one user's password, for the test bed.

masakari-api in the test bed runs with ``noauth2`` (no Keystone), so a
wrong ``[api]`` password would go unnoticed there. :class:`FakeKeystone`
sits in front of it for the tests that need the password to matter (the
chart's ``helm test`` on the real control plane): version discovery, and
password authentication (``POST /v3/auth/tokens``) that answers 201 with a
token whose catalog names masakari-api as ``instance-ha`` when the user
and password match, and 401 (Keystone's body) otherwise. The token it
issues is the ``user:project`` one noauth2 takes. Nothing else of
Keystone (scoping rules, token validation, domains) is modelled.

Made with ``held=True`` it accepts connections and answers nothing until
:meth:`FakeKeystone.answer` is called, as behind a load balancer whose
Keystone pods are still starting (the monitor's cold-start tests).
"""

import http.server
import json
import threading

LOOPBACK = '127.0.0.1'
REGION = 'RegionOne'
INTERFACES = ('public', 'internal', 'admin')


class FakeKeystone:
    """Keystone v3 password auth for one user, on a loopback port.

    :param catalog_url: the instance-ha endpoint the catalog names (every
        interface), e.g. ``MasakariApi.url``.
    :param token: the token issued on success, e.g. ``MasakariApi.token``.
    :param username: the one user known.
    :param password: its password; :attr:`password` may be changed later.
    :param held: hold every request, silent, until :meth:`answer`.
    """

    def __init__(self, catalog_url, token, *, username='masakari',
                 password='secret', held=False):
        self.catalog_url = catalog_url
        self.token = token
        self.username = username
        self.password = password
        self.answering = threading.Event()
        if not held:
            self.answering.set()
        self._stopping = threading.Event()
        #: requests received, held or not.
        self.requests = 0
        #: (username, accepted) of every authentication, in order.
        self.attempts = []
        self._lock = threading.Lock()
        keystone = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                keystone._hold()
                if self.path.rstrip('/') not in ('', '/v3'):
                    self._json(404, _error(404, 'Not Found',
                                           'no such resource'))
                    return
                self._json(200, {'version': {
                    'id': 'v3.14', 'status': 'stable',
                    'updated': '2020-04-07T00:00:00Z',
                    'links': [{'rel': 'self',
                               'href': keystone.auth_url + '/'}],
                    'media-types': [{
                        'base': 'application/json',
                        'type': 'application/vnd.openstack.identity-v3'
                                '+json'}]}})

            def do_POST(self):
                length = int(self.headers.get('Content-Length') or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b'{}')
                    keystone._hold()
                except ValueError:
                    self._json(400, _error(400, 'Bad Request',
                                           'malformed JSON'))
                    return
                if self.path.rstrip('/') != '/v3/auth/tokens':
                    self._json(404, _error(404, 'Not Found',
                                           'no such resource'))
                    return
                user = (((body.get('auth') or {}).get('identity') or {})
                        .get('password') or {}).get('user') or {}
                accepted = keystone._accepts(user)
                if not accepted:
                    self._json(401, _error(
                        401, 'Unauthorized', 'The request you have made '
                        'requires authentication.'))
                    return
                self._json(201, keystone._token_body(),
                           {'X-Subject-Token': keystone.token})

            def _json(self, status, body, headers=None):
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header('Content-Type', 'application/json')
                    self.send_header('Content-Length', str(len(data)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass    # the client gave up while held

        self._server = http.server.ThreadingHTTPServer((LOOPBACK, 0),
                                                       Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        daemon=True, name='fake-keystone')
        self._thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def auth_url(self):
        return 'http://%s:%d/v3' % (LOOPBACK, self.port)

    def api_section(self, *, timeout=2):
        """``[api]`` options for masakari-monitors' password plugin."""
        return {'auth_type': 'password', 'auth_url': self.auth_url,
                'username': self.username, 'password': self.password,
                'project_name': 'service', 'user_domain_id': 'default',
                'project_domain_id': 'default', 'region': REGION,
                'timeout': str(timeout)}

    def answer(self):
        """Answer the held requests and every one after."""
        self.answering.set()

    def stop(self):
        self._stopping.set()
        self.answering.set()
        self._server.shutdown()
        self._server.server_close()

    def _hold(self):
        with self._lock:
            self.requests += 1
        while not self.answering.wait(0.1):
            if self._stopping.is_set():
                break

    def _accepts(self, user):
        accepted = (user.get('name') == self.username
                    and user.get('password') == self.password)
        with self._lock:
            self.attempts.append((user.get('name'), accepted))
        return accepted

    def _token_body(self):
        domain = {'id': 'default', 'name': 'Default'}
        return {'token': {
            'methods': ['password'],
            'expires_at': '2099-01-01T00:00:00.000000Z',
            'issued_at': '2026-01-01T00:00:00.000000Z',
            'user': {'id': self.username, 'name': self.username,
                     'domain': domain},
            'project': {'id': 'service', 'name': 'service',
                        'domain': domain},
            'roles': [{'id': 'admin', 'name': 'admin'}],
            'catalog': [{
                'type': 'instance-ha', 'name': 'masakari', 'id': 'ha',
                'endpoints': [{
                    'id': 'ha-%s' % interface, 'interface': interface,
                    'region': REGION, 'region_id': REGION,
                    'url': self.catalog_url}
                    for interface in INTERFACES]}]}}


def _error(code, title, message):
    return {'error': {'code': code, 'title': title, 'message': message}}
