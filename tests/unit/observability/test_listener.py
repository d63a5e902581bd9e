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

"""DecisionListener: which decision becomes which Node Event and metric."""

import dataclasses

import pytest

from masakarimonitors_k8s import conf as k8s_conf
from masakarimonitors_k8s import engine as k8s_engine
from masakarimonitors_k8s.kube import nodes as kube_nodes
from masakarimonitors_k8s import notifier
from masakarimonitors_k8s.observability import listener as obs_listener
from masakarimonitors_k8s.observability import metrics
from masakarimonitors_k8s import policy
from tests.unit.observability import fakes

H = policy.Health
EPOCH = 1_800_000_000.0


class FakeEvents:
    def __init__(self):
        self.recorded = []

    def record(self, node, reason, message, *, event_type, node_uid=None):
        self.recorded.append((node, reason, event_type, message, node_uid))

    def reasons(self):
        return [entry[1] for entry in self.recorded]


class FakeServerClock:
    def __init__(self, wall):
        self.wall = wall

    def now(self):
        return policy.Instant(wall=self.wall, monotonic=0.0)


@pytest.fixture
def events():
    return FakeEvents()


@pytest.fixture
def server_clock():
    return FakeServerClock(EPOCH)


@pytest.fixture
def monitor_metrics():
    return metrics.MonitorMetrics(fakes.FakeMonitor())


@pytest.fixture
def leading():
    return {'value': True}


@pytest.fixture
def listener(events, server_clock, monitor_metrics, leading):
    return obs_listener.DecisionListener(
        metrics=monitor_metrics, events=events, server_clock=server_clock,
        policy_settings=k8s_conf.PolicySettings(confirmation_window=20.0),
        may_act=lambda: leading['value'])


def node(name='compute-1', hostname='compute-1.example.org'):
    return kube_nodes.NodeState(name=name, hostname=hostname,
                                resource_version='7')


def assessment(health, *, fenced=False, evidence=None, reason='Ready=Unknown'
               ' (NodeStatusUnknown)'):
    return policy.Assessment(health, reason, 0.0, failure_time=EPOCH - 30,
                             fenced=fenced, evidence=evidence)


def notification(event=policy.Event.STOPPED, host_status='UNKNOWN',
                 generated_time=EPOCH - 30):
    return k8s_engine.Notification(
        'compute-1.example.org', 'compute-1',
        policy.Intent(event, host_status, 'OFFLINE', generated_time,
                      'Ready=Unknown'))


def accepted(uuid='7d1f6c3e-uuid'):
    return notifier.Result(notifier.Outcome.ACCEPTED, 'stored', uuid)


def test_a_failure_told_step_by_step(listener, events):
    state = node()
    suspect = assessment(H.SUSPECT)
    failed = assessment(H.FAILED)
    fenced = assessment(H.FAILED, fenced=True,
                        evidence='taint node.kubernetes.io/out-of-service')
    recovered = policy.Assessment(H.HEALTHY, 'recovered: Ready=True', 0.0)
    listener.transition(state, None, assessment(H.HEALTHY))
    listener.transition(state, assessment(H.HEALTHY), suspect)
    listener.transition(state, suspect, failed)
    listener.transition(state, failed, fenced)
    listener.transition(state, fenced, recovered)
    assert events.reasons() == ['HostSuspect', 'HostFailed', 'HostFenced',
                                'HostRecovered']
    by_reason = {entry[1]: entry for entry in events.recorded}
    assert by_reason['HostSuspect'][2] == 'Warning'
    assert 'after 20s' in by_reason['HostSuspect'][3]
    assert by_reason['HostFailed'][2] == 'Warning'
    assert 'No fencing evidence yet' in by_reason['HostFailed'][3]
    assert 'compute-1.example.org' in by_reason['HostFailed'][3]
    assert by_reason['HostFenced'][2] == 'Normal'
    assert 'node.kubernetes.io/out-of-service' in by_reason['HostFenced'][3]
    assert by_reason['HostRecovered'][2] == 'Normal'
    assert all(entry[0] == 'compute-1' for entry in events.recorded)


def test_failed_with_evidence_at_once_says_so(listener, events):
    listener.transition(node(), assessment(H.HEALTHY), assessment(
        H.FAILED, fenced=True, evidence='fencing=none'))
    assert events.reasons() == ['HostFailed']
    assert 'host_status NORMAL' in events.recorded[0][3]


def test_flapping_recovery_is_not_a_new_failure(listener, events):
    state = node()
    listener.transition(state, assessment(H.FAILED),
                        assessment(H.RECOVERING))
    listener.transition(state, assessment(H.RECOVERING),
                        assessment(H.FAILED))
    assert events.reasons() == []


def test_transitions_are_counted(listener, monitor_metrics):
    state = node()
    listener.transition(state, None, assessment(H.HEALTHY))
    listener.transition(state, assessment(H.HEALTHY), assessment(H.FAILED))
    found = fakes.samples(monitor_metrics.exposition()[0])
    name = 'masakari_k8s_node_transitions_total'
    assert fakes.value(found, name, from_health='unseen',
                       to_health='healthy') == 1
    assert fakes.value(found, name, from_health='healthy',
                       to_health='failed') == 1


def test_node_uid_is_used_once_known(listener, events):
    @dataclasses.dataclass(frozen=True)
    class StateWithUid:
        name: str
        hostname: str
        uid: str

    state = StateWithUid('compute-1', 'compute-1', 'a1b2-uid')
    listener.transition(state, assessment(H.HEALTHY), assessment(H.FAILED))
    listener.delivered(notification(), accepted())
    assert [entry[4] for entry in events.recorded] == ['a1b2-uid'] * 2


def test_accepted_stop_names_the_uuid_and_times_detection(
        listener, events, monitor_metrics, server_clock):
    server_clock.wall = EPOCH + 0.25
    listener.delivered(notification(generated_time=EPOCH), accepted('u-1'))
    assert events.reasons() == ['MasakariNotified']
    assert 'notification u-1' in events.recorded[0][3]
    assert 'STOPPED (host_status UNKNOWN)' in events.recorded[0][3]
    found = fakes.samples(monitor_metrics.exposition()[0])
    name = 'masakari_k8s_detection_latency_seconds'
    assert fakes.value(found, name + '_count', host_status='UNKNOWN') == 1
    assert fakes.value(found, name + '_sum',
                       host_status='UNKNOWN') == pytest.approx(0.25)


def test_started_and_duplicates_are_not_detections(
        listener, events, monitor_metrics):
    listener.delivered(notification(policy.Event.STARTED, 'NORMAL'),
                       accepted())
    listener.delivered(notification(), notifier.Result(
        notifier.Outcome.DUPLICATE, 'duplicate'))
    assert events.reasons() == ['MasakariNotified', 'MasakariNotified']
    assert '(duplicate)' in events.recorded[1][3]
    found = fakes.samples(monitor_metrics.exposition()[0])
    assert not any(name == 'masakari_k8s_detection_latency_seconds_count'
                   for name, _labels in found)


def test_a_clock_behind_never_makes_negative_latency(
        listener, monitor_metrics, server_clock):
    server_clock.wall = EPOCH - 100
    listener.delivered(notification(generated_time=EPOCH), accepted())
    found = fakes.samples(monitor_metrics.exposition()[0])
    assert fakes.value(found, 'masakari_k8s_detection_latency_seconds_sum',
                       host_status='UNKNOWN') == 0


@pytest.mark.parametrize('outcome, reason, event_type', [
    (notifier.Outcome.HOST_ON_MAINTENANCE, 'HostOnMaintenance', 'Normal'),
    (notifier.Outcome.REJECTED, 'NotificationRejected', 'Warning'),
    (notifier.Outcome.UNKNOWN_HOST, 'HostNotRegistered', 'Warning'),
])
def test_other_answers(listener, events, outcome, reason, event_type):
    listener.delivered(notification(), notifier.Result(outcome, 'detail'))
    assert [(e[1], e[2]) for e in events.recorded] == [(reason, event_type)]


def test_transient_failures_make_no_event(listener, events):
    listener.delivered(notification(), notifier.Result(
        notifier.Outcome.FAILED, 'connection refused'))
    assert events.recorded == []


def test_held_fenced_and_fence_failed(listener, events, monitor_metrics):
    # The notification gate: held(notification, reason).
    listener.held(notification(), 'storm guard: zone a: 4 of 6 failed')
    listener.held('compute-2', None, 'leader election: standby')
    listener.held(node('compute-3'), notification(), 'settle window')
    listener.fenced('compute-1', 'BMC https://bmc-1/ verified system Off')
    listener.fence_failed('compute-1', 'BMC https://bmc-1/: timeout')
    assert [(e[0], e[1], e[2]) for e in events.recorded] == [
        ('compute-1', 'NotificationHeld', 'Warning'),
        ('compute-2', 'NotificationHeld', 'Warning'),
        ('compute-3', 'NotificationHeld', 'Warning'),
        ('compute-1', 'HostFenced', 'Normal'),
        ('compute-1', 'FencingFailed', 'Warning')]
    assert events.recorded[0][3] == (
        'Holding STOPPED (host_status UNKNOWN) for host '
        'compute-1.example.org: storm guard: zone a: 4 of 6 failed')
    assert events.recorded[1][3] == ('Holding action on node compute-2: '
                                     'leader election: standby')
    assert 'verified system Off' in events.recorded[3][3]
    assert 'timeout' in events.recorded[4][3]
    found = fakes.samples(monitor_metrics.exposition()[0])
    assert fakes.value(found, 'masakari_k8s_notifications_held_total') == 3
    assert fakes.value(found, 'masakari_k8s_fencing_actions_total') == 1
    assert fakes.value(found, 'masakari_k8s_fencing_failures_total') == 1


def test_a_standby_records_no_events_but_keeps_metrics(
        listener, events, monitor_metrics, leading):
    leading['value'] = False
    listener.transition(node(), assessment(H.HEALTHY), assessment(H.FAILED))
    assert events.recorded == []
    found = fakes.samples(monitor_metrics.exposition()[0])
    assert fakes.value(found, 'masakari_k8s_node_transitions_total',
                       from_health='healthy', to_health='failed') == 1


def test_without_node_events_metrics_still_work(monitor_metrics,
                                                server_clock):
    quiet = obs_listener.DecisionListener(
        metrics=monitor_metrics, events=None, server_clock=server_clock,
        policy_settings=k8s_conf.PolicySettings())
    quiet.transition(node(), assessment(H.HEALTHY), assessment(H.FAILED))
    quiet.delivered(notification(), accepted())
    found = fakes.samples(monitor_metrics.exposition()[0])
    assert fakes.value(found, 'masakari_k8s_detection_latency_seconds_count',
                       host_status='UNKNOWN') == 1


def test_node_uids_are_bounded(listener, monkeypatch):
    monkeypatch.setattr(obs_listener, 'MAX_REMEMBERED_UIDS', 3)
    for n in range(5):
        state = kube_nodes.NodeState(name='node-%d' % n, hostname='h',
                                     resource_version='1', uid='u-%d' % n)
        listener.transition(state, None, assessment(H.HEALTHY))

    # Deleted nodes are never announced: the oldest entries go.
    assert list(listener._uids) == ['node-2', 'node-3', 'node-4']
