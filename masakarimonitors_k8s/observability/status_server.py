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

"""The status endpoint: ``/healthz``, ``/readyz`` and ``/metrics``.

Position: the edge where the kubelet's probes and Prometheus reach the
monitor (``[k8s] status_port``). Built on the standard library's
``http.server`` in a daemon OS thread of its own: masakari-hostmonitor's
main thread is an eventlet hub, and a blocking ``accept()`` there would
stall it. Each request is answered in its own short-lived thread, so a
slow scraper cannot hold up a probe. The answers themselves come from
callables (see :mod:`.probes` and :mod:`.metrics`), which keeps this module
about HTTP only.
"""

import http.server
import socket
import threading

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

TEXT = 'text/plain; charset=utf-8'


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # A restarted pod must be able to bind while old connections linger.
    allow_reuse_address = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class StatusServer:
    """Serves the probes and the metrics until ``stop()``.

    :param liveness: callable -> probes.ProbeResult.
    :param readiness: callable -> probes.ProbeResult.
    :param metrics: callable(accept header) -> (bytes, content type).
    :param port: TCP port; 0 picks a free one (see :attr:`port`).
    """

    def __init__(self, *, liveness, readiness, metrics, host='0.0.0.0',
                 port=0):
        handler = _handler_class(liveness=liveness, readiness=readiness,
                                 metrics=metrics)
        server_class = _Server6 if ':' in host else _Server
        self._httpd = server_class((host, port), handler)
        self._thread = None

    @property
    def port(self):
        return self._httpd.server_address[1]

    @property
    def host(self):
        return self._httpd.server_address[0]

    @property
    def url(self):
        host = self.host
        if host in ('0.0.0.0', ''):
            host = '127.0.0.1'
        elif host == '::':
            host = '::1'
        if ':' in host:
            host = '[%s]' % host
        return 'http://%s:%d' % (host, self.port)

    def start(self):
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={'poll_interval': 0.5},
            daemon=True, name='status-server')
        self._thread.start()
        LOG.info('Status endpoint on %s (/healthz, /readyz, /metrics).',
                 self.url)

    def stop(self, timeout=5.0):
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout)
        self._httpd.server_close()

    def is_alive(self):
        return self._thread is not None and self._thread.is_alive()


def _handler_class(*, liveness, readiness, metrics):
    probes = {'/healthz': (liveness, 500), '/readyz': (readiness, 503)}

    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = 'masakari-hostmonitor-k8s'

        def do_GET(self):
            self._answer(with_body=True)

        def do_HEAD(self):
            self._answer(with_body=False)

        def _answer(self, *, with_body):
            path = self.path.split('?', 1)[0]
            try:
                if path in probes:
                    probe, failure_status = probes[path]
                    result = probe()
                    status = 200 if result.ok else failure_status
                    body = ('%s: %s\n' % ('ok' if result.ok else 'not ok',
                                          result.detail)).encode('utf-8')
                    content_type = TEXT
                elif path == '/metrics':
                    status = 200
                    body, content_type = metrics(self.headers.get('Accept'))
                else:
                    status, content_type = 404, TEXT
                    body = b'not found: try /healthz, /readyz, /metrics\n'
            except Exception as exc:  # a bug must not kill the endpoint
                LOG.exception('Status endpoint failed on %s.', path)
                status, content_type = 500, TEXT
                body = ('error: %s: %s\n' % (type(exc).__name__,
                                             exc)).encode('utf-8')
            self.send_response(status)
            self.send_header('Content-Type', content_type)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            if with_body:
                self.wfile.write(body)

        def log_message(self, format, *args):
            # Probes every few seconds would flood the service log.
            LOG.debug('status endpoint: %s - %s', self.address_string(),
                      format % args)

    return Handler
