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

"""A real masakari-api on loopback, for functional tests and the demo.

Where it sits: at the far end of the flow. The notifier (and the stock
``masakari-hostmonitor`` running our driver) posts notifications to
Masakari; functional tests and the demo need something real to post to and
read back from. This module runs the genuine ``masakari-api`` console
script of the installed ``masakari`` package, without Keystone, RabbitMQ or
Nova:

* ``auth_strategy = noauth2``: every token is accepted as admin;
* ``transport_url = fake:/``: the cast to the engine lands in an in-memory
  queue, so a notification is stored with status ``new`` and stays so;
* SQLite in the work directory, created by ``masakari-manage db sync``.

Why it is built so:

* The API runs in child processes and the test process never imports
  masakari: masakari's global oslo.config state and eventlet patching
  would otherwise leak into the tests. Hosts cannot be registered over
  HTTP (``POST /hosts`` asks Nova whether the host exists), so they are
  written with masakari's own objects by a short-lived helper process
  that runs this same module (see ``_main``).
* Everything else (segments, maintenance, reading notifications back) goes
  over HTTP with the standard library, so the harness observes what a
  client observes.
* No pytest here: the demo and the benchmarks import this module at run
  time. The pytest fixtures live in ``tests/functional/conftest.py``.

The facts this relies on were measured and are written down in
``doc/source/contributor/masakari-api-fixture.rst``.
"""

import argparse
from collections.abc import Iterable
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

import psutil

from masakarimonitors_k8s import clock as clocks
from masakarimonitors_k8s.testing import processes

# noauth2 turns any token into an admin context; 'user:project' is the
# form its documentation uses.
NOAUTH_TOKEN = 'admin:admin'
# Masakari's own default (masakari/conf/api.py).
DEFAULT_DUPLICATE_INTERVAL = 180
_API_VERSION_PATH = '/v1'
_PAGE_SIZE = 500
_LOG_TAIL_LINES = 40
# How long SIGKILLed processes get to disappear; only the kernel acts.
_KILLED_EXIT_TIMEOUT = 5.0
# The paste pipeline of masakari 22.0.0's api-paste.ini reduced to what
# noauth2 needs; used only when the installed file cannot be found.
_FALLBACK_API_PASTE = """\
[composite:masakari_api]
use = call:masakari.api.urlmap:urlmap_factory
/: apiversions
/v1: masakari_api_v1
/healthcheck: healthcheck

[composite:masakari_api_v1]
use = call:masakari.api.auth:pipeline_factory_v1
noauth2 = cors http_proxy_to_wsgi request_id faultwrap sizelimit noauth2 \
osapi_masakari_app_v1

[filter:cors]
paste.filter_factory = oslo_middleware.cors:filter_factory
oslo_config_project = masakari

[filter:http_proxy_to_wsgi]
paste.filter_factory = \
oslo_middleware.http_proxy_to_wsgi:HTTPProxyToWSGI.factory

[filter:request_id]
paste.filter_factory = oslo_middleware:RequestId.factory

[filter:faultwrap]
paste.filter_factory = masakari.api.openstack:FaultWrapper.factory

[filter:sizelimit]
paste.filter_factory = oslo_middleware:RequestBodySizeLimiter.factory

[filter:noauth2]
paste.filter_factory = masakari.api.auth:NoAuthMiddleware.factory

[app:osapi_masakari_app_v1]
paste.app_factory = masakari.api.openstack.ha:APIRouterV1.factory

[pipeline:apiversions]
pipeline = faultwrap http_proxy_to_wsgi apiversionsapp

[app:apiversionsapp]
paste.app_factory = masakari.api.openstack.ha.versions:Versions.factory

[app:healthcheck]
paste.app_factory = oslo_middleware:Healthcheck.app_factory
backends = disable_by_file
disable_by_file_path = /nonexistent
"""
_DISABLE_BY_FILE_LINE = re.compile(r'^disable_by_file_path\s*=.*$',
                                   re.MULTILINE)


class MasakariApiError(Exception):
    """masakari-api did not start, or answered a request with an error."""

    def __init__(self, message, *, status=None):
        super().__init__(message)
        self.status = status


class MasakariApi:
    """One masakari-api process tree bound to 127.0.0.1 and a SQLite file.

    ``start()`` and ``stop()`` may alternate: the database, the port and
    therefore ``url`` survive, so a test can take the API away and bring
    it back with the same data. ``pause()``/``resume()`` freeze it instead
    (the kernel still accepts connections, nothing answers).
    """

    def __init__(self, workdir: str | os.PathLike, *,
                 port: int | None = None,
                 duplicate_interval: int = DEFAULT_DUPLICATE_INTERVAL,
                 python: str = sys.executable,
                 clock: clocks.Clock | None = None,
                 start_timeout: float = 30.0, stop_timeout: float = 10.0):
        self._workdir = os.path.abspath(os.fspath(workdir))
        self._port = port or processes.free_loopback_port()
        self._duplicate_interval = int(duplicate_interval)
        self._python = python
        self._clock = clock or clocks.SystemClock()
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._process = None
        self._worker_pids = ()
        self._paused = False
        self._schema_ready = False
        self._hosts = _HostDirectory()
        self._http = JsonClient(self.url, NOAUTH_TOKEN)

    # -- where things are -------------------------------------------------

    @property
    def url(self) -> str:
        """The instance-ha endpoint; it ends in /v1 on purpose.

        Without the version the SDK posts to /notifications, gets 300
        Multiple Choices and returns an empty object without raising.
        """
        return self.root_url + _API_VERSION_PATH

    @property
    def root_url(self) -> str:
        return 'http://127.0.0.1:%d' % self._port

    @property
    def port(self) -> int:
        return self._port

    @property
    def token(self) -> str:
        return NOAUTH_TOKEN

    @property
    def duplicate_interval(self) -> int:
        return self._duplicate_interval

    @property
    def workdir(self) -> str:
        return self._workdir

    @property
    def config_path(self) -> str:
        return os.path.join(self._workdir, 'masakari.conf')

    @property
    def log_path(self) -> str:
        return os.path.join(self._workdir, 'masakari-api.log')

    @property
    def database_path(self) -> str:
        return os.path.join(self._workdir, 'masakari.db')

    @property
    def pids(self) -> tuple[int, ...]:
        """The API's parent PID first, then its workers; empty if stopped."""
        if self._process is None:
            return ()
        return (self._process.pid,) + tuple(self._worker_pids)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # -- lifecycle --------------------------------------------------------

    def start(self) -> None:
        """Configure, migrate the database once, run, wait until it answers.

        Raises MasakariApiError with the log tail if the process exits or
        does not answer before the start timeout.
        """
        if self.running:
            raise MasakariApiError('masakari-api is already running (pid %d)'
                                   % self._process.pid)
        # Reap a process tree that died on its own since the last start.
        self.stop()
        os.makedirs(self._workdir, exist_ok=True)
        self._write_config()
        if not self._schema_ready:
            self._run_manage('db', 'sync')
            self._schema_ready = True
        with open(self.log_path, 'ab') as log:
            self._process = subprocess.Popen(
                [self._console_script('masakari-api'),
                 '--config-file', self.config_path],
                stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, close_fds=True)
        try:
            self._wait_until_answering()
        except BaseException:
            self.stop()
            raise
        self._worker_pids = tuple(
            child.pid for child in
            psutil.Process(self._process.pid).children(recursive=True))

    def stop(self) -> None:
        """SIGTERM the parent, SIGKILL what is left after the stop timeout.

        Idempotent. Only the parent is asked to terminate: it stops its
        workers itself, and a worker killed first would be respawned.
        """
        if self._process is None:
            return
        deadline = self._clock.monotonic() + self._stop_timeout
        tree = _live_processes(self.pids)
        parent = self._process
        if parent.poll() is None:
            parent.send_signal(signal.SIGTERM)
        if self._paused:
            # A stopped process keeps SIGTERM pending until it continues.
            _signal_all(tree, signal.SIGCONT)
        survivors = _wait_gone(tree, deadline, self._clock)
        if survivors:
            # The parent first, so that it cannot respawn a worker.
            _signal_all(survivors, signal.SIGKILL)
            _wait_gone(survivors,
                       self._clock.monotonic() + _KILLED_EXIT_TIMEOUT,
                       self._clock)
        parent.wait()
        self._process = None
        self._worker_pids = ()
        self._paused = False

    def pause(self) -> None:
        """Freeze the API (SIGSTOP): connections hang instead of failing."""
        self._require_running()
        _signal_all(_live_processes(self.pids), signal.SIGSTOP)
        self._paused = True

    def resume(self) -> None:
        """Undo pause(); requests that waited meanwhile are then served."""
        self._require_running()
        _signal_all(_live_processes(self.pids), signal.SIGCONT)
        self._paused = False

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        return processes.file_tail(self.log_path, lines)

    # -- clients ----------------------------------------------------------

    def sdk_connection(self, **options):
        """An openstacksdk Connection bound to this API, as the monitor's.

        Extra ``options`` go to ``openstack.connect`` (e.g. api_timeout).
        """
        import openstack  # deferred: costs ~0.5 s and only some callers use it

        return openstack.connect(
            auth_type='admin_token',
            auth={'endpoint': self.url, 'token': self.token},
            load_yaml_config=False, load_envvars=False, **options)

    def masakarimonitors_conf_api_section(
            self, *, auth_type: str = 'admin_token',
            timeout: float | None = None) -> dict[str, str]:
        """The ``[api]`` options for masakari-monitors' SendNotification.

        masakari-monitors builds its client with keystoneauth's
        ``load_auth_from_conf_options(CONF, 'api')`` and a session, with
        no endpoint override. Two keystoneauth plugins answer every
        endpoint lookup (any service type, interface and region) with a
        fixed endpoint, so no Keystone and no catalog are involved:
        ``admin_token`` (endpoint + token) and ``none`` (endpoint only; it
        sends the token 'notused'). noauth2 accepts either token.

        ``timeout`` is the keystoneauth session's request timeout; without
        it a request to a paused API waits for ever.
        """
        if auth_type == 'admin_token':
            section = {'auth_type': 'admin_token', 'endpoint': self.url,
                       'token': self.token}
        elif auth_type == 'none':
            section = {'auth_type': 'none', 'endpoint': self.url}
        else:
            raise ValueError('auth_type must be admin_token or none, not %r'
                             % auth_type)
        if timeout is not None:
            section['timeout'] = str(timeout)
        return section

    # -- data -------------------------------------------------------------

    def create_segment(self, name: str, *, recovery_method: str = 'auto',
                       service_type: str = 'COMPUTE',
                       description: str | None = None) -> str:
        """POST /segments; returns the new segment's uuid."""
        segment = {'name': name, 'recovery_method': recovery_method,
                   'service_type': service_type}
        if description is not None:
            segment['description'] = description
        answer = self._http.request('POST', '/segments', {'segment': segment})
        return answer['segment']['uuid']

    def add_host(self, segment_uuid: str, name: str, *,
                 type: str = 'COMPUTE', control_attributes: str = 'SSH',
                 on_maintenance: bool = False,
                 reserved: bool = False) -> str:
        """Register a host in a segment; returns its uuid."""
        return self.add_hosts(
            segment_uuid, [name], type=type,
            control_attributes=control_attributes,
            on_maintenance=on_maintenance, reserved=reserved)[name]

    def add_hosts(self, segment_uuid: str, names: Iterable[str], *,
                  type: str = 'COMPUTE', control_attributes: str = 'SSH',
                  on_maintenance: bool = False,
                  reserved: bool = False) -> dict[str, str]:
        """Register hosts in one helper process; returns {name: uuid}.

        ``POST /segments/{id}/hosts`` needs Nova, so the hosts are written
        with masakari's objects into the same database while the API runs.
        Host names are unique per database: a taken name fails.
        """
        names = list(names)
        if not names:
            return {}
        request = {
            'segment_uuid': segment_uuid,
            'hosts': [{'name': name, 'type': type,
                       'control_attributes': control_attributes,
                       'on_maintenance': bool(on_maintenance),
                       'reserved': bool(reserved)} for name in names],
        }
        if not os.path.exists(self.config_path):
            raise MasakariApiError('start() the API before adding hosts')
        completed = subprocess.run(
            [self._python, '-m', __name__, 'add-hosts',
             '--config-file', self.config_path],
            input=json.dumps(request), capture_output=True, text=True,
            env=self._helper_environment(), check=False)
        if completed.returncode != 0:
            raise MasakariApiError(
                'registering hosts %s in segment %s failed:\n%s'
                % (names, segment_uuid, _tail(completed.stderr)))
        # The answer is the last line; masakari may print before it.
        uuids = json.loads(completed.stdout.splitlines()[-1])
        for name, uuid in uuids.items():
            self._hosts.remember(uuid, name, segment_uuid)
        return uuids

    def set_maintenance(self, hostname: str,
                        on_maintenance: bool) -> None:
        """PUT the host's on_maintenance flag over HTTP."""
        host_uuid, segment_uuid = self._find_host(hostname)
        self._http.request(
            'PUT', '/segments/%s/hosts/%s' % (segment_uuid, host_uuid),
            {'host': {'on_maintenance': bool(on_maintenance)}})

    def hosts(self, segment_uuid: str) -> list[dict]:
        """GET the hosts of a segment, as masakari returns them."""
        hosts = self._http.get_all('/segments/%s/hosts' % segment_uuid,
                                   'hosts')
        for host in hosts:
            self._hosts.remember(host['uuid'], host['name'], segment_uuid)
        return hosts

    def notifications(self, hostname: str | None = None, *,
                      segment_uuid: str | None = None) -> list[dict]:
        """Notifications read back over HTTP, oldest first.

        Each is a dict with notification_uuid, type, hostname,
        generated_time, payload, status and segment_uuid. Only the list
        call is used: GET of one notification at microversion 1.1+ waits
        for the engine over RPC, which does not run here.
        """
        stored = self._http.get_all('/notifications', 'notifications')
        found = []
        for notification in stored:
            if (segment_uuid is not None and
                    notification['failover_segment_uuid'] != segment_uuid):
                continue
            name = self._host_name(notification['source_host_uuid'],
                                   notification['failover_segment_uuid'])
            if hostname is not None and name != hostname:
                continue
            found.append({
                'notification_uuid': notification['notification_uuid'],
                'type': notification['type'],
                'hostname': name,
                'generated_time': notification['generated_time'],
                'payload': notification['payload'],
                'status': notification['status'],
                'segment_uuid': notification['failover_segment_uuid'],
            })
        return found

    # -- internals --------------------------------------------------------

    def _write_config(self):
        paste_path = os.path.join(self._workdir, 'api-paste.ini')
        healthcheck_off = os.path.join(self._workdir, 'healthcheck-disabled')
        with open(paste_path, 'w') as paste:
            paste.write(_DISABLE_BY_FILE_LINE.sub(
                'disable_by_file_path = ' + healthcheck_off,
                self._installed_api_paste() or _FALLBACK_API_PASTE))
        database_url = 'sqlite:///' + self.database_path
        sections = {
            'DEFAULT': {
                'auth_strategy': 'noauth2',
                'masakari_api_listen': '127.0.0.1',
                'masakari_api_listen_port': str(self._port),
                'masakari_api_workers': '1',
                'transport_url': 'fake:/',
                'rpc_response_timeout': '5',
                # Masakari sleeps a random 0..5 s before every accepted
                # notification unless this is 0.
                'notification_delay_max': '0',
                'duplicate_notification_detection_interval':
                    str(self._duplicate_interval),
            },
            'wsgi': {'api_paste_config': paste_path},
            'database': {'connection': database_url},
            # masakari-manage db sync exits 1 without this one.
            'taskflow': {'connection': database_url},
            'oslo_messaging_notifications': {'driver': 'noop'},
            'oslo_concurrency': {
                'lock_path': os.path.join(self._workdir, 'locks')},
        }
        with open(self.config_path, 'w') as config:
            for section, options in sections.items():
                config.write('[%s]\n' % section)
                for key, value in options.items():
                    config.write('%s = %s\n' % (key, value))
                config.write('\n')

    def _installed_api_paste(self):
        path = os.path.join(self._python_prefix(), 'etc', 'masakari',
                            'api-paste.ini')
        try:
            with open(path) as paste:
                return paste.read()
        except FileNotFoundError:
            return None

    def _python_prefix(self):
        if self._python == sys.executable:
            return sys.prefix
        return subprocess.run(
            [self._python, '-c', 'import sys; print(sys.prefix)'],
            capture_output=True, text=True, check=True).stdout.strip()

    def _console_script(self, name):
        path = os.path.join(os.path.dirname(self._python), name)
        if not os.access(path, os.X_OK):
            raise MasakariApiError(
                '%s not found next to %s: is masakari installed for that '
                'interpreter?' % (name, self._python))
        return path

    def _run_manage(self, *command):
        completed = subprocess.run(
            [self._console_script('masakari-manage'),
             '--config-file', self.config_path] + list(command),
            capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            raise MasakariApiError('masakari-manage %s failed:\n%s' % (
                ' '.join(command), _tail(completed.stdout + completed.stderr)))

    def _helper_environment(self):
        if self._python == sys.executable:
            return None
        # Another interpreter may lack this package: let it find the
        # checkout or installation this module was loaded from.
        package_root = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))
        environment = dict(os.environ)
        environment['PYTHONPATH'] = os.pathsep.join(
            [package_root] + [p for p in
                              [environment.get('PYTHONPATH')] if p])
        return environment

    def _wait_until_answering(self):
        probe = self.url + '/segments?limit=1'
        processes.wait_until_answering(
            self._process, lambda: _answers(probe, self.token),
            clock=self._clock, timeout=self._start_timeout,
            what='masakari-api',
            log_tail=self.log_tail, error=MasakariApiError, pace=0.05)

    def _require_running(self):
        if not self.running:
            raise MasakariApiError('masakari-api is not running')

    def _find_host(self, hostname):
        known = self._hosts.by_name(hostname)
        if known is None:
            for segment in self._http.get_all('/segments', 'segments'):
                self.hosts(segment['uuid'])
            known = self._hosts.by_name(hostname)
        if known is None:
            raise MasakariApiError('no host named %r in masakari'
                                   % hostname)
        return known

    def _host_name(self, host_uuid, segment_uuid):
        name = self._hosts.by_uuid(host_uuid)
        if name is None:
            self.hosts(segment_uuid)
            name = self._hosts.by_uuid(host_uuid)
        return name


class JsonClient:
    """JSON over HTTP to one masakari-api, with the standard library only.

    Also used on its own for a masakari-api this harness does not own
    (the kind end-to-end backend's, in the cluster).
    """

    def __init__(self, base_url, token='admin:admin', *, timeout=10.0):
        self._base_url = base_url.rstrip('/')
        self._token = token
        self._timeout = timeout

    def answers(self):
        """True once the API serves its segment list."""
        try:
            self.request('GET', '/segments?limit=1')
        except (MasakariApiError, OSError, ValueError):
            return False
        return True

    def request(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode('utf-8')
        request = urllib.request.Request(
            self._base_url + path, data=data, method=method,
            headers={'X-Auth-Token': self._token,
                     'Content-Type': 'application/json',
                     'Accept': 'application/json'})
        try:
            with urllib.request.urlopen(request,
                                        timeout=self._timeout) as answer:
                return json.loads(answer.read() or b'null')
        except urllib.error.HTTPError as error:
            raise MasakariApiError(
                '%s %s: %s %s' % (method, path, error.code,
                                  error.read().decode('utf-8', 'replace')),
                status=error.code) from None

    def get_all(self, path, key):
        """Every item of a list call, oldest first, page by page."""
        items = []
        marker = None
        while True:
            query = {'limit': _PAGE_SIZE, 'sort_key': 'id',
                     'sort_dir': 'asc'}
            if marker is not None:
                # masakari's markers are the integer ids of its rows.
                query['marker'] = marker
            page = self.request(
                'GET', path + '?' + urllib.parse.urlencode(query))[key]
            items.extend(page)
            if len(page) < _PAGE_SIZE:
                return items
            marker = page[-1]['id']


class _HostDirectory:
    """Host uuid <-> (name, segment) facts learnt from masakari.

    Both never change once a host exists, and names are unique per
    database, so what was learnt once stays true.
    """

    def __init__(self):
        self._name_by_uuid = {}
        self._uuid_and_segment_by_name = {}

    def remember(self, uuid, name, segment_uuid):
        self._name_by_uuid[uuid] = name
        self._uuid_and_segment_by_name[name] = (uuid, segment_uuid)

    def by_uuid(self, uuid):
        return self._name_by_uuid.get(uuid)

    def by_name(self, name):
        return self._uuid_and_segment_by_name.get(name)


def _answers(url, token):
    request = urllib.request.Request(url, headers={'X-Auth-Token': token})
    try:
        with urllib.request.urlopen(request, timeout=1) as answer:
            return answer.status == 200
    except (OSError, http.client.HTTPException):
        return False


def _live_processes(pids):
    processes = []
    for pid in pids:
        try:
            processes.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            pass
    return processes


def _wait_gone(processes, deadline, clock):
    """Wait until none is running; returns those still alive at deadline.

    A zombie counts as gone: if the parent was killed, its orphaned worker
    is reaped by PID 1, which in a container may never do it.
    """
    alive = list(processes)
    while True:
        alive = [process for process in alive if _is_alive(process)]
        if not alive or clock.monotonic() >= deadline:
            return alive
        # Paces the polling; returns early when one of them ends.
        psutil.wait_procs(alive, timeout=0.05)


def _is_alive(process):
    try:
        return (process.is_running() and
                process.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def _signal_all(processes, signum):
    for process in processes:
        try:
            process.send_signal(signum)
        except psutil.NoSuchProcess:
            pass


def _tail(text, lines=_LOG_TAIL_LINES):
    return '\n'.join(text.splitlines()[-lines:])


def _add_hosts(config_file, request):
    """Runs in the helper process only: masakari is imported here."""
    from masakari import config
    from masakari import context
    from masakari import objects

    objects.register_all()
    config.parse_args(['masakari-k8s-test-hosts',
                       '--config-file', config_file])
    admin = context.get_admin_context()
    segment = objects.FailoverSegment.get_by_uuid(
        admin, request['segment_uuid'])
    uuids = {}
    for attributes in request['hosts']:
        host = objects.Host(context=admin, failover_segment=segment,
                            **attributes)
        host.create()
        uuids[host.name] = host.uuid
    return uuids


def _main(argv):
    parser = argparse.ArgumentParser(
        description='Register hosts (JSON on stdin) in the masakari '
                    'database of a MasakariApi work directory.')
    parser.add_argument('command', choices=['add-hosts'])
    parser.add_argument('--config-file', required=True)
    arguments = parser.parse_args(argv)
    request = json.load(sys.stdin)
    print(json.dumps(_add_hosts(arguments.config_file, request)))
    return 0


if __name__ == '__main__':
    sys.exit(_main(sys.argv[1:]))
