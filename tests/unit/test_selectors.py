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

"""Label selectors: the grammar ``[k8s] node_selector`` accepts, and what a
parsed selector matches.

The tables follow the ``labelSelector`` semantics of the Kubernetes API
(equality, set-based and existence requirements); a property test renders
random requirements to text and checks that parsing gives them back and
that matching agrees with a direct reading of the semantics.
"""

from hypothesis import given
from hypothesis import strategies as st
import pytest

from masakarimonitors_k8s.kube import selectors


def req(key, operator, *values):
    return selectors.Requirement(key, operator, frozenset(values))


@pytest.mark.parametrize('text, expected', [
    ('', ()),
    ('   ', ()),
    (None, ()),
    ('role=compute', (req('role', 'in', 'compute'),)),
    ('role==compute', (req('role', 'in', 'compute'),)),
    ('role != compute', (req('role', 'notin', 'compute'),)),
    ('role=', (req('role', 'in', ''),)),
    ('role', (req('role', 'exists'),)),
    ('!role', (req('role', '!exists'),)),
    ('! role', (req('role', '!exists'),)),
    ('zone in (a, b,c)', (req('zone', 'in', 'a', 'b', 'c'),)),
    ('zone notin (a)', (req('zone', 'notin', 'a'),)),
    ('zone notin(a)', (req('zone', 'notin', 'a'),)),
    ('example.com/role=compute',
     (req('example.com/role', 'in', 'compute'),)),
    ('a.b-c.example/x_y.z=V-1.2_3', (req('a.b-c.example/x_y.z', 'in',
                                         'V-1.2_3'),)),
    ('openstack-compute-node=enabled, zone in (z1,z2), !maintenance',
     (req('openstack-compute-node', 'in', 'enabled'),
      req('zone', 'in', 'z1', 'z2'),
      req('maintenance', '!exists'))),
    ('k' * 63 + '=' + 'v' * 63, (req('k' * 63, 'in', 'v' * 63),)),
])
def test_valid_selectors_parse(text, expected):
    assert selectors.parse(text) == expected


@pytest.mark.parametrize('text', [
    'role in compute',          # set without parentheses
    'zone in (a',               # unbalanced
    'zone in a)',
    'zone in (a b)',            # value with a blank
    'role=compute extra',
    'role compute',
    '=compute',
    '!role=compute',
    'role=compute,',            # empty requirement
    ',role',
    'a,,b',
    'role=(compute)',
    'role=a=b',
    '-role=x',                  # key must start alphanumeric
    'role-=x',                  # ... and end alphanumeric
    'role=-x',                  # same for values
    'Example.com/role=x',       # prefix is a lower-case DNS subdomain
    '/role=x',
    'example.com/=x',
    'k' * 64 + '=v',            # name longer than 63
    'k=' + 'v' * 64,            # value longer than 63
    ('p' * 250 + '.com/k=v'),   # prefix longer than 253
])
def test_invalid_selectors_raise_naming_the_text(text):
    with pytest.raises(selectors.SelectorError) as caught:
        selectors.parse(text)

    assert repr(text) in str(caught.value)


def test_selector_error_is_a_value_error():
    # conf.check_settings and callers may catch ValueError generally.
    assert issubclass(selectors.SelectorError, ValueError)


@pytest.mark.parametrize('text, labels, expected', [
    ('', {}, True),
    ('', {'any': 'thing'}, True),
    ('role=compute', {'role': 'compute'}, True),
    ('role=compute', {'role': 'control'}, False),
    ('role=compute', {}, False),
    ('role!=compute', {'role': 'control'}, True),
    ('role!=compute', {'role': 'compute'}, False),
    ('role!=compute', {}, True),        # != matches a missing key
    ('role=', {'role': ''}, True),
    ('role=', {}, False),
    ('zone in (a,b)', {'zone': 'b'}, True),
    ('zone in (a,b)', {'zone': 'c'}, False),
    ('zone in (a,b)', {}, False),
    ('zone notin (a,b)', {'zone': 'c'}, True),
    ('zone notin (a,b)', {'zone': 'a'}, False),
    ('zone notin (a,b)', {}, True),     # notin matches a missing key
    ('role', {'role': ''}, True),
    ('role', {}, False),
    ('!role', {}, True),
    ('!role', {'role': 'x'}, False),
    ('role=compute,!maintenance', {'role': 'compute'}, True),
    ('role=compute,!maintenance',
     {'role': 'compute', 'maintenance': 'true'}, False),
    ('role=compute,zone in (a)', {'role': 'compute', 'zone': 'b'}, False),
])
def test_matching_semantics(text, labels, expected):
    assert selectors.matches(selectors.parse(text), labels) is expected


def test_matching_treats_missing_labels_as_empty():
    assert selectors.matches(selectors.parse('!role'), None)
    assert not selectors.matches(selectors.parse('role'), None)


@pytest.mark.parametrize('key, valid', [
    ('role', True),
    ('example.com/role', True),
    ('node.kubernetes.io/out-of-service', True),
    ('masakari.openstack.org/exclude', True),
    ('a' * 63, True),
    ('a' * 64, False),
    ('p' * 253 + '/k', True),
    ('p' * 254 + '/k', False),
    ('', False),
    (None, False),
    ('has space', False),
    ('UPPER.example/k', False),
    ('example.com/', False),
    ('a/b/c', False),
    ('_x', False),
])
def test_label_key_validity(key, valid):
    assert selectors.is_valid_label_key(key) is valid


# -- properties -------------------------------------------------------------

_ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
_NAME_INNER = _ALNUM + '-_.'
_names = st.builds(
    lambda first, middle, last: first + middle + last,
    st.sampled_from(_ALNUM),
    st.text(_NAME_INNER, max_size=8),
    st.sampled_from(_ALNUM)) | st.sampled_from(_ALNUM)
_dns_labels = st.from_regex(r'\A[a-z0-9]([-a-z0-9]{0,6}[a-z0-9])?\Z')
_prefixes = st.lists(_dns_labels, min_size=1, max_size=3).map('.'.join)
_keys = st.one_of(_names, st.builds(lambda p, n: p + '/' + n, _prefixes,
                                    _names))
_values = st.one_of(st.just(''), _names)


@st.composite
def _requirements(draw):
    key = draw(_keys)
    operator = draw(st.sampled_from(['in', 'notin', 'exists', '!exists']))
    if operator in ('exists', '!exists'):
        return selectors.Requirement(key, operator)
    values = draw(st.frozensets(_names, min_size=1, max_size=3))
    return selectors.Requirement(key, operator, values)


def _render(requirement, style):
    key, values = requirement.key, sorted(requirement.values)
    if requirement.operator == 'exists':
        return key
    if requirement.operator == '!exists':
        return '!' + key
    if style == 'equality' and len(values) == 1:
        operator = '=' if requirement.operator == 'in' else '!='
        return '%s %s %s' % (key, operator, values[0])
    return '%s %s (%s)' % (key, requirement.operator, ', '.join(values))


@given(st.lists(_requirements(), min_size=1, max_size=4),
       st.sampled_from(['equality', 'set']))
def test_rendered_requirements_parse_back(requirements, style):
    text = ','.join(_render(r, style) for r in requirements)

    assert selectors.parse(text) == tuple(requirements)


def _reference_match(requirement, labels):
    present = requirement.key in labels
    value = labels.get(requirement.key)
    return {
        'exists': present,
        '!exists': not present,
        'in': present and value in requirement.values,
        'notin': not present or value not in requirement.values,
    }[requirement.operator]


@given(st.lists(_requirements(), max_size=4),
       st.dictionaries(st.sampled_from(['role', 'zone', 'example.com/x',
                                        'a', 'b']), _values, max_size=4))
def test_matching_agrees_with_the_semantics(requirements, labels):
    # Draw the labels mostly from the keys in use so matches happen.
    for requirement in requirements[:2]:
        labels.setdefault(requirement.key,
                          sorted(requirement.values or {'v'})[0])

    expected = all(_reference_match(r, labels) for r in requirements)

    assert selectors.matches(tuple(requirements), labels) is expected


@given(st.text(max_size=40))
def test_parse_raises_only_selector_errors(text):
    try:
        selectors.parse(text)
    except selectors.SelectorError:
        pass


@pytest.mark.parametrize('key, writable', [
    # NodeRestriction's allowed kubernetes.io keys and namespaces.
    ('kubernetes.io/hostname', True),
    ('topology.kubernetes.io/zone', True),
    ('topology.kubernetes.io/region', True),
    ('failure-domain.beta.kubernetes.io/zone', True),
    ('node.kubernetes.io/instance-type', True),
    ('node.kubernetes.io/anything', True),
    ('foo.node.kubernetes.io/x', True),
    ('kubelet.kubernetes.io/x', True),
    ('kubernetes.io/os', True),
    ('beta.kubernetes.io/arch', True),
    # Everything outside kubernetes.io and k8s.io.
    ('masakari.openstack.org/exclude', True),
    ('openstack-compute-node', True),
    ('example.com/zone', True),
    # Reserved for administrators.
    ('node-restriction.kubernetes.io/zone', False),
    ('example.node-restriction.kubernetes.io/zone', False),
    ('node-role.kubernetes.io/worker', False),
    ('kubernetes.io/role', False),
    ('k8s.io/x', False),
    ('sub.k8s.io/x', False),
    ('node.k8s.io/x', False),
])
def test_which_labels_a_kubelet_may_set_on_its_node(key, writable):
    assert selectors.kubelet_may_set(key) is writable
