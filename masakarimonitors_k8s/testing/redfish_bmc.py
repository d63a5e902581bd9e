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

"""A real Redfish BMC on loopback, for functional tests of fencing.

Where it sits: at the far end of the fencing flow, where a data centre has
its BMCs. It runs sushy-tools' ``sushy-emulator`` (the Redfish emulator
OpenStack Ironic tests against) with its *fake* system driver: systems that
exist only in the emulator's state, no libvirt, no VMs. The HTTP layer,
basic auth, JSON documents and the ComputerSystem.Reset action are the
emulator's own, so sushy talks to it as to a BMC.

Why it is built so:

* One child process per emulator, started by this module's ``serve``
  command, which runs sushy-tools' own ``main()`` with a config file
  (``SUSHY_EMULATOR_*`` options) written into the work directory. The test
  process never imports sushy-tools (Flask and its globals stay out).
* The fake driver applies a power change 1 to 11 s (random) after the
  Reset request, on the next read. That is realistic, but makes tests
  slow and flaky, so ``power_delay`` (default 0: visible on the next read)
  replaces the random delay by a fixed one; ``power_delay=None`` keeps the
  emulator's stock behaviour. Nothing else of the driver is changed.
* Basic auth uses an htpasswd file with bcrypt cost 4 (the emulator
  accepts only bcrypt): the emulator checks it on every request, and the
  default cost 12 spends about 0.23 s per request.
* The emulator's state (``SUSHY_EMULATOR_STATE_DIR``) lives in the work
  directory: its default is a directory in /tmp shared by every emulator
  on the machine, and it survives restarts, like a real BMC.
* No pytest here, so that benchmarks and demos may use it too.
"""

import argparse
import base64
import json
import os
import signal
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
import uuid

import bcrypt

from masakarimonitors_k8s import clock as clocks
from masakarimonitors_k8s.testing.kube_apiserver import tls
from masakarimonitors_k8s.testing import processes

SERVICE_ROOT = '/redfish/v1/'
POWER_STATES = ('On', 'Off')
_RESET_TYPE_FOR = {'On': 'On', 'Off': 'ForceOff'}
# Any fixed namespace gives every system name a stable UUID.
_UUID_NAMESPACE = uuid.UUID('0b5c8e8e-5f8e-4a53-9d0c-2f5d1f0a7e11')
# The cheapest cost bcrypt allows; see the module docstring.
_BCRYPT_ROUNDS = 4
_LOG_TAIL_LINES = 40
_PORT_ATTEMPTS = 3
_POLL_PACE = 0.02
_REQUEST_TIMEOUT = 5.0


class RedfishBmcError(Exception):
    """The emulator did not start, answer or do what it was asked."""


class RedfishBmc:
    """sushy-tools' Redfish emulator (fake driver) on a loopback port.

    :param workdir: directory for the config, htpasswd, state and log.
    :param systems: names of the emulated ComputerSystems.
    :param username: basic auth user; None serves without authentication.
    :param password: basic auth password.
    :param tls: serve HTTPS with a throwaway CA (``ca_file``).
    :param power_delay: seconds between a Reset and the new power state
        becoming visible; None keeps the emulator's random 1-11 s.
    :param initial_power: power state of every system at first start.
    :param refuse_power_off: answer ForceOff and GracefulShutdown with
        HTTP 400 (the emulator's ``SUSHY_EMULATOR_DISABLE_POWER_OFF``).
    """

    def __init__(self, workdir, *, systems=('compute-01',),
                 username='admin', password='password', tls=False,
                 power_delay=0.0, initial_power='On',
                 refuse_power_off=False, python=None,
                 clock=None, start_timeout=20.0, stop_timeout=5.0):
        if initial_power not in POWER_STATES:
            raise ValueError('initial_power must be one of %s'
                             % (POWER_STATES,))
        self._workdir = os.path.abspath(workdir)
        self._systems = tuple(systems)
        self._username = username
        self._password = password
        self._tls = tls
        self._power_delay = power_delay
        self._initial_power = initial_power
        self._refuse_power_off = refuse_power_off
        self._python = python or sys.executable
        self._clock = clock or clocks.SystemClock()
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._port = None
        self._process = None
        self._tls_files = None

    # -- where it is ------------------------------------------------------

    @property
    def url(self):
        """The service's base URL (scheme, host and port)."""
        if self._port is None:
            raise RedfishBmcError('the emulator has no port yet; start it')
        scheme = 'https' if self._tls else 'http'
        return '%s://127.0.0.1:%d' % (scheme, self._port)

    @property
    def port(self):
        return self._port

    @property
    def username(self):
        return self._username

    @property
    def password(self):
        return self._password

    @property
    def ca_file(self):
        """CA bundle that signs the HTTPS certificate (tls=True only)."""
        return self._tls_files.ca_file if self._tls_files else None

    @property
    def pid(self):
        return self._process.pid if self._process is not None else None

    @property
    def running(self):
        return self._process is not None and self._process.poll() is None

    @property
    def systems(self):
        return self._systems

    @property
    def log_path(self):
        return os.path.join(self._workdir, 'sushy-emulator.log')

    @property
    def config_path(self):
        return os.path.join(self._workdir, 'sushy-emulator.conf')

    def system_uuid(self, name):
        self._require_system(name)
        return str(uuid.uuid5(_UUID_NAMESPACE, name))

    def system_path(self, name):
        """The ComputerSystem's path, as the emulator lists it."""
        return '/redfish/v1/Systems/%s' % self.system_uuid(name)

    def system_url(self, name):
        return self.url + self.system_path(name)

    # -- lifecycle --------------------------------------------------------

    def start(self):
        """Write the configuration, run the emulator, wait until it answers.

        Raises RedfishBmcError with the log tail if it exits or does not
        answer within the start timeout.
        """
        if self.running:
            raise RedfishBmcError('the emulator is already running (pid %d)'
                                  % self._process.pid)
        self.stop()
        os.makedirs(self._workdir, exist_ok=True)
        if self._tls and self._tls_files is None:
            tls_dir = os.path.join(self._workdir, 'tls')
            os.makedirs(tls_dir, exist_ok=True)
            self._tls_files = tls.make_certificates(tls_dir)
        if self._username is not None:
            self._write_htpasswd()
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            # A restart keeps its port. A port found free may be taken
            # before the emulator binds it (other tests run alongside):
            # then try another.
            if self._port is None or attempt > 1:
                self._port = processes.free_loopback_port()
            self._write_config()
            self._spawn()
            try:
                self._wait_until_answering()
                return
            except RedfishBmcError:
                lost_port = 'Address already in use' in self.log_tail()
                self.stop()
                if not lost_port or attempt == _PORT_ATTEMPTS:
                    raise

    def stop(self):
        """SIGTERM the emulator, SIGKILL it after the stop timeout.

        Idempotent. The port is kept, so a restart serves the same URL
        unless it was taken meanwhile.
        """
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=self._stop_timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def log_tail(self, lines=_LOG_TAIL_LINES):
        return processes.file_tail(self.log_path, lines)

    # -- the BMC's own Redfish API ----------------------------------------

    def power_state(self, name):
        """The system's PowerState, as the emulator serves it."""
        document = self._request('GET', self.system_path(name))
        return document.get('PowerState')

    def set_power(self, name, state, *, wait=True):
        """Power the system On or Off through its Reset action.

        With ``wait`` (default), returns once the emulator reports the new
        state, i.e. after ``power_delay``.
        """
        if state not in POWER_STATES:
            raise ValueError('state must be one of %s' % (POWER_STATES,))
        self._request('POST', self.system_path(name)
                      + '/Actions/ComputerSystem.Reset',
                      {'ResetType': _RESET_TYPE_FOR[state]})
        if wait:
            delay = 11.0 if self._power_delay is None else self._power_delay
            self._wait_for(lambda: self.power_state(name) == state,
                           delay + _REQUEST_TIMEOUT,
                           'system %s to power %s' % (name, state))

    # -- internals --------------------------------------------------------

    def _require_system(self, name):
        if name not in self._systems:
            raise RedfishBmcError('no system %r in this emulator (it has %s)'
                                  % (name, ', '.join(self._systems)))

    def _write_htpasswd(self):
        digest = bcrypt.hashpw(self._password.encode('utf-8'),
                               bcrypt.gensalt(rounds=_BCRYPT_ROUNDS))
        with open(self._htpasswd_path, 'w') as out:
            out.write('%s:%s\n' % (self._username, digest.decode('ascii')))

    @property
    def _htpasswd_path(self):
        return os.path.join(self._workdir, 'htpasswd')

    def _write_config(self):
        options = {
            'SUSHY_EMULATOR_LISTEN_IP': '127.0.0.1',
            'SUSHY_EMULATOR_LISTEN_PORT': self._port,
            'SUSHY_EMULATOR_FAKE_DRIVER': True,
            'SUSHY_EMULATOR_DISABLE_POWER_OFF': self._refuse_power_off,
            'SUSHY_EMULATOR_STATE_DIR': os.path.join(self._workdir,
                                                     'state'),
            'SUSHY_EMULATOR_FAKE_SYSTEMS': [
                {'uuid': str(uuid.uuid5(_UUID_NAMESPACE, name)),
                 'name': name, 'power_state': self._initial_power,
                 'nics': []}
                for name in self._systems],
        }
        if self._username is not None:
            options['SUSHY_EMULATOR_AUTH_FILE'] = self._htpasswd_path
        if self._tls_files is not None:
            options['SUSHY_EMULATOR_SSL_CERT'] = self._tls_files.cert_file
            options['SUSHY_EMULATOR_SSL_KEY'] = self._tls_files.key_file
        # Flask reads the file as Python: repr() writes valid literals.
        with open(self.config_path, 'w') as out:
            for key, value in sorted(options.items()):
                out.write('%s = %r\n' % (key, value))

    def _spawn(self):
        command = [self._python, '-m', __name__, 'serve',
                   '--config', self.config_path]
        if self._power_delay is not None:
            command += ['--power-delay', repr(float(self._power_delay))]
        with open(self.log_path, 'ab') as log:
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, close_fds=True,
                env=self._environment(), cwd=self._workdir)

    def _environment(self):
        # The child must import this module from the same checkout.
        package_root = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))
        environment = dict(os.environ)
        environment['PYTHONPATH'] = os.pathsep.join(
            [package_root] + [p for p in
                              [environment.get('PYTHONPATH')] if p])
        environment.pop('SUSHY_EMULATOR_CONFIG', None)
        return environment

    def _wait_until_answering(self):
        processes.wait_until_answering(
            self._process, self._answers, clock=self._clock,
            timeout=self._start_timeout,
            what='sushy-emulator',
            log_tail=self.log_tail, error=RedfishBmcError, pace=_POLL_PACE)

    def _answers(self):
        request = urllib.request.Request(self.url + SERVICE_ROOT)
        try:
            with urllib.request.urlopen(request, timeout=1,
                                        context=self._ssl_context()) as rsp:
                return rsp.status == 200
        except (OSError, ValueError):
            return False

    def _wait_for(self, predicate, timeout, what):
        deadline = self._clock.monotonic() + timeout
        while not predicate():
            if self._clock.monotonic() > deadline:
                raise RedfishBmcError('timed out after %.1f s waiting for %s'
                                      % (timeout, what))
            if not self.running:
                raise RedfishBmcError('the emulator is not running')
            try:
                self._process.wait(timeout=_POLL_PACE)
            except subprocess.TimeoutExpired:
                pass

    def _ssl_context(self):
        if self._tls_files is None:
            return None
        return ssl.create_default_context(cafile=self._tls_files.ca_file)

    def _request(self, method, path, body=None):
        if not self.running:
            raise RedfishBmcError('the emulator is not running')
        headers = {'Accept': 'application/json'}
        data = None
        if body is not None:
            data = json.dumps(body).encode('utf-8')
            headers['Content-Type'] = 'application/json'
        if self._username is not None:
            token = base64.b64encode(('%s:%s' % (
                self._username, self._password)).encode('utf-8'))
            headers['Authorization'] = 'Basic ' + token.decode('ascii')
        request = urllib.request.Request(self.url + path, data=data,
                                         method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=_REQUEST_TIMEOUT,
                                        context=self._ssl_context()) as rsp:
                payload = rsp.read()
        except urllib.error.HTTPError as error:
            raise RedfishBmcError('%s %s: HTTP %s %s' % (
                method, path, error.code,
                error.read().decode('utf-8', 'replace'))) from None
        return json.loads(payload) if payload else {}


def _with_fixed_power_delay(fake_driver, delay):
    """The stock fake driver, with power changes applied after ``delay``."""

    class FixedDelayFakeDriver(fake_driver):

        def set_power_state(self, identity, state):
            super().set_power_state(identity, state)
            system = self._get(identity)
            pending = system.get('pending_power')
            if pending:
                # The driver compares this with time.time() on each read.
                self._update(system, pending_power=dict(
                    pending, apply_time=_wall_time() + delay))

    return FixedDelayFakeDriver


def _wall_time():
    return clocks.SystemClock().wall()


def _serve(argv):
    """Runs in the child process only: sushy-tools is imported here."""
    from sushy_tools.emulator import main as emulator
    from sushy_tools.emulator.resources.systems import fakedriver

    parser = argparse.ArgumentParser(
        description="Run sushy-tools' Redfish emulator, optionally with a "
                    "fixed power transition delay for its fake driver.")
    parser.add_argument('--power-delay', type=float)
    arguments, emulator_argv = parser.parse_known_args(argv)
    if arguments.power_delay is not None:
        # main() looks the driver class up on the module when the first
        # request needs it, so replacing it here is enough.
        fakedriver.FakeDriver = _with_fixed_power_delay(
            fakedriver.FakeDriver, arguments.power_delay)
    sys.argv = ['sushy-emulator'] + emulator_argv
    return emulator.main()


def _main(argv):
    if not argv or argv[0] != 'serve':
        sys.stderr.write('usage: python -m %s serve --config FILE '
                         '[--power-delay SECONDS]\n' % __name__)
        return 2
    return _serve(argv[1:])


if __name__ == '__main__':
    sys.exit(_main(sys.argv[1:]))
