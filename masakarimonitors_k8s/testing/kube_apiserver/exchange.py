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

"""One HTTP request and its response, as the test server handles them.

Part of the Kubernetes API test server. It wraps the standard library's
request handler with what the API and control handlers need: the parsed
path and query, the body as JSON, ``Status`` error bodies, chunked watch
streams, and the byte count kept in the request log.
"""

import json
import select
import socket
import urllib.parse

from masakarimonitors_k8s.testing.kube_apiserver import errors

_TRUE = ('true', '1', 'True')


class Exchange:
    """A request being answered; one per request, used by one thread."""

    def __init__(self, handler, method):
        self.handler = handler
        self.method = method
        # Called once with this exchange when it is answered.
        self.on_finish = None
        split = urllib.parse.urlsplit(handler.path)
        self.path = split.path
        self.query = dict(urllib.parse.parse_qsl(split.query,
                                                 keep_blank_values=True))
        self.verb = method.lower()
        self.status = None
        self.bytes_sent = 0
        self.body = b''

    def finish(self):
        """Report the request as answered (once), before its last bytes.

        Called before the final write so that whatever a client sees,
        the request log already holds.
        """
        on_finish, self.on_finish = self.on_finish, None
        if on_finish is not None:
            on_finish(self)

    # -- request ----------------------------------------------------------

    def header(self, name, default=None):
        return self.handler.headers.get(name, default)

    def flag(self, name):
        """A boolean query parameter (``true``/``1``)."""
        return self.query.get(name) in _TRUE

    def int_param(self, name):
        value = self.query.get(name)
        if value in (None, ''):
            return None
        try:
            return int(value)
        except ValueError:
            raise errors.BadRequest(
                'invalid %s: %r is not an integer' % (name, value)) from None

    def read_body(self):
        """Read the whole body now, so the connection stays usable."""
        rfile = self.handler.rfile
        length = self.header('Content-Length')
        if length:
            self.body = rfile.read(int(length))
        elif 'chunked' in (self.header('Transfer-Encoding') or '').lower():
            parts = []
            while True:
                size = int(rfile.readline().split(b';')[0].strip(), 16)
                if size == 0:
                    while rfile.readline() not in (b'\r\n', b'\n', b''):
                        pass
                    break
                parts.append(rfile.read(size))
                rfile.readline()
            self.body = b''.join(parts)
        return self.body

    def json_body(self, *, required=True):
        if not self.body:
            if required:
                raise errors.BadRequest('the request has no body')
            return None
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise errors.BadRequest(
                'the body of the request is not valid JSON: %s' % exc)

    # -- response ---------------------------------------------------------

    def send(self, status, body, *, content_type='application/json',
             headers=None):
        handler = self.handler
        handler.send_response(status)
        handler.send_header('Content-Type', content_type)
        handler.send_header('Cache-Control', 'no-cache, private')
        handler.send_header('Content-Length', str(len(body)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        self.status = status
        self.bytes_sent += len(body)
        self.finish()
        handler.end_headers()
        handler.wfile.write(body)

    def send_json(self, status, obj):
        self.send(status, json.dumps(obj).encode())

    def send_error(self, error):
        self.send(error.code, json.dumps(error.status()).encode(),
                  headers=error.headers)

    def start_stream(self, status=200):
        handler = self.handler
        handler.send_response(status)
        handler.send_header('Content-Type', 'application/json')
        handler.send_header('Cache-Control', 'no-cache, private')
        handler.send_header('Transfer-Encoding', 'chunked')
        handler.end_headers()
        self.status = status

    def send_chunk(self, data):
        if data:
            self.handler.wfile.write(b'%x\r\n%s\r\n' % (len(data), data))
            self.bytes_sent += len(data)

    def end_stream(self):
        self.handler.wfile.write(b'0\r\n\r\n')

    def abort(self):
        """Cut the connection without finishing the response."""
        self.handler.close_connection = True
        shutdown_socket(self.handler.connection)

    def peer_gone(self):
        """Whether the client left during a streamed response.

        HTTP/1.1 clients send nothing while a response streams, so any
        readable data (including EOF) means the client is gone.
        """
        try:
            readable, _, _ = select.select([self.handler.connection], [],
                                           [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)


def shutdown_socket(sock):
    """Shut a (possibly TLS) socket down from any thread.

    ``socket.socket.shutdown`` is called on the plain socket underneath so
    that a TLS object in use by another thread is left alone; that thread
    then fails on its next read or write, which is the point.
    """
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except (OSError, ValueError):
        pass
