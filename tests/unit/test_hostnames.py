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

"""Host name collisions and case conflicts among monitored nodes.

The index alone, then wired into a real DecisionEngine (nodes added,
relabelled, excluded, deleted, relisted) and read by the metrics.
"""

from masakarimonitors_k8s.clock import ManualClock
from masakarimonitors_k8s import conf as k8s_conf
from masakarimonitors_k8s import engine as k8s_engine
from masakarimonitors_k8s.kube import hostnames
from masakarimonitors_k8s.kube import nodes
from masakarimonitors_k8s.observability import metrics
from masakarimonitors_k8s import policy
from tests.unit import factories
from tests.unit.observability import fakes

NONE = {hostnames.COLLISION: 0, hostnames.CASE: 0}


def errors(caplog):
    return [r.getMessage() for r in caplog.records
            if r.levelname == 'ERROR']


def test_distinct_names_are_no_conflict(caplog):
    index = hostnames.HostnameIndex()
    index.observe('a.dc1', 'a.dc1')
    index.observe('b.dc1', 'b.dc1')
    assert index.conflict_counts() == NONE
    assert errors(caplog) == []


def test_two_nodes_with_one_host_name_collide_loudly(caplog):
    index = hostnames.HostnameIndex()
    index.observe('a.dc1', 'a')
    index.observe('a.dc2', 'a')
    assert index.conflict_counts() == {hostnames.COLLISION: 1,
                                       hostnames.CASE: 0}
    assert index.conflicts()[hostnames.COLLISION] == {'a': ['a.dc1',
                                                            'a.dc2']}
    assert errors(caplog) == [
        'Host name conflict: nodes a.dc1, a.dc2 all map to Masakari host a. '
        'Their notifications replace each other, and Masakari cannot know '
        'which host failed. Fix [k8s] hostname_source, hostname_key or '
        'hostname_domain, or the nodes\' labels.']
    # Seeing the same node again is not a new conflict.
    index.observe('a.dc2', 'a')
    assert len(errors(caplog)) == 1


def test_a_collision_ends_when_a_node_goes_or_is_renamed(caplog):
    index = hostnames.HostnameIndex()
    index.observe('n1', 'compute-1')
    index.observe('n2', 'compute-1')
    index.observe('n2', 'compute-2')      # its label was fixed
    assert index.conflict_counts() == NONE
    index.observe('n3', 'compute-1')
    index.forget('n3')
    index.forget('n3')                    # twice is harmless
    assert index.conflict_counts() == NONE
    assert index.hostname('n1') == 'compute-1'
    assert index.hostname('n3') is None


def test_names_differing_only_by_case_conflict(caplog):
    index = hostnames.HostnameIndex()
    index.observe('n1', 'Compute-1')
    index.observe('n2', 'compute-1')
    assert index.conflict_counts() == {hostnames.COLLISION: 0,
                                       hostnames.CASE: 1}
    assert index.conflicts()[hostnames.CASE] == {
        'Compute-1 / compute-1': ['n1', 'n2']}
    assert any('differ only by case' in message and 'n1, n2' in message
               for message in errors(caplog))
    index.forget('n1')
    assert index.conflict_counts() == NONE


def test_find_conflicts_judges_a_whole_list_quietly(caplog):
    found = hostnames.find_conflicts({
        'a.dc1': 'a', 'a.dc2': 'a', 'n1': 'Compute-1', 'n2': 'compute-1',
        'n3': 'compute-3'})
    assert found == {hostnames.COLLISION: {'a': ['a.dc1', 'a.dc2']},
                     hostnames.CASE: {'Compute-1 / compute-1': ['n1', 'n2']}}
    assert errors(caplog) == []


# -- wired into the engine ---------------------------------------------------

class ServerClock:
    def __init__(self, clock):
        self.clock = clock

    def now(self):
        return policy.Instant(wall=self.clock.wall(),
                              monotonic=self.clock.monotonic())


def engine_with(translator):
    return k8s_engine.DecisionEngine(
        translator=translator, settings=k8s_conf.PolicySettings(),
        outbox=lambda notification: None,
        server_clock=ServerClock(ManualClock()))


SHORT = nodes.NodeTranslator(hostname_source='short-name',
                             exclude_label='masakari.openstack.org/exclude')


def test_the_engine_reports_short_name_collisions_while_both_are_monitored(
        caplog):
    engine = engine_with(SHORT)
    engine.node_event('ADDED', SHORT.translate(
        factories.ready_node('a.dc1')))
    engine.node_event('ADDED', SHORT.translate(
        factories.ready_node('a.dc2')))
    assert engine.hostnames.conflict_counts()[hostnames.COLLISION] == 1
    assert any('a.dc1, a.dc2' in message for message in errors(caplog))

    # Excluding one of them ends the conflict; so does a delete.
    engine.node_event('MODIFIED', SHORT.translate(factories.ready_node(
        'a.dc2', labels={'masakari.openstack.org/exclude': 'true'})))
    assert engine.hostnames.conflict_counts() == NONE
    engine.node_event('ADDED', SHORT.translate(
        factories.ready_node('a.dc2')))
    assert engine.hostnames.conflict_counts()[hostnames.COLLISION] == 1
    engine.node_event('DELETED', SHORT.translate(
        factories.ready_node('a.dc1')))
    assert engine.hostnames.conflict_counts() == NONE


def test_a_relist_without_a_node_ends_its_conflict():
    engine = engine_with(SHORT)
    engine.replace_nodes([SHORT.translate(factories.ready_node(name))
                          for name in ('a.dc1', 'a.dc2', 'b.dc1')])
    assert engine.hostnames.conflict_counts()[hostnames.COLLISION] == 1
    engine.replace_nodes([SHORT.translate(factories.ready_node(name))
                          for name in ('a.dc1', 'b.dc1')])
    assert engine.hostnames.conflict_counts() == NONE


def test_a_node_that_loses_its_host_name_leaves_the_index():
    by_label = nodes.NodeTranslator(hostname_source='label',
                                    hostname_key='example.org/host')
    engine = engine_with(by_label)
    for name in ('n1', 'n2'):
        engine.node_event('ADDED', by_label.translate(factories.ready_node(
            name, labels={'example.org/host': 'compute-1'})))
    assert engine.hostnames.conflict_counts()[hostnames.COLLISION] == 1
    engine.node_event('MODIFIED', by_label.translate(
        factories.ready_node('n2')))
    assert engine.hostnames.conflict_counts() == NONE
    assert engine.hostnames.hostname('n2') is None


def test_the_metric_counts_conflicts_by_kind():
    monitor = fakes.FakeMonitor()
    index = monitor.engine.hostnames
    index.observe('a.dc1', 'a')
    index.observe('a.dc2', 'a')
    index.observe('n1', 'Compute-1')
    index.observe('n2', 'compute-1')
    index.observe('n3', 'COMPUTE-1')
    body, _ = metrics.MonitorMetrics(monitor).exposition()
    found = fakes.samples(body)
    assert fakes.value(found, 'masakari_k8s_hostname_conflicts',
                       kind='collision') == 1
    assert fakes.value(found, 'masakari_k8s_hostname_conflicts',
                       kind='case') == 1
