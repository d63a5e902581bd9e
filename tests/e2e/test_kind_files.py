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

"""tools/kind/ agrees with the chart's kind values and the kind backend.

The kind backend cannot run everywhere; what it relies on between files
can be checked anywhere: the cluster has the shape the scenarios need,
the in-cluster masakari-api is where ``values/kind.yaml`` sends the
monitor, its NodePort is the port the cluster publishes and the backend
reads, and the manifests are valid Kubernetes 1.35 objects.
"""

import kubernetes_validate
import yaml

from tests.chart import render
from tests.e2e.backends import kind

KUBE_VERSION = render.KUBE_VERSION


def load_all(path):
    return [item for item in yaml.safe_load_all(path.read_text()) if item]


def masakari_objects():
    return {item['kind']: item for item in load_all(kind.MASAKARI_MANIFESTS)}


def test_cluster_is_one_control_plane_and_three_workers():
    cluster, = load_all(kind.CLUSTER_CONFIG)
    roles = [node['role'] for node in cluster['nodes']]
    assert roles == ['control-plane', 'worker', 'worker', 'worker']
    control_plane = cluster['nodes'][0]
    assert control_plane['labels'] == dict([kind.CONTROL_PLANE_LABEL])
    # One node image for all, pinned by digest, of the release the chart
    # is checked against.
    images = {node['image'] for node in cluster['nodes']}
    image, = images
    assert '@sha256:' in image
    assert image.startswith('kindest/node:v%s' % KUBE_VERSION.rsplit(
        '.', 1)[0])


def test_masakari_api_is_where_the_kind_values_point():
    values = yaml.safe_load(render.VALUES_DIR.joinpath(
        'kind.yaml').read_text())
    endpoint = values['endpoints']['instance_ha']
    service = masakari_objects()['Service']
    assert service['metadata']['name'] == endpoint['hosts']['default']
    assert service['metadata']['namespace'] == endpoint['namespace']
    port, = service['spec']['ports']
    assert port['port'] == endpoint['port']['api']['default']
    conf = masakari_objects()['ConfigMap']['data']['masakari.conf']
    assert 'masakari_api_listen_port = %d' % port['port'] in conf
    assert 'auth_strategy = noauth2' in conf
    # The [api] token of values/kind.yaml is one noauth2 takes.
    assert values['conf']['masakarimonitors']['api']['token'] == \
        kind.masakari_http.NOAUTH_TOKEN


def test_masakari_api_node_port_is_published_where_the_backend_reads():
    cluster, = load_all(kind.CLUSTER_CONFIG)
    mapping, = cluster['nodes'][0]['extraPortMappings']
    port, = masakari_objects()['Service']['spec']['ports']
    assert mapping['containerPort'] == port['nodePort']
    assert mapping['listenAddress'] == '127.0.0.1'
    assert kind.MASAKARI_ENDPOINT == 'http://127.0.0.1:%d/v1' % (
        mapping['hostPort'])


def test_masakari_api_runs_the_image_the_backend_builds_on_the_control_plane():
    pod = masakari_objects()['Deployment']['spec']['template']['spec']
    containers = pod['containers'] + pod['initContainers']
    assert {container['image'] for container in containers} == {
        kind.MASAKARI_IMAGE}
    assert {container['imagePullPolicy'] for container in containers} == {
        'Never'}
    assert pod['nodeSelector'] == dict([kind.CONTROL_PLANE_LABEL])


def test_manifests_are_valid_kubernetes_objects():
    for item in load_all(kind.MASAKARI_MANIFESTS):
        kubernetes_validate.validate(item, KUBE_VERSION, strict=True)


def test_monitor_image_is_the_one_values_kind_runs():
    values = yaml.safe_load(render.VALUES_DIR.joinpath(
        'kind.yaml').read_text())
    assert kind.monitor_image_tag() == values['images']['tags'][
        'masakari_host_monitor']
    assert values['images']['pull_policy'] == 'Never'


def test_missing_tools_are_named(monkeypatch):
    monkeypatch.setenv('PATH', '/nonexistent')
    reason = kind.missing_requirements()
    for tool in kind.REQUIRED_TOOLS:
        assert tool in reason
