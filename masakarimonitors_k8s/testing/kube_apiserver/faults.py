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

"""Faults the Kubernetes API test server can be told to inject.

Part of the Kubernetes API test server. The monitor must keep its promises
when the API server misbehaves: watches cut mid-stream, slow answers, a
server that accepts connections and never answers, bursts of 429/5xx, and
compaction that forces a relist. Each of these is a switch here, flipped
at run time from the test (in process) or through ``/_control/faults``
(other process), and read by the HTTP layer on every request.
"""

import threading

from masakarimonitors_k8s.testing.kube_apiserver import errors

_MESSAGES = {
    429: 'Too many requests, please try again later.',
    500: 'Internal error occurred: injected fault',
    503: 'the server is currently unable to handle the request',
}


class _Failure:
    """Answer the next ``count`` matching requests with ``status``."""

    def __init__(self, count, status, path_prefix, verb, retry_after):
        self.count = count
        self.status = status
        self.path_prefix = path_prefix
        self.verb = verb
        self.retry_after = retry_after

    def matches(self, verb, path):
        return (self.count > 0
                and (self.path_prefix is None
                     or path.startswith(self.path_prefix))
                and (self.verb is None or self.verb == verb))

    def error(self):
        message = _MESSAGES.get(self.status, 'injected fault')
        headers = {}
        details = None
        if self.retry_after is not None:
            headers['Retry-After'] = str(self.retry_after)
            details = {'retryAfterSeconds': self.retry_after}
        return errors.error_for_code(self.status, message, details=details,
                                     headers=headers)

    def describe(self):
        return {'count': self.count, 'status': self.status,
                'path_prefix': self.path_prefix, 'verb': self.verb,
                'retry_after': self.retry_after}


class Faults:
    """The fault switches of one server; every method is thread-safe.

    ``on_drop_watches(clean)`` and ``on_expire_history()`` are how the
    server acts on the two faults that are events rather than states.
    """

    def __init__(self, *, on_drop_watches, on_expire_history):
        self._on_drop_watches = on_drop_watches
        self._on_expire_history = on_expire_history
        self._cond = threading.Condition()
        self._latency = 0.0
        self._black_hole = False
        self._released = False
        self._failures = []

    # -- states -----------------------------------------------------------

    @property
    def latency(self):
        with self._cond:
            return self._latency

    def set_latency(self, seconds):
        """Delay every API response by ``seconds`` (0 to stop)."""
        if seconds < 0:
            raise ValueError('latency cannot be negative')
        with self._cond:
            self._latency = float(seconds)

    @property
    def black_holed(self):
        with self._cond:
            return self._black_hole

    def black_hole(self, enabled=True):
        """Accept connections but answer nothing until lifted.

        Requests that arrive meanwhile are held, not lost: once the hole
        is lifted they are answered (to a client that may have given up),
        as after a network partition heals. Watch streams stop sending
        for as long as the hole lasts.
        """
        with self._cond:
            self._black_hole = bool(enabled)
            self._cond.notify_all()

    def lift_black_hole(self):
        self.black_hole(False)

    def wait_while_black_holed(self, timeout=None):
        """Block while black-holed; False if still holed after timeout."""
        with self._cond:
            return self._cond.wait_for(
                lambda: not self._black_hole or self._released, timeout)

    def fail_next(self, count, status=503, *, path_prefix=None, verb=None,
                  retry_after=1):
        """Answer the next ``count`` matching requests with ``status``.

        ``verb`` is a k8s verb (get, list, watch, create, update, patch,
        delete); ``path_prefix`` matches the URL path. Rules are consumed
        in the order they were added.
        """
        if count < 1:
            raise ValueError('count must be at least 1')
        if not 400 <= status <= 599:
            raise ValueError('status must be an HTTP error code')
        with self._cond:
            self._failures.append(_Failure(count, status, path_prefix, verb,
                                           retry_after))

    def take_failure(self, verb, path):
        """The injected error for this request, consuming one, or None."""
        with self._cond:
            for failure in self._failures:
                if failure.matches(verb, path):
                    failure.count -= 1
                    error = failure.error()
                    self._failures = [f for f in self._failures
                                      if f.count > 0]
                    return error
        return None

    def pending_failures(self):
        """How many injected errors are still to be answered."""
        with self._cond:
            return sum(failure.count for failure in self._failures)

    # -- events -----------------------------------------------------------

    def drop_watches(self, *, clean=False):
        """Cut every open watch stream now.

        By default the TCP connection is shut down mid-stream, as a
        network failure or a killed apiserver would; ``clean=True`` ends
        each stream with the final chunk instead, as a graceful apiserver
        shutdown does.
        """
        self._on_drop_watches(clean)

    def expire_history(self):
        """Compact: resuming a watch or a paged list from now gets 410."""
        self._on_expire_history()

    def clear(self):
        """Lift every fault."""
        with self._cond:
            self._latency = 0.0
            self._black_hole = False
            self._failures = []
            self._cond.notify_all()

    def describe(self):
        """The current switches, as the control API reports them."""
        with self._cond:
            return {
                'latency': self._latency,
                'black_hole': self._black_hole,
                'fail_next': [failure.describe()
                              for failure in self._failures],
            }

    def release(self):
        """Let every held request go (the server is stopping)."""
        with self._cond:
            self._released = True
            self._cond.notify_all()
