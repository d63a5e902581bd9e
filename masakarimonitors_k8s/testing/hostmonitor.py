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

"""The stock ``masakari-hostmonitor`` process, run as an operator runs it.

Used by the functional tests that must hold for the process an operator
runs (start-up without Masakari, a silent API, SIGTERM in every state):
:class:`StockHostmonitor` writes a configuration file for a
:class:`harness.ClusterUnderTest`, starts the process and reads its state
from its own ``/metrics`` endpoint. A Keystone that answers nothing until
told to is :class:`masakarimonitors_k8s.testing.keystone.FakeKeystone`
with ``held=True``.
"""

import os
import signal
import subprocess
import sys
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
