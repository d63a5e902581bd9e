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

"""The Kubernetes API test server: an HTTP(S) front end for the store.

Part of the Kubernetes API test server. :class:`KubeApiServer` is what
tests start (in process, or through ``python -m ...kube_apiserver`` for
another process); it owns the listening socket, the connection threads,
the watch streams, bearer-token auth, the fault switches and the request
log. Request semantics live in :mod:`.handlers` (Kubernetes API) and
:mod:`.control` (test control API).

It is built on :mod:`http.server` with one thread per connection and
HTTP/1.1 keep-alive, which is enough for the official client's connection
pool and for thousands of requests per second of small objects; big lists
are fast because bodies are joined from cached bytes.
"""

import collections
import email.utils
import http.server
import json
import logging
import os
import shutil
import socketserver
import tempfile
import threading
import typing

from masakarimonitors_k8s import clock as clock_mod
from masakarimonitors_k8s.testing.kube_apiserver import auth as auth_mod
from masakarimonitors_k8s.testing.kube_apiserver import control
from masakarimonitors_k8s.testing.kube_apiserver import errors
from masakarimonitors_k8s.testing.kube_apiserver import exchange as exch
from masakarimonitors_k8s.testing.kube_apiserver import faults as faults_mod
from masakarimonitors_k8s.testing.kube_apiserver import handlers
from masakarimonitors_k8s.testing.kube_apiserver import store as store_mod
from masakarimonitors_k8s.testing.kube_apiserver import tls as tls_mod

LOG = logging.getLogger(__name__)

# kube-apiserver's --min-request-timeout default: watches without
# timeoutSeconds last between this and twice this.
DEFAULT_MIN_REQUEST_TIMEOUT = 1800.0
_JOIN_SECONDS = 5.0
# How many queued watch events are written as one chunk.
_WATCH_BATCH = 200
# The longest a streaming handler waits (real seconds) before it looks
# again at the clock, the client and the server's stop flag.
_STREAM_POLL_SECONDS = 0.25
# A client that went away surfaces as one of these (SSLError, timeouts and
# ConnectionError are all OSErrors); they end the connection quietly.
_CONNECTION_ERRORS = (OSError,)


class RequestRecord(typing.NamedTuple):
    """One answered API request: k8s verb, URL path, status, body bytes."""

    verb: str
    path: str
    status: int
    bytes_sent: int


class _WatchStream:
    """An open watch response, so faults and stop() can end it."""

    def __init__(self, exchange, watcher):
        self.exchange = exchange
        self.watcher = watcher
        self.ended = False
        self.abort = False

    def end(self, *, abrupt):
        self.ended = True
        self.abort = self.abort or abrupt
        self.watcher.close()
        if abrupt:
            exch.shutdown_socket(self.exchange.handler.connection)


class _RequestHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def send_response(self, code, message=None):
        # kube-apiserver sends no Server header; Date follows its clock.
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header('Date', self.date_time_string())

    def date_time_string(self, timestamp=None):
        return email.utils.formatdate(self.server.api.clock.wall(),
                                      usegmt=True)

    def log_message(self, format, *args):
        LOG.debug('%s - %s', self.address_string(), format % args)

    def do_GET(self):
        self.server.api.handle_request(self, 'GET')

    def do_POST(self):
        self.server.api.handle_request(self, 'POST')

    def do_PUT(self):
        self.server.api.handle_request(self, 'PUT')

    def do_PATCH(self):
        self.server.api.handle_request(self, 'PATCH')

    def do_DELETE(self):
        self.server.api.handle_request(self, 'DELETE')


class _HTTPServer(socketserver.TCPServer):
    """A threaded TCP server whose connections stop() can end.

    It tracks each connection's thread and socket, and does the TLS
    handshake in the connection's own thread so a slow client cannot hold
    up accept().
    """

    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, api, ssl_context):
        self.api = api
        self._ssl_context = ssl_context
        self._lock = threading.Lock()
        self._connections = {}
        super().__init__(address, _RequestHandler)

    def process_request(self, request, client_address):
        thread = threading.Thread(
            target=self._serve_connection, args=(request, client_address),
            name='kube-apiserver-conn', daemon=True)
        with self._lock:
            self._connections[thread] = request
        thread.start()

    def _serve_connection(self, request, client_address):
        try:
            if self._ssl_context is not None:
                request.settimeout(10.0)
                request = self._ssl_context.wrap_socket(request,
                                                        server_side=True)
                request.settimeout(None)
                with self._lock:
                    self._connections[threading.current_thread()] = request
            self.finish_request(request, client_address)
        except _CONNECTION_ERRORS as exc:
            LOG.debug('connection from %s ended: %s', client_address, exc)
        finally:
            self.shutdown_request(request)
            with self._lock:
                self._connections.pop(threading.current_thread(), None)

    def close_connections(self):
        """Shut every connection down and wait for its thread."""
        with self._lock:
            connections = dict(self._connections)
        for sock in connections.values():
            exch.shutdown_socket(sock)
        for thread in connections:
            thread.join(_JOIN_SECONDS)


class KubeApiServer:
    """A Kubernetes API server for tests, serving Nodes, Leases, Events.

    :param store: an :class:`ObjectStore` to serve (e.g. the cluster
        model's); by default a new one on this server's clock.
    :param clock: the server's clock (Date header, watch timeouts); by
        default the store's clock, or the system clock.
    :param tls: serve HTTPS with a throwaway CA (see :attr:`ca_file`).
    :param auth: require bearer tokens (see :meth:`add_token`); when False
        every request is allowed as ``system:anonymous``.
    :param bookmark_interval: seconds between BOOKMARK events for watches
        with ``allowWatchBookmarks``.
    """

    def __init__(self, store=None, clock=None, tls=False, auth=True,
                 bookmark_interval=60.0, *, host='127.0.0.1', port=0,
                 history_limit=20000, request_log_size=10000,
                 min_request_timeout=DEFAULT_MIN_REQUEST_TIMEOUT):
        if clock is None:
            clock = store.clock if store is not None \
                else clock_mod.SystemClock()
        self._clock = clock_mod.OffsetClock(clock, 0.0)
        self.store = store if store is not None else store_mod.ObjectStore(
            clock=self._clock, history_limit=history_limit)
        self.authenticator = auth_mod.TokenAuthenticator(enabled=auth)
        self.faults = faults_mod.Faults(
            on_drop_watches=self._drop_watches,
            on_expire_history=self.store.expire_history)
        self.bookmark_interval = float(bookmark_interval)
        self.min_request_timeout = float(min_request_timeout)
        self._tls = tls
        self._host = host
        self._port = port
        self._api = handlers.ApiHandler(self)
        self._control = control.ControlHandler(self)
        self._log_lock = threading.Lock()
        self._request_log = collections.deque(maxlen=request_log_size)
        self._streams_lock = threading.Lock()
        self._streams = set()
        self._stopping = threading.Event()
        self.shutdown_requested = threading.Event()
        self._httpd = None
        self._thread = None
        self._tempdir = None
        self.ca_file = None

    # -- lifecycle --------------------------------------------------------

    def start(self):
        if self._httpd is not None:
            raise RuntimeError('the server is already started')
        self._stopping.clear()
        self._tempdir = tempfile.mkdtemp(prefix='kube-apiserver-')
        context = None
        if self._tls:
            files = tls_mod.make_certificates(self._tempdir)
            self.ca_file = files.ca_file
            context = tls_mod.server_context(files)
        self._httpd = _HTTPServer((self._host, self._port), self, context)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={'poll_interval': 0.1},
            name='kube-apiserver', daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stop serving: end watches, close connections, join threads."""
        if self._httpd is None:
            return
        self._stopping.set()
        self.faults.release()
        with self._streams_lock:
            streams = list(self._streams)
        for stream in streams:
            stream.end(abrupt=False)
        self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd.close_connections()
        self._thread.join(_JOIN_SECONDS)
        self._httpd = None
        self._thread = None
        shutil.rmtree(self._tempdir, ignore_errors=True)
        self._tempdir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def stopping(self):
        return self._stopping.is_set()

    # -- addresses and clock ----------------------------------------------

    @property
    def address(self):
        if self._httpd is None:
            raise RuntimeError('the server is not started')
        return self._httpd.server_address[:2]

    @property
    def url(self):
        host, port = self.address
        return '%s://%s:%d' % ('https' if self._tls else 'http', host, port)

    @property
    def clock(self):
        """The server's clock, including :attr:`clock_offset`."""
        return self._clock

    @property
    def clock_offset(self):
        """Seconds the server's wall clock runs ahead of its base clock.

        It moves the Date header and, when the server owns its store, the
        timestamps the server stamps (creationTimestamp).
        """
        return self._clock.offset

    @clock_offset.setter
    def clock_offset(self, seconds):
        self._clock.offset = float(seconds)

    # -- auth -------------------------------------------------------------

    def add_token(self, token, *, user, rules=(), groups=()):
        """Accept ``token`` as ``user`` with RBAC PolicyRule ``rules``."""
        return self.authenticator.add_token(token, user=user, rules=rules,
                                            groups=groups)

    def remove_token(self, token):
        self.authenticator.remove_token(token)

    # -- request log ------------------------------------------------------

    @property
    def request_log(self):
        """The answered API requests, oldest first (a bounded copy)."""
        with self._log_lock:
            return list(self._request_log)

    def clear_request_log(self):
        with self._log_lock:
            self._request_log.clear()

    def _record(self, exchange):
        with self._log_lock:
            self._request_log.append(RequestRecord(
                exchange.verb, exchange.path, exchange.status or 0,
                exchange.bytes_sent))

    # -- kubeconfig -------------------------------------------------------

    def write_kubeconfig(self, path, token=None, *, name='kube-apiserver'):
        """Write a kubeconfig for this server that load_kube_config reads.

        JSON is valid YAML, so no YAML writer is needed.
        """
        cluster = {'server': self.url}
        if self.ca_file:
            cluster['certificate-authority'] = self.ca_file
        user = {'token': token} if token else {}
        config = {
            'apiVersion': 'v1', 'kind': 'Config',
            'clusters': [{'name': name, 'cluster': cluster}],
            'users': [{'name': name, 'user': user}],
            'contexts': [{'name': name, 'context': {
                'cluster': name, 'user': name}}],
            'current-context': name, 'preferences': {},
        }
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                          0o600), 'w') as out:
            json.dump(config, out, indent=2)
        return path

    # -- request handling -------------------------------------------------

    def handle_request(self, handler, method):
        exchange = exch.Exchange(handler, method)
        is_control = exchange.path.startswith(control.PREFIX)
        if not is_control:
            exchange.on_finish = self._record
        try:
            try:
                exchange.read_body()
            except ValueError:
                handler.close_connection = True
                exchange.send_error(errors.BadRequest(
                    'the request body is not framed as its headers say'))
                return
            if is_control:
                self._control.handle(exchange)
            else:
                self._handle_api(exchange)
        except _CONNECTION_ERRORS as exc:
            handler.close_connection = True
            LOG.debug('%s %s: connection lost: %s', method, exchange.path,
                      exc)
        finally:
            exchange.finish()

    def _handle_api(self, exchange):
        try:
            route = self._api.classify(exchange)
            if not self._pass_faults(exchange):
                return
            self._api.handle(exchange, route)
        except errors.ApiError as error:
            exchange.send_error(error)
        except _CONNECTION_ERRORS:
            raise
        except Exception as exc:
            LOG.exception('the test API server failed on %s %s',
                          exchange.method, exchange.path)
            exchange.send_error(errors.InternalError(
                'Internal error occurred: %s: %s'
                % (type(exc).__name__, exc)))

    def _pass_faults(self, exchange):
        """Apply black hole, latency and injected errors; False to drop."""
        faults = self.faults
        if faults.black_holed:
            faults.wait_while_black_holed()
            if self._stopping.is_set():
                exchange.abort()
                return False
        latency = faults.latency
        if latency:
            self._stopping.wait(latency)
        error = faults.take_failure(exchange.verb, exchange.path)
        if error is not None:
            raise error
        return True

    def stream_watch(self, exchange, watcher, *, timeout, bookmarks):
        """Send ``watcher``'s events as a chunked stream until it ends."""
        stream = _WatchStream(exchange, watcher)
        with self._streams_lock:
            self._streams.add(stream)
        deadline = self._clock.monotonic() + timeout
        try:
            exchange.start_stream()
            while not self._stopping.is_set():
                self._hold_while_black_holed(stream)
                remaining = deadline - self._clock.monotonic()
                if stream.ended:
                    break
                if remaining <= 0:
                    if bookmarks:
                        line = watcher.bookmark_line()
                        if line:
                            exchange.send_chunk(line)
                    break
                lines = watcher.next_lines(
                    timeout=min(remaining, _STREAM_POLL_SECONDS),
                    max_events=_WATCH_BATCH)
                # Events taken just as a black hole opened are held too.
                self._hold_while_black_holed(stream)
                if stream.ended:
                    break
                if lines:
                    exchange.send_chunk(b''.join(lines))
                elif watcher.closed or exchange.peer_gone():
                    break
            self._end_stream(stream)
            if stream.abort:
                exchange.abort()
            else:
                exchange.end_stream()
        except _CONNECTION_ERRORS:
            exchange.handler.close_connection = True
        finally:
            self._end_stream(stream)

    def _end_stream(self, stream):
        """Forget a stream before its end reaches the client."""
        stream.watcher.close()
        with self._streams_lock:
            self._streams.discard(stream)
        stream.exchange.finish()

    def _hold_while_black_holed(self, stream):
        while self.faults.black_holed and not stream.ended \
                and not self._stopping.is_set():
            self.faults.wait_while_black_holed(_STREAM_POLL_SECONDS)

    def _drop_watches(self, clean):
        with self._streams_lock:
            streams = list(self._streams)
            # Forgotten before the cut reaches the client, as a stream
            # that ends by itself is (_end_stream): a client that sees its
            # watch cut never sees it still counted.
            self._streams.difference_update(streams)
        for stream in streams:
            stream.end(abrupt=not clean)

    def open_watch_count(self):
        """How many watch streams are being served right now."""
        with self._streams_lock:
            return len(self._streams)
