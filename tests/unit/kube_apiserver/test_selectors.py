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

"""Label and field selector parsing and matching, k8s grammar."""

import pytest

from masakarimonitors_k8s.testing.kube_apiserver import selectors

LABELS = {'app': 'monitor', 'tier': 'compute', 'zone': 'nova', 'rank': '7',
          'empty': ''}


@pytest.mark.parametrize('text, expected', [
    ('', True),
    ('app=monitor', True),
    ('app==monitor', True),
    ('app=other', False),
    ('app!=other', True),
    ('app!=monitor', False),
    ('missing!=x', True),
    ('missing=x', False),
    ('app', True),
    ('missing', False),
    ('!missing', True),
    ('!app', False),
    ('tier in (compute, control)', True),
    ('tier in (control)', False),
    ('missing in (x)', False),
    ('tier notin (control)', True),
    ('tier notin (compute,control)', False),
    ('missing notin (x)', True),
    ('app=monitor,tier=compute', True),
    ('app=monitor,tier=control', False),
    ('  app = monitor ,  tier  in  ( compute )  ', True),
    ('rank>5', True),
    ('rank>7', False),
    ('rank<8', True),
    ('app>1', False),
    ('missing<100', False),
    ('empty=', True),
    ('app=', False),
    ('example.com/role', False),
])
def test_label_selector_matching(text, expected):
    assert selectors.parse_label_selector(text).matches(LABELS) is expected


def test_label_selector_prefixed_keys_match():
    selector = selectors.parse_label_selector(
        'node-role.kubernetes.io/compute,topology.kubernetes.io/zone=nova')
    assert selector.matches({'node-role.kubernetes.io/compute': '',
                             'topology.kubernetes.io/zone': 'nova'})
    assert not selector.matches({'topology.kubernetes.io/zone': 'nova'})


@pytest.mark.parametrize('text, fragment', [
    ('a in b', "found 'b', expected: '('"),
    ('a in ()', "values set can't be empty"),
    ('a in (x', "found 'end of string', expected: ')'"),
    ('a in (x y)', "expected: ',' or ')'"),
    ('!a=b', "found '=', expected: ',' or 'end of string'"),
    ('a b', "found 'b', expected: '='"),
    ('=b', 'expected: identifier'),
    ('a=b c', "found 'c'"),
    ('a=b,', 'expected: identifier'),
    ('a>x', "for '>' the value must be an integer"),
    ('-a=b', 'invalid label key'),
    ('a=b-', 'invalid label value'),
    ('a=' + 'x' * 64, 'no more than 63 characters'),
    ('Bad_Prefix/a=b', 'prefix part'),
    ('/a=b', 'prefix part must be non-empty'),
])
def test_bad_label_selectors_are_400_with_a_reason(text, fragment):
    with pytest.raises(selectors.InvalidSelector) as caught:
        selectors.parse_label_selector(text)
    assert caught.value.code == 400
    assert caught.value.reason == 'BadRequest'
    assert fragment in caught.value.message
    assert caught.value.message.startswith('unable to parse requirement')


def test_parsed_selector_is_reused_as_is():
    parsed = selectors.parse_label_selector('app=monitor')
    assert selectors.parse_label_selector(parsed) is parsed


FIELDS = {'metadata.name': 'node-1', 'metadata.namespace': 'ns',
          'spec.unschedulable': 'false'}


@pytest.mark.parametrize('text, expected', [
    ('', True),
    ('metadata.name=node-1', True),
    ('metadata.name==node-1', True),
    ('metadata.name=node-2', False),
    ('metadata.name!=node-2', True),
    ('metadata.name!=node-1', False),
    ('metadata.name=node-1,spec.unschedulable=false', True),
    ('metadata.name=node-1,spec.unschedulable=true', False),
    ('metadata.name=node-1,', True),
])
def test_field_selector_matching(text, expected):
    selector = selectors.parse_field_selector(text)
    assert selector.matches(FIELDS) is expected


def test_field_selector_unescapes_values():
    selector = selectors.parse_field_selector(r'reason=a\,b\=c')
    assert selector.requirements == (('reason', '=', 'a,b=c'),)


def test_field_selector_exact_value():
    selector = selectors.parse_field_selector(
        'metadata.namespace!=x,metadata.name=node-1')
    assert selector.exact_value('metadata.name') == 'node-1'
    assert selector.exact_value('metadata.namespace') is None


@pytest.mark.parametrize('text, fragment', [
    ('metadata.name', "can't understand 'metadata.name'"),
    ('spec.providerID=x', 'field label not supported: spec.providerID'),
    ('metadata.name=a\\', 'unfinished escape'),
    ('metadata.name=a\\b', 'invalid escape sequence'),
])
def test_bad_field_selectors_are_400(text, fragment):
    with pytest.raises(selectors.InvalidSelector) as caught:
        selectors.parse_field_selector(
            text, allowed_fields=('metadata.name', 'spec.unschedulable'))
    assert caught.value.code == 400
    assert fragment in caught.value.message
