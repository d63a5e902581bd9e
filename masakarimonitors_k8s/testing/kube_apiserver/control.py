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

"""The test control API under ``/_control/``, and a client for it.

Part of the Kubernetes API test server. When the server runs as its own
process (``python -m masakarimonitors_k8s.testing.kube_apiserver``), tests
reach the same switches they would call in process through this small
JSON API. It bypasses authentication and faults (a black hole must be
liftable) and is meant for loopback test beds only.

Endpoints (bodies and answers are JSON):

=======  ===============================  ===================================
GET      /_control/state                  rv, clock offset, faults, counts
PUT      /_control/clock                  ``{"offset": seconds}``
GET      /_control/faults                 the fault switches
DELETE   /_control/faults                 lift every fault
POST     /_control/faults/latency         ``{"seconds": 0.5}``
POST     /_control/faults/black-hole      ``{"enabled": true}``
POST     /_control/faults/fail-next       ``{"count", "status", "verb",
                                          "path_prefix", "retry_after"}``
POST     /_control/faults/drop-watches    ``{"clean": false}``
POST     /_control/faults/expire-history  ``{}``
POST     /_control/tokens                 ``{"token", "user", "rules",
                                          "groups"}``
DELETE   /_control/tokens/{token}
GET      /_control/requests               the request log
DELETE   /_control/requests               clear the request log
POST     /_control/shutdown               ask the process to exit
=======  ===============================  ===================================
"""

import json
import ssl
import urllib.error
import urllib.request

PREFIX = '/_control/'


class ControlError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


class ControlHandler:
    """Answers ``/_control/`` requests for one server."""

    def __init__(self, server):
        self._server = server

    def handle(self, exchange):
        try:
            answer = self._dispatch(exchange)
        except ControlError as exc:
            exchange.send_json(exc.code, {'error': str(exc)})
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            exchange.send_json(400, {'error': '%s: %s'
                                     % (type(exc).__name__, exc)})
        else:
            exchange.send_json(200, answer)

    def _body(self, exchange):
        body = json.loads(exchange.body) if exchange.body else {}
        if not isinstance(body, dict):
            raise ValueError('the body must be a JSON object')
        return body

    def _dispatch(self, exchange):
        server = self._server
        faults = server.faults
        path = exchange.path[len(PREFIX):].strip('/')
        method = exchange.method
        body = self._body(exchange)
        if (method, path) == ('GET', 'state'):
            return self.state()
        if (method, path) == ('PUT', 'clock'):
            server.clock_offset = float(body['offset'])
            return self.state()
        if path == 'faults' and method in ('GET', 'DELETE'):
            if method == 'DELETE':
                faults.clear()
            return faults.describe()
        if method == 'POST' and path.startswith('faults/'):
            action = path[len('faults/'):]
            if action == 'latency':
                faults.set_latency(float(body['seconds']))
            elif action == 'black-hole':
                faults.black_hole(bool(body.get('enabled', True)))
            elif action == 'fail-next':
                faults.fail_next(
                    int(body['count']), int(body.get('status', 503)),
                    path_prefix=body.get('path_prefix'),
                    verb=body.get('verb'),
                    retry_after=body.get('retry_after', 1))
            elif action == 'drop-watches':
                faults.drop_watches(clean=bool(body.get('clean', False)))
            elif action == 'expire-history':
                faults.expire_history()
            else:
                raise ControlError(404, 'no fault called %r' % action)
            return faults.describe()
        if (method, path) == ('POST', 'tokens'):
            server.add_token(body['token'], user=body['user'],
                             rules=body.get('rules', ()),
                             groups=body.get('groups', ()))
            return {'token': body['token'], 'user': body['user']}
        if method == 'DELETE' and path.startswith('tokens/'):
            server.remove_token(path[len('tokens/'):])
            return {}
        if path == 'requests' and method in ('GET', 'DELETE'):
            if method == 'DELETE':
                server.clear_request_log()
                return []
            return [record._asdict() for record in server.request_log]
        if (method, path) == ('POST', 'shutdown'):
            server.shutdown_requested.set()
            return {}
        raise ControlError(404, 'no control endpoint %s %s'
                           % (method, exchange.path))

    def state(self):
        server = self._server
        store = server.store
        return {
            'url': server.url,
            'ca_file': server.ca_file,
            'resource_version': store.resource_version,
            'compacted_resource_version': store.compacted_resource_version,
            'clock_offset': server.clock_offset,
            'wall': server.clock.wall(),
            'faults': server.faults.describe(),
            'open_watches': server.open_watch_count(),
            'objects': {name: store.count(name)
                        for name in ('nodes', 'leases', 'events')},
        }


class ControlClient:
    """Drives ``/_control/`` of a test server running elsewhere."""

    def __init__(self, url, *, ca_file=None, timeout=10.0):
        self._base = url.rstrip('/') + PREFIX
        self._timeout = timeout
        self._context = None
        if ca_file:
            self._context = ssl.create_default_context(cafile=ca_file)

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self._base + path, data=data, method=method,
            headers={'Content-Type': 'application/json'})
        try:
            with urllib.request.urlopen(request, timeout=self._timeout,
                                        context=self._context) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise ControlError(exc.code, exc.read().decode()) from None

    def state(self):
        return self.call('GET', 'state')

    def set_clock_offset(self, seconds):
        return self.call('PUT', 'clock', {'offset': seconds})

    def set_latency(self, seconds):
        return self.call('POST', 'faults/latency', {'seconds': seconds})

    def black_hole(self, enabled=True):
        return self.call('POST', 'faults/black-hole', {'enabled': enabled})

    def fail_next(self, count, status=503, *, path_prefix=None, verb=None,
                  retry_after=1):
        return self.call('POST', 'faults/fail-next', {
            'count': count, 'status': status, 'path_prefix': path_prefix,
            'verb': verb, 'retry_after': retry_after})

    def drop_watches(self, *, clean=False):
        return self.call('POST', 'faults/drop-watches', {'clean': clean})

    def expire_history(self):
        return self.call('POST', 'faults/expire-history', {})

    def clear_faults(self):
        return self.call('DELETE', 'faults')

    def add_token(self, token, *, user, rules=(), groups=()):
        return self.call('POST', 'tokens', {
            'token': token, 'user': user, 'rules': list(rules),
            'groups': list(groups)})

    def remove_token(self, token):
        return self.call('DELETE', 'tokens/' + token)

    def request_log(self):
        return self.call('GET', 'requests')

    def clear_request_log(self):
        return self.call('DELETE', 'requests')

    def shutdown(self):
        return self.call('POST', 'shutdown', {})
