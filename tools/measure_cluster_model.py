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

"""Measure what the cluster model sustains in real time.

Run from the repository root::

    python tools/measure_cluster_model.py --nodes 5000 --seconds 30

Benchmarks of the monitor drive thousands of simulated kubelets from the
model's real-time thread; this script checks that the thread keeps up (the
lease renewal rate matches nodes / interval, the worst lateness stays
small) and how much CPU it takes, so a slow monitor is not blamed on a
slow test bed. A shorter ``--lease-renew-interval`` asks for more renewals
per second, to find the ceiling.
"""

import argparse
import json
import sys
import threading
import time

from masakarimonitors_k8s import clock as clock_module
from masakarimonitors_k8s.testing import cluster
from masakarimonitors_k8s.testing.kube_apiserver import store as store_module


def measure(*, node_count, seconds, lease_renew_interval, warmup):
    system_clock = clock_module.SystemClock()
    store = store_module.ObjectStore(clock=system_clock)
    model = cluster.ClusterModel(store, system_clock,
                                 lease_renew_interval=lease_renew_interval)
    started = time.monotonic()
    names = model.add_nodes(node_count)
    add_seconds = time.monotonic() - started
    served = store.get_entry('nodes', names[0]).full()

    model.start_realtime()
    try:
        threading.Event().wait(warmup)
        before = model.stats(reset_max_lag=True)
        cpu_before = time.process_time()
        wall_before = time.monotonic()
        threading.Event().wait(seconds)
        after = model.stats()
        cpu = time.process_time() - cpu_before
        elapsed = time.monotonic() - wall_before
    finally:
        model.close()
    renewals = after['lease-renewals'] - before['lease-renewals']
    return {
        'nodes': node_count,
        'node_json_bytes': len(served),
        'add_nodes_seconds': round(add_seconds, 2),
        'lease_renew_interval': lease_renew_interval,
        'renewals_per_second_wanted': round(
            node_count / lease_renew_interval, 1),
        'renewals_per_second': round(renewals / elapsed, 1),
        'status_reports_per_second': round(
            (after['status-reports'] - before['status-reports']) / elapsed,
            1),
        'controller_ticks': after['controller-ticks']
        - before['controller-ticks'],
        'max_lag_seconds': round(after['max-lag'], 3),
        'cpu_share_of_one_core': round(cpu / elapsed, 3),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--nodes', type=int, default=5000)
    parser.add_argument('--seconds', type=float, default=30.0)
    parser.add_argument('--warmup', type=float, default=5.0)
    parser.add_argument('--lease-renew-interval', type=float, default=10.0)
    args = parser.parse_args(argv)
    result = measure(node_count=args.nodes, seconds=args.seconds,
                     lease_renew_interval=args.lease_renew_interval,
                     warmup=args.warmup)
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
