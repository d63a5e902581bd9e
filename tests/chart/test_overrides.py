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

"""The override files OpenStack-Helm family clouds already have render.

tests/chart/overrides/ holds files written in the layouts those clouds
document: OSH's values_overrides TLS file, Genestack's global endpoints
file with its top-level YAML anchor, the values Atmosphere's roles pass,
and OSH's common keys. Each is rendered with the values file of its cloud
and checked for what it must change (or must not), while typos in the
driver's own options are still refused.
"""

import configparser

import pytest

from tests.chart import manifests
from tests.chart import render

OVERRIDES = render.REPO_ROOT / 'tests' / 'chart' / 'overrides'
OSH = render.VALUES_DIR / 'openstack-helm.yaml'
GENESTACK = render.VALUES_DIR / 'genestack.yaml'
ATMOSPHERE = render.VALUES_DIR / 'atmosphere.yaml'


def conf_sections(objects):
    text = manifests.secret_files(manifests.the_object(
        objects, 'Secret'))['masakarimonitors.conf']
    parser = configparser.ConfigParser(interpolation=None,
                                       default_section='\0none')
    parser.read_string(text)
    return parser


def pod_spec(objects):
    return manifests.the_object(objects, 'Deployment')['spec']['template'][
        'spec']


def monitor(objects):
    container, = pod_spec(objects)['containers']
    return container


def notes(values_files):
    output = render.run_helm(
        'install', render.RELEASE, str(render.CHART_DIR), '--dry-run=client',
        '--namespace', render.NAMESPACE,
        *render.value_arguments(values_files, None))
    return output[output.index('NOTES:'):]


def test_osh_tls_overrides_mount_the_ca_and_point_api_at_it(chart):
    objects = chart.render([OSH, OVERRIDES / 'osh-tls.yaml'])
    api = conf_sections(objects)['api']
    assert api['auth_url'] == \
        'https://keystone-api.openstack.svc.cluster.local:443/v3'
    assert api['cafile'] == '/etc/ssl/certs/openstack-helm.crt'
    # manifests.certificates: the ca.crt of masakari-api's cert-manager
    # Secret, as helm-toolkit's tls_volume_mount mounts it.
    volume, = [item for item in pod_spec(objects)['volumes']
               if item['name'] == 'ca-bundle']
    assert volume['secret']['secretName'] == 'masakari-tls-api'
    assert volume['secret']['items'] == [
        {'key': 'ca.crt', 'path': 'openstack-helm.crt'}]
    mount, = [item for item in monitor(objects)['volumeMounts']
              if item['name'] == 'ca-bundle']
    assert mount == {'name': 'ca-bundle', 'readOnly': True,
                     'mountPath': '/etc/ssl/certs/openstack-helm.crt',
                     'subPath': 'openstack-helm.crt'}
    # The OSH key for another chart's container is accepted and ignored.
    assert monitor(objects)['securityContext']['runAsUser'] == 42424


def test_osh_tls_overrides_keep_the_network_policy_to_keystone(chart):
    objects = chart.render([OSH, OVERRIDES / 'osh-tls.yaml'])
    policy = manifests.the_object(objects, 'NetworkPolicy')
    # host_fqdn_override.default of masakari-api is a tls map, not a host:
    # the rule still names masakari-api's pods.
    masakari_rule, = [rule for rule in policy['spec']['egress']
                      if rule['ports'][0]['port'] == 15868]
    assert masakari_rule['to'][0]['podSelector']['matchLabels'] == {
        'application': 'masakari', 'component': 'api'}


def test_genestack_global_endpoints_with_region_anchor(chart):
    objects = chart.render([OVERRIDES / 'genestack-endpoints.yaml',
                            GENESTACK])
    api = conf_sections(objects)['api']
    assert api['region'] == 'RegionTwo'
    assert api['auth_url'] == \
        'http://keystone-api.openstack.svc.cluster.local:5000/v3'
    env = {item['name']: item for item in monitor(objects)['env']}
    assert env['OS_API__PASSWORD']['valueFrom']['secretKeyRef'] == {
        'name': 'masakari-admin', 'key': 'password'}


def test_genestack_network_policy_allows_node_local_dns(chart):
    objects = chart.render([OVERRIDES / 'genestack-endpoints.yaml',
                            GENESTACK])
    dns_rule = manifests.the_object(objects, 'NetworkPolicy')['spec'][
        'egress'][0]
    assert {'ipBlock': {'cidr': '169.254.20.10/32'}} in dns_rule['to']
    assert {'port': 53, 'protocol': 'UDP'} in dns_rule['ports']


def test_atmosphere_values(chart):
    objects = chart.render([OVERRIDES / 'atmosphere.yaml', ATMOSPHERE])
    api = conf_sections(objects)['api']
    assert api['username'] == 'masakari-RegionOne'
    # Atmosphere's Keystone path is /; keystoneauth discovers the version.
    assert api['auth_url'] == \
        'http://keystone-api.openstack.svc.cluster.local:5000/'
    # The password in Atmosphere's endpoints loses to the user's Secret.
    assert 'password' not in api
    # Image tags of every service ride along and are accepted.
    assert monitor(objects)['image'].startswith(
        'registry.example.org/atmosphere/')


def test_osh_common_keys_are_implemented(chart):
    objects = chart.render([OSH, OVERRIDES / 'osh-common.yaml'])
    pod = pod_spec(objects)
    assert pod['priorityClassName'] == 'openstack-critical'
    assert pod['runtimeClassName'] == 'kata'
    assert {'name': 'site-ca', 'configMap': {'name': 'site-ca'}} in \
        pod['volumes']
    assert {'name': 'site-ca', 'mountPath': '/etc/site-ca',
            'readOnly': True} in monitor(objects)['volumeMounts']
    template = manifests.the_object(objects, 'Deployment')['spec'][
        'template']
    assert template['metadata']['annotations']['custom.tld/key'] == 'value'
    secret = manifests.the_object(objects, 'Secret')
    assert secret['metadata']['annotations'] == {
        'custom.tld/secret': 'value'}
    extra, = [item for item in manifests.objects_of_kind(
        objects, 'ConfigMap') if item['metadata']['name'] == 'site-ca']
    assert 'ca.crt' in extra['data']


def test_osh_common_keys_that_are_ignored_are_named_in_notes():
    text = notes([OSH, OVERRIDES / 'osh-common.yaml'])
    ignored = text[text.index('Accepted and ignored'):]
    for key in ('dependencies', 'helm3_hook', 'images.local_registry'):
        assert key in ignored
    assert 'Accepted and ignored' not in notes([OSH])


@pytest.mark.parametrize('files', [
    [OSH, OVERRIDES / 'osh-tls.yaml'],
    [OVERRIDES / 'genestack-endpoints.yaml', GENESTACK],
    [OVERRIDES / 'atmosphere.yaml', ATMOSPHERE],
    [OSH, OVERRIDES / 'osh-common.yaml'],
], ids=['osh-tls', 'genestack', 'atmosphere', 'osh-common'])
def test_driver_options_stay_strict_beside_the_overrides(files):
    with pytest.raises(render.HelmError) as caught:
        render.render(files, {'conf.masakarimonitors.k8s.fenceing': 'taint'})
    assert "'/conf/masakarimonitors/k8s': additional properties 'fenceing'" \
        in caught.value.stderr
    with pytest.raises(render.HelmError) as caught:
        render.render(files, {
            'conf.masakarimonitors.host.monitoring_driver': 'kubernetes'})
    assert "'/conf/masakarimonitors/host/monitoring_driver'" in \
        caught.value.stderr


@pytest.mark.parametrize('path', [
    OSH, GENESTACK, ATMOSPHERE,
    render.REPO_ROOT / 'doc' / 'source' / 'install' / 'helm.rst',
], ids=lambda path: path.name)
def test_the_old_monitor_is_turned_off_by_its_real_key(path):
    """OSH's masakari chart switches its monitor with manifests.host_monitor.

    A key that does not exist is silently ignored and leaves the old
    monitor (NORMAL without evidence) running.
    """
    text = path.read_text()
    assert 'manifests.host_monitor' in text or \
        'host_monitor: false' in text
    for wrong in ('daemonset_host_monitor', 'deployment_host_monitor'):
        assert wrong not in text
