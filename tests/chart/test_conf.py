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

"""The masakarimonitors.conf the chart renders is one the monitor reads.

It is parsed the way masakari-hostmonitor parses it (oslo.config with
masakari-monitors' options, oslo.log's and ours), every option is read so
that a badly typed value fails here, the ``[k8s]`` group goes through the
driver's own ``load_settings``, and the ``[api]`` section through
keystoneauth, which is what masakari-monitors hands it to.
"""

import configparser
import json
import types
import urllib.parse

from keystoneauth1 import loading as ks_loading
from masakarimonitors.conf import api as api_conf
from masakarimonitors.conf import base as base_conf
from masakarimonitors.conf import consul as consul_conf
from masakarimonitors.conf import host as host_conf
from masakarimonitors.conf import instance as instance_conf
from masakarimonitors.conf import introspectiveinstancemonitor as intro_conf
from masakarimonitors.conf import kubernetes as kubernetes_conf
from masakarimonitors.conf import process as process_conf
from masakarimonitors.conf import service as service_conf
from oslo_config import cfg
from oslo_log import log as oslo_log
import pytest

from masakarimonitors_k8s import conf as k8s_conf
from masakarimonitors_k8s.testing import masakari_api
from tests.chart import manifests
from tests.chart import render

MASAKARI_MONITORS_CONF_MODULES = (
    api_conf, base_conf, consul_conf, host_conf, instance_conf, intro_conf,
    kubernetes_conf, process_conf, service_conf)

# [k8s] options the chart already renders for driver work that is planned
# with these exact names (leader election, observability, Redfish). oslo
# ignores them until the driver registers them; the schema knows them.
# (None left: leader election, observability and Redfish have landed.)
PLANNED_K8S_OPTIONS = set()
# Choices the schema accepts ahead of the driver.
PLANNED_K8S_CHOICES = {}

SCHEMA_PATH = render.CHART_DIR / 'values.schema.json'
KEYSTONE_URL = 'http://keystone-api.openstack.svc.cluster.local:5000/v3'
MASAKARI_URL = 'http://masakari-api.openstack.svc.cluster.local:15868/v1'


def conf_text(objects):
    secret = manifests.the_object(objects, 'Secret')
    return manifests.secret_files(secret)['masakarimonitors.conf']


def parse(text, directory):
    """A ConfigOpts loaded as masakari-hostmonitor loads its file."""
    conf = cfg.ConfigOpts()
    # oslo.config shares a registered OptGroup's option table with the
    # module-level OptGroup object, so the keystoneauth plugin options one
    # test loads into [api] would be required in the next test's conf.
    # Fresh groups registered first keep each parse on its own.
    for module in MASAKARI_MONITORS_CONF_MODULES:
        for group in module.list_opts():
            conf.register_group(cfg.OptGroup(getattr(group, 'name', group)))
    conf.register_group(cfg.OptGroup(k8s_conf.GROUP))
    for module in MASAKARI_MONITORS_CONF_MODULES:
        module.register_opts(conf)
    oslo_log.register_options(conf)
    k8s_conf.register_opts(conf)
    path = directory / 'masakarimonitors.conf'
    path.write_text(text)
    conf(args=['--config-file', str(path)], project='masakarimonitors',
         default_config_files=[])
    return conf


def read_every_option(conf):
    """Read each registered option, so a value of the wrong type raises."""
    for name in [None] + list(conf):
        group = conf if name is None else conf[name]
        if not isinstance(group, (cfg.ConfigOpts, cfg.ConfigOpts.GroupAttr)):
            continue
        for option in group:
            getattr(group, option)


def sections(text):
    # oslo's [DEFAULT] is a section like any other, not configparser's
    # defaults for every section.
    parser = configparser.ConfigParser(
        interpolation=None, strict=True, default_section='\0none')
    parser.optionxform = str
    parser.read_string(text)
    return parser


def test_conf_parses_and_selects_the_driver(named_render, tmp_path):
    _, objects = named_render
    text = conf_text(objects)
    if 'redfish' not in k8s_conf.FENCING_MODES and \
            sections(text)['k8s'].get('fencing') == 'redfish':
        # Ahead of the driver: Redfish evidence is planned. Until it
        # lands, that must be the only value the driver refuses.
        with pytest.raises(cfg.ConfigFileValueError, match='redfish'):
            parse(text, tmp_path).k8s.fencing
        text = text.replace('fencing = redfish', 'fencing = taint')
    conf = parse(text, tmp_path)
    read_every_option(conf)
    assert conf.host.monitoring_driver == 'k8s'
    settings = k8s_conf.load_settings(conf)
    assert settings.policy.fencing == conf.k8s.fencing


def test_k8s_section_has_only_known_options(named_render):
    _, objects = named_render
    registered = {option.dest for option in k8s_conf.ALL_OPTS}
    rendered = set(sections(conf_text(objects))['k8s'])
    assert rendered <= registered | PLANNED_K8S_OPTIONS


def test_default_api_logs_in_to_keystone_from_endpoints(chart, tmp_path):
    conf = parse(conf_text(chart.render()), tmp_path)
    plugin = ks_loading.load_auth_from_conf_options(conf, 'api')
    assert plugin.auth_url == KEYSTONE_URL
    assert (plugin._username, plugin._project_name) == (
        'masakari', 'service')
    assert (plugin._user_domain_name, plugin._project_domain_name) == (
        'service', 'service')
    assert conf.api.region == 'RegionOne'
    assert conf.api.api_interface == 'internal'


def test_password_from_the_environment_reaches_keystoneauth(
        chart, tmp_path, monkeypatch):
    """oslo.config's environment source gives [api] password.

    The chart leaves the password out of the file and sets
    OS_API__PASSWORD from the Keystone user's Secret; this is the path
    masakari-monitors takes ([api] through keystoneauth).
    """
    objects = chart.render([render.VALUES_DIR / 'openstack-helm.yaml'])
    text = conf_text(objects)
    assert 'password' not in sections(text)['api']
    monkeypatch.setenv('OS_API__PASSWORD', 'from-the-secret')
    conf = parse(text, tmp_path)
    plugin = ks_loading.load_auth_from_conf_options(conf, 'api')
    assert plugin._password == 'from-the-secret'
    assert conf.api.password == 'from-the-secret'


def test_ca_bundle_verifies_keystone_and_the_bmcs(chart, tmp_path):
    objects = chart.render(set_values={
        'secrets.ca_bundle.secret': 'cloud-ca',
        'conf.masakarimonitors.k8s.fencing': 'redfish',
        'secrets.redfish.credentials.name': 'bmc'})
    conf = parse(conf_text(objects), tmp_path)
    session = ks_loading.load_session_from_conf_options(conf, 'api')
    assert session.verify == '/etc/ssl/certs/openstack-helm.crt'
    assert conf.k8s.redfish_ca_file == '/etc/ssl/certs/openstack-helm.crt'
    # Without a bundle the system CAs verify: verification stays on.
    plain = parse(conf_text(chart.render()), tmp_path)
    assert ks_loading.load_session_from_conf_options(
        plain, 'api').verify is True


def test_keystone_host_override_and_explicit_values(chart, tmp_path):
    objects = chart.render(set_values={
        'endpoints.identity.host_fqdn_override.default': 'id.example.org',
        'endpoints.identity.scheme.default': 'https',
        'endpoints.identity.port.api.internal': 443,
        'conf.masakarimonitors.api.username': 'hostmonitor'})
    conf = parse(conf_text(objects), tmp_path)
    plugin = ks_loading.load_auth_from_conf_options(conf, 'api')
    assert plugin.auth_url == 'https://id.example.org:443/v3'
    assert plugin._username == 'hostmonitor'


def test_kind_api_section_mirrors_the_masakari_api_fixture(chart, tmp_path):
    """values/kind.yaml uses the [api] section the fixture proves.

    The masakari-api fixture proves it against a real noauth2 masakari-api;
    kind points it at the in-cluster Service instead of 127.0.0.1.
    """
    objects = chart.render([render.VALUES_DIR / 'kind.yaml'])
    api_section = dict(sections(conf_text(objects))['api'])
    fixture = masakari_api.MasakariApi(tmp_path / 'masakari')
    proven = fixture.masakarimonitors_conf_api_section()
    for key, value in proven.items():
        if key == 'endpoint':
            assert urllib.parse.urlsplit(api_section[key]).path == \
                urllib.parse.urlsplit(value).path
        else:
            assert api_section[key] == value
    conf = parse(conf_text(objects), tmp_path)
    plugin = ks_loading.load_auth_from_conf_options(conf, 'api')
    assert plugin.get_endpoint(session=None) == MASAKARI_URL
    assert plugin.get_token(session=None) == masakari_api.NOAUTH_TOKEN
    for keystone_only in ('auth_url', 'username', 'password'):
        assert keystone_only not in api_section


def test_values_render_like_to_oslo_conf(chart):
    objects = chart.render(set_values={'conf.masakarimonitors.sample': {
        'flag': True, 'off': False, 'items': ['a', 'b'], 'big': 1000000,
        'ratio': 0.5, 'unset': None,
        'multi': {'type': 'multistring', 'values': ['x', 'y']},
        'joined': {'type': 'csv', 'values': ['p', 'q']}}})
    text = conf_text(objects)
    block = text[text.index('[sample]'):].split('\n\n')[0].splitlines()
    assert block == ['[sample]', 'big = 1000000', 'flag = true',
                     'items = a,b', 'joined = p,q', 'multi = x',
                     'multi = y', 'off = false', 'ratio = 0.5']


def test_status_port_is_rendered_only_when_something_reads_it(chart):
    no_probes = {
        'pod.probes.masakari_host_monitor.masakari_host_monitor.'
        'liveness.enabled': False,
        'pod.probes.masakari_host_monitor.masakari_host_monitor.'
        'readiness.enabled': False}
    assert 'status_port' not in sections(conf_text(chart.render(
        set_values=no_probes)))['k8s']
    # The default probes read it.
    assert sections(conf_text(chart.render()))['k8s']['status_port'] == \
        '8080'
    objects = chart.render(set_values=dict(
        no_probes, **{'manifests.service_metrics': True}))
    assert sections(conf_text(objects))['k8s']['status_port'] == '8080'
    service = manifests.the_object(objects, 'Service')
    assert service['spec']['ports'][0]['port'] == 8080


def test_redfish_files_are_mounted_where_the_conf_says(chart):
    objects = chart.render([render.VALUES_DIR / 'production-ha.yaml'])
    secret = manifests.the_object(objects, 'Secret')
    bmc_map = manifests.secret_files(secret)['redfish-bmc-map.yaml']
    assert 'compute-01: https://10.10.0.101' in bmc_map.splitlines()
    pod = manifests.the_object(objects, 'Deployment')['spec']['template'][
        'spec']
    container, = pod['containers']
    mount, = [item for item in container['volumeMounts']
              if item['mountPath'] == '/etc/masakarimonitors']
    volume, = [item for item in pod['volumes']
               if item['name'] == mount['name']]
    files = {}
    for source in volume['projected']['sources']:
        items = source['secret'].get('items')
        if items:
            files.update({item['path']: source['secret']['name']
                          for item in items})
        elif source['secret']['name'] == secret['metadata']['name']:
            files.update(dict.fromkeys(manifests.secret_files(secret),
                                       source['secret']['name']))
    paths = {'/etc/masakarimonitors/' + name for name in files}
    values = sections(conf_text(objects))['k8s']
    assert values['redfish_credentials_file'] in paths
    assert values['redfish_bmc_map_file'] in paths
    assert files['redfish-credentials'] == 'masakari-hostmonitor-redfish'
    assert values['fencing'] == 'redfish'


@pytest.fixture(scope='module')
def k8s_schema():
    schema = json.loads(SCHEMA_PATH.read_text())
    return schema['properties']['conf']['properties'][
        'masakarimonitors']['properties']['k8s']


class TestSchemaKnowsTheDriver:
    """values.schema.json describes [k8s] as masakarimonitors_k8s.conf does.

    So a value the driver would refuse fails at helm time already.
    """

    @staticmethod
    def variants(property_schema):
        """The non-null alternatives of a (nullable) property schema."""
        if 'anyOf' in property_schema:
            return [types.MappingProxyType(item)
                    for item in property_schema['anyOf']
                    if item.get('type') != 'null']
        return [property_schema]

    def test_every_option_and_only_those(self, k8s_schema):
        registered = {option.dest for option in k8s_conf.ALL_OPTS}
        assert k8s_schema['additionalProperties'] is False
        assert set(k8s_schema['properties']) == \
            registered | PLANNED_K8S_OPTIONS

    def test_types_limits_and_choices_match(self, k8s_schema):
        expected_type = {cfg.BoolOpt: 'boolean', cfg.IntOpt: 'integer',
                         cfg.FloatOpt: 'number', cfg.StrOpt: 'string',
                         cfg.URIOpt: 'string', cfg.HostAddressOpt: 'string',
                         cfg.ListOpt: 'array'}
        for option in k8s_conf.ALL_OPTS:
            schema, = self.variants(k8s_schema['properties'][option.dest])
            if '$ref' in schema:
                continue
            if 'enum' in schema:
                choices = {choice for choice, _ in option.type.choices.items()}
                assert set(schema['enum']) - {None} == \
                    choices | PLANNED_K8S_CHOICES.get(option.dest, set())
                continue
            assert expected_type[type(option)] in schema['type'], option.dest
            minimum = getattr(option.type, 'min', None)
            assert schema.get('minimum') == minimum, option.dest
