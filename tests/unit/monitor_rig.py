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

"""A whole driver.Monitor without threads, driven by a fake world.

The world says what is true of each host (its Node's Ready condition,
taints, labels, cordon; its power as the BMC sees it). Every change of the
world reaches the monitor at once as the watch would deliver it, and the
rig then does what the decision, delivery and fencing threads do, in that
order, on a ManualClock. Masakari, the BMC and leadership are fakes that
call ``on_send`` / ``on_power_off`` at the moment they act, so a test can
judge each action against the world as it is at that moment.
"""

import dataclasses

from masakarimonitors_k8s.clock import ManualClock
from masakarimonitors_k8s import conf as k8s_conf
from masakarimonitors_k8s import driver
from masakarimonitors_k8s.fencing import redfish
from masakarimonitors_k8s.kube import client as kube_client
from masakarimonitors_k8s import notifier
from tests.unit import factories

EXCLUDE = 'masakari.openstack.org/exclude'
ZONE = 'topology.kubernetes.io/zone'


@dataclasses.dataclass
class Host:
    """The truth about one host and its Node."""
    name: str
    exists: bool = True
    ready: str = 'True'
    since: float = factories.EPOCH
    tainted: bool = False
    taint_added: float | None = None
    excluded: bool = False
    cordoned: bool = False
    power: str = 'On'
    zone: str = ''
    version: int = 1

    def obj(self):
        taints = []
        if self.ready == 'Unknown':
            taints.append(factories.unreachable_taint(time_added=self.since))
        if self.tainted:
            taints.append(factories.out_of_service_taint(
                time_added=self.taint_added))
        labels = {}
        if self.excluded:
            labels[EXCLUDE] = 'true'
        if self.zone:
            labels[ZONE] = self.zone
        return factories.node(self.name, ready=self.ready, since=self.since,
                              labels=labels, taints=taints,
                              unschedulable=self.cordoned,
                              resource_version=str(self.version))


class FakeKube:
    host = 'https://fake-apiserver'

    def __init__(self, rig):
        self.rig = rig
        self.server_clock = kube_client.ServerClock(rig.clock)
        self.patches = []

    def get_json(self, path, query=None, *, timeout=None):
        host = self.rig.world.get(path.rsplit('/', 1)[1])
        if host is None or not host.exists:
            raise kube_client.ApiError('GET %s: HTTP 404' % path, status=404)
        return host.obj()

    def patch_merge(self, path, body, *, timeout=None):
        name = path.rsplit('/', 1)[1]
        host = self.rig.world.get(name)
        if host is None or not host.exists:
            raise kube_client.ApiError('PATCH %s: 404' % path, status=404)
        self.patches.append((name, body))
        self.rig.on_taint(name)
        keys = [t.get('key') for t in body['spec']['taints']]
        if factories.OUT_OF_SERVICE in keys and not host.tainted:
            host.tainted = True
            host.taint_added = self.rig.clock.wall()
            self.rig.changed(name)
        return host.obj()

    def post_json(self, *args, **kwargs):
        return {}

    def interrupt_streams(self):
        pass

    def close(self):
        pass


class FakeMasakari:
    """The sender: up or down; remembers what it accepted."""

    def __init__(self, rig):
        self.rig = rig
        self.up = True
        self.accepted = []
        self.attempts = 0

    def send(self, notification):
        self.attempts += 1
        self.rig.on_send(notification)
        if not self.up:
            return notifier.Result(notifier.Outcome.FAILED, '503')
        self.accepted.append(notification)
        self.rig.on_accepted(notification)
        return notifier.Result(notifier.Outcome.ACCEPTED, 'stored',
                               'uuid-%d' % len(self.accepted))


class Target:
    def __init__(self, name):
        self.node = name
        self.address = 'https://bmc-%s' % name
        self.url = self.address


class FakeBmc:
    """Directory and fencer in one: each host's BMC reads its power."""

    def __init__(self, rig):
        self.rig = rig
        self.power_offs = []

    def target_for(self, name, bmc_address=None):
        return Target(name)

    def power_state(self, target):
        power = self.rig.world[target.node].power
        return redfish.PowerReading(power, '/redfish/v1/Systems/1', power)

    def power_off(self, target):
        self.rig.on_power_off(target.node)
        self.power_offs.append(target.node)
        self.rig.world[target.node].power = 'Off'
        return redfish.PowerReading('Off', '/redfish/v1/Systems/1', 'Off')


class FakeLeader:
    def __init__(self):
        self.is_leader = True


def settings(*, fencing='taint', fence_action='none', settle=15.0,
             recovery=30.0, limit='49%', cluster_limit=None,
             cordon_is_maintenance=True):
    return k8s_conf.Settings(
        status=k8s_conf.StatusSettings(node_events=False),
        scope=k8s_conf.ScopeSettings(exclude_label=EXCLUDE),
        policy=k8s_conf.PolicySettings(
            fencing=fencing, recovery_window=recovery,
            cordon_is_maintenance=cordon_is_maintenance),
        delivery=k8s_conf.DeliverySettings(retry_initial=1.0, retry_max=8.0,
                                           maintenance_recheck=60.0),
        guards=k8s_conf.GuardSettings(
            max_unhealthy=k8s_conf.UnhealthyLimit.parse(limit),
            max_unhealthy_cluster=(k8s_conf.UnhealthyLimit.parse(
                cluster_limit) if cluster_limit else None),
            settle_window=settle, zone_label=ZONE),
        redfish=k8s_conf.RedfishSettings(fence_action=fence_action,
                                         credentials_file='unused',
                                         recheck_interval=30.0))


class MonitorRig:
    """A Monitor, its fakes and a world of hosts ``names``."""

    def __init__(self, names=('n1', 'n2', 'n3', 'n4'), zones=None,
                 **options):
        self.clock = ManualClock(wall=factories.EPOCH + 3600)
        self.settings = settings(**options)
        self.world = {name: Host(name, zone=(zones or {}).get(name, ''))
                      for name in names}
        self.kube = FakeKube(self)
        self.masakari = FakeMasakari(self)
        self.bmc = FakeBmc(self)
        uses_bmc = (self.settings.policy.fencing == 'redfish'
                    or self.settings.redfish.fence_action != 'none')
        self.monitor = driver.Monitor(
            settings=self.settings, kube=self.kube, sender=self.masakari,
            clock=self.clock,
            fencing=(self.bmc, self.bmc) if uses_bmc else None)
        self.leader = FakeLeader()
        self.monitor.leader = self.leader
        self.monitor.deliveries.may_send = lambda: self.leader.is_leader
        self._translate = self.monitor.engine._translator.translate
        # Hooks called at the moment of each action (tests replace them).
        self.on_send = lambda notification: None
        self.on_accepted = lambda notification: None
        self.on_power_off = lambda name: None
        self.on_taint = lambda name: None
        self._changed = []
        self.monitor.handle(('nodes', 'replace', [
            self._translate(host.obj()) for host in self.world.values()]))
        self.step()

    # -- the world ------------------------------------------------------
    def now(self):
        return self.clock.wall()

    def changed(self, name):
        """A host changed: its Node event is due to the monitor."""
        host = self.world[name]
        host.version += 1
        self._changed.append(name)

    def set(self, name, **fields):
        host = self.world[name]
        if 'ready' in fields and fields['ready'] != host.ready:
            fields.setdefault('since', self.now())
        if fields.get('tainted') and not host.tainted:
            fields.setdefault('taint_added', self.now())
        for key, value in fields.items():
            setattr(host, key, value)
        self.changed(name)
        self.sync()

    def delete(self, name):
        host = self.world[name]
        obj = host.obj()
        host.exists = False
        self.monitor.handle(('nodes', 'events',
                             [('DELETED', self._translate(obj))]))
        self.step()

    def recreate(self, name, **fields):
        """The kubelet registers the Node anew."""
        fields.setdefault('power', self.world[name].power)
        host = Host(name, zone=self.world[name].zone, since=self.now(),
                    **fields)
        self.world[name] = host
        self.monitor.handle(('nodes', 'events',
                             [('ADDED', self._translate(host.obj()))]))
        self.step()

    def sync(self):
        """Deliver the pending Node events, then decide."""
        # As the reflector hands them over: those read together, in one.
        batch = []
        while self._changed:
            name = self._changed.pop(0)
            host = self.world[name]
            if host.exists:
                batch.append(('MODIFIED', self._translate(host.obj())))
        if batch:
            self.monitor.handle(('nodes', 'events', batch))
        self.step()

    # -- the threads, one pass each --------------------------------------
    def step(self):
        """What the decision thread does: inbox, deadlines, the gate."""
        monitor = self.monitor
        monitor.engine.run_due()
        monitor.guards.reconsider()
        while not monitor.inbox.empty():
            monitor.handle(monitor.inbox.get())
            monitor.engine.run_due()
            monitor.guards.reconsider()

    def deliver(self):
        self.monitor.deliveries.run_due()
        self.step()

    def fence(self):
        fencing = self.monitor.fencing
        if fencing is None:
            return
        for _ in range(50):
            due = fencing.next_due()
            if due is None or due > self.clock.monotonic():
                break
            fencing.run_once()
            self.sync()

    def run(self):
        """Every thread once, then the world's changes."""
        self.step()
        self.deliver()
        self.fence()
        self.sync()

    def advance(self, seconds):
        self.clock.advance(seconds)
        self.run()

    # -- reading -------------------------------------------------------
    def sent(self):
        return [(n.hostname, n.event, n.host_status)
                for n in self.masakari.accepted]

    def health(self, name):
        view = self.monitor.engine.host(name)
        return view and view.health.value
