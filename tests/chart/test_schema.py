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

"""Bad values stop ``helm template`` with a message naming the value.

values.schema.json catches wrong types, unknown choices and impossible
numbers; the chart's own ``fail`` checks catch combinations a schema
cannot word well. Every case runs the real helm and reads its error.
"""

import pytest
import yaml

from tests.chart import render

K8S = 'conf.masakarimonitors.k8s.'
PROBE = 'pod.probes.masakari_host_monitor.masakari_host_monitor.'

SCHEMA_REJECTS = [
    ({'pod.replicas.masakari_host_monitor': 0},
     "'/pod/replicas/masakari_host_monitor': minimum: got 0, want 1"),
    ({'pod.replicas.masakari_host_monitor': 'two'},
     "'/pod/replicas/masakari_host_monitor': got string, want integer"),
    ({K8S + 'fencing': 'stonith'},
     "'/conf/masakarimonitors/k8s/fencing': value must be one of"),
    ({K8S + 'fence_action': 'reboot'},
     "'/conf/masakarimonitors/k8s/fence_action': value must be one of"),
    ({K8S + 'hostname_source': 'fqdn'},
     "'/conf/masakarimonitors/k8s/hostname_source': value must be one of"),
    ({K8S + 'connect_timeout': -1},
     "'/conf/masakarimonitors/k8s/connect_timeout': minimum: got -1"),
    ({K8S + 'recovery_window': -30},
     "'/conf/masakarimonitors/k8s/recovery_window': minimum: got -30"),
    ({K8S + 'lease_stale_after': 5},
     "'/conf/masakarimonitors/k8s/lease_stale_after': minimum: got 5"),
    ({K8S + 'watch_timeout': 1},
     "'/conf/masakarimonitors/k8s/watch_timeout': minimum: got 1"),
    ({K8S + 'leader_election': 'yes'},
     "'/conf/masakarimonitors/k8s/leader_election': got string"),
    ({K8S + 'leader_election_lease_duration': 0},
     "'/conf/masakarimonitors/k8s/leader_election_lease_duration': "
     "minimum"),
    ({K8S + 'status_port': 70000},
     "'/conf/masakarimonitors/k8s/status_port'"),
    ({K8S + 'fenceing': 'taint'},
     "'/conf/masakarimonitors/k8s': additional properties 'fenceing'"),
    ({'conf.masakarimonitors.host.monitoring_driver': 'default'},
     "'/conf/masakarimonitors/host/monitoring_driver': value must be 'k8s'"),
    ({PROBE + 'liveness.params.timeoutSeconds': -5},
     "'/pod/probes/masakari_host_monitor/masakari_host_monitor/liveness/"
     "params/timeoutSeconds': minimum: got -5"),
    ({'pod.lifecycle.termination_grace_period.masakari_host_monitor'
      '.timeout': -1},
     "'/pod/lifecycle/termination_grace_period/masakari_host_monitor/"
     "timeout': minimum: got -1"),
    ({'pod.lifecycle.disruption_budget.masakari_host_monitor'
      '.min_available': 'most'},
     "'/pod/lifecycle/disruption_budget/masakari_host_monitor/"
     "min_available'"),
    ({'images.pull_policy': 'Sometimes'},
     "'/images/pull_policy': value must be one of"),
    ({'images.tags.masakari_host_monitor': ''},
     "'/images/tags/masakari_host_monitor': minLength"),
    ({'endpoints.identity.port.api.internal': 0},
     "'/endpoints/identity/port/api/internal': minimum: got 0"),
    ({'manifests.deployment': 'yes'},
     "'/manifests/deployment': got string, want boolean"),
    ({'network_policy.masakari_host_monitor.kube_apiserver.cidrs':
      ['10.0.0.1']},
     "'/network_policy/masakari_host_monitor/kube_apiserver/cidrs/0'"),
    ({'monitoring.prometheus.service_monitor.interval': '30'},
     "'/monitoring/prometheus/service_monitor/interval'"),
    ({'pods': {}},
     "additional properties 'pods'"),
    ({'secrets.ca_bundle.secret': 'Cloud_CA'},
     "'/secrets/ca_bundle/secret'"),
    ({'secrets.identity.masakari': 'Keystone User'},
     "'/secrets/identity/masakari'"),
    ({'endpoints.identity.auth.masakari.cacert': 'ca.crt'},
     "'/endpoints/identity/auth/masakari/cacert'"),
    ({'network_policy.masakari_host_monitor.node_local_dns.address':
      '169.254.20.10'},
     "'/network_policy/masakari_host_monitor/node_local_dns/address'"),
    ({'monitoring.prometheus.rules.for.no_leader': '1 minute'},
     "'/monitoring/prometheus/rules/for/no_leader'"),
    ({'pod.tolerations.masakari_host_monitor.control_plane': 'yes'},
     "'/pod/tolerations/masakari_host_monitor/control_plane'"),
]

TEMPLATE_REJECTS = [
    ({'pod.lifecycle.disruption_budget.masakari_host_monitor'
      '.min_available': 2},
     'pod.lifecycle.disruption_budget.masakari_host_monitor.min_available'
     ' (2) must be below pod.replicas.masakari_host_monitor (2)'),
    ({K8S + 'fencing': 'redfish'},
     'need secrets.redfish.credentials.name'),
    ({K8S + 'fence_action': 'redfish-power-off'},
     'need secrets.redfish.credentials.name'),
    ({'manifests.service_monitor': True},
     'manifests.service_monitor needs manifests.service_metrics'),
    ({'secrets.ca_bundle.secret': 'ca', 'secrets.ca_bundle.config_map': 'ca'},
     'secrets.ca_bundle: set secret or config_map, not both'),
    ({K8S + 'leader_election_lease_duration': 10,
      K8S + 'leader_election_renew_deadline': 10},
     'leader_election_renew_deadline (10) must be shorter than'
     ' leader_election_lease_duration (10)'),
    ({K8S + 'leader_election_renew_deadline': 2,
      K8S + 'leader_election_retry_period': 2.5},
     'leader_election_retry_period (2.5) must be shorter than'
     ' leader_election_renew_deadline (2)'),
]


def refused(set_values=None, values_files=()):
    with pytest.raises(render.HelmError) as caught:
        render.render(values_files, set_values)
    return caught.value.stderr


@pytest.mark.parametrize('set_values,message', SCHEMA_REJECTS,
                         ids=[next(iter(case)) for case, _ in SCHEMA_REJECTS])
def test_schema_rejects_with_the_value_named(set_values, message):
    error = refused(set_values)
    assert "values don't meet the specifications of the schema" in error
    assert message in error


@pytest.mark.parametrize('set_values,message', TEMPLATE_REJECTS,
                         ids=[next(iter(case))
                              for case, _ in TEMPLATE_REJECTS])
def test_chart_rejects_impossible_combinations(set_values, message):
    assert message in refused(set_values)


def test_a_bad_values_file_is_refused_too(tmp_path):
    bad = tmp_path / 'bad.yaml'
    bad.write_text(yaml.safe_dump({'conf': {'masakarimonitors': {
        'k8s': {'fencing': 'stonith', 'list_page_size': 0}}}}))
    error = refused(values_files=[bad])
    assert "'/conf/masakarimonitors/k8s/fencing'" in error
    assert "'/conf/masakarimonitors/k8s/list_page_size': minimum: got 0" \
        in error


@pytest.mark.parametrize('set_values', [
    {K8S + 'fencing': 'none'},
    {K8S + 'fence_action': None},
    {K8S + 'status_port': 9090},
    {'pod.lifecycle.disruption_budget.masakari_host_monitor'
     '.min_available': '50%'},
    {'pod.replicas.masakari_host_monitor': 1,
     'manifests.pod_disruption_budget': False},
    {'conf.masakarimonitors.DEFAULT.log_file': None},
    # What OpenStack-Helm family clouds pass to every chart.
    {'_region': 'RegionOne'},
    {'dependencies': {'static': {'masakari_host_monitor': {}}}},
    {'images.tags.dep_check': 'quay.io/airshipit/kubernetes-entrypoint'},
    {'images.local_registry': {'active': False}},
    {'pod.priorityClassName.masakari_host_monitor': 'openstack-critical'},
    {'pod.security_context.masakari': {'pod': {'runAsUser': 42424}}},
    {'manifests.certificates': True},
    {'manifests.host_monitor': False},
    {'tls': {'identity': True}},
    {'endpoints.identity.auth.masakari.cacert':
     '/etc/ssl/certs/openstack-helm.crt'},
    {'endpoints.identity.auth.masakari.interface': 'internal'},
    {'secrets.oci_image_registry': {'masakari': 'registry-key'}},
], ids=lambda case: next(iter(case)))
def test_sensible_values_are_accepted(set_values):
    assert render.render(set_values=set_values)
