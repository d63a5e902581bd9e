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

"""``masakari-k8s-demo``: the whole monitor, end to end, on one machine.

It starts the project's Kubernetes API test server with a small cluster of
realistic nodes, a REAL masakari-api (SQLite, noauth2) with those nodes
registered as hosts, and the stock ``masakari-hostmonitor`` process with
``[host] monitoring_driver = k8s``. Then a node is powered off; once the
node lifecycle controller marks it ``Ready=Unknown`` the monitor reports
STOPPED/UNKNOWN (no fencing evidence yet, so Masakari must not evacuate);
the ``out-of-service`` taint is applied and the monitor reports
STOPPED/NORMAL; the node comes back and the monitor reports STARTED. The
timeline is printed with the latency of each step, and the exit code says
whether Masakari received exactly what it should have.

Cluster time is simulated (the test server's clock jumps over the 50 s
grace period), the monitor and masakari-api run in real time.
"""

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time

from masakarimonitors_k8s import clock as clocks
from masakarimonitors_k8s.testing import cluster as test_cluster
from masakarimonitors_k8s.testing import harness
from masakarimonitors_k8s.testing.kube_apiserver import server as test_server
from masakarimonitors_k8s.testing import masakari_api as test_masakari

DEMO_TOKEN = 'demo-monitor-token'
# [k8s] storm_settle_window's default: a first STOPPED waits this long so
# that the storm guard sees a burst of failures as a whole.
SETTLE_WINDOW = 15.0
FAILED_NODE = 'compute-0003'


def write_monitor_conf(path, *, kubeconfig, api_section, recovery_window):
    lines = [
        '[DEFAULT]',
        'debug = false',
        'log_file = %s' % os.path.join(os.path.dirname(path),
                                       'hostmonitor.log'),
        '[host]',
        'monitoring_driver = k8s',
        '[k8s]',
        'kubeconfig = %s' % kubeconfig,
        'recovery_window = %s' % recovery_window,
        'fencing = taint',
        '[api]',
    ]
    lines += ['%s = %s' % item for item in api_section.items()]
    with open(path, 'w') as stream:
        stream.write('\n'.join(lines) + '\n')


def hostmonitor_command(conf_path):
    binary = os.path.join(os.path.dirname(sys.executable),
                          'masakari-hostmonitor')
    return [binary, '--config-file', conf_path]


class Timeline:
    def __init__(self):
        self.start = time.monotonic()
        self.rows = []

    def mark(self, what):
        now = time.monotonic()
        self.rows.append((now - self.start, what))
        print('  +%7.3f s  %s' % (now - self.start, what), flush=True)
        return now


def has_notification(masakari, hostname, event, host_status):
    def check():
        for item in masakari.notifications(hostname):
            payload = item['payload']
            if (payload.get('event') == event
                    and payload.get('host_status') == host_status):
                return item
        return None
    return check


def monitor_watching(server):
    return lambda: server.open_watch_count() >= 1


def run(workdir, *, nodes, recovery_window, keep_going=False):
    timeline = Timeline()
    cluster_clock = clocks.ManualClock(wall=time.time())
    with contextlib.ExitStack() as stack:
        print('Starting a real masakari-api (SQLite, noauth2)...', flush=True)
        masakari = test_masakari.MasakariApi(os.path.join(workdir, 'masakari'))
        masakari.start()
        stack.callback(masakari.stop)
        segment = masakari.create_segment('demo-segment')

        print('Starting the Kubernetes API test server with %d nodes...'
              % nodes, flush=True)
        server = test_server.KubeApiServer(clock=cluster_clock, auth=True)
        server.add_token(DEMO_TOKEN, user='system:serviceaccount:openstack:'
                         'masakari-hostmonitor', rules=[
                             {'apiGroups': [''], 'resources': ['nodes'],
                              'verbs': ['get', 'list', 'watch']},
                             {'apiGroups': [''], 'resources': ['events'],
                              'verbs': ['create', 'patch']}])
        server.start()
        stack.callback(server.stop)
        cluster = test_cluster.ClusterModel(server.store, cluster_clock)
        names = cluster.add_nodes(nodes)
        cluster.advance(20)
        masakari.add_hosts(segment, names)
        kubeconfig = os.path.join(workdir, 'kubeconfig')
        server.write_kubeconfig(kubeconfig, token=DEMO_TOKEN)

        conf_path = os.path.join(workdir, 'masakarimonitors.conf')
        write_monitor_conf(conf_path, kubeconfig=kubeconfig,
                           api_section=masakari.
                           masakarimonitors_conf_api_section(),
                           recovery_window=recovery_window)
        log_path = os.path.join(workdir, 'hostmonitor.log')
        print('Starting masakari-hostmonitor with [host] monitoring_driver '
              '= k8s (log: %s)...' % log_path, flush=True)
        monitor = subprocess.Popen(hostmonitor_command(conf_path),
                                   stdout=subprocess.DEVNULL,
                                   stderr=subprocess.STDOUT)
        stack.callback(_terminate, monitor)
        harness.wait_until(monitor_watching(server), timeout=60,
                           what='the monitor to watch nodes')
        timeline.mark('monitor is watching %d nodes' % nodes)

        print('\nTimeline (real time since start of the scenario):',
              flush=True)
        timeline = Timeline()
        cluster.power_off(FAILED_NODE)
        timeline.mark('%s powered off (kubelet silent)' % FAILED_NODE)
        cluster.advance(65)
        t_unknown = timeline.mark(
            'node lifecycle controller: %s Ready=Unknown (after the 50 s '
            'grace period of cluster time)' % FAILED_NODE)
        first = harness.wait_until(
            has_notification(masakari, FAILED_NODE, 'STOPPED', 'UNKNOWN'),
            timeout=30 + SETTLE_WINDOW, what='STOPPED/UNKNOWN')
        t_first = timeline.mark(
            'masakari-api stored STOPPED host_status=UNKNOWN (%s) after the '
            'storm guard\'s %.0f s settle window: recorded, not acted upon'
            % (first['notification_uuid'], SETTLE_WINDOW))

        cluster.add_out_of_service_taint(FAILED_NODE)
        t_taint = timeline.mark('out-of-service taint applied (fenced)')
        second = harness.wait_until(
            has_notification(masakari, FAILED_NODE, 'STOPPED', 'NORMAL'),
            timeout=30, what='STOPPED/NORMAL')
        t_second = timeline.mark(
            'masakari-api stored STOPPED host_status=NORMAL (%s): '
            'evacuation may start' % second['notification_uuid'])

        cluster.remove_out_of_service_taint(FAILED_NODE)
        cluster.power_on(FAILED_NODE)
        cluster.advance(10)
        t_back = timeline.mark('%s powered on, Ready=True' % FAILED_NODE)
        third = harness.wait_until(
            has_notification(masakari, FAILED_NODE, 'STARTED', 'NORMAL'),
            timeout=30 + recovery_window, what='STARTED')
        t_third = timeline.mark(
            'masakari-api stored STARTED (%s) after the %.0f s recovery '
            'window' % (third['notification_uuid'], recovery_window))

        everything = masakari.notifications()
        print('\nDetection latency (signal -> masakari-api 202, as seen by '
              'polling every 20 ms):')
        print('  Ready=Unknown -> STOPPED/UNKNOWN: %6.0f ms (includes the '
              '%.0f s settle window)'
              % ((t_first - t_unknown) * 1000, SETTLE_WINDOW))
        print('  out-of-service taint -> STOPPED/NORMAL: %6.0f ms'
              % ((t_taint and (t_second - t_taint)) * 1000))
        print('  Ready=True -> STARTED: %6.0f ms (includes the recovery '
              'window)' % ((t_third - t_back) * 1000))
        print('\nNotifications stored by masakari-api:')
        for item in everything:
            print('  %-14s %-8s host_status=%-8s generated %s'
                  % (item['hostname'], item['payload'].get('event'),
                     item['payload'].get('host_status'),
                     item['generated_time']))
        expected = [(FAILED_NODE, 'STOPPED', 'UNKNOWN'),
                    (FAILED_NODE, 'STOPPED', 'NORMAL'),
                    (FAILED_NODE, 'STARTED', 'NORMAL')]
        got = [(item['hostname'], item['payload'].get('event'),
                item['payload'].get('host_status')) for item in everything]
        code = _terminate(monitor)
        if got != expected:
            print('\nFAIL: expected exactly %s, got %s' % (expected, got))
            return 1
        if code not in (0, -signal.SIGTERM):
            print('\nFAIL: masakari-hostmonitor exited with %s on SIGTERM'
                  % code)
            return 1
        print('\nOK: exactly the three expected notifications; no other '
              'host was reported; the monitor stopped cleanly on SIGTERM.')
        return 0


def _terminate(process, timeout=15.0):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return 'killed after %.0f s' % timeout
    return process.returncode


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='masakari-k8s-demo', description=__doc__.split('\n\n')[0])
    parser.add_argument('--nodes', type=int, default=10)
    parser.add_argument('--recovery-window', type=float, default=2.0)
    parser.add_argument('--workdir', help='keep files here (default: a '
                        'temporary directory, removed afterwards)')
    args = parser.parse_args(argv)
    if args.workdir:
        os.makedirs(args.workdir, exist_ok=True)
        return run(args.workdir, nodes=args.nodes,
                   recovery_window=args.recovery_window)
    with tempfile.TemporaryDirectory(prefix='masakari-k8s-demo-') as tmp:
        return run(tmp, nodes=args.nodes,
                   recovery_window=args.recovery_window)


if __name__ == '__main__':
    sys.exit(main())
