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

"""`helm test` runs masakari-k8s-check exactly as the monitor would run.

The hook Pod must use the monitor's ServiceAccount (so the RBAC checks
test the chart's RBAC), its conf Secret, CA bundle and Keystone password
(so a wrong password fails the test), and must never be adopted by the
monitor's Deployment.
"""

import pytest

from tests.chart import manifests
from tests.chart import render


def hook_pod(objects):
    pod = manifests.the_object(objects, 'Pod')
    assert pod['metadata']['annotations']['helm.sh/hook'] == 'test'
    return pod


def test_every_render_has_a_test_hook(named_render):
    _, objects = named_render
    pod = hook_pod(objects)
    container, = pod['spec']['containers']
    assert container['command'] == [
        'masakari-k8s-check', '--config-file',
        '/etc/masakarimonitors/masakarimonitors.conf', '--nodes']
    assert pod['spec']['restartPolicy'] == 'Never'


@pytest.mark.parametrize('values_files,set_values', [
    ([render.VALUES_DIR / 'openstack-helm.yaml'], None),
    ([render.VALUES_DIR / 'production-ha.yaml'],
     {'secrets.ca_bundle.config_map': 'cloud-ca'}),
], ids=['openstack-helm', 'redfish-and-ca'])
def test_the_hook_runs_as_the_monitor(chart, values_files, set_values):
    objects = chart.render(values_files, set_values)
    pod = hook_pod(objects)['spec']
    monitor = manifests.the_object(objects, 'Deployment')['spec'][
        'template']['spec']
    check, = pod['containers']
    host_monitor, = monitor['containers']
    for field in ('serviceAccountName', 'automountServiceAccountToken',
                  'securityContext', 'volumes', 'nodeSelector'):
        assert pod.get(field) == monitor.get(field), field
    for field in ('image', 'env', 'volumeMounts', 'securityContext'):
        assert check[field] == host_monitor[field], field


def test_the_hook_is_not_selected_by_the_deployment_or_its_budget(chart):
    objects = chart.render()
    labels = hook_pod(objects)['metadata']['labels']
    for kind in ('Deployment', 'PodDisruptionBudget'):
        selector = manifests.the_object(objects, kind)['spec']['selector'][
            'matchLabels']
        assert not selector.items() <= labels.items(), kind


def test_the_network_policy_covers_the_hook(chart):
    objects = chart.render([render.VALUES_DIR / 'openstack-helm.yaml'])
    labels = hook_pod(objects)['metadata']['labels']
    selector = manifests.the_object(objects, 'NetworkPolicy')['spec'][
        'podSelector']
    assert selector['matchLabels'].items() <= labels.items()
    for expression in selector['matchExpressions']:
        assert expression['operator'] == 'In'
        assert labels[expression['key']] in expression['values']


def test_the_hook_can_be_turned_off(chart):
    objects = chart.render(set_values={'manifests.pod_test': False})
    assert not manifests.objects_of_kind(objects, 'Pod')
