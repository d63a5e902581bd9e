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

"""Every pod the chart renders meets the "restricted" Pod Security
Standard, and the rest of what the Deployment promises.

The restricted profile (kubernetes.io/docs/concepts/security/
pod-security-standards, v1.35) is checked field by field, the way the
PodSecurity admission plugin reads it: a container setting wins over the
pod setting where both exist.
"""

import pytest

from tests.chart import manifests
from tests.chart import render

# Volume types the restricted profile allows.
RESTRICTED_VOLUME_TYPES = {'configMap', 'csi', 'downwardAPI', 'emptyDir',
                           'ephemeral', 'persistentVolumeClaim', 'projected',
                           'secret'}
CONF_PATH = '/etc/masakarimonitors/masakarimonitors.conf'


def pod_templates(objects):
    """(name, pod spec) of every workload, bare Pods (helm test) too."""
    for kind in ('Deployment', 'StatefulSet', 'DaemonSet', 'Job'):
        for item in manifests.objects_of_kind(objects, kind):
            yield item['metadata']['name'], item['spec']['template']['spec']
    for item in manifests.objects_of_kind(objects, 'Pod'):
        yield item['metadata']['name'], item['spec']


def containers(pod):
    return (pod.get('initContainers') or []) + pod['containers']


def effective(pod, container, field):
    """A security field as admission sees it: container, else pod."""
    value = (container.get('securityContext') or {}).get(field)
    if value is None:
        value = (pod.get('securityContext') or {}).get(field)
    return value


def test_a_pod_is_rendered(named_render):
    _, objects = named_render
    assert list(pod_templates(objects))


def restricted_violations(objects):
    """What in ``objects`` breaks the restricted profile, as messages."""
    found = []
    for name, pod in pod_templates(objects):
        for flag in ('hostNetwork', 'hostPID', 'hostIPC'):
            if pod.get(flag):
                found.append('%s: %s' % (name, flag))
        for volume in pod.get('volumes') or ():
            if not set(volume) - {'name'} <= RESTRICTED_VOLUME_TYPES:
                found.append('%s: volume %s' % (name, volume['name']))
        if (pod.get('securityContext') or {}).get('sysctls'):
            found.append('%s: sysctls' % name)
        for container in containers(pod):
            where = '%s/%s' % (name, container['name'])
            context = container.get('securityContext') or {}
            capabilities = context.get('capabilities') or {}
            seccomp = effective(pod, container, 'seccompProfile') or {}
            checks = {
                'runAsNonRoot': effective(
                    pod, container, 'runAsNonRoot') is True,
                'runAsUser': effective(pod, container, 'runAsUser') != 0,
                'allowPrivilegeEscalation': context.get(
                    'allowPrivilegeEscalation') is False,
                'privileged': not context.get('privileged'),
                'readOnlyRootFilesystem': context.get(
                    'readOnlyRootFilesystem') is True,
                'capabilities.drop': 'ALL' in (capabilities.get('drop')
                                               or ()),
                'capabilities.add': not capabilities.get('add'),
                'seccompProfile': seccomp.get('type') in (
                    'RuntimeDefault', 'Localhost'),
                'hostPort': all('hostPort' not in port
                                for port in container.get('ports') or ()),
            }
            found += ['%s: %s' % (where, field)
                      for field, ok in checks.items() if not ok]
    return found


def test_pods_meet_the_restricted_profile(named_render):
    _, objects = named_render
    assert restricted_violations(objects) == []


@pytest.mark.parametrize('field,value', [
    ('allowPrivilegeEscalation', True),
    ('readOnlyRootFilesystem', False),
    ('capabilities', {'drop': ['NET_RAW']}),
])
def test_a_weakened_container_is_caught(chart, field, value):
    objects = chart.render(set_values={
        'pod.security_context.masakari_host_monitor.container'
        '.masakari_host_monitor.' + field: value})
    # The helm test Pod runs with the monitor's security context.
    flagged = 'capabilities.drop' if field == 'capabilities' else field
    assert restricted_violations(objects) == [
        'masakari-hostmonitor/masakari-host-monitor: %s' % flagged,
        'masakari-hostmonitor-test/masakari-k8s-check: %s' % flagged]


def test_only_the_monitor_pod_gets_an_api_token(named_render):
    _, objects = named_render
    account = manifests.the_object(objects, 'ServiceAccount')
    assert account['automountServiceAccountToken'] is False
    deployment = manifests.the_object(objects, 'Deployment')
    pod = deployment['spec']['template']['spec']
    assert pod['automountServiceAccountToken'] is True
    assert pod['serviceAccountName'] == account['metadata']['name']


def test_monitor_runs_the_stock_hostmonitor_on_the_mounted_conf(
        named_render):
    _, objects = named_render
    pod = manifests.the_object(objects, 'Deployment')['spec']['template'][
        'spec']
    container, = pod['containers']
    assert container['command'] == ['masakari-hostmonitor',
                                    '--config-file', CONF_PATH]
    mounts = {mount['mountPath']: mount
              for mount in container['volumeMounts']}
    conf_mount = mounts['/etc/masakarimonitors']
    assert conf_mount['readOnly'] is True
    volumes = {volume['name']: volume for volume in pod['volumes']}
    assert 'emptyDir' in volumes[mounts['/tmp']['name']]
    sources = volumes[conf_mount['name']]['projected']['sources']
    conf_secret = manifests.the_object(objects, 'Secret')
    assert {'secret': {'name': conf_secret['metadata']['name']}} in sources


def test_pod_identity_comes_from_the_downward_api(named_render):
    _, objects = named_render
    container, = manifests.the_object(objects, 'Deployment')['spec'][
        'template']['spec']['containers']
    env = {item['name']: item for item in container['env']}
    assert env['POD_NAME']['valueFrom']['fieldRef']['fieldPath'] == \
        'metadata.name'
    assert env['POD_NAMESPACE']['valueFrom']['fieldRef']['fieldPath'] == \
        'metadata.namespace'


def test_high_availability_defaults(chart):
    objects = chart.render()
    deployment = manifests.the_object(objects, 'Deployment')
    assert deployment['spec']['replicas'] == 2
    budget = manifests.the_object(objects, 'PodDisruptionBudget')
    assert budget['spec']['minAvailable'] == 1
    assert budget['spec']['selector']['matchLabels'] == \
        deployment['spec']['selector']['matchLabels']
    affinity = deployment['spec']['template']['spec']['affinity']
    # One node failure must not take both replicas.
    term, = affinity['podAntiAffinity'][
        'requiredDuringSchedulingIgnoredDuringExecution']
    assert term['topologyKey'] == 'kubernetes.io/hostname'
    assert term['labelSelector']['matchLabels'] == \
        deployment['spec']['selector']['matchLabels']
    assert 'preferredDuringSchedulingIgnoredDuringExecution' not in \
        affinity['podAntiAffinity']


def node_affinity_terms(deployment):
    affinity = deployment['spec']['template']['spec']['affinity']
    return affinity['nodeAffinity'][
        'requiredDuringSchedulingIgnoredDuringExecution']['nodeSelectorTerms']


@pytest.mark.parametrize('values_file', ['defaults', 'openstack-helm',
                                         'production-ha'])
def test_never_scheduled_on_the_compute_nodes_it_watches(chart, values_file):
    files = [] if values_file == 'defaults' else [
        render.VALUES_DIR / (values_file + '.yaml')]
    deployment = manifests.the_object(chart.render(files), 'Deployment')
    term, = node_affinity_terms(deployment)
    assert term['matchExpressions'] == [{
        'key': 'openstack-compute-node', 'operator': 'NotIn',
        'values': ['enabled']}]


def test_compute_node_avoidance_is_configurable(chart):
    moved = manifests.the_object(chart.render(set_values={
        'pod.affinity.node.avoid': {'key': 'role', 'values': ['hv']}}),
        'Deployment')
    term, = node_affinity_terms(moved)
    assert term['matchExpressions'][0]['key'] == 'role'
    dropped = manifests.the_object(chart.render(set_values={
        'pod.affinity.node.avoid.key': None}), 'Deployment')
    assert 'nodeAffinity' not in dropped['spec']['template']['spec'][
        'affinity']


def tolerations(objects):
    return manifests.the_object(objects, 'Deployment')['spec']['template'][
        'spec']['tolerations']


EVICTION_TOLERATIONS = [
    {'key': 'node.kubernetes.io/unreachable', 'operator': 'Exists',
     'effect': 'NoExecute', 'tolerationSeconds': 30},
    {'key': 'node.kubernetes.io/not-ready', 'operator': 'Exists',
     'effect': 'NoExecute', 'tolerationSeconds': 30}]
CONTROL_PLANE_TOLERATION = {
    'key': 'node-role.kubernetes.io/control-plane', 'operator': 'Exists',
    'effect': 'NoSchedule'}


def test_control_plane_toleration_keeps_the_30s_eviction(chart):
    assert tolerations(chart.render()) == EVICTION_TOLERATIONS
    switched = tolerations(chart.render(set_values={
        'pod.tolerations.masakari_host_monitor.control_plane': True}))
    assert switched == EVICTION_TOLERATIONS + [CONTROL_PLANE_TOLERATION]
    extra = {'key': 'dedicated', 'operator': 'Equal', 'value': 'ha',
             'effect': 'NoSchedule'}
    added = tolerations(chart.render(set_values={
        'pod.tolerations.masakari_host_monitor.extra': [extra]}))
    assert added == EVICTION_TOLERATIONS + [extra]


def test_priority_class_in_the_openstack_helm_shape(chart):
    def priority(set_values):
        return manifests.the_object(chart.render(set_values=set_values),
                                    'Deployment')['spec']['template'][
            'spec'].get('priorityClassName')

    assert priority(None) is None
    assert priority({'pod.priorityClassName.masakari_host_monitor':
                     'openstack-critical'}) == 'openstack-critical'
    # The chart's older flat key still works.
    assert priority({'pod.priority_class_name': 'old-key'}) == 'old-key'


def test_topology_spread_gets_the_replicas_label_selector(chart):
    deployment = manifests.the_object(chart.render(set_values={
        'pod.topology_spread_constraints': [{
            'maxSkew': 1, 'topologyKey': 'topology.kubernetes.io/zone',
            'whenUnsatisfiable': 'ScheduleAnyway'}]}), 'Deployment')
    constraint, = deployment['spec']['template']['spec'][
        'topologySpreadConstraints']
    assert constraint['labelSelector']['matchLabels'] == \
        deployment['spec']['selector']['matchLabels']
    assert 'topologySpreadConstraints' not in manifests.the_object(
        chart.render(), 'Deployment')['spec']['template']['spec']


def test_a_changed_conf_rolls_the_pods(chart):
    def conf_hash(objects):
        deployment = manifests.the_object(objects, 'Deployment')
        return deployment['spec']['template']['metadata']['annotations'][
            'secret-etc-hash']

    before = conf_hash(chart.render())
    after = conf_hash(chart.render(set_values={
        'conf.masakarimonitors.k8s.recovery_window': 45}))
    assert len(before) == 64 and before != after


@pytest.mark.parametrize('probe,path', [('liveness', '/healthz'),
                                        ('readiness', '/readyz')])
def test_probes_use_the_status_port_once_enabled(chart, probe, path):
    key = 'pod.probes.masakari_host_monitor.masakari_host_monitor'
    off = manifests.the_object(chart.render(set_values={
        '%s.%s.enabled' % (key, probe): False}), 'Deployment')
    container, = off['spec']['template']['spec']['containers']
    assert probe + 'Probe' not in container
    default = manifests.the_object(chart.render(), 'Deployment')
    container, = default['spec']['template']['spec']['containers']
    assert container[probe + 'Probe']['httpGet'] == {'path': path,
                                                     'port': 'status'}
    objects = chart.render(set_values={
        'conf.masakarimonitors.k8s.status_port': 9400})
    container, = manifests.the_object(objects, 'Deployment')['spec'][
        'template']['spec']['containers']
    assert container[probe + 'Probe']['httpGet'] == {'path': path,
                                                     'port': 'status'}
    assert container['ports'] == [{'name': 'status', 'containerPort': 9400,
                                   'protocol': 'TCP'}]
