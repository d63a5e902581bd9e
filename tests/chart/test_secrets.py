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

"""Credentials live in Secrets only.

A recognisable password and token are rendered, then looked for
everywhere else: ConfigMaps, the Deployment (env, annotations, args) and
the plain text helm prints.
"""

import json

import pytest
import yaml

from tests.chart import manifests
from tests.chart import render

PASSWORD = 'pw-7c1f0e-never-in-plain-text'
TOKEN = 'tk-51ab9d-never-in-plain-text'

CREDENTIAL_RENDERS = {
    'keystone-password': {
        'secrets.identity.masakari': None,
        'endpoints.identity.auth.masakari.password': PASSWORD},
    'noauth-token': {
        'conf.masakarimonitors.api.auth_type': 'admin_token',
        'conf.masakarimonitors.api.token': TOKEN},
}


@pytest.fixture(params=sorted(CREDENTIAL_RENDERS))
def credential_render(request):
    set_values = dict(render.ALL_FEATURES)
    set_values.update(CREDENTIAL_RENDERS[request.param])
    credential = (PASSWORD if request.param == 'keystone-password'
                  else TOKEN)
    return credential, render.render_text(set_values=set_values)


def test_the_conf_is_a_secret(named_render):
    _, objects = named_render
    secret = manifests.the_object(objects, 'Secret')
    assert secret['type'] == 'Opaque'
    assert 'masakarimonitors.conf' in manifests.secret_files(secret)
    for config_map in manifests.objects_of_kind(objects, 'ConfigMap'):
        assert 'masakarimonitors.conf' not in config_map.get('data', {})


def test_credential_is_only_in_the_secret(credential_render):
    credential, text = credential_render
    # Secret data is base64: the credential never appears as typed.
    assert credential not in text
    objects = [item for item in yaml.safe_load_all(text) if item]
    holders = [item['metadata']['name'] for item in objects
               if item['kind'] == 'Secret'
               and any(credential in content for content in
                       manifests.secret_files(item).values())]
    assert holders == ['masakari-hostmonitor-etc']


def test_no_credential_in_config_maps_or_the_deployment(credential_render):
    credential, text = credential_render
    objects = [item for item in yaml.safe_load_all(text) if item]
    for item in objects:
        if item['kind'] in ('ConfigMap', 'Deployment'):
            assert credential not in json.dumps(item), item['kind']
    container, = manifests.the_object(objects, 'Deployment')['spec'][
        'template']['spec']['containers']
    # Env comes from the downward API only: no literal values at all,
    # and with the password in values no Secret reference either.
    assert all('value' not in item for item in container['env'])
    assert all('secretKeyRef' not in item.get('valueFrom', {})
               for item in container['env'])


def pod_specs(objects):
    """The monitor's pod spec and the helm test Pod's."""
    yield manifests.the_object(objects, 'Deployment')['spec']['template'][
        'spec']
    yield manifests.the_object(objects, 'Pod')['spec']


def test_keystone_password_comes_from_the_existing_secret(chart):
    """OSH's masakari-keystone-user Secret, key OS_PASSWORD, by default.

    The password reaches oslo.config as OS_API__PASSWORD; it is in no
    value, no rendered object and not in the conf file.
    """
    objects = chart.render([render.VALUES_DIR / 'openstack-helm.yaml'])
    for pod in pod_specs(objects):
        container, = pod['containers']
        env = {item['name']: item for item in container['env']}
        assert env['OS_API__PASSWORD']['valueFrom'] == {'secretKeyRef': {
            'name': 'masakari-keystone-user', 'key': 'OS_PASSWORD'}}
    conf = manifests.secret_files(manifests.the_object(
        objects, 'Secret'))['masakarimonitors.conf']
    assert 'password =' not in conf


def test_a_password_in_values_loses_to_the_secret(chart):
    objects = chart.render(set_values={
        'endpoints.identity.auth.masakari.password': PASSWORD})
    conf = manifests.secret_files(manifests.the_object(
        objects, 'Secret'))['masakarimonitors.conf']
    assert PASSWORD not in conf


def test_no_password_at_all_is_refused():
    with pytest.raises(render.HelmError) as caught:
        render.render(set_values={'secrets.identity.masakari': None})
    assert 'needs a password: set secrets.identity.masakari' in \
        caught.value.stderr


def test_the_placeholder_password_is_warned_about_loudly():
    notes = render.run_helm(
        'install', 'masakari-hostmonitor', str(render.CHART_DIR),
        '--dry-run=client', '--namespace', render.NAMESPACE,
        *render.value_arguments([], {
            'secrets.identity.masakari': None,
            'endpoints.identity.auth.masakari.password': 'password'}))
    assert 'WARNING: the Keystone password is the placeholder' in notes
    secret_notes = render.run_helm(
        'install', 'masakari-hostmonitor', str(render.CHART_DIR),
        '--dry-run=client', '--namespace', render.NAMESPACE)
    assert 'WARNING: the Keystone password' not in secret_notes
    assert 'Secret masakari-keystone-user, key OS_PASSWORD' in secret_notes


def test_redfish_credentials_come_from_an_existing_secret(chart):
    objects = chart.render([render.VALUES_DIR / 'production-ha.yaml'])
    rendered_secrets = {item['metadata']['name']
                        for item in manifests.objects_of_kind(
                            objects, 'Secret')}
    # The chart mounts it but never renders it: BMC passwords stay out of
    # helm values and release history.
    assert 'masakari-hostmonitor-redfish' not in rendered_secrets
    pod = manifests.the_object(objects, 'Deployment')['spec']['template'][
        'spec']
    mounted = {source['secret']['name']
               for volume in pod['volumes'] if 'projected' in volume
               for source in volume['projected']['sources']}
    assert 'masakari-hostmonitor-redfish' in mounted


def test_an_external_conf_secret_can_replace_the_rendered_one(chart):
    objects = chart.render(set_values={
        'manifests.secret_etc': False,
        'secrets.etc.masakari_host_monitor': 'managed-elsewhere'})
    assert not manifests.objects_of_kind(objects, 'Secret')
    pod = manifests.the_object(objects, 'Deployment')['spec']['template']
    assert 'annotations' not in pod['metadata']
    sources = pod['spec']['volumes'][0]['projected']['sources']
    assert {'secret': {'name': 'managed-elsewhere'}} in sources
