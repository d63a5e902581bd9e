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

"""Minimal raw Node and Lease dicts for the unit tests.

The test bed in :mod:`masakarimonitors_k8s.testing` builds realistic 13 KB
Nodes for the functional suite; the unit tests want the opposite: the few
fields the translator reads, spelled out, so a test shows at a glance which
part of the object it is about. Objects are plain dicts shaped like the
JSON the API server sends.
"""

import datetime

# A fixed instant near ManualClock's default wall time (1.8e9), so times
# written into objects and times read from a ManualClock line up.
EPOCH = 1_800_000_000.0

OUT_OF_SERVICE = 'node.kubernetes.io/out-of-service'
UNREACHABLE = 'node.kubernetes.io/unreachable'
NOT_READY = 'node.kubernetes.io/not-ready'


def rfc3339(epoch, *, micro=False):
    """Epoch seconds -> the timestamp text Kubernetes writes."""
    moment = datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc)
    pattern = '%Y-%m-%dT%H:%M:%S.%fZ' if micro else '%Y-%m-%dT%H:%M:%SZ'
    return moment.strftime(pattern)


def taint(key, *, effect='NoExecute', value=None, time_added=None):
    result = {'key': key, 'effect': effect}
    if value is not None:
        result['value'] = value
    if time_added is not None:
        result['timeAdded'] = rfc3339(time_added)
    return result


def out_of_service_taint(*, time_added=None):
    return taint(OUT_OF_SERVICE, value='nodeshutdown',
                 time_added=time_added)


def unreachable_taint(*, time_added=None):
    return taint(UNREACHABLE, time_added=time_added)


def ready_condition(status='True', *, since=EPOCH, reason=None):
    reason = reason or {'True': 'KubeletReady',
                        'False': 'KubeletNotReady',
                        'Unknown': 'NodeStatusUnknown'}.get(status)
    return {'type': 'Ready', 'status': status, 'reason': reason,
            'lastTransitionTime': rfc3339(since),
            'lastHeartbeatTime': rfc3339(since)}


def node(name='node-1', *, ready='True', since=EPOCH, reason=None,
         labels=None, annotations=None, taints=(), unschedulable=False,
         resource_version='1'):
    """A Node with one Ready condition (``ready=None``: no conditions)."""
    metadata = {'name': name, 'resourceVersion': resource_version,
                'labels': dict(labels or {})}
    if annotations is not None:
        metadata['annotations'] = dict(annotations)
    spec = {}
    if taints:
        spec['taints'] = [dict(t) for t in taints]
    if unschedulable:
        spec['unschedulable'] = True
    conditions = []
    if ready is not None:
        conditions.append({'type': 'MemoryPressure', 'status': 'False'})
        conditions.append(ready_condition(ready, since=since, reason=reason))
    return {'apiVersion': 'v1', 'kind': 'Node', 'metadata': metadata,
            'spec': spec, 'status': {'conditions': conditions}}


def ready_node(name='node-1', **kwargs):
    return node(name, ready='True', **kwargs)


def unknown_node(name='node-1', **kwargs):
    return node(name, ready='Unknown', **kwargs)


def not_ready_node(name='node-1', **kwargs):
    return node(name, ready='False', **kwargs)


def powered_off_node(name='node-1', *, since=EPOCH, **kwargs):
    """What a powered-off, fenced node looks like.

    Ready=Unknown, the lifecycle controller's unreachable taint and the
    admin's out-of-service taint.
    """
    return node(name, ready='Unknown', since=since,
                taints=(unreachable_taint(time_added=since),
                        out_of_service_taint(time_added=since)), **kwargs)


def lease(name='node-1', *, renew_time=EPOCH, duration=40,
          resource_version='1'):
    return {'apiVersion': 'coordination.k8s.io/v1', 'kind': 'Lease',
            'metadata': {'name': name, 'namespace': 'kube-node-lease',
                         'resourceVersion': resource_version},
            'spec': {'holderIdentity': name,
                     'leaseDurationSeconds': duration,
                     'renewTime': rfc3339(renew_time, micro=True)}}
