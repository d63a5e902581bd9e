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

"""Timestamps masakari-api's answers to one driver's notifications.

Part of the benchmark (:mod:`masakarimonitors_k8s.bench`). Detection
latency ends when masakari-api accepts the notification (its 202). Masakari
stores ``created_at`` with whole seconds only, and polling the API often
enough for millisecond resolution would load the very CPUs being measured.
So each driver talks to masakari-api through its own small forwarding
proxy on loopback, which notes the wall time at which each answer to
``POST /v1/notifications`` came back from masakari-api. The proxy also
tells which driver sent which notification, so both drivers can share one
masakari-api (their payloads differ, so Masakari's duplicate rule never
rejects one driver's notification because of the other's).

Every request is forwarded unchanged (method, path, headers, body) on a new
connection, and the answer is relayed unchanged; one loopback hop adds well
under a millisecond, which counts against the drivers.
"""

import http.client
import http.server
import json
import threading
import typing
import urllib.parse

from masakarimonitors_k8s import clock as clocks

NOTIFICATIONS_PATH_SUFFIX = '/notifications'
_FORWARD_TIMEOUT = 60.0
# Hop-by-hop headers (RFC 9110 7.6.1) belong to one connection, not to the
# message; Content-Length is recomputed for the relayed body.
_NOT_FORWARDED = frozenset(('connection', 'keep-alive', 'proxy-connection',
                            'transfer-encoding', 'te', 'trailer', 'upgrade',
                            'content-length'))
# The relaying server writes its own Server and Date headers.
_NOT_RELAYED = _NOT_FORWARDED | frozenset(('server', 'date'))


class Answer(typing.NamedTuple):
    """masakari-api's answer to one notification a driver sent."""

    wall: float
    status: int
    hostname: str
    event: str
    host_status: str
    notification_uuid: str


def answer_from(wall, status, request_body, response_body):
    """Read an :class:`Answer` from the two bodies; tolerant of junk."""
    notification = _json_object(request_body).get('notification') or {}
    payload = notification.get('payload') or {}
    stored = _json_object(response_body).get('notification') or {}
    return Answer(wall=wall, status=status,
                  hostname=str(notification.get('hostname', '')),
                  event=str(payload.get('event', '')),
                  host_status=str(payload.get('host_status', '')),
                  notification_uuid=str(stored.get('notification_uuid', '')))


def _json_object(body):
    try:
        value = json.loads(body or b'null')
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class NotificationRecorder:
    """A forwarding proxy to one masakari-api that records answers.

    :param target_url: masakari-api's root URL (``http://host:port``).
    :param clock: stamps answers (``wall()``); the system clock by default.
    """

    def __init__(self, target_url, *, clock=None):
        target = urllib.parse.urlsplit(target_url)
        self._target = (target.hostname, target.port or 80)
        self._clock = clock or clocks.SystemClock()
        self._lock = threading.Lock()
        self._answers = []
        self._httpd = None
        self._thread = None

    @property
    def root_url(self):
        host, port = self._httpd.server_address[:2]
        return 'http://%s:%d' % (host, port)

    def answers(self):
        """Every notification answer so far, oldest first."""
        with self._lock:
            return list(self._answers)

    def start(self):
        self._httpd = _ProxyServer(('127.0.0.1', 0), self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={'poll_interval': 0.1},
            name='masakari-recorder', daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
        self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def forward(self, handler):
        """Relay one request to masakari-api and its answer back."""
        length = int(handler.headers.get('Content-Length') or 0)
        body = handler.rfile.read(length) if length else None
        headers = {name: value for name, value in handler.headers.items()
                   if name.lower() not in _NOT_FORWARDED}
        connection = http.client.HTTPConnection(*self._target,
                                                timeout=_FORWARD_TIMEOUT)
        try:
            connection.request(handler.command, handler.path, body=body,
                               headers=headers)
            response = connection.getresponse()
            answer_body = response.read()
            answered_at = self._clock.wall()
        except (OSError, http.client.HTTPException) as exc:
            handler.send_error(502, 'masakari-api unreachable: %s' % exc)
            return
        finally:
            connection.close()
        if handler.command == 'POST' and urllib.parse.urlsplit(
                handler.path).path.endswith(NOTIFICATIONS_PATH_SUFFIX):
            with self._lock:
                self._answers.append(answer_from(
                    answered_at, response.status, body, answer_body))
        handler.send_response(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in _NOT_RELAYED:
                handler.send_header(name, value)
        handler.send_header('Content-Length', str(len(answer_body)))
        handler.end_headers()
        if handler.command != 'HEAD':
            handler.wfile.write(answer_body)


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def _forward(self):
        self.server.recorder.forward(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _forward

    def log_message(self, format, *args):
        """Quiet: the drivers' own logs tell what they sent."""


class _ProxyServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, recorder):
        self.recorder = recorder
        super().__init__(address, _ProxyHandler)
