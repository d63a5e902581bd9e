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

"""Raw Node and Lease dicts -> NodeState / LeaseState.

What the policy will read is extracted correctly (Ready, taints, host
name, exclusion), and no object, however malformed, makes the translator
raise: a bad Node is one node's problem, never the monitor's.
"""

from hypothesis import given
from hypothesis import strategies as st
import pytest

from masakarimonitors_k8s.kube import nodes
from tests.unit import factories

T0 = factories.EPOCH


@pytest.fixture
def translator():
    return nodes.NodeTranslator()


@pytest.mark.parametrize('ready, reason', [
    ('True', 'KubeletReady'),
    ('False', 'KubeletNotReady'),
    ('Unknown', 'NodeStatusUnknown'),
])
def test_ready_condition_is_read(translator, ready, reason):
    state = translator.translate(
        factories.node('n1', ready=ready, since=T0 - 42,
                       resource_version='77'))

    assert state.name == 'n1'
    assert state.hostname == 'n1'
    assert state.resource_version == '77'
    assert state.ready == ready
    assert state.ready_reason == reason
    assert state.ready_since == T0 - 42
    assert state.problems == ()
    assert not state.out_of_service
    assert not state.unreachable_taint


def test_unreachable_taint_is_seen(translator):
    state = translator.translate(factories.unknown_node(
        taints=[factories.unreachable_taint(time_added=T0)]))

    assert state.unreachable_taint
    assert not state.out_of_service


def test_out_of_service_taint_is_evidence_with_its_time(translator):
    state = translator.translate(factories.powered_off_node(since=T0 - 5))

    assert state.out_of_service
    assert state.out_of_service_since == T0 - 5
    assert state.unreachable_taint


def test_out_of_service_taint_without_time_added(translator):
    state = translator.translate(factories.unknown_node(
        taints=[factories.out_of_service_taint()]))

    assert state.out_of_service
    assert state.out_of_service_since is None


@pytest.mark.parametrize('effect', ['NoExecute', 'NoSchedule'])
def test_out_of_service_taint_counts_with_either_effect(translator, effect):
    # KEP-2268 allows both effects for the out-of-service taint.
    state = translator.translate(factories.unknown_node(
        taints=[factories.taint(factories.OUT_OF_SERVICE, effect=effect)]))

    assert state.out_of_service


def test_configured_evidence_taint_replaces_the_default():
    translator = nodes.NodeTranslator(
        out_of_service_taint='example.com/powered-off')

    custom = translator.translate(factories.unknown_node(
        taints=[factories.taint('example.com/powered-off')]))
    default = translator.translate(factories.unknown_node(
        taints=[factories.out_of_service_taint()]))

    assert custom.out_of_service
    assert not default.out_of_service


def test_unrelated_taints_and_cordon(translator):
    state = translator.translate(factories.ready_node(
        taints=[factories.taint('node.kubernetes.io/unschedulable',
                                effect='NoSchedule'),
                factories.taint(factories.NOT_READY)],
        unschedulable=True))

    assert state.unschedulable
    assert not state.out_of_service
    assert not state.unreachable_taint


def test_zone_label_is_kept(translator):
    state = translator.translate(factories.ready_node(
        labels={'topology.kubernetes.io/zone': 'az-1'}))

    assert state.zone == 'az-1'


@pytest.mark.parametrize('source, key, obj, hostname', [
    ('node-name', None, factories.ready_node('cmp-1.example.org'),
     'cmp-1.example.org'),
    ('short-name', None, factories.ready_node('cmp-1.example.org'), 'cmp-1'),
    ('short-name', None, factories.ready_node('cmp-1'), 'cmp-1'),
    ('label', 'masakari/host',
     factories.ready_node('n1', labels={'masakari/host': 'compute-01'}),
     'compute-01'),
    ('annotation', 'masakari/host',
     factories.ready_node('n1', annotations={'masakari/host': 'compute-02'}),
     'compute-02'),
])
def test_hostname_sources(source, key, obj, hostname):
    translator = nodes.NodeTranslator(hostname_source=source,
                                      hostname_key=key)

    state = translator.translate(obj)

    assert state.hostname == hostname
    assert state.problems == ()


@pytest.mark.parametrize('source, key, obj, hostname', [
    # Short node names, FQDN nova hosts (OpenStack-Helm use_fqdn).
    ('node-name', None, factories.ready_node('cmp-1'),
     'cmp-1.cloud.example.org'),
    # A name that has a domain keeps it...
    ('node-name', None, factories.ready_node('cmp-1.k8s.local'),
     'cmp-1.k8s.local'),
    # ...unless short-name drops it first: the domain is replaced.
    ('short-name', None, factories.ready_node('cmp-1.k8s.local'),
     'cmp-1.cloud.example.org'),
    ('label', 'masakari/host',
     factories.ready_node('n1', labels={'masakari/host': 'compute-01'}),
     'compute-01.cloud.example.org'),
    ('annotation', 'masakari/host',
     factories.ready_node('n1', annotations={
         'masakari/host': 'compute-02.other.example'}),
     'compute-02.other.example'),
])
def test_hostname_domain_is_appended_to_names_without_one(
        source, key, obj, hostname):
    translator = nodes.NodeTranslator(hostname_source=source,
                                      hostname_key=key,
                                      hostname_domain='cloud.example.org')

    assert translator.translate(obj).hostname == hostname


def test_no_domain_is_appended_to_a_missing_hostname():
    translator = nodes.NodeTranslator(hostname_source='label',
                                      hostname_key='masakari/host',
                                      hostname_domain='cloud.example.org')

    assert translator.translate(factories.ready_node('n1')).hostname is None


@pytest.mark.parametrize('source, obj', [
    ('label', factories.ready_node('n1')),
    ('label', factories.ready_node('n1', labels={'masakari/host': ''})),
    ('label', factories.ready_node(
        'n1', annotations={'masakari/host': 'in-the-wrong-place'})),
    ('annotation', factories.ready_node('n1')),
    ('annotation', factories.ready_node(
        'n1', annotations={'masakari/host': 7})),
])
def test_missing_hostname_is_a_problem_not_a_guess(source, obj):
    translator = nodes.NodeTranslator(hostname_source=source,
                                      hostname_key='masakari/host')

    state = translator.translate(obj)

    assert state.hostname is None
    assert any('masakari/host' in problem for problem in state.problems)
    assert state.ready == 'True'   # the rest is still read


EXCLUDE = 'masakari.openstack.org/exclude'


@pytest.mark.parametrize('labels, excluded', [
    ({}, False),
    ({EXCLUDE: 'true'}, True),
    ({EXCLUDE: ''}, True),          # any value but false
    ({EXCLUDE: 'maintenance'}, True),
    ({EXCLUDE: 'false'}, False),
    ({EXCLUDE: 'False'}, False),
    ({'other': 'true'}, False),
])
def test_exclusion_label(labels, excluded):
    translator = nodes.NodeTranslator(exclude_label=EXCLUDE)

    state = translator.translate(factories.ready_node(labels=labels))

    assert state.excluded is excluded


def test_empty_exclusion_label_excludes_nothing():
    translator = nodes.NodeTranslator(exclude_label='')

    state = translator.translate(factories.ready_node(labels={'': 'x'}))

    assert not state.excluded


def _without(path, obj):
    """Drop a dotted path from a Node dict."""
    *parents, last = path.split('.')
    target = obj
    for part in parents:
        target = target[part]
    del target[last]
    return obj


def _with(path, value, obj):
    *parents, last = path.split('.')
    target = obj
    for part in parents:
        target = target[part]
    target[last] = value
    return obj


def _ready_condition(obj):
    return next(c for c in obj['status']['conditions']
                if c['type'] == 'Ready')


@pytest.mark.parametrize('obj, problem', [
    (_without('status', factories.unknown_node()), 'no status'),
    (_with('status', 'broken', factories.unknown_node()), 'no status'),
    (_without('status.conditions', factories.unknown_node()),
     'no status.conditions'),
    (_with('status.conditions', {'type': 'Ready'}, factories.unknown_node()),
     'no status.conditions'),
    (_with('status.conditions', [], factories.unknown_node()),
     'no status.conditions'),
    (factories.node(ready=None, resource_version='3') | {
        'status': {'conditions': [{'type': 'DiskPressure',
                                   'status': 'False'}, 'junk']}},
     'no Ready condition'),
    (_with('status.conditions', [{'type': 'Ready', 'status': 'Maybe'}],
           factories.unknown_node()), "Ready condition status 'Maybe'"),
    (_with('status.conditions', [{'type': 'Ready'}],
           factories.unknown_node()), 'Ready condition status None'),
    (_with('metadata.labels', ['a', 'b'], factories.unknown_node()),
     'metadata.labels is not a map'),
    (_with('metadata.annotations', 'x', factories.unknown_node()),
     'metadata.annotations is not a map'),
    (_with('spec.taints', {'key': factories.OUT_OF_SERVICE},
           factories.unknown_node()), 'spec.taints is not a list'),
])
def test_malformed_node_yields_a_state_with_problems(translator, obj,
                                                     problem):
    state = translator.translate(obj)

    assert state.name == 'node-1'
    assert any(problem in p for p in state.problems), state.problems
    assert state.ready is None or state.ready == 'Unknown'


@pytest.mark.parametrize('timestamp', [
    'yesterday', '', 12345, None, '2024-01-01T00:00:00',
    '2024-02-30T00:00:00Z', '2024-01-01',
])
def test_odd_transition_time_keeps_ready_but_reports_it(translator,
                                                        timestamp):
    obj = factories.unknown_node()
    _ready_condition(obj)['lastTransitionTime'] = timestamp

    state = translator.translate(obj)

    assert state.ready == 'Unknown'
    assert state.ready_since is None
    assert any('lastTransitionTime' in p for p in state.problems)


def test_odd_taint_entries_are_skipped(translator):
    state = translator.translate(factories.unknown_node(
        taints=[]) | {'spec': {'taints': [
            'junk', None, {'key': factories.OUT_OF_SERVICE,
                           'timeAdded': 'not a time'}]}})

    assert state.out_of_service
    assert state.out_of_service_since is None


@pytest.mark.parametrize('obj', [
    None, 'node', 42, [], {},
    {'metadata': None},
    {'metadata': 'n1'},
    {'metadata': {}},
    {'metadata': {'name': ''}},
    {'metadata': {'name': 7}},
    {'metadata': {'labels': {'a': 'b'}}, 'status': {}},
])
def test_object_without_a_name_translates_to_none(translator, obj):
    assert translator.translate(obj) is None
    assert translator.node_name(obj) is None


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12)


@st.composite
def _mangled_nodes(draw):
    """A real-looking Node with random parts replaced by random JSON."""
    obj = factories.powered_off_node(
        'n1', labels={EXCLUDE: 'true', 'masakari/host': 'h1'},
        annotations={'masakari/host': 'h1'})
    for path in draw(st.lists(st.sampled_from([
            'metadata.labels', 'metadata.annotations',
            'metadata.resourceVersion', 'spec', 'spec.taints', 'status',
            'status.conditions']), max_size=3, unique=True)):
        try:
            _with(path, draw(_json), obj)
        except (KeyError, TypeError):
            pass   # a parent was already replaced by something else
    return obj


@pytest.mark.parametrize('source', ['node-name', 'short-name', 'label',
                                    'annotation'])
@given(obj=_mangled_nodes() | _json)
def test_translation_never_raises(source, obj):
    translator = nodes.NodeTranslator(hostname_source=source,
                                      hostname_key='masakari/host',
                                      exclude_label=EXCLUDE)

    state = translator.translate(obj)

    assert state is None or isinstance(state, nodes.NodeState)


# -- timestamps ---------------------------------------------------------------

@pytest.mark.parametrize('text, expected', [
    ('2027-01-15T08:00:00Z', T0),
    ('2027-01-15T08:00:00z', T0),
    ('2027-01-15T08:00:00.250000Z', T0 + 0.25),
    ('2027-01-15T09:00:00+01:00', T0),
    ('2027-01-15T08:00:00', None),      # no zone: ambiguous
    ('not a time', None),
    ('', None),
    (None, None),
    (1800000000, None),
])
def test_parse_time(text, expected):
    assert nodes.parse_time(text) == expected


@given(st.integers(min_value=0, max_value=4_000_000_000))
def test_format_time_round_trips_whole_seconds(epoch):
    text = nodes.format_time(epoch)

    assert text.endswith('Z')
    assert nodes.parse_time(text) == epoch


@given(st.text(max_size=40))
def test_parse_time_never_raises(text):
    assert nodes.parse_time(text) is None or isinstance(
        nodes.parse_time(text), float)


# -- leases -----------------------------------------------------------------

def test_lease_translation():
    lease = nodes.translate_lease(factories.lease(
        'n1', renew_time=T0 + 0.5, duration=40, resource_version='9'))

    assert lease == nodes.LeaseState(name='n1', resource_version='9',
                                     renew_time=T0 + 0.5, duration=40)


@pytest.mark.parametrize('spec, renew_time, duration, has_problem', [
    ({}, None, None, True),
    ({'renewTime': 'soon', 'leaseDurationSeconds': True}, None, None, True),
    ({'renewTime': factories.rfc3339(T0), 'leaseDurationSeconds': '40'},
     T0, None, False),
    ('not a map', None, None, True),
])
def test_odd_leases_never_raise(spec, renew_time, duration, has_problem):
    lease = nodes.translate_lease({'metadata': {'name': 'n1'},
                                   'spec': spec})

    assert lease.renew_time == renew_time
    assert lease.duration == duration
    assert bool(lease.problems) is has_problem


@pytest.mark.parametrize('obj', [None, {}, {'metadata': {'name': ''}},
                                 {'metadata': []}])
def test_lease_without_a_name_is_none(obj):
    assert nodes.translate_lease(obj) is None
