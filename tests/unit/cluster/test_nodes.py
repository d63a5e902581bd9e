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

"""The realistic Node and Lease factory of the test bed."""

import json
import re

import pytest

from masakarimonitors_k8s.testing import nodes

NOW = 1_800_000_000.0


def compact(obj):
    return json.dumps(obj, separators=(',', ':'))


def conditions_by_type(node):
    return {item['type']: item for item in node['status']['conditions']}


@pytest.mark.parametrize('name', ['compute-0001', 'compute-4999',
                                  'cmp-17.cloud.example.org'])
def test_default_node_is_as_heavy_as_a_real_one(name):
    node = nodes.make_node(name, now=NOW)

    # As the API server sends it, and as json.dumps writes it by default.
    assert 11_000 <= len(compact(node)) <= 16_000
    assert 11_000 <= len(json.dumps(node)) <= 16_000


def test_same_name_gives_the_same_node_byte_for_byte():
    first = nodes.make_node('compute-0042', now=NOW)
    second = nodes.make_node('compute-0042', now=NOW)

    assert compact(first) == compact(second)


def test_different_names_give_different_machines():
    first = nodes.make_node('compute-0001', now=NOW)
    second = nodes.make_node('compute-0002', now=NOW)

    for field in ('machineID', 'systemUUID', 'bootID'):
        assert first['status']['nodeInfo'][field] != \
            second['status']['nodeInfo'][field]
    assert first['spec']['providerID'] != second['spec']['providerID']
    assert first['status']['addresses'] != second['status']['addresses']


def test_index_sets_address_and_pod_cidr():
    node = nodes.make_node('compute-0001', now=NOW, index=300)

    assert node['status']['addresses'] == [
        {'type': 'InternalIP', 'address': '172.16.1.54'},
        {'type': 'Hostname', 'address': 'compute-0001'}]
    assert node['spec']['podCIDR'] == '10.129.44.0/24'
    assert node['spec']['podCIDRs'] == ['10.129.44.0/24']


def test_pod_cidr_refuses_an_index_outside_the_cluster_cidr():
    with pytest.raises(ValueError):
        nodes.pod_cidr(32768)


def test_node_carries_what_a_kubelet_and_openstack_helm_set():
    node = nodes.make_node('compute-0007', now=NOW, zone='az-2',
                           labels={'rack': 'r12'})
    metadata = node['metadata']

    assert node['apiVersion'] == 'v1' and node['kind'] == 'Node'
    assert metadata['labels']['kubernetes.io/hostname'] == 'compute-0007'
    assert metadata['labels']['kubernetes.io/arch'] == 'amd64'
    assert metadata['labels']['kubernetes.io/os'] == 'linux'
    assert metadata['labels']['topology.kubernetes.io/zone'] == 'az-2'
    assert metadata['labels']['topology.kubernetes.io/region'] == \
        'RegionOne'
    assert metadata['labels']['openstack-compute-node'] == 'enabled'
    assert 'node-role.kubernetes.io/worker' in metadata['labels']
    assert metadata['labels']['rack'] == 'r12'
    assert metadata['annotations']['node.alpha.kubernetes.io/ttl'] == '0'
    assert metadata['annotations'][
        'volumes.kubernetes.io/controller-managed-attach-detach'] == 'true'
    assert 'cinder.csi.openstack.org' in json.loads(
        metadata['annotations']['csi.volume.kubernetes.io/nodeid'])
    assert node['spec']['providerID'].startswith('openstack:///')

    status = node['status']
    info = status['nodeInfo']
    assert re.match(r'^v1\.35\.\d+$', info['kubeletVersion'])
    assert info['containerRuntimeVersion'].startswith('containerd://')
    assert info['operatingSystem'] == 'linux'
    assert re.match(r'^[0-9a-f]{32}$', info['machineID'])
    for field in ('osImage', 'kernelVersion', 'systemUUID', 'bootID'):
        assert info[field]
    assert status['daemonEndpoints'] == {'kubeletEndpoint': {'Port': 10250}}
    assert set(status['capacity']) >= {'cpu', 'memory', 'pods',
                                       'ephemeral-storage'}
    assert set(status['allocatable']) == set(status['capacity'])
    assert [address['type'] for address in status['addresses']] == [
        'InternalIP', 'Hostname']


def test_new_node_reports_ready_and_no_pressure():
    node = nodes.make_node('compute-0001', now=NOW)
    conditions = conditions_by_type(node)
    stamp = nodes.format_time(NOW)

    assert [item['type'] for item in node['status']['conditions']] == [
        'NetworkUnavailable', 'MemoryPressure', 'DiskPressure',
        'PIDPressure', 'Ready']
    assert conditions['Ready']['status'] == 'True'
    assert conditions['Ready']['reason'] == 'KubeletReady'
    for pressure in ('MemoryPressure', 'DiskPressure', 'PIDPressure'):
        assert conditions[pressure]['status'] == 'False'
    for condition in conditions.values():
        assert condition['lastHeartbeatTime'] == stamp
        assert condition['lastTransitionTime'] == stamp


def test_images_list_names_and_sizes():
    node = nodes.make_node('compute-0001', now=NOW, images=40)
    images = node['status']['images']

    assert len(images) == 40
    for image in images:
        digest_name, tag_name = image['names']
        assert re.match(r'^[\w./-]+@sha256:[0-9a-f]{64}$', digest_name)
        assert ':' in tag_name and '@' not in tag_name
        assert image['sizeBytes'] > 0
    sizes = [image['sizeBytes'] for image in images]
    assert sizes == sorted(sizes, reverse=True)
    assert len({tuple(image['names']) for image in images}) == 40


def test_fewer_images_and_no_managed_fields_make_a_small_node():
    node = nodes.make_node('compute-0001', now=NOW, images=0,
                           managed_fields=False)

    assert node['status']['images'] == []
    assert 'managedFields' not in node['metadata']
    assert len(compact(node)) < 3_500


def test_managed_fields_name_the_real_managers():
    node = nodes.make_node('compute-0001', now=NOW)
    entries = node['metadata']['managedFields']
    managers = {(entry['manager'], entry.get('subresource'))
                for entry in entries}

    assert {('kubelet', None), ('kubelet', 'status'),
            ('kube-controller-manager', None),
            ('kubectl-label', None)} <= managers
    kubelet_status = next(entry for entry in entries
                          if entry['manager'] == 'kubelet'
                          and entry.get('subresource') == 'status')
    conditions = kubelet_status['fieldsV1']['f:status']['f:conditions']
    assert 'k:{"type":"Ready"}' in conditions
    labels = next(entry for entry in entries
                  if entry['manager'] == 'kubectl-label')
    assert 'f:openstack-compute-node' in \
        labels['fieldsV1']['f:metadata']['f:labels']
    # Real fieldsV1 of a kubelet status entry is well over a kilobyte.
    assert len(compact(kubelet_status['fieldsV1'])) > 1_000


def test_lease_is_shaped_like_the_kubelets():
    lease = nodes.make_lease('compute-0001', now=NOW + 0.25,
                             node_uid='1234')

    assert lease['apiVersion'] == 'coordination.k8s.io/v1'
    assert lease['kind'] == 'Lease'
    assert lease['metadata']['namespace'] == 'kube-node-lease'
    assert lease['metadata']['ownerReferences'] == [{
        'apiVersion': 'v1', 'kind': 'Node', 'name': 'compute-0001',
        'uid': '1234'}]
    assert lease['spec']['holderIdentity'] == 'compute-0001'
    assert lease['spec']['leaseDurationSeconds'] == 40
    assert re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$',
                    lease['spec']['renewTime'])
    assert nodes.parse_time(lease['spec']['renewTime']) == NOW + 0.25


def test_lease_without_owner():
    lease = nodes.make_lease('compute-0001', now=NOW)

    assert 'ownerReferences' not in lease['metadata']


def test_time_formats_round_trip():
    assert nodes.format_time(NOW) == '2027-01-15T08:00:00Z'
    assert nodes.format_micro_time(NOW + 0.5) == \
        '2027-01-15T08:00:00.500000Z'
    assert nodes.parse_time('2027-01-15T08:00:00Z') == NOW
    assert nodes.parse_time('2027-01-15T08:00:00.500000Z') == NOW + 0.5


class TestKubeletStatus:
    def test_heartbeat_moves_and_transition_stays_while_status_holds(self):
        node = nodes.make_node('compute-0001', now=NOW)

        nodes.apply_kubelet_status(node, now=NOW + 300)

        ready = conditions_by_type(node)['Ready']
        assert ready['lastHeartbeatTime'] == nodes.format_time(NOW + 300)
        assert ready['lastTransitionTime'] == nodes.format_time(NOW)

    def test_changed_status_gets_a_new_transition(self):
        node = nodes.make_node('compute-0001', now=NOW)

        nodes.apply_kubelet_status(node, now=NOW + 60, ready=False,
                                   reason='KubeletNotReady',
                                   message='container runtime is down')

        ready = conditions_by_type(node)['Ready']
        assert ready['status'] == 'False'
        assert ready['reason'] == 'KubeletNotReady'
        assert ready['message'] == 'container runtime is down'
        assert ready['lastTransitionTime'] == nodes.format_time(NOW + 60)
        memory = conditions_by_type(node)['MemoryPressure']
        assert memory['lastTransitionTime'] == nodes.format_time(NOW)

    def test_conditions_of_other_agents_are_left_alone(self):
        node = nodes.make_node('compute-0001', now=NOW)
        before = conditions_by_type(node)['NetworkUnavailable']

        nodes.apply_kubelet_status(node, now=NOW + 300)

        assert conditions_by_type(node)['NetworkUnavailable'] == before
        assert node['status']['conditions'][0]['type'] == \
            'NetworkUnavailable'

    def test_boot_id_and_managed_fields_time_follow_the_post(self):
        node = nodes.make_node('compute-0001', now=NOW)

        nodes.apply_kubelet_status(
            node, now=NOW + 10, boot=nodes.boot_id('compute-0001', 2))

        assert node['status']['nodeInfo']['bootID'] == \
            nodes.boot_id('compute-0001', 2)
        assert nodes.boot_id('compute-0001', 2) != \
            nodes.boot_id('compute-0001', 1)
        status_entry = next(
            entry for entry in node['metadata']['managedFields']
            if entry['manager'] == 'kubelet' and entry.get('subresource'))
        assert status_entry['time'] == nodes.format_time(NOW + 10)
