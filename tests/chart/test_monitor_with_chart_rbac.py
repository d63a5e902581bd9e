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

"""The monitor works with exactly the permissions the chart grants.

The chart's rendered ClusterRole/Role rules, as their bindings grant them,
become the only rules of the monitor's token on the Kubernetes API test
server; the monitor then lists, watches and reports a failure to a real
masakari-api. Taking one verb away shows the check has teeth.
"""

import pytest

from masakarimonitors_k8s.testing import harness
from masakarimonitors_k8s.testing import masakari_api
from tests.chart import render

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope='module')
def masakari(tmp_path_factory):
    with masakari_api.MasakariApi(tmp_path_factory.mktemp('masakari')) as api:
        yield api


class Segment:
    def __init__(self, api):
        self.api = api

    def sdk_connection(self):
        return self.api.sdk_connection()


def run_monitor_with(rules, masakari, names):
    segment = masakari.create_segment('rbac-%s' % names[0])
    masakari.add_hosts(segment, names)
    cluster = harness.ClusterUnderTest(rules=rules)
    monitor = None
    try:
        cluster.add_nodes(names)
        monitor = harness.MonitorUnderTest(cluster, Segment(masakari),
                                           harness.fast_settings())
        return cluster, monitor
    except Exception:
        if monitor is not None:
            monitor.stop()
        cluster.stop()
        raise


def test_chart_rules_are_enough_for_the_monitor(chart, masakari):
    rules = render.rbac_rules(chart.render())
    names = ['rbac-ok-0001', 'rbac-ok-0002']
    cluster, monitor = run_monitor_with(rules, masakari, names)
    try:
        harness.wait_until(monitor.synced, what='the initial list')
        cluster.fail_and_detect(names[1])
        monitor.settled()
        assert monitor.nodes_reflector.stats.errors == 0
        assert [(n['hostname'], n['payload']['event'])
                for n in masakari.notifications(names[1])] == [
            (names[1], 'STOPPED')]
    finally:
        monitor.stop()
        cluster.stop()


def test_without_watch_the_monitor_is_refused(chart, masakari):
    rules = []
    for rule in render.rbac_rules(chart.render()):
        if 'nodes' in rule.get('resources', ()):
            rule = dict(rule, verbs=[v for v in rule['verbs']
                                     if v != 'watch'])
        rules.append(rule)
    names = ['rbac-nowatch-0001']
    cluster, monitor = run_monitor_with(rules, masakari, names)
    try:
        harness.wait_until(
            lambda: monitor.nodes_reflector.stats.errors >= 1,
            what='the watch to be refused')
        refused = [entry for entry in cluster.server.request_log
                   if entry.verb == 'watch' and entry.status == 403]
        assert refused
    finally:
        monitor.stop()
        cluster.stop()
