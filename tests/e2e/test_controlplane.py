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

"""What only a real control plane can show (``--e2e-backend=controlplane``).

The scenarios of ``test_scenarios.py`` run on every backend; these need
the real kube-apiserver, controller-manager and kubectl: Pod Security
admission of the chart's pods, the real node lifecycle controller's
verdict, the monitor's Events as ``kubectl describe node`` shows them,
a ``helm upgrade`` that rolls the Deployment under a failure, and
``helm test`` with the Keystone password from the operator's Secret.
"""

import json
import re

import pytest

from masakarimonitors_k8s.testing import keystone as fake_keystone
from tests.e2e.backends import controlplane as backend_module
from tests.e2e import test_scenarios as scenarios

pytestmark = pytest.mark.timeout(900)

UNREACHABLE = 'node.kubernetes.io/unreachable'
MASAKARI_NOTIFIED = 'MasakariNotified'
# OpenStack-Helm's masakari chart keeps the user's openrc in this Secret.
KEYSTONE_USER_SECRET = 'masakari-keystone-user'
RIGHT_PASSWORD = 'the-right-password'
WRONG_PASSWORD = 'not-the-password'
COMPUTE_SELECTOR = 'openstack-compute-node=enabled'
KEYSTONE_REFUSED = 'Keystone refused the [api] credentials (HTTP 401)'


@pytest.fixture
def cp_backend(request):
    # Decided before the backend fixture would set a scenario up.
    if request.config.getoption('--e2e-backend',
                                default=None) != 'controlplane':
        pytest.skip('needs --e2e-backend=controlplane')
    return request.getfixturevalue('backend')


def test_chart_pods_pass_restricted_pod_security(cp_backend):
    plane = cp_backend.plane
    namespace = plane.api('GET', '/api/v1/namespaces/%s'
                          % backend_module.NAMESPACE)
    assert namespace['metadata']['labels'][
        'pod-security.kubernetes.io/enforce'] == 'restricted'
    # Admission really enforces it here: a root pod is refused.
    refused = plane.kubectl(
        '-n', backend_module.NAMESPACE, 'run', 'root-shell',
        '--image=busybox', '--restart=Never', '--overrides', json.dumps(
            {'spec': {'securityContext': {'runAsUser': 0}}}), check=False)
    assert refused.returncode != 0
    assert 'violates PodSecurity "restricted' in refused.stderr

    cp_backend.deploy_monitor(scenarios.monitor_values(cp_backend))

    assert backend_module.replica_set_failures(plane) == []
    assert len(cp_backend.cluster_pods()) == 2


def test_real_controller_verdict_and_events_in_kubectl_describe(cp_backend):
    cp_backend.deploy_monitor(scenarios.monitor_values(cp_backend))
    worker = cp_backend.workers()[0]
    cp_backend.stop_workers([worker])
    scenarios.expect_notifications(
        cp_backend, [(worker, scenarios.STOPPED, scenarios.UNKNOWN)],
        timeout=cp_backend.timeouts.failure)

    # The verdict the monitor acted upon is the controller's own.
    node = cp_backend.plane.node(worker)
    assert cp_backend.plane.node_ready(worker) == 'Unknown'
    assert UNREACHABLE in {taint['key']
                           for taint in node['spec'].get('taints') or ()}

    described = cp_backend.plane.kubectl('describe', 'node', worker).stdout
    events = described.split('Events:', 1)[1]
    for event in cp_backend.node_events(worker):
        assert event.reason in events, described
    assert MASAKARI_NOTIFIED in events, described


def test_helm_upgrade_rolls_and_new_replicas_take_over_once(cp_backend):
    cp_backend.deploy_monitor(scenarios.monitor_values(
        cp_backend, **scenarios.FAST_LEADER_ELECTION))
    worker = cp_backend.workers()[0]
    cp_backend.stop_workers([worker])
    expect = [(worker, scenarios.STOPPED, scenarios.UNKNOWN)]
    scenarios.expect_notifications(cp_backend, expect,
                                   timeout=cp_backend.timeouts.failure)
    old_leader = cp_backend.leader()

    # A changed conf: the chart's secret-etc-hash rolls the pods.
    old, new = cp_backend.upgrade_monitor(scenarios.monitor_values(
        cp_backend, recovery_window=scenarios.RECOVERY_WINDOW + 1,
        **scenarios.FAST_LEADER_ELECTION))
    assert old_leader in old
    assert len(new) == 2 and not set(new) & set(old)
    assert cp_backend.leader() in new
    deployment = cp_backend.plane.api(
        'GET', '/apis/apps/v1/namespaces/%s/deployments/%s' % (
            backend_module.NAMESPACE, backend_module.RELEASE))
    assert deployment['metadata']['generation'] >= 2
    assert deployment['status'].get('updatedReplicas') == 2

    # The new leader judged the down worker again; Masakari must not
    # store its STOPPED twice. The fencing verdict is the barrier.
    cp_backend.taint_out_of_service(worker)
    expect.append((worker, scenarios.STOPPED, scenarios.NORMAL))
    scenarios.expect_notifications(cp_backend, expect,
                                   timeout=cp_backend.timeouts.failure)


def test_monitor_restarted_with_a_node_down_reports_it_once(cp_backend):
    cp_backend.deploy_monitor(scenarios.monitor_values(
        cp_backend, **scenarios.FAST_LEADER_ELECTION))
    down = cp_backend.workers()[0]
    cp_backend.stop_workers([down])
    expect = [(down, scenarios.STOPPED, scenarios.UNKNOWN)]
    scenarios.expect_notifications(cp_backend, expect,
                                   timeout=cp_backend.timeouts.failure)

    # Every replica dies at once; the replacements find the node down
    # already and send the same notification, which Masakari must
    # recognise as a duplicate.
    killed = cp_backend.monitor_pods()
    for name in killed:
        cp_backend.kill_pod(name)
    cp_backend.wait_for(
        lambda: cp_backend.leader() in set(cp_backend.monitor_pods())
        - set(killed), timeout=cp_backend.timeouts.takeover
        + scenarios.FAST_LEADER_ELECTION['leader_election_lease_duration'],
        what='a replacement pod to lead')

    # The restarted leader judges the node anew and, past its settle
    # window, sends the same notification: Masakari answers that it
    # has it already, which the leader records on the Node.
    cp_backend.wait_for(
        lambda: [event for event in cp_backend.node_events(down)
                 if event.reason == MASAKARI_NOTIFIED
                 and '(duplicate)' in event.message],
        timeout=cp_backend.timeouts.failure,
        what='the restarted leader to find its STOPPED a duplicate')
    assert cp_backend.notifications() == expect

    cp_backend.start_worker(down)
    expect.append((down, scenarios.STARTED, scenarios.NORMAL))
    scenarios.expect_notifications(cp_backend, expect,
                                   timeout=cp_backend.timeouts.recovery)


def test_helm_test_passes_with_the_right_password_and_fails_with_a_wrong_one(
        cp_backend):
    masakari = cp_backend._masakari
    with fake_keystone.FakeKeystone(masakari.url, masakari.token,
                                    username='masakari',
                                    password=RIGHT_PASSWORD) as keystone:
        # The operator's Secret; the chart passes its OS_PASSWORD to the
        # pods as OS_API__PASSWORD, never through values.
        cp_backend.put_secret(KEYSTONE_USER_SECRET,
                              {'OS_USERNAME': 'masakari',
                               'OS_PASSWORD': RIGHT_PASSWORD})
        # The compute nodes only, as OpenStack-Helm labels them: the
        # control-plane Node is no Masakari host, and the check fails on
        # any node in scope without one.
        values = scenarios.monitor_values(cp_backend,
                                          node_selector=COMPUTE_SELECTOR)
        values.update({
            'conf.masakarimonitors.api.auth_type': 'password',
            'conf.masakarimonitors.api.token': None,
            'conf.masakarimonitors.api.auth_url': keystone.auth_url,
            'secrets.identity.masakari': KEYSTONE_USER_SECRET,
        })
        cp_backend.deploy_monitor(values)

        passed = cp_backend.helm_test()
        assert passed.returncode == 0, (passed.output, passed.pod_log)
        assert 'Succeeded' in passed.output, passed.output
        assert re.search(r'^masakari-api +OK ', passed.pod_log,
                         re.MULTILINE), passed.pod_log
        assert ' 0 FAIL,' in passed.pod_log, passed.pod_log
        assert ('masakari', True) in keystone.attempts

        # The Secret's password is no longer Keystone's: the next
        # `helm test` must fail, and say why in one line.
        cp_backend.put_secret(KEYSTONE_USER_SECRET,
                              {'OS_USERNAME': 'masakari',
                               'OS_PASSWORD': WRONG_PASSWORD})
        failed = cp_backend.helm_test()
        assert failed.returncode != 0, failed.output
        assert 'failed' in failed.output.lower(), failed.output
        assert failed.pod.name in failed.output, failed.output
        assert re.search(r'^masakari-api +FAIL +%s' % re.escape(
            KEYSTONE_REFUSED), failed.pod_log, re.MULTILINE), failed.pod_log
        assert ('masakari', False) in keystone.attempts
        test_pod = cp_backend.plane.api(
            'GET', '/api/v1/namespaces/%s/pods/%s' % (
                backend_module.NAMESPACE, failed.pod.name))
        assert test_pod['status']['phase'] == 'Failed'
        assert test_pod['metadata']['uid'] != \
            passed.pod.release.item['metadata']['uid']
