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

"""A host failure seen through the operator's tools: /metrics scraped over
HTTP, Node Events read back from the API server, and the probes.

The monitor runs as in production against the Kubernetes API test server
and a real masakari-api; observability is attached to it with
``wiring.attach`` on a free port. The monitor runs on the cluster's
ManualClock (seen five minutes behind), so its confirmation window passes
when the test moves cluster time, and the detection latency it measures
can be compared with the timestamps in the Node object.
"""

import dataclasses
import urllib.error
import urllib.request

from prometheus_client import parser
import pytest

from masakarimonitors_k8s.clock import OffsetClock
from masakarimonitors_k8s import conf as k8s_conf
from masakarimonitors_k8s.kube import events as kube_events
from masakarimonitors_k8s.kube import nodes as kube_nodes
from masakarimonitors_k8s.observability import wiring
from masakarimonitors_k8s.testing import harness

pytestmark = pytest.mark.timeout(120)

EVENT_RULES = harness.MONITOR_RULES + [
    {'apiGroups': [''], 'resources': ['events'],
     'verbs': ['create', 'patch']}]
# Events come from this attach() alone, even once Monitor.start() attaches
# its own observability: the monitor's settings turn its Events off.
QUIET_MONITOR = k8s_conf.StatusSettings(node_events=False)
OBSERVED = k8s_conf.StatusSettings(node_events=True)


def http_get(url):
    """(status, content type, body text), for error statuses too."""
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return (answer.status, answer.headers['Content-Type'],
                    answer.read().decode('utf-8'))
    except urllib.error.HTTPError as error:
        return (error.code, error.headers['Content-Type'],
                error.read().decode('utf-8'))


class Scrape:
    """One /metrics answer, parsed."""

    def __init__(self, base_url):
        status, content_type, text = http_get(base_url + '/metrics')
        assert status == 200
        assert content_type.startswith('text/plain')
        self.samples = {}
        for family in parser.text_string_to_metric_families(text):
            for sample in family.samples:
                key = (sample.name, frozenset(sample.labels.items()))
                self.samples[key] = sample.value

    def __call__(self, name, default=None, **labels):
        return self.samples.get(('masakari_k8s_' + name,
                                 frozenset(labels.items())), default)

    def nodes(self):
        return {health: self('nodes', health=health)
                for health in ('healthy', 'suspect', 'failed',
                               'recovering')}


def our_events(cluster, node=None):
    items, _rv, _token = cluster.store.list('events', namespace='default')
    mine = [event for event in items
            if event['source'].get('component') == kube_events.COMPONENT
            and (node is None or event['involvedObject']['name'] == node)]
    return sorted(mine, key=lambda e: int(e['metadata']['resourceVersion']))


@pytest.fixture
def cluster():
    cluster = harness.ClusterUnderTest(rules=EVENT_RULES)
    yield cluster
    cluster.stop()


@pytest.fixture
def observe(cluster):
    """start(masakari, **options) -> (MonitorUnderTest, handle)."""
    started = []

    def start(masakari, *, clock=None, identity=None, **policy):
        settings = dataclasses.replace(harness.fast_settings(**policy),
                                       status=QUIET_MONITOR)
        monitor = harness.MonitorUnderTest(cluster, masakari, settings,
                                           clock=clock, identity=identity)
        handle = wiring.attach(monitor.monitor, OBSERVED, port=0,
                               instance='monitor-under-test')
        started.append((monitor, handle))
        return monitor, handle

    yield start
    for monitor, handle in started:
        handle.stop()
        monitor.stop()


def stored_with_uuid(masakari, hostname):
    return [(n['payload']['event'], n['payload']['host_status'],
             n['notification_uuid']) for n in masakari.notifications(hostname)]


def test_a_failure_in_metrics_and_node_events(cluster, masakari, observe):
    names = masakari.add_hosts(masakari.host_names(3))
    cluster.add_nodes(names)
    # The monitor's own wall clock is five minutes behind the cluster's:
    # latency must be measured on the API server's clock all the same.
    monitor, handle = observe(masakari, clock=OffsetClock(cluster.clock,
                                                          -300.0),
                              confirmation_window=60.0)
    harness.wait_until(monitor.synced, what='the initial list')
    monitor.settled()
    victim = names[1]

    before = Scrape(handle.url)
    assert before.nodes() == {'healthy': 3, 'suspect': 0, 'failed': 0,
                              'recovering': 0}
    assert before('leader') == 1
    assert before('watch_synced', resource='nodes') == 1
    assert before('pending_notifications') == 0
    assert before('notifications_total', event='STOPPED',
                  result='accepted') is None

    # Down: suspect for the confirmation window, then failed.
    cluster.fail_and_detect(victim)
    monitor.settled()
    assert Scrape(handle.url).nodes()['suspect'] == 1
    assert harness.stored(masakari) == []
    cluster.model.advance(60)
    harness.wait_until(lambda: harness.stored(masakari),
                       what='STOPPED/UNKNOWN')
    monitor.settled()
    node = cluster.store.get('nodes', victim)
    ready_since = kube_nodes.parse_time(next(
        c['lastTransitionTime'] for c in node['status']['conditions']
        if c['type'] == 'Ready'))
    expected_latency = cluster.clock.wall() - ready_since

    failed = Scrape(handle.url)
    assert failed.nodes() == {'healthy': 2, 'suspect': 0, 'failed': 1,
                              'recovering': 0}
    assert failed('notifications_total', event='STOPPED',
                  result='accepted') == 1
    assert failed('detection_latency_seconds_count',
                  host_status='UNKNOWN') == 1
    # Both ends on the API server's clock: Kubernetes' transition time and
    # the Date-anchored estimate of "now" (Date has 1 s resolution).
    assert failed('detection_latency_seconds_sum',
                  host_status='UNKNOWN') == pytest.approx(
        expected_latency, abs=1.0)
    assert failed('node_transitions_total', from_health='healthy',
                  to_health='suspect') == 1
    assert failed('node_transitions_total', from_health='suspect',
                  to_health='failed') == 1

    # Fenced: STOPPED/NORMAL.
    cluster.model.add_out_of_service_taint(victim)
    harness.wait_until(lambda: len(harness.stored(masakari)) == 2,
                       what='STOPPED/NORMAL')
    monitor.settled()
    fenced = Scrape(handle.url)
    assert fenced('notifications_total', event='STOPPED',
                  result='accepted') == 2
    assert fenced('detection_latency_seconds_count',
                  host_status='NORMAL') == 1

    # Back: STARTED.
    cluster.model.remove_out_of_service_taint(victim)
    cluster.model.power_on(victim)
    cluster.model.advance(10)
    harness.wait_until(lambda: len(harness.stored(masakari)) == 3,
                       what='STARTED')
    monitor.settled()
    recovered = Scrape(handle.url)
    assert recovered.nodes()['healthy'] == 3
    assert recovered('notifications_total', event='STARTED',
                     result='accepted') == 1
    assert recovered('detection_latency_seconds_count',
                     host_status='UNKNOWN') == 1

    assert handle.events.flush(10.0)
    uuids = [uuid for _event, _status, uuid
             in stored_with_uuid(masakari, victim)]
    events = our_events(cluster, victim)
    assert [(e['reason'], e['type']) for e in events] == [
        ('HostSuspect', 'Warning'),
        ('HostFailed', 'Warning'),
        ('MasakariNotified', 'Normal'),
        ('HostFenced', 'Normal'),
        ('MasakariNotified', 'Normal'),
        ('HostRecovered', 'Normal'),
        ('MasakariNotified', 'Normal')]
    notified = [e['message'] for e in events
                if e['reason'] == 'MasakariNotified']
    assert [uuid in message for uuid, message in zip(uuids, notified)] == [
        True, True, True]
    assert 'STOPPED (host_status UNKNOWN)' in notified[0]
    assert 'STOPPED (host_status NORMAL)' in notified[1]
    assert 'STARTED' in notified[2]
    for event in events:
        assert event['metadata']['namespace'] == 'default'
        assert event['involvedObject']['kind'] == 'Node'
        assert event['involvedObject']['uid'] in (
            victim, node['metadata']['uid'])
        assert event['reportingComponent'] == 'masakari-hostmonitor'
        assert event['reportingInstance'] == 'monitor-under-test'
        assert event['count'] == 1
    # Nothing was said about the healthy nodes.
    assert our_events(cluster) == events
    counts = Scrape(handle.url)
    assert counts('node_events_total', result='created') == 7
    assert counts('node_events_total', result='failed') == 0


def test_node_events_need_rbac_and_never_stop_the_monitor(masakari):
    # The token may read nodes but not write events.
    cluster = harness.ClusterUnderTest(rules=[
        rule for rule in harness.MONITOR_RULES
        if 'events' not in rule['resources']])
    try:
        names = masakari.add_hosts(masakari.host_names(2))
        cluster.add_nodes(names)
        settings = dataclasses.replace(harness.fast_settings(),
                                       status=QUIET_MONITOR)
        monitor = harness.MonitorUnderTest(cluster, masakari, settings)
        handle = wiring.attach(monitor.monitor, OBSERVED, port=0)
        try:
            harness.wait_until(monitor.synced, what='the initial list')
            cluster.fail_and_detect(names[0])
            monitor.settled()
            assert harness.stored(masakari) == [(names[0], 'STOPPED',
                                                 'UNKNOWN')]
            assert handle.events.flush(10.0)
            scrape = Scrape(handle.url)
            assert scrape('node_events_total', result='failed') == 2
            assert scrape('node_events_total', result='created') == 0
            assert our_events(cluster) == []
        finally:
            handle.stop()
            monitor.stop()
    finally:
        cluster.stop()


def test_probes_before_and_after_the_initial_list(cluster, masakari,
                                                  observe):
    cluster.add_nodes(masakari.add_hosts(masakari.host_names(2)))
    # The API answers every LIST of nodes with 503 for now.
    cluster.server.faults.fail_next(100000, 503, path_prefix='/api/v1/nodes',
                                    verb='list')
    monitor, handle = observe(masakari)
    harness.wait_until(lambda: monitor.nodes_reflector.stats.errors >= 2,
                       what='failed LISTs')
    status, _type, body = http_get(handle.url + '/readyz')
    assert (status, body) == (
        503, 'not ok: the initial list of nodes has not completed yet\n')
    status, _type, body = http_get(handle.url + '/healthz')
    assert status == 200
    assert 'watch of nodes' in body
    assert Scrape(handle.url)('watch_errors_total', resource='nodes') >= 2

    cluster.server.faults.clear()
    harness.wait_until(lambda: http_get(handle.url + '/readyz')[0] == 200,
                       what='/readyz to turn 200')
    status, _type, body = http_get(handle.url + '/readyz')
    assert 'view current' in body
    assert http_get(handle.url + '/nowhere')[0] == 404

    monitor.stop()
    status, _type, body = http_get(handle.url + '/healthz')
    assert (status, body) == (500, 'not ok: the monitor is stopping\n')


def test_leader_and_standby_are_both_ready_and_say_which(
        cluster, masakari, observe):
    cluster.add_nodes(masakari.add_hosts(masakari.host_names(2)))
    leader = harness.fast_leader()
    first, first_handle = observe(masakari, leader=leader,
                                  identity='replica-a')
    harness.wait_until(lambda: first.monitor.may_act, what='a leader')
    second, second_handle = observe(masakari, leader=leader,
                                    identity='replica-b')
    for handle in (first_handle, second_handle):
        harness.wait_until(
            lambda: http_get(handle.url + '/readyz')[0] == 200,
            what='/readyz to turn 200')
    assert 'leader' in http_get(first_handle.url + '/readyz')[2]
    assert 'standby (leader: ' in http_get(second_handle.url + '/readyz')[2]
    assert Scrape(first_handle.url)('leader') == 1
    assert Scrape(second_handle.url)('leader') == 0


def test_a_storm_held_back_is_visible(cluster, masakari, observe):
    names = masakari.add_hosts(masakari.host_names(4))
    cluster.add_nodes(names)
    # The default settle window lets the failures of a storm gather
    # before the first STOPPED leaves.
    monitor, handle = observe(masakari, clock=cluster.clock,
                              guards=k8s_conf.GuardSettings())
    harness.wait_until(monitor.synced, what='the initial list')
    assert Scrape(handle.url)('guard_holding', guard='storm') == 0
    cut_off = names[:3]
    cluster.model.partition(cut_off)
    for _ in range(18):
        cluster.model.advance(5)
        monitor.settled()
    harness.wait_until(lambda: monitor.monitor.guards.holding()['storm'],
                       what='the storm guard to hold')
    monitor.settled()
    # 3 of 4 nodes failed, more than 49 %: Masakari hears nothing, the
    # operator sees why.
    assert harness.stored(masakari) == []
    scrape = Scrape(handle.url)
    assert scrape('guard_holding', guard='storm') == 1
    assert scrape('nodes', health='failed') == 3
    assert scrape('notifications_held_total') >= 1
    assert handle.events.flush(10.0)
    held = [e for e in our_events(cluster)
            if e['reason'] == 'NotificationHeld']
    assert held
    assert {e['involvedObject']['name'] for e in held} == set(cut_off)
    for event in held:
        assert event['type'] == 'Warning'
        assert 'storm guard' in event['message']
        assert 'of 4 monitored nodes failed' in event['message']
