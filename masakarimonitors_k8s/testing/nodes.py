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

"""Node and Lease objects shaped like the ones a real kubelet registers.

Part of the test bed (:mod:`masakarimonitors_k8s.testing`): the cluster model
(:mod:`masakarimonitors_k8s.testing.cluster`) stores these objects in the
Kubernetes API test server, and the monitor under test reads them over HTTP.

They are deliberately as heavy as real ones (about 13 KB of JSON each: image
lists, managedFields, capacity, nodeInfo) because the cost of listing and
watching thousands of Nodes is one of the things the monitor must survive, and
a three-line Node would hide it. Every value is derived from the node name
through a hash, so the same name always yields the same object and a test can
compare outputs byte for byte.

The kubelet-facing helpers (:func:`kubelet_conditions`,
:func:`apply_kubelet_status`) live here too, next to the condition texts they
share with :func:`make_node`.
"""

import datetime
import hashlib
import ipaddress
import uuid

LEASE_NAMESPACE = 'kube-node-lease'
LEASE_DURATION_SECONDS = 40
KUBELET_VERSION = 'v1.35.0'
CONTAINERD_VERSION = 'containerd://2.1.4'
OS_IMAGE = 'Ubuntu 24.04.3 LTS'
KERNEL_VERSION = '6.8.0-85-generic'
DEFAULT_REGION = 'RegionOne'
DEFAULT_ZONE = 'nova'

# The pressure conditions in the order the kubelet reports them, each with
# the (reason, message) it posts while the node is healthy.
PRESSURE_CONDITIONS = (
    ('MemoryPressure', 'KubeletHasSufficientMemory',
     'kubelet has sufficient memory available'),
    ('DiskPressure', 'KubeletHasNoDiskPressure',
     'kubelet has no disk pressure'),
    ('PIDPressure', 'KubeletHasSufficientPID',
     'kubelet has sufficient PID available'),
)
READY_REASON = 'KubeletReady'
READY_MESSAGE = 'kubelet is posting ready status'

# Images an OpenStack-Helm compute node typically holds: the repository and
# the tag it is pulled by, and a plausible uncompressed size in MB.
_IMAGE_CATALOG = (
    ('quay.io/airshipit/nova', '2025.1-ubuntu_noble', 1210),
    ('quay.io/airshipit/neutron', '2025.1-ubuntu_noble', 1140),
    ('quay.io/airshipit/libvirt', '2025.1-ubuntu_noble', 905),
    ('quay.io/airshipit/openvswitch', 'latest-ubuntu_noble', 310),
    ('quay.io/airshipit/masakari-monitors', '2025.1-ubuntu_noble', 870),
    ('quay.io/airshipit/ceph-config-helper', 'ubuntu_noble_19.2.2', 1530),
    ('quay.io/airshipit/kubernetes-entrypoint', 'latest-ubuntu_noble', 42),
    ('quay.io/airshipit/porthole-compute-utility', 'latest-ubuntu_noble', 690),
    ('docker.io/openstackhelm/heat', '2025.1-ubuntu_noble', 820),
    ('docker.io/openstackhelm/placement', '2025.1-ubuntu_noble', 760),
    ('docker.io/openstackhelm/ceph-daemon', 'ubuntu_noble_19.2.2', 1720),
    ('docker.io/library/ubuntu', 'noble', 78),
    ('registry.k8s.io/kube-proxy', KUBELET_VERSION, 93),
    ('registry.k8s.io/pause', '3.10', 1),
    ('registry.k8s.io/coredns/coredns', 'v1.12.1', 61),
    ('registry.k8s.io/sig-storage/csi-node-driver-registrar', 'v2.13.0', 31),
    ('registry.k8s.io/sig-storage/livenessprobe', 'v2.15.0', 29),
    ('registry.k8s.io/provider-os/cinder-csi-plugin', 'v1.33.0', 128),
    ('docker.io/calico/node', 'v3.30.2', 398),
    ('docker.io/calico/cni', 'v3.30.2', 226),
    ('docker.io/calico/pod2daemon-flexvol', 'v3.30.2', 15),
    ('quay.io/prometheus/node-exporter', 'v1.9.1', 24),
    ('docker.io/fluent/fluent-bit', '4.0.3', 96),
)
# Older tags of the same images pile up on a node between upgrades.
_OLDER_TAGS = ('2024.2-ubuntu_jammy', '2024.1-ubuntu_jammy',
               'latest-ubuntu_jammy')


def format_time(wall):
    """RFC 3339 in whole seconds, as Kubernetes writes metav1.Time."""
    moment = datetime.datetime.fromtimestamp(wall, tz=datetime.timezone.utc)
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


def format_micro_time(wall):
    """RFC 3339 with microseconds, as Kubernetes writes metav1.MicroTime."""
    moment = datetime.datetime.fromtimestamp(wall, tz=datetime.timezone.utc)
    return moment.strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def parse_time(text):
    """Seconds since the epoch from either timestamp format above."""
    moment = datetime.datetime.fromisoformat(text.replace('Z', '+00:00'))
    return moment.timestamp()


def _digest(*parts):
    return hashlib.sha256('\0'.join(parts).encode()).hexdigest()


def _uuid(*parts):
    return str(uuid.UUID(_digest(*parts)[:32]))


def boot_id(name, boot_number):
    """The bootID the node reports after its ``boot_number``-th boot."""
    return _uuid('boot', name, str(boot_number))


def _node_number(name):
    """A stable number for nodes created without an explicit index.

    Kept below 32768 so that :func:`pod_cidr` stays inside its /9.
    """
    return int(_digest('index', name)[:8], 16) % 32768


def internal_ip(index):
    """Host address of the ``index``-th node in a 172.16.0.0/12 network."""
    return str(ipaddress.IPv4Address('172.16.0.10') + index)


def pod_cidr(index):
    """The ``index``-th /24 of a 10.128.0.0/9 cluster CIDR."""
    if not 0 <= index < 32768:
        raise ValueError('pod CIDR index %r is outside 0..32767' % index)
    return '%s/24' % (ipaddress.IPv4Address('10.128.0.0') + index * 256)


def _images(name, count):
    images = []
    for position in range(count):
        repository, tag, size_mb = _IMAGE_CATALOG[
            position % len(_IMAGE_CATALOG)]
        generation = position // len(_IMAGE_CATALOG)
        if generation:
            tag = _OLDER_TAGS[(generation - 1) % len(_OLDER_TAGS)]
        digest = _digest('image', repository, tag)
        # Sizes wobble per node by a few MB, as layers differ per pull.
        wobble = int(_digest('size', name, repository, tag)[:6], 16) % 4096
        images.append({
            'names': ['%s@sha256:%s' % (repository, digest),
                      '%s:%s' % (repository, tag)],
            'sizeBytes': size_mb * 1_048_576 + wobble * 1024,
        })
    # The kubelet reports the biggest images first.
    images.sort(key=lambda image: -image['sizeBytes'])
    return images


def _network_condition(stamp):
    return {'type': 'NetworkUnavailable', 'status': 'False',
            'reason': 'CalicoIsUp',
            'message': 'Calico is running on this node',
            'lastHeartbeatTime': stamp, 'lastTransitionTime': stamp}


def kubelet_conditions(*, now, ready=True, reason=READY_REASON,
                       message=READY_MESSAGE):
    """The four conditions a kubelet posts, all heartbeating at ``now``."""
    stamp = format_time(now)
    conditions = [{
        'type': condition_type, 'status': 'False',
        'reason': healthy_reason, 'message': healthy_message,
        'lastHeartbeatTime': stamp, 'lastTransitionTime': stamp,
    } for condition_type, healthy_reason, healthy_message
        in PRESSURE_CONDITIONS]
    conditions.append({
        'type': 'Ready', 'status': 'True' if ready else 'False',
        'reason': reason, 'message': message,
        'lastHeartbeatTime': stamp, 'lastTransitionTime': stamp,
    })
    return conditions


def apply_kubelet_status(node, *, now, ready=True, reason=READY_REASON,
                         message=READY_MESSAGE, boot=None):
    """Edit ``node`` in place the way a kubelet's status update does.

    Every condition gets a new heartbeat; a condition whose status changes
    (for example Unknown, set by the node lifecycle controller, back to
    True) also gets a new transition time, exactly as the kubelet compares
    its view with the Node it just read from the API.
    """
    stamp = format_time(now)
    status = node.setdefault('status', {})
    wanted = {item['type']: item for item in kubelet_conditions(
        now=now, ready=ready, reason=reason, message=message)}
    conditions = []
    for previous in status.get('conditions', []):
        fresh = wanted.pop(previous.get('type'), None)
        if fresh is None:
            # Conditions other agents own (NetworkUnavailable from the CNI)
            # are left alone by the kubelet.
            conditions.append(previous)
            continue
        if previous.get('status') == fresh['status']:
            fresh['lastTransitionTime'] = previous.get(
                'lastTransitionTime', stamp)
        conditions.append(fresh)
    conditions.extend(wanted.values())
    status['conditions'] = conditions
    if boot is not None:
        status.setdefault('nodeInfo', {})['bootID'] = boot
    for entry in node.get('metadata', {}).get('managedFields', []):
        if entry.get('manager') == 'kubelet' and entry.get('subresource'):
            entry['time'] = stamp
    return node


def _field_set(value):
    """Server-side-apply field set owning every key of a nested map."""
    if isinstance(value, dict):
        fields = {'.': {}}
        for key in sorted(value):
            fields['f:' + key] = _field_set(value[key])
        return fields
    return {}


def _keys(mapping, *names):
    return {'f:' + name: {} for name in names if name in mapping}


def _managed_fields(node, stamp):
    metadata, spec, status = node['metadata'], node['spec'], node['status']
    kubelet_labels = ('beta.kubernetes.io/arch', 'beta.kubernetes.io/os',
                      'kubernetes.io/arch', 'kubernetes.io/hostname',
                      'kubernetes.io/os', 'topology.kubernetes.io/region',
                      'topology.kubernetes.io/zone')
    admin_labels = sorted(set(metadata['labels']) - set(kubelet_labels))
    condition_fields = {
        'k:{"type":"%s"}' % item['type']: {
            '.': {}, 'f:lastHeartbeatTime': {}, 'f:lastTransitionTime': {},
            'f:message': {}, 'f:reason': {}, 'f:status': {}, 'f:type': {}}
        for item in status['conditions']
        if item['type'] != 'NetworkUnavailable'}
    kubelet_status = {
        'f:metadata': {'f:annotations': _keys(
            metadata['annotations'], 'csi.volume.kubernetes.io/nodeid')},
        'f:status': {
            'f:addresses': {
                'k:{"type":"%s"}' % item['type']: {
                    '.': {}, 'f:address': {}, 'f:type': {}}
                for item in status['addresses']},
            'f:allocatable': _field_set(status['allocatable']),
            'f:capacity': _field_set(status['capacity']),
            'f:conditions': condition_fields,
            'f:daemonEndpoints': _field_set(status['daemonEndpoints']),
            'f:features': _field_set(status['features']),
            'f:images': {},
            'f:nodeInfo': _field_set(status['nodeInfo']),
            'f:runtimeHandlers': {},
        },
    }
    kubelet_metadata = {
        'f:metadata': {
            'f:annotations': {'.': {}, **_keys(
                metadata['annotations'],
                'kubeadm.alpha.kubernetes.io/cri-socket',
                'volumes.kubernetes.io/controller-managed-attach-detach')},
            'f:labels': {'.': {}, **_keys(metadata['labels'],
                                          *kubelet_labels)},
        },
        'f:spec': {'f:providerID': {}},
    }
    controller_manager = {
        'f:metadata': {'f:annotations': {
            'f:node.alpha.kubernetes.io/ttl': {}}},
        'f:spec': {
            'f:podCIDR': {},
            'f:podCIDRs': {'.': {}, **{
                'v:"%s"' % cidr: {} for cidr in spec['podCIDRs']}},
        },
    }
    calico = {
        'f:metadata': {'f:annotations': _keys(
            metadata['annotations'], 'projectcalico.org/IPv4Address',
            'projectcalico.org/IPv4IPIPTunnelAddr')},
        'f:status': {'f:conditions': {
            'k:{"type":"NetworkUnavailable"}': {
                '.': {}, 'f:lastHeartbeatTime': {},
                'f:lastTransitionTime': {}, 'f:message': {}, 'f:reason': {},
                'f:status': {}, 'f:type': {}}}},
    }
    label_fields = {'f:metadata': {'f:labels': _keys(
        metadata['labels'], *admin_labels)}}

    def entry(manager, fields, subresource=None):
        item = {'apiVersion': 'v1', 'fieldsType': 'FieldsV1',
                'fieldsV1': fields, 'manager': manager,
                'operation': 'Update', 'time': stamp}
        if subresource:
            item['subresource'] = subresource
        return item

    return [
        entry('kubelet', kubelet_metadata),
        entry('kube-controller-manager', controller_manager),
        entry('kubectl-label', label_fields),
        entry('calico-node', calico, 'status'),
        entry('kubelet', kubelet_status, 'status'),
    ]


def make_node(name, *, now, labels=None, zone=None, region=DEFAULT_REGION,
              images=40, managed_fields=True, index=None, boot_number=1,
              kubelet_version=KUBELET_VERSION):
    """A Node as a kubelet registers it on an OpenStack-Helm compute host.

    ``now`` (epoch seconds) stamps creation and the first heartbeat.
    ``index`` picks the node's address and pod CIDR; without it both come
    from the name's hash, which is unique enough for small clusters.
    ``labels`` are added to (or override) the standard ones.
    """
    number = _node_number(name) if index is None else index
    zone = DEFAULT_ZONE if zone is None else zone
    address = internal_ip(number)
    cidr = pod_cidr(number)
    instance_id = _uuid('instance', name)
    stamp = format_time(now)
    all_labels = {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'node-role.kubernetes.io/worker': '',
        'topology.kubernetes.io/region': region,
        'topology.kubernetes.io/zone': zone,
        'openstack-compute-node': 'enabled',
        'openvswitch': 'enabled',
    }
    all_labels.update(labels or {})
    node = {
        'apiVersion': 'v1',
        'kind': 'Node',
        'metadata': {
            'name': name,
            'creationTimestamp': stamp,
            'labels': all_labels,
            'annotations': {
                'csi.volume.kubernetes.io/nodeid':
                    '{"cinder.csi.openstack.org":"%s"}' % instance_id,
                'kubeadm.alpha.kubernetes.io/cri-socket':
                    'unix:///var/run/containerd/containerd.sock',
                'node.alpha.kubernetes.io/ttl': '0',
                'projectcalico.org/IPv4Address': '%s/12' % address,
                'projectcalico.org/IPv4IPIPTunnelAddr':
                    str(ipaddress.IPv4Network(cidr)[1]),
                'volumes.kubernetes.io/controller-managed-attach-detach':
                    'true',
            },
        },
        'spec': {
            'podCIDR': cidr,
            'podCIDRs': [cidr],
            'providerID': 'openstack:///%s' % instance_id,
        },
        'status': {
            'addresses': [
                {'type': 'InternalIP', 'address': address},
                {'type': 'Hostname', 'address': name},
            ],
            'capacity': {
                'cpu': '64', 'ephemeral-storage': '479151816Ki',
                'hugepages-1Gi': '0', 'hugepages-2Mi': '0',
                'memory': '528157580Ki', 'pods': '110',
            },
            'allocatable': {
                'cpu': '63', 'ephemeral-storage': '441586389812',
                'hugepages-1Gi': '0', 'hugepages-2Mi': '0',
                'memory': '526958508Ki', 'pods': '110',
            },
            'conditions': [_network_condition(stamp)]
            + kubelet_conditions(now=now),
            'daemonEndpoints': {'kubeletEndpoint': {'Port': 10250}},
            'features': {'supplementalGroupsPolicy': True},
            'images': _images(name, images),
            'nodeInfo': {
                'architecture': 'amd64',
                'bootID': boot_id(name, boot_number),
                'containerRuntimeVersion': CONTAINERD_VERSION,
                'kernelVersion': KERNEL_VERSION,
                # Deprecated and no longer set by kubelets, but the API
                # still serializes it (no omitempty), and typed clients
                # require it.
                'kubeProxyVersion': '',
                'kubeletVersion': kubelet_version,
                'machineID': _digest('machine', name)[:32],
                'operatingSystem': 'linux',
                'osImage': OS_IMAGE,
                'systemUUID': instance_id,
            },
            'runtimeHandlers': [
                {'name': 'runc', 'features': {
                    'recursiveReadOnlyMounts': True,
                    'userNamespaces': True}},
                {'name': '', 'features': {
                    'recursiveReadOnlyMounts': True,
                    'userNamespaces': True}},
            ],
        },
    }
    if managed_fields:
        node['metadata']['managedFields'] = _managed_fields(node, stamp)
    return node


def make_lease(node_name, *, now, node_uid=None, namespace=LEASE_NAMESPACE,
               duration_seconds=LEASE_DURATION_SECONDS, managed_fields=True):
    """The kubelet's heartbeat Lease, renewed at ``now``.

    With ``node_uid`` the Lease is owned by its Node, as the kubelet sets it
    up, so that deleting the Node garbage-collects the Lease.
    """
    renew = format_micro_time(now)
    metadata = {'name': node_name, 'namespace': namespace}
    if node_uid:
        metadata['ownerReferences'] = [{
            'apiVersion': 'v1', 'kind': 'Node', 'name': node_name,
            'uid': node_uid}]
    if managed_fields:
        owner_fields = {}
        if node_uid:
            owner_fields = {'f:ownerReferences': {
                '.': {}, 'k:{"uid":"%s"}' % node_uid: {}}}
        metadata['managedFields'] = [{
            'apiVersion': 'coordination.k8s.io/v1',
            'fieldsType': 'FieldsV1',
            'fieldsV1': {
                'f:metadata': owner_fields,
                'f:spec': {'f:holderIdentity': {},
                           'f:leaseDurationSeconds': {},
                           'f:renewTime': {}},
            },
            'manager': 'kubelet',
            'operation': 'Update',
            'time': format_time(now),
        }]
    return {
        'apiVersion': 'coordination.k8s.io/v1',
        'kind': 'Lease',
        'metadata': metadata,
        'spec': {
            'holderIdentity': node_name,
            'leaseDurationSeconds': duration_seconds,
            'renewTime': renew,
        },
    }
