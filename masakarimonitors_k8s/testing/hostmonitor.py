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

"""The stock ``masakari-hostmonitor`` process, and a Keystone to vex it.

Used by the functional tests that must hold for the process an operator
runs (start-up without Masakari, a silent API, SIGTERM in every state):
:class:`StockHostmonitor` writes a configuration file for a
:class:`harness.ClusterUnderTest`, starts the process and reads its state
from its own ``/metrics`` endpoint. :class:`SlowKeystone` accepts
connections and answers nothing until told to, then serves just enough
of Keystone v3 (discovery and a token whose catalog names masakari-api)
for keystoneauth's ``password`` plugin.
"""

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

from prometheus_client import parser

from masakarimonitors_k8s.testing import harness
from masakarimonitors_k8s.testing import processes

HOSTMONITOR = os.path.join(os.path.dirname(sys.executable),
                           'masakari-hostmonitor')

# [k8s] options that make a test quick: no windows, short retries.
FAST_K8S = {
    'recovery_window': '0',
    'storm_settle_window': '0',
    'fencing': 'taint',
    'backoff_initial': '0.1',
    'backoff_max': '1.0',
    'notify_retry_initial': '0.2',
    'notify_retry_max': '1.0',
    'connect_timeout': '2',
}


class StockHostmonitor:
    """``masakari-hostmonitor --config-file ...`` watching ``cluster``.

    :param api_section: the ``[api]`` options (how to reach Masakari).
    :param k8s: ``[k8s]`` options over :data:`FAST_K8S`.
    """

    def __init__(self, workdir, cluster, api_section, **k8s):
        self.workdir = os.fspath(workdir)
        self.status_port = processes.free_loopback_port()
        kubeconfig = os.path.join(self.workdir, 'kubeconfig')
        cluster.server.write_kubeconfig(kubeconfig, token=harness.TOKEN)
        self.log_path = os.path.join(self.workdir, 'hostmonitor.log')
        options = dict(FAST_K8S, kubeconfig=kubeconfig,
                       status_port=str(self.status_port))
        options.update({key: str(value) for key, value in k8s.items()})
        lines = ['[DEFAULT]', 'log_file = %s' % self.log_path,
                 '[host]', 'monitoring_driver = k8s', '[k8s]']
        lines += ['%s = %s' % item for item in sorted(options.items())]
        lines += ['[api]'] + ['%s = %s' % item
                              for item in sorted(api_section.items())]
        self.conf_path = os.path.join(self.workdir, 'masakarimonitors.conf')
        with open(self.conf_path, 'w') as stream:
            stream.write('\n'.join(lines) + '\n')
        self.process = subprocess.Popen(
            [HOSTMONITOR, '--config-file', self.conf_path],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT)

    @property
    def alive(self):
        return self.process.poll() is None

    def metrics(self):
        """{(name, frozenset(labels)): value}, or {} if not answering."""
        url = 'http://127.0.0.1:%d/metrics' % self.status_port
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                text = answer.read().decode('utf-8')
        except OSError:
            return {}
        found = {}
        for family in parser.text_string_to_metric_families(text):
            for sample in family.samples:
                found[(sample.name, frozenset(sample.labels.items()))] = (
                    sample.value)
        return found

    def metric(self, name, **labels):
        """One sample (``masakari_k8s_`` is prepended), or None."""
        return self.metrics().get(('masakari_k8s_' + name,
                                   frozenset(labels.items())))

    def log(self):
        return processes.file_tail(self.log_path, 400)

    def terminate(self, timeout=60.0):
        """SIGTERM; returns (seconds until it exited, exit code)."""
        started = time.monotonic()
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            code = 'killed'
        return time.monotonic() - started, code

    def kill(self):
        if self.alive:
            self.process.kill()
            self.process.wait()


class SlowKeystone:
    """A Keystone v3 that answers nothing until :meth:`answer` is called.

    Requests that arrive before are held (the connection stays open and
    silent), as behind a load balancer whose Keystone pods are starting.
    ``catalog_url`` is the instance-ha endpoint its tokens name;
    ``token`` the token they carry (masakari-api's noauth2 takes any
    ``user:project``).
    """

    def __init__(self, catalog_url, token):
        self.catalog_url = catalog_url
        self.token = token
        self.answering = threading.Event()
        self.requests = 0
        keystone = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                keystone._hold(self)
                base = 'http://127.0.0.1:%d' % keystone.port
                self._json(200, {'version': {
                    'id': 'v3.14', 'status': 'stable',
                    'updated': '2020-04-07T00:00:00Z',
                    'links': [{'rel': 'self', 'href': base + '/v3/'}],
                    'media-types': [{
                        'base': 'application/json',
                        'type': 'application/vnd.openstack.identity-v3'
                                '+json'}]}})

            def do_POST(self):
                length = int(self.headers.get('Content-Length') or 0)
                self.rfile.read(length)
                keystone._hold(self)
                self._json(201, keystone._token_body(),
                           {'X-Subject-Token': keystone.token})

            def _json(self, status, body, headers=None):
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header('Content-Type', 'application/json')
                    self.send_header('Content-Length', str(len(data)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass   # the client gave up while held

        self._server = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                       Handler)
        self._server.daemon_threads = True
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        daemon=True, name='slow-keystone')
        self._thread.start()

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def auth_url(self):
        return 'http://127.0.0.1:%d/v3' % self.port

    def api_section(self, *, timeout=2):
        """``[api]`` options for masakari-monitors' password plugin."""
        return {'auth_type': 'password', 'auth_url': self.auth_url,
                'username': 'masakari', 'password': 'secret',
                'project_name': 'service', 'user_domain_id': 'default',
                'project_domain_id': 'default', 'region': 'RegionOne',
                'timeout': str(timeout)}

    def answer(self):
        self.answering.set()

    def stop(self):
        self._stopping.set()
        self.answering.set()
        self._server.shutdown()
        self._server.server_close()

    def _hold(self, handler):
        self.requests += 1
        while not self.answering.wait(0.1):
            if self._stopping.is_set():
                break

    def _token_body(self):
        project = {'id': 'service', 'name': 'service',
                   'domain': {'id': 'default', 'name': 'Default'}}
        return {'token': {
            'methods': ['password'],
            'expires_at': '2099-01-01T00:00:00.000000Z',
            'issued_at': '2026-01-01T00:00:00.000000Z',
            'user': {'id': 'masakari', 'name': 'masakari',
                     'domain': {'id': 'default', 'name': 'Default'}},
            'project': project,
            'roles': [{'id': 'admin', 'name': 'admin'}],
            'catalog': [{
                'type': 'instance-ha', 'name': 'masakari', 'id': 'ha',
                'endpoints': [{
                    'id': 'ha-public', 'interface': 'public',
                    'region': 'RegionOne', 'region_id': 'RegionOne',
                    'url': self.catalog_url}]}]}}
