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
])
def test_consistent_combinations_are_accepted(make_conf, overrides):
    settings = k8s_conf.load_settings(make_conf(overrides))

    assert isinstance(settings, k8s_conf.Settings)


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
