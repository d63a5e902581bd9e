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

"""Raw Node and Lease dicts -> the compact state the policy reads.

Position in the flow: Kubernetes watch -> **node state** -> policy.
Objects arrive as parsed JSON (dicts), not as the client's model classes:
building models costs about three times the parse itself (measured, see
../shared notes on the upstream driver), and a monitor of 5,000 nodes
should keep a few hundred bytes per node, not 13 KB. Everything the health
policy may ever need is extracted here, once, and the rest is dropped.

Bad objects never raise: a Node with no status, no conditions or odd
timestamps yields a state whose ``problems`` say what is wrong, and the
policy makes no new verdict from it.
"""

import dataclasses
import datetime

READY = 'Ready'
UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable'
NOT_READY_TAINT = 'node.kubernetes.io/not-ready'
ZONE_LABEL = 'topology.kubernetes.io/zone'


@dataclasses.dataclass(frozen=True)
class NodeState:
    """What the monitor knows of one Node, at one resourceVersion."""

    name: str
    hostname: str | None
    resource_version: str
    excluded: bool = False
    zone: str | None = None
    # Status of the Ready condition: 'True', 'False', 'Unknown' or None
    # when the Node has no such condition (yet).
    ready: str | None = None
    ready_reason: str | None = None
    # Wall time (epoch seconds) of the Ready condition's last transition.
    ready_since: float | None = None
    unreachable_taint: bool = False
    out_of_service: bool = False
    out_of_service_since: float | None = None
    unschedulable: bool = False
    problems: tuple = ()
    # Annotation naming the node's BMC (Redfish fencing), when configured.
    bmc_address: str | None = None
    # For Events: kubectl describe node matches them by uid.
    uid: str | None = None


@dataclasses.dataclass(frozen=True)
class LeaseState:
    name: str
    resource_version: str
    renew_time: float | None
    duration: float | None = None
    problems: tuple = ()
    # Our monotonic time when this renewTime was first seen (set by the
    # engine), so that a backlog or a jump of the server's clock never makes
    # a renewal we have just heard of look stale.
    observed_at: float | None = None


def parse_time(value):
    """RFC 3339 (as Kubernetes writes it) -> epoch seconds; None if odd."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith('Z') or text.endswith('z'):
        text = text[:-1] + '+00:00'
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.timestamp()


def format_time(epoch):
    return datetime.datetime.fromtimestamp(
        epoch, tz=datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


class NodeTranslator:
    """Turns raw Node dicts into :class:`NodeState` for one configuration.

    :param hostname_source: 'node-name', 'short-name', 'label' or
        'annotation' (see ``[k8s] hostname_source``).
    :param hostname_key: label/annotation key for the last two sources.
    :param hostname_domain: appended as ``.<domain>`` to a host name
        without a dot (``[k8s] hostname_domain``), e.g. for nova's FQDN
        host names when node names are short.
    :param exclude_label: nodes with this label (value not 'false') are
        out of scope.
    :param out_of_service_taint: taint key that is fencing evidence.
    """

    def __init__(self, *, hostname_source='node-name', hostname_key=None,
                 exclude_label='', out_of_service_taint=(
                     'node.kubernetes.io/out-of-service'),
                 zone_label=ZONE_LABEL, bmc_annotation=None,
                 hostname_domain=''):
        self._hostname_source = hostname_source
        self._hostname_key = hostname_key
        self._domain_suffix = ('.' + hostname_domain) if hostname_domain \
            else ''
        self._exclude_label = exclude_label
        self._out_of_service_taint = out_of_service_taint
        self._zone_label = zone_label
        self._bmc_annotation = bmc_annotation

    def node_name(self, obj):
        metadata = obj.get('metadata') if isinstance(obj, dict) else None
        name = metadata.get('name') if isinstance(metadata, dict) else None
        return name if isinstance(name, str) and name else None

    def translate(self, obj):
        """Return a NodeState, or None when the object has no name."""
        name = self.node_name(obj)
        if name is None:
            return None
        problems = []
        metadata = obj['metadata']
        labels = _dict_or_empty(metadata.get('labels'), 'labels', problems)
        annotations = _dict_or_empty(metadata.get('annotations'),
                                     'annotations', problems)
        hostname = self._hostname(name, labels, annotations, problems)
        excluded = bool(self._exclude_label) and (
            self._exclude_label in labels
            and str(labels[self._exclude_label]).lower() != 'false')

        spec = obj.get('spec')
        spec = spec if isinstance(spec, dict) else {}
        taints = spec.get('taints') or []
        if not isinstance(taints, list):
            problems.append('spec.taints is not a list')
            taints = []
        unreachable = False
        out_of_service = False
        out_of_service_since = None
        for taint in taints:
            if not isinstance(taint, dict):
                continue
            key = taint.get('key')
            if key == UNREACHABLE_TAINT:
                unreachable = True
            elif key == self._out_of_service_taint:
                out_of_service = True
                out_of_service_since = parse_time(taint.get('timeAdded'))

        ready = ready_reason = ready_since = None
        status = obj.get('status')
        if not isinstance(status, dict):
            problems.append('no status')
        else:
            conditions = status.get('conditions')
            if not isinstance(conditions, list) or not conditions:
                problems.append('no status.conditions')
            else:
                condition = next(
                    (c for c in conditions
                     if isinstance(c, dict) and c.get('type') == READY),
                    None)
                if condition is None:
                    problems.append('no Ready condition')
                elif condition.get('status') not in (
                        'True', 'False', 'Unknown'):
                    problems.append('Ready condition status %r'
                                    % (condition.get('status'),))
                else:
                    ready = condition['status']
                    ready_reason = condition.get('reason')
                    ready_since = parse_time(
                        condition.get('lastTransitionTime'))
                    if ready_since is None:
                        problems.append(
                            'Ready lastTransitionTime %r is not a time'
                            % (condition.get('lastTransitionTime'),))
        return NodeState(
            name=name,
            hostname=hostname,
            resource_version=str(metadata.get('resourceVersion', '')),
            excluded=excluded,
            zone=labels.get(self._zone_label) if self._zone_label else None,
            bmc_address=(annotations.get(self._bmc_annotation)
                         if self._bmc_annotation else None),
            uid=metadata.get('uid') if isinstance(metadata.get('uid'),
                                                  str) else None,
            ready=ready,
            ready_reason=ready_reason,
            ready_since=ready_since,
            unreachable_taint=unreachable,
            out_of_service=out_of_service,
            out_of_service_since=out_of_service_since,
            unschedulable=bool(spec.get('unschedulable')),
            problems=tuple(problems),
        )

    def _hostname(self, name, labels, annotations, problems):
        hostname = self._source_hostname(name, labels, annotations, problems)
        if hostname and self._domain_suffix and '.' not in hostname:
            return hostname + self._domain_suffix
        return hostname

    def _source_hostname(self, name, labels, annotations, problems):
        source = self._hostname_source
        if source == 'node-name':
            return name
        if source == 'short-name':
            return name.split('.', 1)[0]
        values = labels if source == 'label' else annotations
        value = values.get(self._hostname_key)
        if not isinstance(value, str) or not value:
            problems.append('no %s %r for the Masakari host name'
                            % (source, self._hostname_key))
            return None
        return value


def translate_lease(obj):
    metadata = obj.get('metadata') if isinstance(obj, dict) else None
    name = metadata.get('name') if isinstance(metadata, dict) else None
    if not isinstance(name, str) or not name:
        return None
    problems = []
    spec = obj.get('spec')
    spec = spec if isinstance(spec, dict) else {}
    renew_time = parse_time(spec.get('renewTime'))
    if renew_time is None:
        problems.append('spec.renewTime %r is not a time'
                        % (spec.get('renewTime'),))
    duration = spec.get('leaseDurationSeconds')
    if not isinstance(duration, (int, float)) or isinstance(duration, bool):
        duration = None
    return LeaseState(name=name,
                      resource_version=str(metadata.get('resourceVersion',
                                                        '')),
                      renew_time=renew_time, duration=duration,
                      problems=tuple(problems))


def _dict_or_empty(value, what, problems):
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append('metadata.%s is not a map' % what)
        return {}
    return value
