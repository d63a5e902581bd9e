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

"""Ours in the production configuration: its options, RBAC, BMCs.

Part of the benchmark (:mod:`masakarimonitors_k8s.bench`), used by
:mod:`.runner` for ``--profile production``. The driver is configured with
the ``[k8s]`` options of values/production-ha.yaml that bear on cost and
latency (everything but ``node_selector``: every bench node is a compute
host), gets the chart's RBAC for them, and fences through its own
sushy-tools Redfish emulator (fake driver) holding one system per node:
its own, because a second production driver finding a system already Off
would skip the power-off and be measured without it.

Why the production profile is a run of its own (upstream and ours-
production, and variants of ours-production, on their own cluster): in
the default run an operator taints every failed host out-of-service, which
is fencing evidence to ours; the production configuration fences by
itself, so the operator's taint must not come. Each production driver
taints with its own key (the first one with the standard key), so that
none takes another's taint for its own evidence; the same for the leader
election Lease.

What the harness observes here, rather than trusting the driver's word:
the Lease's last renewal (object store), each taint as it is written
(object store subscription), the emulator's access log (every Reset it
answered, whole seconds). The driver's log gives the sub-second moments
of its power-off request and of the verified Off.
"""

import datetime
import os
import threading

import psutil
import yaml

from masakarimonitors_k8s.bench import latency
from masakarimonitors_k8s import clock as clocks
from masakarimonitors_k8s.testing.kube_apiserver import errors
from masakarimonitors_k8s.testing import redfish_bmc

NAMESPACE = 'openstack'
LEASE_NAMESPACE = 'kube-node-lease'
LEADER_LEASE = 'masakari-hostmonitor'
STANDARD_TAINT = 'node.kubernetes.io/out-of-service'
# [k8s] options of values/production-ha.yaml (node_selector aside).
OPTIONS = (
    ('fencing', 'redfish'),
    ('fence_action', 'redfish-power-off'),
    ('watch_leases', 'true'),
    ('leader_election', 'true'),
    ('leader_election_lease_duration', '15'),
    ('leader_election_renew_deadline', '10'),
    ('leader_election_retry_period', '2'),
    ('recovery_window', '60'),
    ('max_unhealthy', '33%'),
    ('storm_settle_window', '15'),
    ('fence_recheck_interval', '15'),
)
DEFAULT_LEASE_STALE_AFTER = 40.0
BMC_USERNAME = 'bench-bmc'
BMC_PASSWORD = 'bench-bmc-password'
# The first Systems request makes the fake driver load every system into
# its sqlite state: about 5 s for 5,000.
_BMC_START_TIMEOUT = 180.0


def rules(lease_name):
    """The chart's RBAC for this configuration, as the test server takes.

    clusterrole.yaml (nodes, with patch for the fence action's taint;
    events), role-node-lease.yaml (the kubelets' Leases) and
    role-leader-election.yaml (create, and get/update of its own Lease).
    """
    return [
        {'apiGroups': [''], 'resources': ['nodes'],
         'verbs': ['get', 'list', 'watch', 'patch']},
        {'apiGroups': ['', 'events.k8s.io'], 'resources': ['events'],
         'verbs': ['create', 'patch']},
        {'apiGroups': ['coordination.k8s.io'], 'resources': ['leases'],
         'verbs': ['get', 'list', 'watch'], 'namespaces': [LEASE_NAMESPACE]},
        {'apiGroups': ['coordination.k8s.io'], 'resources': ['leases'],
         'verbs': ['create'], 'namespaces': [NAMESPACE]},
        {'apiGroups': ['coordination.k8s.io'], 'resources': ['leases'],
         'resourceNames': [lease_name], 'verbs': ['get', 'update'],
         'namespaces': [NAMESPACE]},
    ]


def identity(index):
    """(leader election Lease name, taint key) of production driver N."""
    if index == 0:
        return LEADER_LEASE, STANDARD_TAINT
    return ('%s-%d' % (LEADER_LEASE, index),
            'bench.masakari.openstack.org/out-of-service-%d' % index)


def lease_stale_after(options):
    return float(dict(options).get('lease_stale_after',
                                   DEFAULT_LEASE_STALE_AFTER))


class Bmcs:
    """One driver's Redfish emulator, BMC map and credentials files."""

    def __init__(self, directory, names, *, power_delay, clock=None):
        self.directory = directory
        self._clock = clock or clocks.SystemClock()
        self.emulator = redfish_bmc.RedfishBmc(
            os.path.join(directory, 'bmc'), systems=names,
            username=BMC_USERNAME, password=BMC_PASSWORD, tls=True,
            power_delay=power_delay, start_timeout=_BMC_START_TIMEOUT,
            clock=self._clock)
        self._names = list(names)
        self.map_file = os.path.join(directory, 'redfish-bmc-map.yaml')
        self.credentials_file = os.path.join(directory,
                                             'redfish-credentials.yaml')

    def start(self):
        """Start the emulator, load its systems, write the two files."""
        self.emulator.start()
        # The chart mounts the map from a ConfigMap and the credentials
        # from a Secret, each a YAML file.
        with open(self.map_file, 'w') as stream:
            yaml.safe_dump({name: self.emulator.system_url(name)
                            for name in self._names}, stream)
        with open(self.credentials_file, 'w') as stream:
            yaml.safe_dump({'username': BMC_USERNAME,
                            'password': BMC_PASSWORD}, stream)
        os.chmod(self.credentials_file, 0o600)
        self._load_systems()
        return self

    def _load_systems(self):
        clock = self._clock
        deadline = clock.monotonic() + _BMC_START_TIMEOUT
        while True:
            try:
                self.emulator.power_state(self._names[0])
                return
            except (redfish_bmc.RedfishBmcError, OSError):
                # The first request times out while the systems load.
                if clock.monotonic() > deadline or not self.emulator.running:
                    raise

    def stop(self):
        self.emulator.stop()

    def options(self):
        return {'redfish_bmc_map_file': self.map_file,
                'redfish_credentials_file': self.credentials_file,
                'redfish_ca_file': self.emulator.ca_file}

    def resets(self):
        """[(wall, node, status)] of each Reset in the emulator's log."""
        by_system = {self.emulator.system_uuid(name): name
                     for name in self._names}
        with open(self.emulator.log_path, errors='replace') as stream:
            found = latency.emulator_resets(stream, _werkzeug_time)
        return [(wall, by_system.get(system, system), status)
                for wall, system, status in found]

    def cpu_seconds(self):
        """The emulator's CPU seconds so far (its own, not the driver's)."""
        try:
            times = psutil.Process(self.emulator.pid).cpu_times()
        except (psutil.Error, TypeError):
            return None
        return times.user + times.system


class TaintObserver:
    """Wall time at which each taint key first appears on a failed Node.

    Subscribed to the object store, so the moment is the write itself,
    whoever wrote it. Runs under the store's lock: only failed nodes are
    looked at.
    """

    def __init__(self, store, clock, nodes, keys):
        self._store = store
        self._clock = clock
        self._nodes = frozenset(nodes)
        self._keys = frozenset(keys)
        self._lock = threading.Lock()
        self.first = {}     # (node, key) -> wall

    def start(self):
        self._store.subscribe(self._changed)
        return self

    def stop(self):
        self._store.unsubscribe(self._changed)

    def _changed(self, change_type, resource, obj):
        if resource != 'nodes':
            return
        name = (obj.get('metadata') or {}).get('name')
        if name not in self._nodes:
            return
        for taint in (obj.get('spec') or {}).get('taints') or ():
            key = taint.get('key')
            if key in self._keys:
                with self._lock:
                    self.first.setdefault((name, key), self._clock.wall())


def last_lease_renewals(store, nodes, parse_time):
    """{node: wall of its Lease's renewTime} (its last renewal)."""
    found = {}
    for name in nodes:
        try:
            lease = store.get('leases', name, namespace=LEASE_NAMESPACE)
        except errors.NotFound:
            continue
        renew = (lease.get('spec') or {}).get('renewTime')
        if renew:
            found[name] = parse_time(renew)
    return found


def fence_log_times(log_path):
    try:
        with open(log_path, errors='replace') as stream:
            return latency.fence_log_times(stream, _oslo_time)
    except FileNotFoundError:
        return {}


def _oslo_time(text):
    # oslo.log writes local time, as time.localtime() gives it.
    return datetime.datetime.strptime(
        text, '%Y-%m-%d %H:%M:%S.%f').timestamp()


def _werkzeug_time(text):
    return datetime.datetime.strptime(text, '%d/%b/%Y %H:%M:%S').timestamp()
