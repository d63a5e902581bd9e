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

"""A monitor under test, wired as in production but in this process.

Used by the functional tests, tools/ and the benchmarks.

Everything crosses real HTTP: the monitor's official-client connection to
the Kubernetes API test server, and openstacksdk to a real masakari-api.
Cluster time is a ManualClock the test moves; the monitor runs on real
time (its windows are set small). Waiting is done on conditions with a
deadline, never on fixed sleeps: ``settled()`` waits until the monitor
has seen the store's latest resourceVersion and has nothing left to send.
"""

import dataclasses
import os
import tempfile
import time

from masakarimonitors_k8s.clock import ManualClock
from masakarimonitors_k8s.clock import SystemClock
from masakarimonitors_k8s import conf as k8s_conf
from masakarimonitors_k8s import driver
from masakarimonitors_k8s.kube import client as kube_client
from masakarimonitors_k8s import notifier
from masakarimonitors_k8s.testing import cluster as test_cluster
from masakarimonitors_k8s.testing.kube_apiserver import server as test_server

TOKEN = 'monitor-token'
MONITOR_RULES = [
    {'apiGroups': [''], 'resources': ['nodes'],
     'verbs': ['get', 'list', 'watch']},
    {'apiGroups': ['coordination.k8s.io'], 'resources': ['leases'],
     'verbs': ['get', 'list', 'watch']},
    {'apiGroups': ['coordination.k8s.io'], 'resources': ['leases'],
     'verbs': ['create', 'update'], 'namespaces': ['openstack']},
    {'apiGroups': [''], 'resources': ['events'],
     'verbs': ['create', 'patch']},
]
LEADER_NAMESPACE = 'openstack'


def fast_leader(**overrides):
    """Leader election on a short lease: take-over tests stay quick."""
    return k8s_conf.LeaderSettings(**dict(dict(
        enabled=True, namespace=LEADER_NAMESPACE, lease_duration=3.0,
        renew_deadline=2.0, retry_period=0.25), **overrides))


def wait_until(predicate, *, timeout=20.0, what='condition'):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('timed out after %.0f s waiting for %s'
                                 % (timeout, what))
        time.sleep(0.01)


def fast_settings(*, scope=None, leader=None, guards=None, redfish=None,
                  **policy):
    """Settings for tests: tiny retry delays; policy overrides."""
    policy_settings = dataclasses.replace(
        k8s_conf.PolicySettings(), **dict({'recovery_window': 0.0},
                                          **policy))
    return k8s_conf.Settings(
        scope=scope or k8s_conf.ScopeSettings(),
        leader=leader or k8s_conf.LeaderSettings(),
        # No settle window by default: most tests fail one node and want
        # its STOPPED at once; storm tests pass their own guards.
        guards=guards or k8s_conf.GuardSettings(settle_window=0.0),
        redfish=redfish or k8s_conf.RedfishSettings(),
        connection=k8s_conf.ConnectionSettings(connect_timeout=2.0,
                                               read_timeout=2.0),
        # The test server sends bookmarks every second.
        watch=k8s_conf.WatchSettings(watch_timeout=30, idle_timeout=3.0,
                                     page_size=50,
                                     backoff_initial=0.05,
                                     backoff_max=0.2,
                                     read_interval=0.02),
        policy=policy_settings,
        delivery=k8s_conf.DeliverySettings(retry_initial=0.05,
                                           retry_max=0.2,
                                           unknown_host_recheck=0.5))


class ClusterUnderTest:
    """Test API server + cluster model on a manual clock."""

    def __init__(self, *, rules=MONITOR_RULES, tls=False, skew=0.0,
                 bookmark_interval=1.0):
        # ``skew``: how far the cluster's clocks (API server, kubelets) are
        # ahead of the monitor's.
        self.clock = ManualClock(wall=time.time() + skew)
        self.server = test_server.KubeApiServer(
            clock=self.clock, auth=True, tls=tls,
            bookmark_interval=bookmark_interval)
        self.server.add_token(TOKEN, user='monitor', rules=rules)
        self.server.start()
        self.store = self.server.store
        self.model = test_cluster.ClusterModel(self.store, self.clock)
        self._workdir = tempfile.TemporaryDirectory(prefix='k8s-cluster-')
        self.workdir = self._workdir.name

    def add_nodes(self, names):
        for name in names:
            self.model.add_node(name)
        self.model.advance(15)

    def fail_and_detect(self, name):
        """Power a node off and let the lifecycle controller notice."""
        self.model.power_off(name)
        self.model.advance(65)

    def stop(self):
        self.server.stop()
        self._workdir.cleanup()


class MonitorUnderTest:
    """The monitor's parts, started.

    ``wrap_sender`` may decorate the real openstacksdk sender (to time or
    count deliveries).
    """

    def __init__(self, cluster, masakari, settings, *, wrap_sender=None,
                 via='kubeconfig', clock=None, identity=None,
                 fencing=None):
        """Start the monitor.

        ``clock``: the monitor's clock; real time by default. Give it the
        cluster's ManualClock (or an OffsetClock of it, for skew) to move
        the monitor's windows with the test instead of waiting them out.
        """
        self.cluster = cluster
        clock = clock or SystemClock()
        if via == 'kubeconfig':
            # The usual path outside a pod, as an operator would write it.
            kubeconfig = os.path.join(cluster.workdir, 'kubeconfig')
            cluster.server.write_kubeconfig(kubeconfig, token=TOKEN)
            connection = dataclasses.replace(settings.connection,
                                             kubeconfig=kubeconfig)
        else:
            # URL + CA + token file: what a pod's service account offers.
            token_file = os.path.join(cluster.workdir, 'token')
            with open(token_file, 'w') as stream:
                stream.write(TOKEN + '\n')
            connection = dataclasses.replace(
                settings.connection, api_url=cluster.server.url,
                ca_file=cluster.server.ca_file, token_file=token_file)
        kube = kube_client.KubeClient(
            kube_client.build_api_client(connection),
            server_clock=kube_client.ServerClock(clock),
            connect_timeout=settings.connection.connect_timeout,
            read_timeout=settings.connection.read_timeout)
        sender = notifier.MasakariSender(
            masakari.sdk_connection().instance_ha)
        if wrap_sender is not None:
            sender = wrap_sender(sender)
        self.monitor = driver.Monitor(settings=settings, kube=kube,
                                      sender=sender, clock=clock,
                                      identity=identity, fencing=fencing)
        self.monitor.start()

    @property
    def nodes_reflector(self):
        return self.monitor.reflectors[0]

    def synced(self):
        return self.nodes_reflector.stats.synced

    def settled(self, timeout=20.0, *, delivered=True):
        """Seen everything the store has, decided, and delivered.

        ``delivered=False`` for a standby, which decides and holds what it
        decided undelivered: seen everything and decided is all it can be.
        """
        store = self.cluster.store
        watched = [(self.nodes_reflector, 'nodes', None)]
        if len(self.monitor.reflectors) > 1:
            watched.append((self.monitor.reflectors[1], 'leases',
                            self.monitor.settings.policy.lease_namespace))

        def caught_up():
            for reflector, resource, namespace in watched:
                seen = reflector.stats.resource_version
                if seen is None or not reflector.stats.synced or int(
                        seen) < _newest_rv(store, resource, namespace):
                    return False
            return self.monitor.idle() and not (
                delivered and self.monitor.deliveries.pending())
        wait_until(caught_up, timeout=timeout, what='the monitor to settle')

    def stop(self):
        self.monitor.stop()

    def crash(self):
        """Stop as a killed process would: the lease is not released."""
        if self.monitor.leader is not None:
            self.monitor.leader.release_on_stop = False
        self.monitor.stop()


def _newest_rv(store, resource, namespace=None):
    items, _list_rv, _token = store.list(resource, namespace=namespace)
    return max((int(item['metadata']['resourceVersion']) for item in items),
               default=0)


def stored(masakari, hostname=None):
    """(hostname, event, host_status) of every stored notification."""
    return [(n['hostname'], n['payload'].get('event'),
             n['payload'].get('host_status'))
            for n in masakari.notifications(hostname)]
