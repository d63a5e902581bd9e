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

"""MonitorMetrics: what a scrape reports is what the stats say now."""

import math

import prometheus_client
import pytest

from masakarimonitors_k8s import engine as k8s_engine
from masakarimonitors_k8s import notifier
from masakarimonitors_k8s.observability import metrics
from masakarimonitors_k8s import policy
from tests.unit.observability import fakes


@pytest.fixture
def monitor():
    return fakes.FakeMonitor(leases=True)


def scrape(monitor_metrics):
    body, content_type = monitor_metrics.exposition()
    assert content_type.startswith('text/plain')
    return fakes.samples(body)


def test_nodes_by_verdict(monitor):
    monitor.engine.counts.update({policy.Health.HEALTHY: 7,
                                  policy.Health.SUSPECT: 1,
                                  policy.Health.FAILED: 2})
    found = scrape(metrics.MonitorMetrics(monitor))
    by_health = {health: fakes.value(found, 'masakari_k8s_nodes',
                                     health=health)
                 for health in ('healthy', 'suspect', 'failed',
                                'recovering')}
    assert by_health == {'healthy': 7, 'suspect': 1, 'failed': 2,
                         'recovering': 0}


def test_read_at_scrape_time_not_at_registration(monitor):
    monitor_metrics = metrics.MonitorMetrics(monitor)
    monitor.engine.counts[policy.Health.FAILED] = 4
    monitor.engine.counters.malformed_objects = 3
    monitor.engine.counters.unmapped_nodes = 2
    found = scrape(monitor_metrics)
    assert fakes.value(found, 'masakari_k8s_nodes', health='failed') == 4
    assert fakes.value(found, 'masakari_k8s_malformed_objects_total') == 3
    assert fakes.value(found, 'masakari_k8s_unmapped_nodes_total') == 2


def test_a_racing_engine_is_read_again(monitor):
    monitor.engine.counts[policy.Health.HEALTHY] = 5
    monitor.engine.failures_left = 2
    found = scrape(metrics.MonitorMetrics(monitor))
    assert fakes.value(found, 'masakari_k8s_nodes', health='healthy') == 5


def test_notifications_by_event_and_result(monitor):
    stats = monitor.deliveries.stats
    for event, outcome in [('STOPPED', notifier.Outcome.FAILED),
                           ('STOPPED', notifier.Outcome.FAILED),
                           ('STOPPED', notifier.Outcome.ACCEPTED),
                           ('STARTED', notifier.Outcome.DUPLICATE)]:
        stats.count(event, outcome)
    stats.superseded = 1
    monitor.deliveries.waiting = {'compute-1': object(),
                                  'compute-2': object()}
    found = scrape(metrics.MonitorMetrics(monitor))
    name = 'masakari_k8s_notifications_total'
    assert fakes.value(found, name, event='STOPPED', result='failed') == 2
    assert fakes.value(found, name, event='STOPPED', result='accepted') == 1
    assert fakes.value(found, name, event='STARTED',
                       result='duplicate') == 1
    assert (name, frozenset({'event': 'STARTED',
                             'result': 'accepted'}.items())) not in found
    assert fakes.value(
        found, 'masakari_k8s_notifications_superseded_total') == 1
    assert fakes.value(found, 'masakari_k8s_pending_notifications') == 2


def test_reflector_stats_per_resource(monitor):
    nodes, leases = monitor.reflectors
    nodes.stats.lists = 3
    nodes.stats.watches = 10
    nodes.stats.relists_after_expiry = 2
    nodes.stats.errors = 4
    nodes.stats.events = 120
    nodes.stats.bookmarks = 9
    nodes.stats.silence_checks = 5
    nodes.stats.synced = True
    nodes.stats.last_activity = monitor.clock.monotonic()
    monitor.clock.advance(12.5)
    found = scrape(metrics.MonitorMetrics(monitor))

    def of(name, resource='nodes'):
        return fakes.value(found, 'masakari_k8s_' + name, resource=resource)

    assert of('watch_restarts_total') == 9
    assert of('relists_total') == 2
    assert of('watch_expired_total') == 2
    assert of('watch_errors_total') == 4
    assert of('watch_events_total') == 120
    assert of('watch_bookmarks_total') == 9
    assert of('watch_silence_checks_total') == 5
    assert of('watch_synced') == 1
    assert of('watch_last_activity_age_seconds') == pytest.approx(12.5)
    # The lease reflector has not started: nothing to report but zeros.
    assert of('watch_restarts_total', 'leases') == 0
    assert of('relists_total', 'leases') == 0
    assert of('watch_synced', 'leases') == 0
    assert math.isnan(of('watch_last_activity_age_seconds', 'leases'))


def test_leader_and_guards(monitor):
    monitor_metrics = metrics.MonitorMetrics(monitor)
    found = scrape(monitor_metrics)
    # Without leader election the only replica leads.
    assert fakes.value(found, 'masakari_k8s_leader') == 1
    assert not any(name == 'masakari_k8s_guard_holding'
                   for name, _labels in found)

    monitor.leader = fakes.FakeLeader(is_leader=False)
    monitor.guards = fakes.FakeGuards({'storm': True, 'leader': False})
    found = scrape(monitor_metrics)
    assert fakes.value(found, 'masakari_k8s_leader') == 0
    assert fakes.value(found, 'masakari_k8s_guard_holding',
                       guard='storm') == 1
    assert fakes.value(found, 'masakari_k8s_guard_holding',
                       guard='leader') == 0

    monitor.leader.is_leader = True
    assert fakes.value(scrape(monitor_metrics), 'masakari_k8s_leader') == 1


def test_event_recorder_counts(monitor):
    counts = {'created': 5, 'aggregated': 2, 'failed': 1, 'dropped': 0}
    found = scrape(metrics.MonitorMetrics(monitor,
                                          event_stats=lambda: counts))
    for result, count in counts.items():
        assert fakes.value(found, 'masakari_k8s_node_events_total',
                           result=result) == count


def test_detection_latency_histogram(monitor):
    monitor_metrics = metrics.MonitorMetrics(monitor)
    histogram = monitor_metrics.detection_latency
    histogram.labels(host_status='UNKNOWN').observe(0.04)
    histogram.labels(host_status='UNKNOWN').observe(0.3)
    histogram.labels(host_status='NORMAL').observe(200.0)
    found = scrape(monitor_metrics)
    name = 'masakari_k8s_detection_latency_seconds'
    assert fakes.value(found, name + '_count', host_status='UNKNOWN') == 2
    assert fakes.value(found, name + '_sum',
                       host_status='UNKNOWN') == pytest.approx(0.34)
    assert fakes.value(found, name + '_bucket', host_status='UNKNOWN',
                       le='0.05') == 1
    assert fakes.value(found, name + '_bucket', host_status='NORMAL',
                       le='120.0') == 0
    assert fakes.value(found, name + '_bucket', host_status='NORMAL',
                       le='300.0') == 1


def test_each_monitor_has_its_own_registry(monitor):
    first = metrics.MonitorMetrics(monitor)
    second = metrics.MonitorMetrics(fakes.FakeMonitor())
    first.held.inc()
    assert fakes.value(scrape(first),
                       'masakari_k8s_notifications_held_total') == 1
    assert fakes.value(scrape(second),
                       'masakari_k8s_notifications_held_total') == 0
    default = prometheus_client.generate_latest(
        prometheus_client.REGISTRY).decode()
    assert 'masakari_k8s_' not in default


def test_openmetrics_is_offered_to_who_asks(monitor):
    body, content_type = metrics.MonitorMetrics(monitor).exposition(
        'application/openmetrics-text; version=1.0.0')
    assert content_type.startswith('application/openmetrics-text')
    assert body.rstrip().endswith(b'# EOF')


def test_masakari_client_state(monitor):
    def failing():
        raise ConnectionError('Keystone is not up yet')

    monitor.sender = notifier.MasakariSender(connect=failing)
    found = scrape(metrics.MonitorMetrics(monitor))
    assert fakes.value(found, 'masakari_k8s_masakari_client_ready') == 0
    assert fakes.value(found,
                       'masakari_k8s_masakari_client_failures_total') == 0

    monitor.sender.send(k8s_engine.Notification(
        'compute-1', 'compute-1', policy.Intent(
            policy.Event.STOPPED, 'UNKNOWN', 'OFFLINE', 0.0, 'test')))
    found = scrape(metrics.MonitorMetrics(monitor))
    assert fakes.value(found,
                       'masakari_k8s_masakari_client_failures_total') == 1
