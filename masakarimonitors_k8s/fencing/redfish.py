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

"""Power state and power-off of a node's host through its BMC (Redfish).

Where it sits: the engine asks for fencing evidence (is the failed host
powered Off?) and, with ``fence_action = redfish-power-off``, for the
power-off itself; :mod:`~masakarimonitors_k8s.fencing.bmc` says which BMC
and credentials. The Redfish protocol is spoken by ``sushy``, OpenStack's
Redfish client (also Ironic's).

Why it is built so:

* Retries follow masakari-monitors' IPMI check (``[host] ipmi_timeout``,
  ``ipmi_retry_max``, ``ipmi_retry_interval``): one attempt plus
  ``redfish_retry_max`` retries, ``redfish_retry_interval`` apart. Unlike
  the IPMI check, an answer "On" is an answer, not a failure to retry, and
  a rejected password is not retried at all: BMCs lock accounts after a
  few failed logins, and a password does not heal in ten seconds.
* sushy's own retries are turned off (one transport attempt per request;
  its default is three, ``time.sleep(2)`` apart, outside our clock), so
  that all waiting goes through the injected ``sleep`` and ``clock``.
* No state survives a call: every call opens its own connection and
  closes it (which also deletes the Redfish session, as BMCs have few
  session slots). Opening one costs 3 requests (service root, session or
  basic-auth fallback, system); against sushy-tools' emulator on loopback
  a whole power_state() call measured 18 ms (median of 50; 90th
  percentile 32 ms) and power_off() with its verification 41 ms. Real
  BMCs are slower to create sessions (not measured here), but calls come
  only for failed nodes, so caching buys little and would have to handle
  expired sessions. A power-off keeps its
  connection for the verification polls that follow it, and reopens it
  after an error.
* Time bound: ``redfish_timeout`` is sushy's per-request timeout, which
  ``requests`` applies to the connection and to every socket read (not to
  the whole answer: a BMC trickling bytes could take longer). An attempt
  makes at most about 5 requests (a GET answered 5xx is repeated once by
  sushy), so one attempt takes at most about ``5 * redfish_timeout``, and
  a reading at most ``(1 + retry_max) * 5 * timeout + retry_max *
  retry_interval``.
* Passwords never appear in messages: every error text is redacted.
"""

import dataclasses
import os
import time

from oslo_log import log as logging
import sushy
from sushy import auth as sushy_auth
from sushy import connector as sushy_connector
from sushy import exceptions as sushy_exceptions

from masakarimonitors_k8s import clock as clocks
from masakarimonitors_k8s import conf

LOG = logging.getLogger(__name__)

OFF = 'Off'
# A system whose BMC omits PowerState (it is optional in the schema).
UNKNOWN = 'Unknown'
# Preferred first. ForceOff cuts power at once, which is what fencing
# means; GracefulShutdown is never used: it waits for an OS that may be
# hung and leaves the host running if it is.
FENCE_RESET_TYPES = ('ForceOff', 'PushPowerButton')
DEFAULT_POLL_INTERVAL = 1.0
# sushy reads server_side_retries as the number of transport attempts
# per request (0 would mean its default: 3, time.sleep(2) apart) and as
# the repeats of a GET answered 5xx (at once here, the delay being 0).
_SUSHY_TRANSPORT_ATTEMPTS = 1
_REDACTED = '***'


class FencingError(Exception):
    """The BMC did not answer, refused, or the host did not power off."""

    def __init__(self, message, *, node=None):
        super().__init__(message)
        self.node = node


class FencingInterrupted(FencingError):
    """The monitor stopped while the fencer waited to retry or poll."""


@dataclasses.dataclass(frozen=True)
class PowerReading:
    """What a BMC said about its system's power."""
    state: str
    system: str | None
    detail: str

    @property
    def is_off(self):
        return self.state == OFF


def open_sushy(target, *, verify, timeout):
    """A real Redfish connection to ``target`` (the default ``connect``)."""
    connector = sushy_connector.Connector(
        target.address, verify=verify,
        server_side_retries=_SUSHY_TRANSPORT_ATTEMPTS,
        server_side_retries_delay=0,
        # A number, not a pair: requests applies it to the connection
        # and to every read. (Connector's connect_timeout is newer than
        # sushy 5.7, and would add nothing.)
        default_request_timeout=timeout)
    # Sessions when the BMC offers them (fewer password checks, and some
    # BMCs disable basic auth), else basic auth.
    auth = sushy_auth.SessionOrBasicAuth(username=target.username,
                                         password=target.password)
    try:
        root = sushy.Sushy(target.address, auth=auth, connector=connector)
    except BaseException:
        connector.close()
        raise
    return SushyConnection(root, auth, connector)


class SushyConnection:
    """A sushy root with what it takes to close it cleanly."""

    def __init__(self, root, auth, connector):
        self._root = root
        self._auth = auth
        self._connector = connector

    def get_system(self, path):
        """The system at ``path``, or the only one when path is None."""
        return self._root.get_system(path)

    def close(self):
        try:
            # Deletes the Redfish session, if one was made.
            self._auth.close()
        finally:
            self._connector.close()


class _SystemLink:
    """A connection to one target's system, opened on first use."""

    def __init__(self, connect, target):
        self._connect = connect
        self._target = target
        self._connection = None
        self._system = None

    def system(self):
        """The system resource, re-read from the BMC."""
        if self._system is not None:
            self._system.refresh()
            return self._system
        self._connection = self._connect(self._target)
        try:
            self._system = self._connection.get_system(
                self._target.system_path)
        except BaseException:
            self.close()
            raise
        return self._system

    def close(self):
        connection = self._connection
        self._connection = self._system = None
        if connection is None:
            return
        try:
            connection.close()
        except (sushy_exceptions.SushyError, OSError) as exc:
            # The answer is in hand; a session the BMC failed to delete
            # expires on its own.
            LOG.debug('node %s: closing the connection to BMC %s failed: '
                      '%s', self._target.node, self._target.address,
                      _redact(str(exc), self._target))


class RedfishFencer:
    """Reads and cuts a node's host power through its BMC.

    :param settings: conf.RedfishSettings.
    :param sleep: called with seconds between retries and polls; by
        default ``stop_event.wait``, so that a stop ends the wait.
    :param stop_event: threading.Event; once set, a retry or poll wait
        ends the attempt with :class:`FencingInterrupted`.
    :param clock: clock.Clock for the power-off verification deadline.
    :param poll_interval: seconds between power state polls after a
        power-off request.
    :param connect: ``connect(target, *, verify, timeout)`` -> object with
        ``get_system(path)`` and ``close()``; default :func:`open_sushy`.
    """

    def __init__(self, settings, sleep=None, clock=None, *,
                 poll_interval=DEFAULT_POLL_INTERVAL, connect=open_sushy,
                 stop_event=None):
        self._settings = settings
        self._stop = stop_event
        if sleep is None:
            sleep = stop_event.wait if stop_event is not None else time.sleep
        self._sleep = sleep
        self._clock = clock or clocks.SystemClock()
        self._poll_interval = poll_interval
        self._verify = _tls_verify(settings)
        self._connect = connect

    def power_state(self, target):
        """PowerReading of ``target``'s system; FencingError if unable."""
        link = _SystemLink(self._open, target)
        try:
            return self._with_retries(
                target, 'read the power state', link,
                lambda: _reading(target, link.system()))
        finally:
            link.close()

    def power_off(self, target):
        """Power ``target``'s system off and wait until the BMC says Off.

        Returns the Off reading. Raises FencingError when the request
        fails after the retries, or when the system is not Off within
        ``fence_verify_timeout``. An Off system is left alone.
        """
        link = _SystemLink(self._open, target)
        try:
            before = self._with_retries(
                target, 'power off', link,
                lambda: self._request_off(target, link.system()))
            if before.is_off:
                LOG.info('node %s: %s; no power-off needed.',
                         target.node, before.detail)
                return before
            return self._await_off(target, link, before)
        finally:
            link.close()

    def _open(self, target):
        return self._connect(target, verify=self._verify,
                             timeout=self._settings.timeout)

    def _request_off(self, target, system):
        reading = _reading(target, system)
        if reading.is_off:
            return reading
        reset_type = _fence_reset_type(target, system)
        LOG.warning('node %s: powering off its host: %s via BMC %s '
                    '(PowerState was %s).', target.node, reset_type,
                    target.url, reading.state)
        system.reset_system(sushy.ResetType(reset_type))
        return reading

    def _await_off(self, target, link, before):
        deadline = self._clock.monotonic() + self._settings.verify_timeout
        last, failure = before, None
        while True:
            try:
                last, failure = _reading(target, link.system()), None
            except (sushy_exceptions.SushyError, ValueError) as exc:
                if not _is_transient(exc):
                    raise self._failed(target, 'verify the power-off',
                                       exc) from exc
                # The BMC may be busy during the transition; ask again.
                failure = exc
                link.close()
            if last.is_off and failure is None:
                LOG.warning('node %s: host verified powered off: %s.',
                            target.node, last.detail)
                return last
            remaining = deadline - self._clock.monotonic()
            if remaining <= 0:
                why = ('the last request failed: %s'
                       % _redact(str(failure), target)
                       if failure is not None
                       else 'PowerState is still %s' % last.state)
                raise FencingError(
                    'node %s: BMC %s did not report the system Off within '
                    '%g s of the power-off request; %s'
                    % (target.node, target.url,
                       self._settings.verify_timeout, why),
                    node=target.node)
            self._pause(target, min(self._poll_interval, remaining))

    def _with_retries(self, target, doing, link, attempt):
        attempts = 1 + self._settings.retry_max
        for number in range(1, attempts + 1):
            try:
                return attempt()
            except FencingError:
                raise
            except (sushy_exceptions.SushyError, ValueError) as exc:
                if not _is_transient(exc):
                    raise self._failed(target, doing, exc) from exc
                link.close()
                if number == attempts:
                    raise self._failed(
                        target, doing, exc,
                        'after %d attempt(s)' % attempts) from exc
                LOG.warning('node %s: could not %s via BMC %s (attempt %d '
                            'of %d): %s; retrying in %g s.', target.node,
                            doing, target.url, number, attempts,
                            _redact(str(exc), target),
                            self._settings.retry_interval)
                self._pause(target, self._settings.retry_interval)

    def _pause(self, target, seconds):
        self._sleep(seconds)
        if self._stop is not None and self._stop.is_set():
            raise FencingInterrupted(
                'node %s: the monitor is stopping; fencing through BMC %s '
                'not finished' % (target.node, target.url), node=target.node)

    def _failed(self, target, doing, exc, when=None):
        return FencingError(
            'node %s: could not %s via BMC %s%s: %s'
            % (target.node, doing, target.url,
               ' ' + when if when else '', _explain(exc, target)),
            node=target.node)


def _tls_verify(settings):
    if settings.insecure:
        LOG.warning('[%s] redfish_insecure = true: BMC certificates are '
                    'not verified.', conf.GROUP)
        return False
    if settings.ca_file:
        if not os.path.isfile(settings.ca_file):
            raise conf.ConfigError(
                '[%s] redfish_ca_file = %r: no such file'
                % (conf.GROUP, settings.ca_file))
        return settings.ca_file
    return True


def _reading(target, system):
    state = _state_name(system)
    path = getattr(system, 'path', None) or target.system_path
    return PowerReading(
        state=state, system=path,
        detail='BMC %s reports system %s PowerState %s'
               % (target.address, path, state))


def _state_name(system):
    mapped = system.power_state
    if mapped is not None:
        return getattr(mapped, 'value', str(mapped))
    # sushy maps values it does not know to None; keep the BMC's word.
    raw = (getattr(system, 'json', None) or {}).get('PowerState')
    return str(raw) if raw else UNKNOWN


def _fence_reset_type(target, system):
    allowed = {getattr(value, 'value', value)
               for value in system.get_allowed_reset_system_values()}
    for reset_type in FENCE_RESET_TYPES:
        if reset_type in allowed:
            return reset_type
    raise FencingError(
        'node %s: BMC %s allows none of %s for the system (it allows: %s)'
        % (target.node, target.url, ', '.join(FENCE_RESET_TYPES),
           ', '.join(sorted(allowed)) or 'nothing'),
        node=target.node)


def _is_transient(exc):
    """Whether asking again later may get another answer."""
    if isinstance(exc, (sushy_exceptions.AccessError,
                        sushy_exceptions.ResourceNotFoundError,
                        sushy_exceptions.BadRequestError)):
        return False
    return isinstance(exc, (sushy_exceptions.ConnectionError,
                            sushy_exceptions.HTTPError,
                            # A garbled answer, e.g. during a BMC reboot.
                            ValueError))


def _explain(exc, target):
    if isinstance(exc, sushy_exceptions.AccessError):
        text = ('the BMC refused user %r (HTTP %s): check [k8s] '
                'redfish_credentials_file' % (target.username,
                                              exc.status_code))
    elif isinstance(exc, sushy_exceptions.UnknownDefaultError):
        text = ('%s; name the system in the BMC address '
                '(%s/redfish/v1/Systems/<id>)' % (exc, target.address))
    elif isinstance(exc, sushy_exceptions.ResourceNotFoundError):
        text = 'no such system or resource: %s' % exc
    else:
        text = '%s: %s' % (type(exc).__name__, exc)
    return _redact(text, target)


def _redact(text, target):
    if target.password:
        text = text.replace(target.password, _REDACTED)
    return text
