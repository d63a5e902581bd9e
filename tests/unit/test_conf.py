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

"""The ``[k8s]`` options: loading, per-option limits, cross-option checks.

Each test builds its own ``oslo_config.cfg.ConfigOpts`` (never the global
``CONF``), sets values either with ``set_override`` (already-typed values)
or through a real config file (the path an operator's typo takes), and
calls ``load_settings``. A bad setting must stop start-up with a
ConfigError naming the option.
"""

import io
import math
import re

from oslo_config import cfg
from oslo_config import generator
import pytest

from masakarimonitors_k8s import conf as k8s_conf


@pytest.fixture
def make_conf(tmp_path):
    """Factory of fresh, parsed ConfigOpts with the [k8s] options."""
    created = []

    def make(overrides=None, *, file_text=None):
        conf = cfg.ConfigOpts()
        k8s_conf.register_opts(conf)
        args = []
        if file_text is not None:
            path = tmp_path / ('masakarimonitors-%d.conf' % len(created))
            path.write_text(file_text)
            args = ['--config-file', str(path)]
        conf(args, default_config_files=[], default_config_dirs=[])
        created.append(conf)
        for name, value in (overrides or {}).items():
            conf.set_override(name, value, group=k8s_conf.GROUP)
        return conf

    yield make
    # Overrides must not outlive the test (see the shared-group test).
    for conf in created:
        conf.reset()


def test_defaults_load_into_settings(make_conf):
    settings = k8s_conf.load_settings(make_conf())

    assert settings.connection.kubeconfig is None
    assert settings.connection.api_url is None
    assert settings.connection.connect_timeout == 5.0
    assert settings.connection.read_timeout == 30.0
    assert settings.watch.watch_timeout == 300
    assert settings.watch.page_size == 100
    assert settings.scope.node_selector == ''
    assert settings.scope.exclude_label == 'masakari.openstack.org/exclude'
    assert settings.scope.hostname_source == 'node-name'
    assert settings.policy.fencing == 'taint'
    assert settings.policy.out_of_service_taint == (
        'node.kubernetes.io/out-of-service')
    assert settings.policy.not_ready_is_failure is False
    assert settings.policy.watch_leases is False
    assert settings.delivery.unknown_host_recheck == 300.0


@pytest.mark.parametrize('option, value, read', [
    ('kubeconfig', '/etc/kube/config', lambda s: s.connection.kubeconfig),
    ('insecure', True, lambda s: s.connection.insecure),
    ('connect_timeout', 2.5, lambda s: s.connection.connect_timeout),
    ('read_timeout', 12.0, lambda s: s.connection.read_timeout),
    ('watch_timeout', 60, lambda s: s.watch.watch_timeout),
    ('list_page_size', 50, lambda s: s.watch.page_size),
    ('backoff_initial', 0.5, lambda s: s.watch.backoff_initial),
    ('backoff_max', 10.0, lambda s: s.watch.backoff_max),
    ('node_selector', 'role in (compute)', lambda s: s.scope.node_selector),
    ('exclude_label', '', lambda s: s.scope.exclude_label),
    ('hostname_source', 'short-name', lambda s: s.scope.hostname_source),
    ('fencing', 'none', lambda s: s.policy.fencing),
    ('out_of_service_taint', 'example.com/powered-off',
     lambda s: s.policy.out_of_service_taint),
    ('confirmation_window', 7.5, lambda s: s.policy.confirmation_window),
    ('recovery_window', 0.0, lambda s: s.policy.recovery_window),
    ('not_ready_is_failure', True, lambda s: s.policy.not_ready_is_failure),
    ('watch_leases', True, lambda s: s.policy.watch_leases),
    ('lease_namespace', 'leases', lambda s: s.policy.lease_namespace),
    ('lease_stale_after', 25.0, lambda s: s.policy.lease_stale_after),
    ('notify_retry_initial', 0.5, lambda s: s.delivery.retry_initial),
    ('notify_retry_max', 5.0, lambda s: s.delivery.retry_max),
    ('unknown_host_recheck', 60.0,
     lambda s: s.delivery.unknown_host_recheck),
])
def test_each_option_lands_in_its_setting(make_conf, option, value, read):
    settings = k8s_conf.load_settings(make_conf({option: value}))

    assert read(settings) == value


@pytest.mark.parametrize('overrides, option, value', [
    ({'api_url': 'https://k8s.example:6443', 'ca_file': '/etc/ca.pem',
      'kubeconfig': '/etc/kube/config'}, 'api_url',
     'https://k8s.example:6443'),
    ({'context': 'production'}, 'context', 'production'),
    ({'api_url': 'https://k8s.example:6443'}, 'ca_file', None),
    ({'kubeconfig': '   '}, 'kubeconfig', '   '),
    ({'api_url': 'http://127.0.0.1:8080', 'ca_file': ''}, 'ca_file', ''),
    ({'api_url': 'http://127.0.0.1:8080', 'token_file': ' '}, 'token_file',
     ' '),
    ({'connect_timeout': math.inf}, 'connect_timeout', math.inf),
    ({'read_timeout': math.inf}, 'read_timeout', math.inf),
    ({'backoff_initial': 5.0, 'backoff_max': 1.0}, 'backoff_max', 1.0),
    ({'node_selector': 'tier in compute'}, 'node_selector',
     'tier in compute'),
    ({'node_selector': 'role=compute,'}, 'node_selector', 'role=compute,'),
    ({'exclude_label': 'not a label'}, 'exclude_label', 'not a label'),
    ({'hostname_source': 'label'}, 'hostname_key', None),
    ({'hostname_source': 'annotation', 'hostname_key': 'bad key!'},
     'hostname_key', 'bad key!'),
    ({'out_of_service_taint': 'Out Of Service'}, 'out_of_service_taint',
     'Out Of Service'),
    ({'notify_retry_initial': 10.0, 'notify_retry_max': 5.0},
     'notify_retry_max', 5.0),
    ({'watch_idle_timeout': 60.0}, 'watch_idle_timeout', 60.0),
    ({'watch_idle_timeout': 30.0}, 'watch_idle_timeout', 30.0),
    ({'fence_action': 'redfish-power-off',
      'redfish_credentials_file': '/etc/bmc.yaml'}, 'fence_action',
     'redfish-power-off'),
    ({'hostname_domain': '.cloud.example.org'}, 'hostname_domain',
     '.cloud.example.org'),
    ({'hostname_domain': 'cloud example'}, 'hostname_domain',
     'cloud example'),
    ({'redfish_trust_bmc_annotation': True}, 'redfish_bmc_allowed_hosts',
     ''),
    ({'redfish_trust_bmc_annotation': True,
      'redfish_bmc_allowed_hosts': ['192.0.2.0/24', 'https://bmc']},
     'redfish_bmc_allowed_hosts', '192.0.2.0/24,https://bmc'),
])
def test_cross_option_check_names_option_and_value(make_conf, overrides,
                                                   option, value):
    conf = make_conf(overrides)

    with pytest.raises(k8s_conf.ConfigError) as caught:
        k8s_conf.load_settings(conf)

    message = str(caught.value)
    assert '[k8s] %s' % option in message
    assert repr(value) in message


def test_nan_timeout_is_refused(make_conf):
    # nan slips past oslo's min= check (every comparison with nan is
    # false), so only the explicit finiteness check stops it.
    conf = make_conf({'read_timeout': math.nan})

    with pytest.raises(k8s_conf.ConfigError, match=r'\[k8s\] read_timeout'):
        k8s_conf.load_settings(conf)


@pytest.mark.parametrize('overrides', [
    {'api_url': 'https://k8s.example:6443', 'ca_file': '/etc/ca.pem'},
    {'api_url': 'https://k8s.example:6443', 'insecure': True},
    {'api_url': 'http://127.0.0.1:8080', 'token_file': '/run/token'},
    {'kubeconfig': '/etc/kube/config', 'context': 'kind-kind'},
    {'hostname_source': 'label', 'hostname_key': 'masakari/host'},
    {'hostname_source': 'annotation',
     'hostname_key': 'compute.example.org/hypervisor-hostname'},
    {'node_selector': 'openstack-compute-node=enabled,!example.com/x'},
    {'exclude_label': ''},
    {'backoff_initial': 2.0, 'backoff_max': 2.0},
    {'notify_retry_initial': 3.0, 'notify_retry_max': 3.0},
    {'watch_idle_timeout': 61.0},
    {'fence_action': 'redfish-power-off', 'leader_election': True,
     'redfish_credentials_file': '/etc/bmc.yaml'},
    {'fence_action': 'redfish-power-off',
     'fence_without_leader_election': True,
     'redfish_credentials_file': '/etc/bmc.yaml'},
    {'hostname_domain': 'cloud.example.org'},
    {'hostname_source': 'short-name', 'hostname_domain': 'Compute.Example'},
    {'redfish_trust_bmc_annotation': True,
     'redfish_bmc_allowed_hosts': ['192.0.2.0/24', 'bmc-1.example.org',
                                   '2001:db8::/64']},
])
def test_consistent_combinations_are_accepted(make_conf, overrides):
    settings = k8s_conf.load_settings(make_conf(overrides))

    assert isinstance(settings, k8s_conf.Settings)


def test_the_watch_idle_timeout_error_says_why(make_conf):
    with pytest.raises(k8s_conf.ConfigError) as caught:
        k8s_conf.load_settings(make_conf({'watch_idle_timeout': 45.0}))
    assert 'bookmark' in str(caught.value)
    assert 'more than 60' in str(caught.value)


def test_the_fence_action_error_names_both_ways_out(make_conf):
    with pytest.raises(k8s_conf.ConfigError) as caught:
        k8s_conf.load_settings(make_conf({
            'fence_action': 'redfish-power-off',
            'redfish_credentials_file': '/etc/bmc.yaml'}))
    assert 'leader_election = true' in str(caught.value)
    assert 'fence_without_leader_election' in str(caught.value)


def test_allowed_bmc_hosts_are_parsed(make_conf):
    settings = k8s_conf.load_settings(make_conf({
        'redfish_trust_bmc_annotation': True,
        'redfish_bmc_allowed_hosts': [' 192.0.2.0/24', 'BMC-1.example.org',
                                      '']}))
    allowed = settings.redfish.bmc_allowed_hosts
    assert allowed.allows('192.0.2.9')
    assert allowed.allows('bmc-1.example.org')
    assert not allowed.allows('192.0.3.9')
    assert settings.redfish.trust_bmc_annotation is True
    assert settings.redfish.allow_http is False


def warnings_of(make_conf, overrides):
    return k8s_conf.config_warnings(
        k8s_conf.load_settings(make_conf(overrides)))


# Admin-only keys everywhere a label decides scope, host name or zone.
QUIET_LABELS = {
    'exclude_label': 'node-restriction.kubernetes.io/masakari-exclude',
    'storm_zone_label': 'node-restriction.kubernetes.io/zone',
}


def test_admin_only_labels_give_no_warning(make_conf):
    assert warnings_of(make_conf, dict(
        QUIET_LABELS, node_selector='node-restriction.kubernetes.io/'
                                    'compute=true',
        hostname_source='label',
        hostname_key='node-restriction.kubernetes.io/nova-host')) == []


def test_the_defaults_warn_about_kubelet_writable_labels(make_conf):
    warnings = warnings_of(make_conf, {})
    assert len(warnings) == 2
    exclude, zone = warnings
    assert exclude.startswith('[k8s] exclude_label = '
                              'masakari.openstack.org/exclude: a kubelet '
                              'may set this on its own Node')
    assert 'node-restriction.kubernetes.io/' in exclude
    assert zone.startswith('[k8s] storm_zone_label = '
                           'topology.kubernetes.io/zone: a kubelet may set')


@pytest.mark.parametrize('overrides, option', [
    ({'node_selector': 'openstack-compute-node=enabled'}, 'node_selector'),
    ({'node_selector': 'node.kubernetes.io/role in (compute)'},
     'node_selector'),
    ({'hostname_source': 'label', 'hostname_key': 'example.org/nova-host'},
     'hostname_key'),
    ({'hostname_source': 'label', 'hostname_key': 'kubernetes.io/hostname'},
     'hostname_key'),
    ({'hostname_source': 'annotation',
      'hostname_key': 'node-restriction.kubernetes.io/host'},
     'hostname_key'),
])
def test_kubelet_writable_keys_are_warned_about(make_conf, overrides,
                                                option):
    warnings = warnings_of(make_conf, dict(QUIET_LABELS, **overrides))
    assert len(warnings) == 1
    assert warnings[0].startswith('[k8s] %s = ' % option)


def test_a_bearer_token_over_plain_http_is_warned_about(make_conf):
    warnings = warnings_of(make_conf, dict(
        QUIET_LABELS, api_url='http://10.0.0.1:8080',
        token_file='/run/token'))
    assert warnings == ['[k8s] api_url = http://10.0.0.1:8080 is plain http '
                        'and token_file is set: the bearer token crosses '
                        'the network in clear text.']
    assert warnings_of(make_conf, dict(
        QUIET_LABELS, api_url='https://10.0.0.1:6443', ca_file='/ca',
        token_file='/run/token')) == []


FENCING = dict(QUIET_LABELS, fence_action='redfish-power-off',
               redfish_credentials_file='/etc/bmc.yaml')


def test_fencing_without_leader_election_is_loud(make_conf):
    warnings = warnings_of(make_conf, dict(
        FENCING, fence_without_leader_election=True))
    assert len(warnings) == 1
    assert 'exactly ONE replica' in warnings[0]
    assert warnings_of(make_conf, dict(FENCING, leader_election=True)) == []


def test_fencing_on_stale_leases_without_confirmation_is_warned_about(
        make_conf):
    risky = dict(FENCING, leader_election=True, watch_leases=True)
    warnings = warnings_of(make_conf, risky)
    assert len(warnings) == 1
    assert 'confirmation_window = 0' in warnings[0]
    assert 'about 55 s after its last renewal' in warnings[0]
    assert warnings_of(make_conf, dict(risky, confirmation_window=60.0)) == []


def test_trusted_bmc_annotations_and_http_bmcs_are_warned_about(make_conf):
    warnings = warnings_of(make_conf, dict(
        FENCING, leader_election=True, redfish_trust_bmc_annotation=True,
        redfish_bmc_allowed_hosts=['192.0.2.0/24'], redfish_allow_http=True))
    assert len(warnings) == 2
    assert warnings[0].startswith('[k8s] redfish_trust_bmc_annotation = '
                                  'true')
    assert '192.0.2.0/24' in warnings[0]
    assert warnings[1].startswith('[k8s] redfish_allow_http = true')


def test_warnings_are_logged_at_load(make_conf, caplog):
    k8s_conf.load_settings(make_conf({}))
    logged = [r.getMessage() for r in caplog.records
              if r.levelname == 'WARNING']
    assert any(m.startswith('[k8s] exclude_label') for m in logged)


@pytest.mark.parametrize('option, text', [
    ('watch_timeout', '5'),
    ('watch_timeout', 'ten'),
    ('list_page_size', '0'),
    ('connect_timeout', '0'),
    ('read_timeout', '-1'),
    ('backoff_initial', '0'),
    ('confirmation_window', '-0.5'),
    ('recovery_window', '-1'),
    ('lease_stale_after', '10'),
    ('notify_retry_initial', '0'),
    ('unknown_host_recheck', '0.5'),
    ('hostname_source', 'fqdn'),
    ('fencing', 'ipmi'),
    ('api_url', 'ftp://k8s.example'),
    ('insecure', 'perhaps'),
    ('watch_leases', 'sometimes'),
])
def test_value_out_of_its_range_in_a_file_names_the_option(
        make_conf, option, text):
    conf = make_conf(file_text='[k8s]\n%s = %s\n' % (option, text))

    with pytest.raises(k8s_conf.ConfigError) as caught:
        k8s_conf.load_settings(conf)

    assert '[k8s] %s' % option in str(caught.value)


def test_value_in_range_in_a_file_is_read(make_conf):
    conf = make_conf(file_text='[k8s]\nwatch_timeout = 10\n'
                               'hostname_source = short-name\n')

    settings = k8s_conf.load_settings(conf)

    assert settings.watch.watch_timeout == 10
    assert settings.scope.hostname_source == 'short-name'


@pytest.mark.parametrize('option, value', [
    ('recovery_window', math.nan),
    ('confirmation_window', math.nan),
    ('backoff_max', math.inf),
    ('notify_retry_max', math.inf),
    ('unknown_host_recheck', math.nan),
])
def test_non_finite_durations_are_refused(make_conf, option, value):
    conf = make_conf({option: value})

    with pytest.raises(k8s_conf.ConfigError, match=r'\[k8s\] ' + option):
        k8s_conf.load_settings(conf)


def test_fresh_config_objects_do_not_share_overrides(make_conf):
    make_conf({'fencing': 'none'})
    other = make_conf()

    assert other[k8s_conf.GROUP].fencing == 'taint'


def test_list_opts_gives_the_group_and_every_option():
    listed = k8s_conf.list_opts()

    assert len(listed) == 1
    group, opts = listed[0]
    assert group.name == 'k8s'
    names = [opt.dest for opt in opts]
    assert len(names) == len(set(names))
    assert {'kubeconfig', 'api_url', 'node_selector', 'fencing',
            'recovery_window', 'watch_leases',
            'unknown_host_recheck'} <= set(names)
    assert all(opt.help for opt in opts)


def test_oslo_config_generator_renders_every_option():
    conf = cfg.ConfigOpts()
    generator.register_cli_opts(conf)
    conf(['--namespace', 'masakarimonitors_k8s'], default_config_files=[],
         default_config_dirs=[])
    output = io.StringIO()

    generator.generate(conf, output_file=output)

    sample = output.getvalue()
    assert '[k8s]' in sample
    for _, opts in k8s_conf.list_opts():
        for opt in opts:
            assert re.search(r'^#%s =' % opt.dest, sample, re.MULTILINE)
