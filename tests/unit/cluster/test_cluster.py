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

"""The cluster model on a fake store, driven by a ManualClock."""

import math
import threading
import time

import pytest

from masakarimonitors_k8s import clock as clock_module
from masakarimonitors_k8s.testing import cluster
from masakarimonitors_k8s.testing.kube_apiserver import errors
from masakarimonitors_k8s.testing import nodes
from tests.unit.cluster import fake_store

UNREACHABLE = {('node.kubernetes.io/unreachable', 'NoSchedule'),
               ('node.kubernetes.io/unreachable', 'NoExecute')}
NOT_READY = {('node.kubernetes.io/not-ready', 'NoSchedule'),
             ('node.kubernetes.io/not-ready', 'NoExecute')}


@pytest.fixture
def clock():
    return clock_module.ManualClock()


@pytest.fixture
def store(clock):
    return fake_store.FakeStore(clock)


@pytest.fixture
def model(store, clock):
    return cluster.ClusterModel(store, clock)


def condition(store, name, condition_type='Ready'):
    node = store.get('nodes', name)
    return next(item for item in node['status']['conditions']
                if item['type'] == condition_type)


def taints(store, name):
    return {(taint['key'], taint['effect'])
            for taint in store.get('nodes', name)['spec'].get('taints', [])}


def renew_time(store, name):
    return store.get('leases', name, namespace='kube-node-lease')[
        'spec']['renewTime']


def watch_changes(model, clock, reading, *, seconds, step):
    """Wall times at which ``reading()`` changed, advancing in steps."""
    changes = []
    last = reading()
    for _ in range(int(round(seconds / step))):
        model.advance(step)
        current = reading()
        if current != last:
            changes.append(clock.wall())
            last = current
    return changes


def first_unknown_at(model, store, clock, name, *, limit, step=0.5):
    """Advance in steps until ``name`` is Ready=Unknown; the wall time."""
    waited = 0.0
    while condition(store, name)['status'] != 'Unknown':
        assert waited < limit, 'node never became Unknown'
        model.advance(step)
        waited += step
    return clock.wall()


def next_tick(controller_origin, wall, period):
    """The first controller tick at or after ``wall``."""
    return controller_origin + period * math.ceil(
        (wall - controller_origin) / period)


class TestNodes:
    def test_add_nodes_names_and_objects(self, model, store):
        names = model.add_nodes(3)

        assert names == ['compute-0001', 'compute-0002', 'compute-0003']
        assert model.add_nodes(1) == ['compute-0004']
        for name in names:
            node = store.get('nodes', name)
            assert node['metadata']['labels'][
                'kubernetes.io/hostname'] == name
            lease = store.get('leases', name, namespace='kube-node-lease')
            assert lease['spec']['holderIdentity'] == name
            assert lease['metadata']['ownerReferences'][0]['uid'] == \
                node['metadata']['uid']
        addresses = {store.get('nodes', name)['status']['addresses'][0][
            'address'] for name in model.node_names()}
        assert len(addresses) == 4

    def test_fqdn_names_zones_and_labels(self, model, store):
        names = model.add_nodes(4, prefix='cmp-', domain='example.org',
                                zones=['az1', 'az2'],
                                labels={'rack': 'r1'})

        assert names[0] == 'cmp-0001.example.org'
        zones = [store.get('nodes', name)['metadata']['labels'][
            'topology.kubernetes.io/zone'] for name in names]
        assert zones == ['az1', 'az2', 'az1', 'az2']
        assert store.get('nodes', names[3])['metadata']['labels'][
            'rack'] == 'r1'

    def test_add_node_twice_is_refused(self, model):
        model.add_node('compute-0001')

        with pytest.raises(ValueError):
            model.add_node('compute-0001')

    def test_actions_on_unknown_nodes_fail(self, model):
        with pytest.raises(KeyError):
            model.power_off('nope')

    def test_delete_node_removes_node_and_lease_for_good(self, model,
                                                         store):
        model.add_nodes(2)

        model.delete_node('compute-0001')
        model.advance(120)

        with pytest.raises(errors.NotFound):
            store.get('nodes', 'compute-0001')
        with pytest.raises(errors.NotFound):
            store.get('leases', 'compute-0001', namespace='kube-node-lease')
        assert model.node_names() == ['compute-0002']
        assert condition(store, 'compute-0002')['status'] == 'True'
        assert ('node-deleted', 'compute-0001') in [
            (event.kind, event.node) for event in model.events]

    def test_add_label(self, model, store):
        model.add_node('compute-0001')

        model.add_label('compute-0001', 'masakari/segment', 'seg-a')

        assert store.get('nodes', 'compute-0001')['metadata']['labels'][
            'masakari/segment'] == 'seg-a'


class TestKubelet:
    def test_lease_renewed_every_ten_seconds(self, model, store, clock):
        model.add_node('compute-0001')
        created = clock.wall()

        changes = watch_changes(
            model, clock, lambda: renew_time(store, 'compute-0001'),
            seconds=60, step=0.25)

        assert 0 < changes[0] - created <= 10.0
        assert len(changes) == 6
        assert nodes.parse_time(renew_time(store, 'compute-0001')) == \
            pytest.approx(changes[-1], abs=0.25)
        gaps = [later - earlier for earlier, later
                in zip(changes, changes[1:])]
        assert gaps == [pytest.approx(10.0, abs=0.25)] * 5

    def test_renewals_of_many_nodes_are_spread(self, model, store, clock):
        names = model.add_nodes(50)
        start = clock.wall()

        model.advance(10)

        offsets = sorted(nodes.parse_time(renew_time(store, name)) - start
                         for name in names)
        # Every node renewed once within the first period, not all at once.
        assert all(0 < offset <= 10 for offset in offsets)
        assert offsets[-1] - offsets[0] > 5

    def test_status_heartbeat_every_five_minutes(self, model, store,
                                                 clock):
        model.add_node('compute-0001')

        changes = watch_changes(
            model, clock,
            lambda: condition(store, 'compute-0001')['lastHeartbeatTime'],
            seconds=960, step=1)

        assert len(changes) == 3
        gaps = [later - earlier for earlier, later
                in zip(changes, changes[1:])]
        assert gaps == [pytest.approx(300, abs=1)] * 2
        node_writes = [write for write in store.writes
                       if write[1] == 'nodes']
        # create + three reports; the controller had nothing to change.
        assert len(node_writes) == 4

    def test_first_status_reports_are_spread(self, model, store, clock):
        names = model.add_nodes(20)
        start = clock.wall()

        model.advance(300)

        beats = [nodes.parse_time(condition(store, name)[
            'lastHeartbeatTime']) - start for name in names]
        assert all(0 < beat <= 300 for beat in beats)
        assert max(beats) - min(beats) > 100


class TestPowerOff:
    def test_ready_unknown_and_taints_exactly_after_grace(self, store,
                                                          clock):
        origin = clock.wall()
        model = cluster.ClusterModel(store, clock)
        model.add_node('compute-0001')
        model.advance(33)
        model.power_off('compute-0001')
        last_renewal = nodes.parse_time(renew_time(store, 'compute-0001'))
        # The controller notices the renewal at its next tick (the probe
        # time) and marks the node at the first tick strictly past probe +
        # grace: with ticks every 5 s that is probe + 55 s.
        probe = next_tick(origin, last_renewal, 5.0)
        expected = probe + 55.0

        model.advance(expected - clock.wall() - 0.01)
        assert condition(store, 'compute-0001')['status'] == 'True'
        assert clock.wall() - last_renewal > 49
        assert not taints(store, 'compute-0001') & UNREACHABLE

        model.advance(0.01)
        ready = condition(store, 'compute-0001')
        assert ready['status'] == 'Unknown'
        assert ready['reason'] == 'NodeStatusUnknown'
        assert ready['message'] == 'Kubelet stopped posting node status.'
        assert ready['lastTransitionTime'] == nodes.format_time(expected)
        assert taints(store, 'compute-0001') >= UNREACHABLE
        assert 50 < expected - last_renewal <= 60
        assert model.first_event('ready-unknown', 'compute-0001') == \
            pytest.approx(expected)

    @pytest.mark.parametrize('grace', [40.0, 50.0])
    def test_not_marked_before_grace_since_last_renewal(self, store, clock,
                                                        grace):
        model = cluster.ClusterModel(store, clock, grace_period=grace)
        model.add_node('compute-0001')
        model.advance(27)
        model.power_off('compute-0001')
        last_renewal = nodes.parse_time(renew_time(store, 'compute-0001'))

        unknown_at = first_unknown_at(model, store, clock, 'compute-0001',
                                      limit=grace + 30, step=0.5)

        assert grace < unknown_at - last_renewal <= grace + 2 * 5.0 + 0.5

    def test_all_kubelet_conditions_go_unknown_but_not_the_cni_one(
            self, model, store):
        model.add_node('compute-0001')
        model.power_off('compute-0001')
        model.advance(70)

        for condition_type in ('Ready', 'MemoryPressure', 'DiskPressure',
                               'PIDPressure'):
            item = condition(store, 'compute-0001', condition_type)
            assert item['status'] == 'Unknown'
            assert item['reason'] == 'NodeStatusUnknown'
        assert condition(store, 'compute-0001',
                         'NetworkUnavailable')['status'] == 'False'

    def test_heartbeat_time_stays_the_kubelets_last(self, model, store):
        model.add_node('compute-0001')
        heartbeat = condition(store, 'compute-0001')['lastHeartbeatTime']
        model.power_off('compute-0001')

        model.advance(120)

        assert condition(store, 'compute-0001')['lastHeartbeatTime'] == \
            heartbeat

    def test_status_written_before_taints(self, model, store):
        model.add_node('compute-0001')
        model.power_off('compute-0001')
        model.advance(70)
        node_writes = [write[4] for write in store.writes
                       if write[1] == 'nodes']

        unknown_first = next(
            index for index, node in enumerate(node_writes)
            if any(item['type'] == 'Ready' and item['status'] == 'Unknown'
                   for item in node['status']['conditions']))
        assert not node_writes[unknown_first]['spec'].get('taints')
        assert {(taint['key'], taint['effect']) for taint in
                node_writes[unknown_first + 1]['spec']['taints']} == \
            UNREACHABLE

    def test_no_exec_taint_has_time_added(self, model, store, clock):
        model.add_node('compute-0001')
        model.power_off('compute-0001')
        model.advance(70)

        unreachable = [taint for taint in store.get(
            'nodes', 'compute-0001')['spec']['taints']
            if taint['effect'] == 'NoExecute']
        assert unreachable[0]['key'] == 'node.kubernetes.io/unreachable'
        added = nodes.parse_time(unreachable[0]['timeAdded'])
        assert added == nodes.parse_time(
            condition(store, 'compute-0001')['lastTransitionTime'])

    def test_host_truth_and_timeline(self, model, store, clock):
        model.add_node('compute-0001')
        model.advance(12)
        off_at = clock.wall()

        model.power_off('compute-0001')
        model.advance(70)

        assert not model.host_is_running('compute-0001')
        assert model.first_event('power-off', 'compute-0001') == off_at
        unknown_at = model.first_event('ready-unknown', 'compute-0001')
        assert 40 < unknown_at - off_at <= 60
        kinds = [event.kind for event in model.events
                 if event.node == 'compute-0001']
        assert kinds.index('power-off') < kinds.index('ready-unknown') < \
            kinds.index(
                'taint-added:node.kubernetes.io/unreachable:NoExecute')

    def test_kubernetes_events_recorded(self, model, store):
        model.add_node('compute-0001')
        model.power_off('compute-0001')
        model.advance(70)
        model.power_on('compute-0001')

        events, _, _ = store.list('events', namespace='default')
        seen = [(event['reason'], event['source']['component'])
                for event in events]
        assert ('NodeNotReady', 'node-controller') in seen
        assert ('Rebooted', 'kubelet') in seen
        assert ('NodeReady', 'kubelet') in seen
        for event in events:
            assert event['involvedObject'] == {
                'apiVersion': 'v1', 'kind': 'Node', 'name': 'compute-0001',
                'uid': 'compute-0001'}

    def test_kubernetes_events_can_be_switched_off(self, store, clock):
        model = cluster.ClusterModel(store, clock,
                                     emit_kubernetes_events=False)
        model.add_node('compute-0001')
        model.power_off('compute-0001')
        model.advance(70)

        assert store.list('events', namespace='default')[0] == []

    def test_other_nodes_stay_ready(self, model, store):
        model.add_nodes(3)
        model.power_off('compute-0002')

        model.advance(300)

        assert condition(store, 'compute-0001')['status'] == 'True'
        assert condition(store, 'compute-0003')['status'] == 'True'
        assert not taints(store, 'compute-0001')
        assert condition(store, 'compute-0002')['status'] == 'Unknown'


class TestPowerOn:
    def test_kubelet_reports_ready_with_a_new_boot(self, model, store,
                                                   clock):
        model.add_node('compute-0001')
        boot = store.get('nodes', 'compute-0001')['status']['nodeInfo'][
            'bootID']
        model.power_off('compute-0001')
        model.advance(70)
        renewed = renew_time(store, 'compute-0001')

        model.power_on('compute-0001')

        ready = condition(store, 'compute-0001')
        assert ready['status'] == 'True'
        assert ready['reason'] == 'KubeletReady'
        assert ready['lastTransitionTime'] == nodes.format_time(clock.wall())
        assert store.get('nodes', 'compute-0001')['status']['nodeInfo'][
            'bootID'] != boot
        assert renew_time(store, 'compute-0001') != renewed
        assert model.host_is_running('compute-0001')

    def test_a_fresh_boot_clears_a_kubelet_not_ready(self, model, store):
        model.add_node('compute-0001')
        model.set_not_ready('compute-0001')
        model.power_off('compute-0001')

        model.power_on('compute-0001')

        assert condition(store, 'compute-0001')['status'] == 'True'

    def test_controller_removes_the_taints(self, model, store):
        model.add_node('compute-0001')
        model.power_off('compute-0001')
        model.advance(70)
        model.power_on('compute-0001')

        model.advance(5)

        assert not taints(store, 'compute-0001')
        assert condition(store, 'compute-0001')['status'] == 'True'
        model.advance(300)
        assert condition(store, 'compute-0001')['status'] == 'True'

    def test_quick_reboot_never_goes_unknown(self, model, store):
        model.add_node('compute-0001')
        model.power_off('compute-0001')
        model.advance(20)
        model.power_on('compute-0001')

        model.advance(300)

        assert 'ready-unknown' not in [event.kind for event in model.events]

    def test_reboot_does_not_double_the_kubelets_work(self, model, store):
        model.add_node('compute-0001')
        model.advance(3)
        model.power_off('compute-0001')
        model.power_on('compute-0001')
        before = model.stats()['lease-renewals']

        model.advance(100)

        assert model.stats()['lease-renewals'] - before == 10


class TestKubeletCrash:
    def test_same_api_effect_as_power_off_but_host_alive(self, model,
                                                         store):
        model.add_node('compute-0001')

        model.crash_kubelet('compute-0001')
        model.advance(70)

        assert condition(store, 'compute-0001')['status'] == 'Unknown'
        assert taints(store, 'compute-0001') >= UNREACHABLE
        assert model.host_is_running('compute-0001')
        assert not model.kubelet_is_running('compute-0001')

    def test_restart_keeps_the_boot(self, model, store):
        model.add_node('compute-0001')
        boot = store.get('nodes', 'compute-0001')['status']['nodeInfo'][
            'bootID']
        model.crash_kubelet('compute-0001')
        model.advance(70)

        model.restart_kubelet('compute-0001')
        model.advance(5)

        assert condition(store, 'compute-0001')['status'] == 'True'
        assert not taints(store, 'compute-0001')
        assert store.get('nodes', 'compute-0001')['status']['nodeInfo'][
            'bootID'] == boot

    def test_restart_on_a_powered_off_host_is_refused(self, model):
        model.add_node('compute-0001')
        model.power_off('compute-0001')

        with pytest.raises(RuntimeError):
            model.restart_kubelet('compute-0001')


class TestNotReady:
    def test_ready_false_and_not_ready_taints_while_lease_renews(
            self, model, store, clock):
        model.add_node('compute-0001')

        model.set_not_ready('compute-0001')

        ready = condition(store, 'compute-0001')
        assert ready['status'] == 'False'
        assert ready['reason'] == 'KubeletNotReady'
        assert ready['message'] == 'container runtime is down'
        renewals = watch_changes(
            model, clock, lambda: renew_time(store, 'compute-0001'),
            seconds=120, step=1)
        assert len(renewals) == 12
        assert taints(store, 'compute-0001') == NOT_READY
        assert condition(store, 'compute-0001')['status'] == 'False'
        assert model.host_is_running('compute-0001')

    def test_custom_reason_and_message(self, model, store):
        model.add_node('compute-0001')

        model.set_not_ready('compute-0001', 'ContainerRuntimeUnhealthy',
                            message='containerd: connection refused')

        ready = condition(store, 'compute-0001')
        assert ready['reason'] == 'ContainerRuntimeUnhealthy'
        assert ready['message'] == 'containerd: connection refused'

    def test_set_ready_recovers(self, model, store):
        model.add_node('compute-0001')
        model.set_not_ready('compute-0001')
        model.advance(10)

        model.set_ready('compute-0001')
        model.advance(5)

        assert condition(store, 'compute-0001')['status'] == 'True'
        assert not taints(store, 'compute-0001')

    def test_not_ready_then_silent_swaps_taints(self, model, store):
        model.add_node('compute-0001')
        model.set_not_ready('compute-0001')
        model.advance(10)

        model.power_off('compute-0001')
        model.advance(70)

        assert taints(store, 'compute-0001') == UNREACHABLE

    def test_not_ready_while_unreachable_is_posted_on_return(self, model,
                                                             store):
        model.add_node('compute-0001')
        model.partition(['compute-0001'])
        model.set_not_ready('compute-0001')
        assert condition(store, 'compute-0001')['status'] == 'True'

        model.heal_partition(['compute-0001'])

        assert condition(store, 'compute-0001')['status'] == 'False'


class TestPartition:
    def test_partitioned_set_goes_unknown_hosts_alive(self, model, store):
        names = model.add_nodes(4)

        model.partition(names[:2])
        model.advance(70)

        for name in names[:2]:
            assert condition(store, name)['status'] == 'Unknown'
            assert model.host_is_running(name)
        for name in names[2:]:
            assert condition(store, name)['status'] == 'True'

    def test_heal_reports_at_once(self, model, store):
        names = model.add_nodes(2)
        model.partition(names)
        model.advance(70)

        model.heal_partition(names)
        model.advance(5)

        for name in names:
            assert condition(store, name)['status'] == 'True'
            assert not taints(store, name)


class TestAdministration:
    def test_cordon_and_uncordon(self, model, store):
        model.add_node('compute-0001')

        model.cordon('compute-0001')

        node = store.get('nodes', 'compute-0001')
        assert node['spec']['unschedulable'] is True
        assert taints(store, 'compute-0001') == {
            ('node.kubernetes.io/unschedulable', 'NoSchedule')}

        model.uncordon('compute-0001')

        node = store.get('nodes', 'compute-0001')
        assert 'unschedulable' not in node['spec']
        assert not taints(store, 'compute-0001')

    def test_cordon_survives_the_controller(self, model, store):
        model.add_node('compute-0001')
        model.cordon('compute-0001')
        model.power_off('compute-0001')
        model.advance(70)
        model.power_on('compute-0001')
        model.advance(5)

        assert taints(store, 'compute-0001') == {
            ('node.kubernetes.io/unschedulable', 'NoSchedule')}

    def test_out_of_service_taint(self, model, store, clock):
        model.add_node('compute-0001')

        model.add_out_of_service_taint('compute-0001')
        model.add_out_of_service_taint('compute-0001')

        out_of_service = [
            taint for taint in store.get('nodes', 'compute-0001')['spec'][
                'taints']
            if taint['key'] == 'node.kubernetes.io/out-of-service']
        assert out_of_service == [{
            'key': 'node.kubernetes.io/out-of-service',
            'value': 'nodeshutdown', 'effect': 'NoExecute',
            'timeAdded': nodes.format_time(clock.wall())}]

        model.remove_out_of_service_taint('compute-0001')

        assert not taints(store, 'compute-0001')

    def test_out_of_service_taint_survives_the_controller(self, model,
                                                          store):
        model.add_node('compute-0001')
        model.power_off('compute-0001')
        model.advance(70)
        model.add_out_of_service_taint('compute-0001')

        model.advance(30)
        model.power_on('compute-0001')
        model.advance(5)

        assert taints(store, 'compute-0001') == {
            ('node.kubernetes.io/out-of-service', 'NoExecute')}


class TestObservesTheApi:
    """The controller reacts to writes others make, not only the model's."""

    def test_a_lease_renewed_by_someone_else_counts(self, model, store,
                                                    clock):
        model.add_node('compute-0001')
        model.power_off('compute-0001')

        for _ in range(12):
            model.advance(10)
            renewed = nodes.format_micro_time(clock.wall())
            store.mutate(
                'leases', 'compute-0001',
                lambda lease: lease['spec'].update(renewTime=renewed),
                namespace='kube-node-lease')

        assert condition(store, 'compute-0001')['status'] == 'True'

    def test_a_status_heartbeat_counts_like_a_renewal(self, model, store,
                                                      clock):
        model.add_node('compute-0001')
        model.power_off('compute-0001')

        for _ in range(6):
            model.advance(20)
            store.mutate('nodes', 'compute-0001',
                         lambda node: nodes.apply_kubelet_status(
                             node, now=clock.wall()))

        assert model.first_event('ready-unknown', 'compute-0001') is None
        assert condition(store, 'compute-0001')['status'] == 'True'

    def test_an_older_renew_time_does_not_count(self, model, store, clock):
        model.add_node('compute-0001')
        model.power_off('compute-0001')
        stale = nodes.format_micro_time(clock.wall() - 3600)
        store.mutate('leases', 'compute-0001',
                     lambda lease: lease['spec'].update(renewTime=stale),
                     namespace='kube-node-lease')

        model.advance(70)

        assert condition(store, 'compute-0001')['status'] == 'Unknown'

    def test_a_status_written_by_someone_else_is_tainted_for(
            self, model, store, clock):
        model.add_node('compute-0001')

        def kubelet_says_not_ready(node):
            nodes.apply_kubelet_status(node, now=clock.wall(),
                                       ready=False, reason='KubeletNotReady',
                                       message='PLEG is not healthy')

        store.mutate('nodes', 'compute-0001', kubelet_says_not_ready)
        model.advance(5)

        assert taints(store, 'compute-0001') == NOT_READY

    def test_closed_model_no_longer_listens(self, model, store):
        model.add_node('compute-0001')

        model.close()

        assert store.subscribers == []


class TestZones:
    def test_not_ready_counts_and_states_per_zone(self, model, store):
        names = model.add_nodes(8, zones=['az1', 'az2'])
        az1 = names[0::2]
        for name in az1:
            model.power_off(name)
        model.power_off(names[1])

        model.advance(70)

        health = model.zone_health()
        assert health['az1'] == cluster.ZoneHealth(0, 4, 'FullDisruption')
        assert health['az2'] == cluster.ZoneHealth(3, 1, 'Normal')
        assert ('zone-state:FullDisruption', 'az1') in [
            (event.kind, event.node) for event in model.events]

    def test_partial_disruption(self, model):
        names = model.add_nodes(5)
        for name in names[:3]:
            model.power_off(name)

        model.advance(70)

        assert model.zone_health()['nova'] == cluster.ZoneHealth(
            2, 3, 'PartialDisruption')


class TestTime:
    def test_same_script_same_store(self, clock):
        outputs = []
        for _ in range(2):
            manual = clock_module.ManualClock()
            store = fake_store.FakeStore(manual)
            model = cluster.ClusterModel(store, manual)
            model.add_nodes(5, zones=['a', 'b'])
            model.advance(17)
            model.power_off('compute-0002')
            model.set_not_ready('compute-0004')
            model.advance(100)
            model.power_on('compute-0002')
            model.advance(33)
            outputs.append((store.list('nodes')[0],
                            store.list('leases')[0], model.events))

        assert outputs[0] == outputs[1]

    def test_advance_moves_the_clock_exactly(self, model, clock):
        model.add_nodes(3)
        start = clock.monotonic()

        model.advance(123.5)

        assert clock.monotonic() == pytest.approx(start + 123.5)

    def test_negative_advance_is_refused(self, model):
        with pytest.raises(ValueError):
            model.advance(-1)

    def test_parameters_must_be_positive(self, store, clock):
        with pytest.raises(ValueError):
            cluster.ClusterModel(store, clock, grace_period=0)

    @pytest.mark.timeout(20)
    def test_realtime_thread_serves_the_agenda(self, model, store, clock):
        model.add_node('compute-0001')
        before = renew_time(store, 'compute-0001')
        model.start_realtime()
        try:
            with pytest.raises(RuntimeError):
                model.advance(1)
            clock.advance(10)
            deadline = time.monotonic() + 10
            while renew_time(store, 'compute-0001') == before:
                assert time.monotonic() < deadline
                threading.Event().wait(0.01)
        finally:
            model.stop()
        assert model.stats()['lease-renewals'] == 1
        model.advance(10)
        assert model.stats()['lease-renewals'] == 2

    @pytest.mark.timeout(20)
    def test_stats_tell_the_worst_lateness_and_when(self, model, clock):
        model.add_node('compute-0001')
        assert model.stats()['max-lag-at'] is None
        # The real-time thread is not running while the clock moves, so
        # the renewal due within 10 s is served late by what is left.
        clock.advance(25)
        model.start_realtime()
        try:
            deadline = time.monotonic() + 10
            while model.stats()['lease-renewals'] < 1:
                assert time.monotonic() < deadline
                threading.Event().wait(0.01)
        finally:
            model.stop()

        stats = model.stats(reset_max_lag=True)
        assert 15 <= stats['max-lag'] <= 25
        assert stats['max-lag-at'] == clock.wall()
        after_reset = model.stats()
        assert (after_reset['max-lag'], after_reset['max-lag-at']) == (
            0.0, None)

    @pytest.mark.timeout(20)
    def test_run_realtime_returns_when_told(self, model):
        stop = threading.Event()
        runner = threading.Thread(target=model.run_realtime, args=(stop,))
        runner.start()
        stop.set()
        runner.join(5)

        assert not runner.is_alive()
