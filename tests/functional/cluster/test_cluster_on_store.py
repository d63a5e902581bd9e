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

"""The cluster model writing into the real Kubernetes API test store.

What a watcher of that store (and so the monitor, through the HTTP layer)
sees when the model stages failures.
"""

import threading
import time

import pytest

from masakarimonitors_k8s import clock as clock_module
from masakarimonitors_k8s.testing import cluster
from masakarimonitors_k8s.testing.kube_apiserver import store as store_module
from masakarimonitors_k8s.testing import nodes


@pytest.fixture
def clock():
    return clock_module.ManualClock()


@pytest.fixture
def store(clock):
    return store_module.ObjectStore(clock=clock, history_limit=20000)


@pytest.fixture
def model(store, clock):
    with cluster.ClusterModel(store, clock) as model:
        yield model


def ready_of(node):
    return next(item for item in node['status']['conditions']
                if item['type'] == 'Ready')


def drain(watcher):
    events = []
    while True:
        event = watcher.next(timeout=0)
        if event is None:
            return events
        events.append(event)


def wait_for(predicate, *, timeout):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, 'condition not met in time'
        threading.Event().wait(0.01)


def test_served_node_is_realistically_heavy(model, store):
    model.add_nodes(3)

    for name in model.node_names():
        served = store.get_entry('nodes', name).full()
        assert 11_000 <= len(served) <= 16_000


def test_watcher_sees_silence_then_unknown_then_taints(model, store, clock):
    names = model.add_nodes(3)
    model.advance(30)
    node_watch = store.watch('nodes', resource_version=store.resource_version)
    lease_watch = store.watch('leases', namespace='kube-node-lease',
                              resource_version=store.resource_version)

    model.power_off(names[1])
    model.advance(70)

    renewed = {obj['metadata']['name'] for _, obj in drain(lease_watch)}
    assert names[1] not in renewed
    assert renewed == {names[0], names[2]}
    changes = [obj for kind, obj in drain(node_watch)
               if obj['metadata']['name'] == names[1]]
    assert [ready_of(obj)['status'] for obj in changes] == [
        'Unknown', 'Unknown']
    assert 'taints' not in changes[0]['spec']
    assert {(taint['key'], taint['effect'])
            for taint in changes[1]['spec']['taints']} == {
        ('node.kubernetes.io/unreachable', 'NoSchedule'),
        ('node.kubernetes.io/unreachable', 'NoExecute')}
    assert int(changes[1]['metadata']['resourceVersion']) > \
        int(changes[0]['metadata']['resourceVersion'])


def test_recovery_as_the_watcher_sees_it(model, store):
    model.add_node('compute-0001')
    model.power_off('compute-0001')
    model.advance(70)
    node_watch = store.watch('nodes', resource_version=store.resource_version)

    model.power_on('compute-0001')
    model.advance(5)

    changes = [obj for _, obj in drain(node_watch)]
    assert ready_of(changes[0])['status'] == 'True'
    assert changes[0]['spec'].get('taints')
    assert ready_of(changes[-1])['status'] == 'True'
    assert not changes[-1]['spec'].get('taints')


def test_events_listed_by_field_selector(model, store):
    model.add_node('compute-0001')
    model.power_off('compute-0001')
    model.advance(70)

    events, _, _ = store.list(
        'events', namespace='default',
        field_selector='involvedObject.kind=Node,'
                       'involvedObject.name=compute-0001,'
                       'reason=NodeNotReady')
    assert len(events) == 1
    assert events[0]['source'] == {'component': 'node-controller'}


def test_delete_node_is_seen_as_deleted(model, store):
    model.add_nodes(2)
    node_watch = store.watch('nodes', resource_version=store.resource_version)

    model.delete_node('compute-0002')

    assert [(kind, obj['metadata']['name'])
            for kind, obj in drain(node_watch)] == [
        ('DELETED', 'compute-0002')]
    assert store.count('leases', namespace='kube-node-lease') == 1


def test_many_nodes_half_an_hour_of_cluster_life(store, clock):
    with cluster.ClusterModel(store, clock) as model:
        names = model.add_nodes(100, zones=['az1', 'az2', 'az3', 'az4'])
        for name in names[:10]:
            model.power_off(name)

        model.advance(1800)

        stats = model.stats()
        # 90 kubelets renewing every 10 s, the other 10 for < 10 s.
        assert 90 * 180 <= stats['lease-renewals'] <= 90 * 180 + 100
        assert stats['controller-ticks'] == 360
        unknown = {event.node for event in model.events
                   if event.kind == 'ready-unknown'}
        assert unknown == set(names[:10])
        health = model.zone_health()
        assert sum(zone.not_ready for zone in health.values()) == 10
        assert sum(zone.ready for zone in health.values()) == 90


@pytest.mark.timeout(60)
def test_realtime_on_the_system_clock():
    system_clock = clock_module.SystemClock()
    store = store_module.ObjectStore(clock=system_clock)
    # Kubernetes' timing scaled down 25 times, to keep the test short.
    with cluster.ClusterModel(store, system_clock, grace_period=2.0,
                              lease_renew_interval=0.4,
                              status_report_interval=12.0,
                              controller_period=0.2) as model:
        model.add_nodes(20)
        model.start_realtime()
        wait_for(lambda: model.stats()['lease-renewals'] >= 40, timeout=20)

        model.power_off('compute-0007')
        wait_for(lambda: ready_of(store.get('nodes', 'compute-0007'))[
            'status'] == 'Unknown', timeout=20)

        off = model.first_event('power-off', 'compute-0007')
        unknown = model.first_event('ready-unknown', 'compute-0007')
        renewed = nodes.parse_time(store.get(
            'leases', 'compute-0007',
            namespace='kube-node-lease')['spec']['renewTime'])
        assert unknown - renewed > 2.0
        # Generous: a loaded machine only makes the controller late.
        assert unknown - off < 2.0 + 2 * 0.2 + 3.0
        assert ready_of(store.get('nodes', 'compute-0001'))['status'] == \
            'True'
        model.stop()
    assert model.stats()['lease-renewals'] >= 40
