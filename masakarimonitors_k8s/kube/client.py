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

"""A thin raw-JSON layer over the official ``kubernetes`` client.

The official client does authentication, TLS, kubeconfig and in-cluster
discovery; we keep all of that. We bypass its model classes: LIST pages and
watch streams are parsed straight from JSON (the model objects cost about
three times the parse and we read a dozen fields of a 13 KB Node), and the
watch stream is read line by line with explicit connect and read timeouts,
so a silent or black-holed API server surfaces as an error instead of a
hang. Every response's ``Date`` header feeds :class:`ServerClock`, the
monitor's estimate of the API server's wall clock (lease renew times are
judged against it, not against our own clock).
"""

import email.utils
import select
import threading
import time
import urllib.parse

import kubernetes.client
from kubernetes.client import exceptions as k8s_exceptions
from kubernetes import config as k8s_config
import urllib3

from masakarimonitors_k8s.kube import decoding
from masakarimonitors_k8s import policy


class ApiError(Exception):
    """The API server answered with an error status, or not at all."""

    def __init__(self, message, *, status=None, reason=None,
                 retry_after=None, unanswered=False):
        super().__init__(message)
        self.status = status
        self.reason = reason
        # Seconds the server asked us to wait (Retry-After), or None.
        self.retry_after = retry_after
        # True when no answer came at all (refused, timed out waiting).
        self.unanswered = unanswered


class Expired(ApiError):
    """HTTP 410 / reason Expired: the resourceVersion is too old."""


class TooLargeResourceVersion(ApiError):
    """HTTP 504 with cause ResourceVersionTooLarge.

    The API server behind the load balancer lags the resourceVersion we
    hold (a lagging apiserver, an etcd restore): only a fresh LIST helps.
    """


class StreamSilent(ApiError):
    """A watch stream that had answered carried nothing for its timeout."""


def retry_after_seconds(value):
    """Seconds from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


class ServerClock:
    """Estimates the API server's wall clock from ``Date`` headers.

    Each response's ``Date`` is paired with our monotonic clock at that
    moment; ``now().wall`` is that server time plus the monotonic time
    elapsed since. Judgements on server-written timestamps (lease renewals)
    are thus immune both to skew between our clock and the server's and to
    steps of our own wall clock. Until the first response, our own wall
    clock stands in.
    """

    # A new Date further than this from our prediction is a step of the
    # server's clock (or the first reading): deadlines computed on the old
    # estimate are then recomputed. Date has a one-second resolution.
    STEP_THRESHOLD = 2.0
    # Seconds: an answer that took longer than this carries a Date written
    # up to that long before we read it (a slow LIST, a busy process, or a
    # test advancing its clock meanwhile).
    PRECISE_ROUND_TRIP = 1.0

    def __init__(self, clock):
        self._clock = clock
        self._lock = threading.Lock()
        self._anchor = None  # (server wall, our monotonic)
        self.steps = 0

    def observe(self, date_header, *, sent_at=None):
        """Take the ``Date`` of an answer to a request sent at ``sent_at``.

        ``sent_at`` is our monotonic time when the request went out. A
        slow answer's Date may be older than the moment we read it, so it
        can only show that our estimate is behind: one that says the
        server is behind our estimate by less than the answer took is
        not believed (it would make every lease look fresher than it is,
        and count a step). A fast answer, or a gap larger than the answer
        took, is the server's clock and is taken as it is.
        """
        if not date_header:
            return
        try:
            server_wall = email.utils.parsedate_to_datetime(
                date_header).timestamp()
        except (TypeError, ValueError, IndexError):
            return
        # Date has a one-second resolution and is truncated: +0.5 s centres
        # the error.
        anchor = (server_wall + 0.5, self._clock.monotonic())
        round_trip = 0.0 if sent_at is None else anchor[1] - sent_at
        with self._lock:
            previous = self._anchor
            if previous is not None:
                error = anchor[0] - (previous[0] + (anchor[1] - previous[1]))
                if (round_trip > self.PRECISE_ROUND_TRIP
                        and -(round_trip + 1.0) <= error < 0):
                    return
            if previous is None or abs(error) > self.STEP_THRESHOLD:
                self.steps += 1
            self._anchor = anchor

    @property
    def offset(self):
        """Server wall minus our wall, or None before any response."""
        with self._lock:
            anchor = self._anchor
        if anchor is None:
            return None
        return self.now().wall - self._clock.wall()

    def monotonic(self):
        return self._clock.monotonic()

    def now(self):
        monotonic = self._clock.monotonic()
        with self._lock:
            anchor = self._anchor
        if anchor is None:
            wall = self._clock.wall()
        else:
            wall = anchor[0] + (monotonic - anchor[1])
        return policy.Instant(wall=wall, monotonic=monotonic)


def build_api_client(settings):
    """kubernetes.client.ApiClient for :class:`conf.ConnectionSettings`."""
    configuration = kubernetes.client.Configuration()
    if settings.api_url:
        configuration.host = settings.api_url.rstrip('/')
        if settings.ca_file:
            configuration.ssl_ca_cert = settings.ca_file
        if settings.token_file:
            token_file = settings.token_file

            def refresh(config):
                # Projected service account tokens rotate: re-read.
                with open(token_file) as stream:
                    config.api_key['BearerToken'] = (
                        'Bearer ' + stream.read().strip())

            refresh(configuration)
            configuration.refresh_api_key_hook = refresh
    elif settings.kubeconfig:
        k8s_config.load_kube_config(
            config_file=settings.kubeconfig, context=settings.context,
            client_configuration=configuration, persist_config=False)
    else:
        k8s_config.load_incluster_config(client_configuration=configuration)
    if settings.insecure:
        configuration.verify_ssl = False
    # urllib3 would otherwise re-send a GET answered 429/503 after sleeping
    # its Retry-After, unseen: the reflector retries, logs and counts
    # itself, and must be able to stop without waiting out a sleep.
    configuration.retries = urllib3.util.Retry(
        total=0, redirect=0, respect_retry_after_header=False)
    return kubernetes.client.ApiClient(configuration)


class KubeClient:
    """Raw GET/LIST/WATCH/POST/PATCH against the API with set timeouts."""

    def __init__(self, api_client, *, server_clock, connect_timeout,
                 read_timeout):
        self._api = api_client
        self.server_clock = server_clock
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._streams_lock = threading.Lock()
        self._streams = set()

    def interrupt_streams(self):
        """Break every open watch stream and answer being read now.

        Used on stop, so that no thread waits out a read timeout.
        """
        with self._streams_lock:
            streams = list(self._streams)
        for raw in streams:
            try:
                raw.shutdown()
            except Exception:  # already closed, or an old urllib3
                try:
                    raw.close()
                except Exception:
                    pass

    def close(self):
        self.interrupt_streams()
        self._api.close()

    def drop_idle_connections(self):
        """Close the pooled connections no request is using now."""
        pool_manager = getattr(getattr(self._api, 'rest_client', None),
                               'pool_manager', None)
        if pool_manager is not None:
            pool_manager.clear()

    @property
    def host(self):
        return self._api.configuration.host

    def _request(self, method, path, *, query=None, body=None,
                 content_type=None, read_timeout=None):
        headers = {'Accept': 'application/json'}
        if content_type:
            headers['Content-Type'] = content_type
        method, url, headers, body, _ = self._api.param_serialize(
            method, path, query_params=list((query or {}).items()),
            header_params=headers, body=body,
            auth_settings=['BearerToken'])
        timeout = (self._connect_timeout,
                   read_timeout or self._read_timeout)
        sent_at = self.server_clock.monotonic()
        try:
            response = self._api.call_api(method, url, header_params=headers,
                                          body=body, _request_timeout=timeout)
        except k8s_exceptions.ApiException as exc:
            headers = exc.headers or {}
            raise ApiError('%s %s: %s' % (method, path, exc.reason),
                           status=exc.status,
                           retry_after=retry_after_seconds(
                               headers.get('Retry-After'))) from exc
        except Exception as exc:  # urllib3/socket errors of every kind
            raise ApiError('%s %s: %s: %s' % (
                method, path, type(exc).__name__, exc),
                unanswered=True) from exc
        self.server_clock.observe(response.getheader('Date'),
                                  sent_at=sent_at)
        return response

    def _json(self, response, method, path, decode=None):
        # A long body (a LIST page of thousands of nodes) is read while
        # registered, so that a stop breaks it as it breaks watches.
        raw = getattr(response, 'response', None)
        if raw is not None:
            with self._streams_lock:
                self._streams.add(raw)
        try:
            data = response.read()
        except Exception as exc:
            raise ApiError('%s %s: reading the answer failed: %s'
                           % (method, path, exc)) from exc
        finally:
            if raw is not None:
                with self._streams_lock:
                    self._streams.discard(raw)
        if decode is None or response.status >= 400:
            decode = decoding.json_document
        try:
            document = decode(data)
        except ValueError as exc:
            raise ApiError('%s %s: answer is not JSON (HTTP %s)'
                           % (method, path, response.status)) from exc
        if response.status >= 400:
            error = _status_error(document, response.status, method, path)
            error.retry_after = retry_after_seconds(
                response.getheader('Retry-After'))
            raise error
        return document

    def get_json(self, path, query=None, *, timeout=None, decode=None):
        """GET ``path``; ``decode``: bytes -> dict, JSON by default."""
        return self._json(self._request('GET', path, query=query,
                                        read_timeout=timeout), 'GET', path,
                          decode=decode)

    def post_json(self, path, body, *, timeout=None):
        return self._json(self._request('POST', path, body=body,
                                        read_timeout=timeout), 'POST', path)

    def patch_merge(self, path, body, *, timeout=None):
        return self._json(
            self._request('PATCH', path, body=body, read_timeout=timeout,
                          content_type='application/merge-patch+json'),
            'PATCH', path)

    def put_json(self, path, body, *, timeout=None):
        return self._json(self._request('PUT', path, body=body,
                                        read_timeout=timeout), 'PUT', path)

    def list_pages(self, path, *, params, page_size, continue_token=None,
                   decode=None):
        """Yield LIST pages (dicts) until the last ``continue`` token.

        ``continue_token`` resumes a LIST whose page failed: the pages
        before it need not be fetched again. ``decode``: a page's bytes
        -> dict (:class:`decoding.NodeDecoder.document`), JSON by default.
        """
        token = continue_token
        while True:
            query = dict(params)
            query['limit'] = page_size
            if token:
                query['continue'] = token
            page = self.get_json(path, query, decode=decode)
            yield page
            token = (page.get('metadata') or {}).get('continue')
            if not token:
                return

    def watch(self, path, *, params, resource_version, timeout_seconds,
              idle_timeout, answer_timeout=None, new_connection=False,
              decode_event=None, coalesce=0.0, on_idle=None):
        """Yield (type, object) from a watch stream.

        ``answer_timeout`` (default: the read timeout) bounds the wait for
        the response headers, which kube-apiserver sends at once. After
        that the socket read timeout is ``idle_timeout``: a stream that
        carries neither events nor bookmarks for that long raises
        :class:`StreamSilent`. ``new_connection``: do not reuse an idle
        pooled connection, which a load balancer may have dropped as
        silently as the stream it checks. ``decode_event``: a line's bytes
        -> (type, object dict) (:class:`decoding.NodeDecoder.event`), JSON
        by default. ``coalesce``: seconds to wait, once the stream has
        nothing more to read, before blocking on it again, so that events
        arriving meanwhile are read in one wake-up (see
        :func:`_coalesced`). ``on_idle``: called (between two yields, in
        the caller's thread) each time the stream has nothing more
        waiting, e.g. to hand on what was read so far; with ``coalesce``
        only.
        """
        decode_event = decode_event or decoding.json_event
        if new_connection:
            self.drop_idle_connections()
        query = dict(params)
        query.update({'watch': 'true', 'allowWatchBookmarks': 'true',
                      'timeoutSeconds': int(timeout_seconds)})
        if resource_version:
            query['resourceVersion'] = resource_version
        response = self._request(
            'GET', path, query=query,
            read_timeout=answer_timeout or self._read_timeout)
        if response.status >= 400:
            self._json(response, 'WATCH', path)  # raises
        raw = response.response
        _set_read_timeout(raw, idle_timeout)
        with self._streams_lock:
            self._streams.add(raw)
        chunks = raw.stream(amt=None, decode_content=True)
        sock = getattr(getattr(raw, 'connection', None), 'sock', None)
        if coalesce > 0 and sock is not None:
            chunks = _coalesced(chunks, sock, coalesce, on_idle=on_idle)
        elif on_idle is not None:
            # Nothing tells whether more is waiting: each read is all.
            chunks = _each_then(chunks, on_idle)
        try:
            for line in _lines(chunks):
                yield _watch_event(line, path, decode_event)
        except ApiError:
            raise
        except (urllib3.exceptions.ReadTimeoutError, TimeoutError) as exc:
            raise StreamSilent('WATCH %s: nothing for %.1f s'
                               % (path, idle_timeout)) from exc
        except Exception as exc:
            raise ApiError('WATCH %s: stream broke: %s: %s'
                           % (path, type(exc).__name__, exc)) from exc
        finally:
            with self._streams_lock:
                self._streams.discard(raw)
            raw.release_conn()


def _set_read_timeout(raw, seconds):
    """Give an open response's socket a new read timeout.

    urllib3 applies one read timeout to the headers and the body; a watch
    wants a short one for the answer and its own for the silence between
    events.
    """
    connection = getattr(raw, 'connection', None)
    sock = getattr(connection, 'sock', None)
    if sock is not None:
        sock.settimeout(seconds)


def _coalesced(chunks, sock, seconds, nap=time.sleep, on_idle=None):
    """Yield ``chunks``; when none is waiting, nap before reading on.

    A watch thread woken for each event pays a fixed cost per wake-up
    (cold caches, the TLS and HTTP layers' per-read work) that dwarfs the
    event itself at low rates: measured per Node event over TLS, 0.04 ms
    at 300 events/s but 0.23 ms at 17 events/s (the kubelets' status
    reports of 5,000 nodes). Napping ``seconds`` whenever the socket has
    nothing to read lets the kernel gather what arrives meanwhile, read
    then in one wake-up; an event waits at most ``seconds`` more.
    ``on_idle`` is called before each nap: what was read so far is all
    there is for now.
    """
    for chunk in chunks:
        yield chunk
        if not _readable_now(sock):
            if on_idle is not None:
                on_idle()
            nap(seconds)


def _each_then(chunks, on_idle):
    for chunk in chunks:
        yield chunk
        on_idle()


def _readable_now(sock):
    pending = getattr(sock, 'pending', None)
    try:
        if pending is not None and pending():
            return True
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        # Closed under us (a stop): the next read says so.
        return True
    return bool(readable)


def _lines(chunks):
    """Non-blank lines of a chunked body, without their newline.

    The parts of an unfinished line are kept and joined once it ends:
    growing one buffer per chunk copies a 14 KB event several times
    (0.0091 ms per event against 0.0033, bench.decoding).
    """
    parts = []
    for chunk in chunks:
        start = 0
        while True:
            end = chunk.find(b'\n', start)
            if end < 0:
                if start < len(chunk):
                    parts.append(chunk[start:] if start else chunk)
                break
            if parts:
                parts.append(chunk[start:end])
                line = b''.join(parts)
                parts = []
            else:
                line = chunk[start:end]
            start = end + 1
            if line.strip():
                yield line
    if parts:
        line = b''.join(parts)
        if line.strip():
            yield line


def _watch_event(line, path, decode_event=decoding.json_event):
    try:
        kind, obj = decode_event(line)
    except ValueError as exc:
        raise ApiError('WATCH %s: undecodable event (%s)'
                       % (path, exc)) from exc
    if kind == 'ERROR':
        raise _status_error(obj, None, 'WATCH', path)
    return kind, obj


def _status_error(status, http_status, method, path):
    code = status.get('code') or http_status
    reason = status.get('reason')
    message = '%s %s: HTTP %s %s: %s' % (
        method, path, code, reason or '', status.get('message', ''))
    if code == 410 or reason in ('Expired', 'Gone'):
        return Expired(message, status=410, reason=reason)
    causes = (status.get('details') or {}).get('causes') or []
    if any(isinstance(cause, dict)
           and cause.get('reason') == 'ResourceVersionTooLarge'
           for cause in causes) or 'too large resource version' in (
               str(status.get('message', '')).lower()):
        return TooLargeResourceVersion(message, status=code, reason=reason)
    return ApiError(message, status=code, reason=reason)


def selector_params(label_selector=None, field_selector=None):
    params = {}
    if label_selector:
        params['labelSelector'] = label_selector
    if field_selector:
        params['fieldSelector'] = field_selector
    return params


def quote(name):
    return urllib.parse.quote(name, safe='')
