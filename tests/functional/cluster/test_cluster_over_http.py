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

"""The cluster model as the official Kubernetes client sees it over HTTP.

This is the monitor's point of view: typed Node and Lease objects through
the test API server, with the model staging a power-off behind it.
"""

import datetime

from kubernetes import client
from kubernetes import watch
import pytest

from masakarimonitors_k8s import clock as clock_module
from masakarimonitors_k8s.testing import cluster
from masakarimonitors_k8s.testing.kube_apiserver import server
from masakarimonitors_k8s.testing.kube_apiserver import store as store_module


@pytest.fixture
def clock():
    return clock_module.ManualClock()


@pytest.fixture
def model(clock):
    store = store_module.ObjectStore(clock=clock)
    with cluster.ClusterModel(store, clock) as model:
        yield model, store


@pytest.fixture
def api_client(model):
    _, store = model
    with server.KubeApiServer(store=store, auth=False) as api_server:
        configuration = client.Configuration()
        configuration.host = api_server.url
        with client.ApiClient(configuration) as api_client:
            yield api_client


def ready_of(node):
    return next(item for item in node.status.conditions
                if item.type == 'Ready')


@pytest.mark.timeout(60)
def test_power_off_seen_through_the_official_client(model, api_client,
                                                    clock):
    cluster_model, _ = model
    core = client.CoreV1Api(api_client)
    coordination = client.CoordinationV1Api(api_client)
    names = cluster_model.add_nodes(3, zones=['az1'])
    cluster_model.advance(30)
    listed = core.list_node()
    assert sorted(node.metadata.name for node in listed.items) == names
    assert all(ready_of(node).status == 'True' for node in listed.items)
    lease = coordination.read_namespaced_lease(names[1], 'kube-node-lease')
    assert lease.spec.holder_identity == names[1]
    assert lease.spec.lease_duration_seconds == 40
    last_renewal = lease.spec.renew_time
    assert isinstance(last_renewal, datetime.datetime)
    assert last_renewal.timestamp() == pytest.approx(clock.wall(), abs=10)

    cluster_model.power_off(names[1])
    cluster_model.advance(70)

    node = core.read_node(names[1])
    ready = ready_of(node)
    assert ready.status == 'Unknown'
    assert ready.reason == 'NodeStatusUnknown'
    assert ready.message == 'Kubelet stopped posting node status.'
    assert ready.last_transition_time.timestamp() - \
        last_renewal.timestamp() > 50
    assert {(taint.key, taint.effect) for taint in node.spec.taints} == {
        ('node.kubernetes.io/unreachable', 'NoSchedule'),
        ('node.kubernetes.io/unreachable', 'NoExecute')}
    assert coordination.read_namespaced_lease(
        names[1], 'kube-node-lease').spec.renew_time == last_renewal
    assert node.status.node_info.kubelet_version.startswith('v1.35.')
    assert len(node.status.images) == 40
    events = core.list_namespaced_event(
        'default', field_selector='involvedObject.name=%s' % names[1])
    assert [event.reason for event in events.items] == ['NodeNotReady']


@pytest.mark.timeout(60)
def test_watch_replays_the_failure_in_order(model, api_client):
    cluster_model, _ = model
    core = client.CoreV1Api(api_client)
    cluster_model.add_nodes(2)
    since = core.list_node().metadata.resource_version

    cluster_model.power_off('compute-0002')
    cluster_model.advance(70)
    cluster_model.power_on('compute-0002')
    cluster_model.advance(5)

    seen = []
    stream = watch.Watch()
    for event in stream.stream(core.list_node, resource_version=since,
                               _request_timeout=30):
        node = event['object']
        if node.metadata.name != 'compute-0002':
            continue
        seen.append((ready_of(node).status,
                     sorted(taint.key for taint in node.spec.taints or [])))
        if len(seen) == 4:
            stream.stop()
    assert seen == [
        ('Unknown', []),
        ('Unknown', ['node.kubernetes.io/unreachable'] * 2),
        ('True', ['node.kubernetes.io/unreachable'] * 2),
        ('True', []),
    ]
