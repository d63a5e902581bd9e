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

"""The test-server backend runs what the chart renders, and only that.

These look at the pods of ``backends/pods.py`` before they start: the
command is the container's, the conf file is the rendered Secret's bytes,
the environment is the Deployment's, and a template the emulation does
not understand is refused rather than approximated.
"""

import base64
import copy

import pytest

from masakarimonitors_k8s import conf as k8s_conf
from tests.e2e.backends import base
from tests.e2e.backends import pods
from tests.e2e import test_scenarios


@pytest.fixture(scope='module')
def release():
    return pods.Release.render(base.k8s_values(recovery_window=2))


def unstarted_pod(release, tmp_path, name='masakari-hostmonitor-x-abcde'):
    pod = pods.Pod(release, name=name, root=tmp_path / name)
    pod.root.mkdir()
    pod._mount_volumes()
    return pod


def test_pod_runs_the_containers_command_on_the_rendered_conf(
        release, tmp_path):
    pod = unstarted_pod(release, tmp_path)
    argv = pod.argv()
    command = release.container['command']
    assert argv[0].endswith('/' + command[0])
    assert argv[1:-1] == command[1:-1]
    conf_path = argv[-1]
    assert conf_path.startswith(str(tmp_path))
    assert conf_path.endswith(command[-1])
    secret = release.data_of('Secret', 'masakari-hostmonitor-etc')
    with open(conf_path, 'rb') as stream:
        assert stream.read() == secret[pods.CONF_KEY]


def test_pod_environment_is_the_deployments(release, tmp_path):
    pod = unstarted_pod(release, tmp_path, name='masakari-hostmonitor-y-b')
    environment = pod.environment()
    assert environment['POD_NAME'] == 'masakari-hostmonitor-y-b'
    assert environment['POD_NAMESPACE'] == release.namespace == 'openstack'
    # The status port moves to a free loopback port; nothing else of the
    # conf is overridden.
    overridden = {name for name in environment if name.startswith('OS_')}
    assert overridden == {pods.STATUS_PORT_VARIABLE,
                          pods.STATUS_HOST_VARIABLE}
    assert environment[pods.STATUS_HOST_VARIABLE] == '127.0.0.1'
    port, = pod.published.values()
    assert environment[pods.STATUS_PORT_VARIABLE] == str(port)


def test_rendered_options_are_the_drivers_for_every_scenario():
    known = {opt.dest for opt in k8s_conf.ALL_OPTS}
    for values in (test_scenarios.FAST_LEADER_ELECTION,
                   {'max_unhealthy': '1', 'storm_settle_window': 3.0,
                    'recovery_window': 2}):
        release = pods.Release.render(base.k8s_values(**values))
        assert release.unknown_k8s_options() == []
        assert set(release.k8s_options()) <= known
        for name, value in values.items():
            assert float(release.k8s_options()[name]) == float(value)


def test_an_option_the_driver_lacks_is_reported(release):
    # The chart's schema refuses unknown [k8s] values; this catches what
    # a template would add on its own.
    objects = copy.deepcopy(release.objects)
    secret = next(item for item in objects if item['kind'] == 'Secret')
    conf = base64.b64decode(secret['data'][pods.CONF_KEY]).decode()
    conf = conf.replace('[k8s]\n', '[k8s]\nrecovery_windw = 2\n')
    secret['data'][pods.CONF_KEY] = base64.b64encode(conf.encode()).decode()
    assert pods.Release(objects).unknown_k8s_options() == ['recovery_windw']


def test_leader_lease_follows_the_conf(release):
    assert release.lease() == ('openstack', 'masakari-hostmonitor')
    renamed = pods.Release.render(base.k8s_values(
        leader_election_lease_name='other'))
    assert renamed.lease() == ('openstack', 'other')


def test_rbac_rules_are_the_charts(release):
    rules = release.rbac_rules()
    node_rule = next(rule for rule in rules if rule['resources'] == ['nodes'])
    assert set(node_rule['verbs']) == {'get', 'list', 'watch'}
    assert release.service_account_user == (
        'system:serviceaccount:openstack:masakari-hostmonitor')


@pytest.mark.parametrize('change,named', [
    (lambda spec: spec['volumes'].append({'name': 'host',
                                          'hostPath': {'path': '/'}})
     or spec['containers'][0]['volumeMounts'].append(
         {'name': 'host', 'mountPath': '/host'}), 'hostPath'),
    (lambda spec: spec['containers'][0]['env'].append(
        {'name': 'NODE', 'valueFrom': {'fieldRef': {
            'fieldPath': 'spec.nodeName'}}}), 'NODE'),
    (lambda spec: spec['containers'].append({'name': 'sidecar'}),
     'one container'),
])
def test_templates_the_emulation_cannot_run_are_refused(release, tmp_path,
                                                        change, named):
    objects = copy.deepcopy(release.objects)
    deployment = next(item for item in objects
                      if item['kind'] == 'Deployment')
    change(deployment['spec']['template']['spec'])
    with pytest.raises(pods.UnsupportedTemplate, match=named):
        changed = pods.Release(objects)
        pod = unstarted_pod(changed, tmp_path)
        pod.environment()


def test_password_from_an_existing_secret_is_read_as_the_kubelet_does(
        tmp_path):
    release = pods.Release.render({
        'conf.masakarimonitors.api.auth_type': 'password',
        'conf.masakarimonitors.api.token': None,
        'secrets.identity.masakari': 'masakari-keystone-user'})
    cluster = {('Secret', 'masakari-keystone-user'): {
        'OS_PASSWORD': b'from-the-secret'}}
    name = 'masakari-hostmonitor-z-c'
    pod = pods.Pod(release, name=name, root=tmp_path / name,
                   cluster=lambda kind, name: cluster.get((kind, name)))
    assert pod.environment()['OS_API__PASSWORD'] == 'from-the-secret'

    # The release does not carry the operator's Secret: without the
    # cluster's, the pod cannot start, as a kubelet would refuse it.
    alone = pods.Pod(release, name=name, root=tmp_path / 'alone')
    with pytest.raises(pods.UnsupportedTemplate,
                       match='OS_API__PASSWORD: Secret '
                             'masakari-keystone-user has no key '
                             'OS_PASSWORD'):
        alone.environment()
