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

"""Merge patch (RFC 7386), JSON patch (RFC 6902), strategic merge limits."""

import pytest

from masakarimonitors_k8s.testing.kube_apiserver import errors
from masakarimonitors_k8s.testing.kube_apiserver import patches


# The examples of RFC 7386, appendix A.
@pytest.mark.parametrize('target, patch, result', [
    ({'a': 'b'}, {'a': 'c'}, {'a': 'c'}),
    ({'a': 'b'}, {'b': 'c'}, {'a': 'b', 'b': 'c'}),
    ({'a': 'b'}, {'a': None}, {}),
    ({'a': 'b', 'b': 'c'}, {'a': None}, {'b': 'c'}),
    ({'a': ['b']}, {'a': 'c'}, {'a': 'c'}),
    ({'a': 'c'}, {'a': ['b']}, {'a': ['b']}),
    ({'a': {'b': 'c'}}, {'a': {'b': 'd', 'c': None}}, {'a': {'b': 'd'}}),
    ({'a': [{'b': 'c'}]}, {'a': [1]}, {'a': [1]}),
    (['a', 'b'], ['c', 'd'], ['c', 'd']),
    ({'a': 'b'}, ['c'], ['c']),
    ({'a': 'foo'}, None, None),
    ({'a': 'foo'}, 'bar', 'bar'),
    ({'e': None}, {'a': 1}, {'e': None, 'a': 1}),
    ([1, 2], {'a': 'b', 'c': None}, {'a': 'b'}),
    ({}, {'a': {'bb': {'ccc': None}}}, {'a': {'bb': {}}}),
])
def test_merge_patch_rfc7386_examples(target, patch, result):
    assert patches.merge_patch(target, patch) == result


def test_merge_patch_does_not_touch_its_inputs():
    target = {'spec': {'taints': [{'key': 'a'}]}, 'keep': {'x': 1}}
    patch = {'spec': {'taints': None, 'unschedulable': True}}
    result = patches.merge_patch(target, patch)
    assert result == {'spec': {'unschedulable': True}, 'keep': {'x': 1}}
    assert target == {'spec': {'taints': [{'key': 'a'}]}, 'keep': {'x': 1}}
    assert patch == {'spec': {'taints': None, 'unschedulable': True}}


def test_json_patch_operations():
    target = {'metadata': {'labels': {'a': '1'}},
              'spec': {'taints': [{'key': 'x'}]}}
    result = patches.json_patch(target, [
        {'op': 'test', 'path': '/metadata/labels/a', 'value': '1'},
        {'op': 'add', 'path': '/metadata/labels/b~1c', 'value': '2'},
        {'op': 'replace', 'path': '/metadata/labels/a', 'value': '3'},
        {'op': 'add', 'path': '/spec/taints/-', 'value': {'key': 'y'}},
        {'op': 'add', 'path': '/spec/taints/0', 'value': {'key': 'w'}},
        {'op': 'remove', 'path': '/spec/taints/1'},
        {'op': 'copy', 'from': '/metadata/labels', 'path': '/copied'},
        {'op': 'move', 'from': '/copied/a', 'path': '/moved'},
    ])
    assert result == {
        'metadata': {'labels': {'a': '3', 'b/c': '2'}},
        'spec': {'taints': [{'key': 'w'}, {'key': 'y'}]},
        'copied': {'b/c': '2'},
        'moved': '3',
    }
    assert target['metadata']['labels'] == {'a': '1'}


@pytest.mark.parametrize('operations, error', [
    ([{'op': 'test', 'path': '/a', 'value': 2}], errors.Invalid),
    ([{'op': 'remove', 'path': '/missing'}], errors.BadRequest),
    ([{'op': 'replace', 'path': '/missing', 'value': 1}], errors.BadRequest),
    ([{'op': 'add', 'path': '/l/5', 'value': 1}], errors.BadRequest),
    ([{'op': 'frobnicate', 'path': '/a'}], errors.BadRequest),
    ([{'op': 'add', 'path': 'a', 'value': 1}], errors.BadRequest),
    ({'op': 'add'}, errors.BadRequest),
])
def test_json_patch_errors(operations, error):
    with pytest.raises(error):
        patches.json_patch({'a': 1, 'l': []}, operations)


def test_strategic_merge_patch_without_lists_is_a_merge_patch():
    target = {'metadata': {'labels': {'a': '1', 'b': '2'}}}
    result = patches.apply_patch(
        patches.STRATEGIC_MERGE_PATCH, target,
        {'metadata': {'labels': {'a': None, 'c': '3'}},
         'spec': {'taints': [{'key': 'k', 'effect': 'NoSchedule'}]}})
    assert result == {'metadata': {'labels': {'b': '2', 'c': '3'}},
                      'spec': {'taints': [{'key': 'k',
                                           'effect': 'NoSchedule'}]}}


@pytest.mark.parametrize('patch', [
    {'status': {'conditions': [{'type': 'Ready', 'status': 'False'}]}},
    {'metadata': {'finalizers': ['x']}},
    {'spec': {'$retainKeys': ['taints']}},
])
def test_strategic_merge_patch_refuses_what_it_cannot_emulate(patch):
    with pytest.raises(errors.UnsupportedMediaType) as caught:
        patches.apply_patch(patches.STRATEGIC_MERGE_PATCH, {}, patch)
    assert caught.value.code == 415
    assert patches.MERGE_PATCH in caught.value.message


@pytest.mark.parametrize('content_type', [
    patches.APPLY_PATCH, 'application/json', None])
def test_unknown_patch_types_are_415(content_type):
    with pytest.raises(errors.UnsupportedMediaType):
        patches.apply_patch(content_type, {}, {})


def test_content_type_parameters_are_ignored():
    assert patches.apply_patch(
        patches.MERGE_PATCH + '; charset=utf-8', {'a': 1}, {'b': 2}) == {
        'a': 1, 'b': 2}
