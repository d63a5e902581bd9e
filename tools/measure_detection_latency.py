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

"""Detection latency of the k8s driver: signal -> masakari-api 202.

Runs the monitor in this process against the Kubernetes API test server
(cluster time simulated) and a real masakari-api, fails nodes one after
another and measures, on the real clock, from the moment a signal is
written to the API server's store until openstacksdk returns the 202 for
the notification it calls for:

- Ready=Unknown written by the node lifecycle controller -> STOPPED/UNKNOWN
- out-of-service taint written -> STOPPED/NORMAL

Usage: python tools/measure_detection_latency.py [--failures 50]
"""

import argparse
import statistics
import sys
import tempfile
import threading
import time

from masakarimonitors_k8s.testing import harness

from masakarimonitors_k8s.testing import masakari_api


class TimedSender:
    """Wraps the real sender; records when each 202 came back."""

    def __init__(self, sender):
        self._sender = sender
        self.accepted = {}
        self.changed = threading.Condition()

    def send(self, notification):
        result = self._sender.send(notification)
        if result.outcome.value == 'accepted':
            with self.changed:
                key = (notification.hostname, notification.host_status)
                self.accepted[key] = time.monotonic()
                self.changed.notify_all()
        return result

    def wait(self, key, timeout=30.0):
        with self.changed:
            if not self.changed.wait_for(lambda: key in self.accepted,
                                         timeout):
                raise TimeoutError('no 202 for %s' % (key,))
            return self.accepted[key]


def percentile(values, fraction):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--failures', type=int, default=50)
    parser.add_argument('--nodes', type=int, default=100)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as workdir, \
            masakari_api.MasakariApi(workdir) as api:
        segment = api.create_segment('latency')
        cluster = harness.ClusterUnderTest()
        names = cluster.model.add_nodes(args.nodes)
        cluster.model.advance(15)
        api.add_hosts(segment, names)
        signal_written = {}

        def on_change(kind, resource, obj):
            if resource != 'nodes':
                return
            name = obj['metadata']['name']
            conditions = (obj.get('status') or {}).get('conditions') or []
            ready = next((c['status'] for c in conditions
                          if c.get('type') == 'Ready'), None)
            taints = {t.get('key') for t in
                      (obj.get('spec') or {}).get('taints') or []}
            now = time.monotonic()
            if ready == 'Unknown':
                signal_written.setdefault((name, 'UNKNOWN'), now)
            if 'node.kubernetes.io/out-of-service' in taints:
                signal_written.setdefault((name, 'NORMAL'), now)

        cluster.store.subscribe(on_change)

        class Segment:
            def sdk_connection(self):
                return api.sdk_connection()

        senders = []

        def timed(sender):
            senders.append(TimedSender(sender))
            return senders[0]

        monitor = harness.MonitorUnderTest(
            cluster, Segment(), harness.fast_settings(), wrap_sender=timed)
        sender = senders[0]
        harness.wait_until(monitor.synced, what='the initial list')

        latencies = {'UNKNOWN': [], 'NORMAL': []}
        try:
            for name in names[:args.failures]:
                cluster.fail_and_detect(name)
                got = sender.wait((name, 'UNKNOWN'))
                latencies['UNKNOWN'].append(
                    got - signal_written[(name, 'UNKNOWN')])
                cluster.model.add_out_of_service_taint(name)
                got = sender.wait((name, 'NORMAL'))
                latencies['NORMAL'].append(
                    got - signal_written[(name, 'NORMAL')])
                # Bring it back, so that failures stay one at a time and
                # the storm guard (49 % of the zone) never engages.
                cluster.model.remove_out_of_service_taint(name)
                cluster.model.power_on(name)
                cluster.model.advance(10)
                monitor.settled()
        finally:
            monitor.stop()
            cluster.stop()

    print('%d failures among %d nodes, real masakari-api on loopback'
          % (args.failures, args.nodes))
    for status, label in (('UNKNOWN', 'Ready=Unknown -> STOPPED/UNKNOWN'),
                          ('NORMAL', 'out-of-service taint -> '
                                     'STOPPED/NORMAL')):
        values = [v * 1000 for v in latencies[status]]
        print('%-42s p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms  mean %6.1f'
              % (label, percentile(values, 0.5), percentile(values, 0.99),
                 max(values), statistics.mean(values)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
