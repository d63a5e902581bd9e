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

"""The PATCH flavours kube-apiserver accepts, as far as they are emulated.

Part of the Kubernetes API test server. JSON merge patch (RFC 7386) and
JSON patch (RFC 6902) are implemented fully. Strategic merge patch is only
accepted where it means the same as a merge patch: a patch with no
``$``-directives and no list at a path whose Go type declares a merge
strategy (``status.conditions`` and the like). Anything else gets 415, so
a client depending on strategic-merge list semantics fails loudly here
instead of passing against a wrong emulation.
"""

import copy

from masakarimonitors_k8s.testing.kube_apiserver import errors

MERGE_PATCH = 'application/merge-patch+json'
JSON_PATCH = 'application/json-patch+json'
STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json'
APPLY_PATCH = 'application/apply-patch+yaml'

# Lists whose strategic-merge semantics (merge by key, or set union) differ
# from a merge patch's replace-the-list, per the k8s Go struct tags.
_MERGING_LISTS = {
    'metadata.finalizers', 'metadata.ownerReferences',
    'spec.podCIDRs', 'status.addresses', 'status.conditions',
    'status.volumesAttached', 'status.volumesInUse',
}


def merge_patch(target, patch):
    """Apply an RFC 7386 merge patch; returns a new value."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _strategic_problem(patch, path=''):
    if isinstance(patch, dict):
        for key, value in patch.items():
            if key.startswith('$'):
                return 'directive %r at %r' % (key, path or '.')
            child = '%s.%s' % (path, key) if path else key
            if isinstance(value, list) and child in _MERGING_LISTS:
                return 'list %r has a strategic merge strategy' % child
            problem = _strategic_problem(value, child)
            if problem:
                return problem
    return None


def strategic_merge_patch(target, patch):
    """Apply a strategic merge patch that means the same as a merge patch.

    Raises UnsupportedMediaType when its result would differ.
    """
    problem = _strategic_problem(patch)
    if problem:
        raise errors.UnsupportedMediaType(
            'strategic merge patch is emulated only where it equals a merge '
            'patch (%s); send %s instead' % (problem, MERGE_PATCH))
    return merge_patch(target, patch)


def _pointer(path):
    if path == '':
        return []
    if not path.startswith('/'):
        raise errors.BadRequest('invalid JSON pointer %r' % path)
    return [part.replace('~1', '/').replace('~0', '~')
            for part in path[1:].split('/')]


def _index(container, part, *, allow_end=False):
    if part == '-' and allow_end:
        return len(container)
    if not part.isdigit() or (part != '0' and part.startswith('0')):
        raise errors.BadRequest('invalid array index %r' % part)
    index = int(part)
    limit = len(container) + (1 if allow_end else 0)
    if index >= limit:
        raise errors.BadRequest('array index %d out of range' % index)
    return index


def _parent(document, parts):
    node = document
    for part in parts[:-1]:
        if isinstance(node, dict):
            if part not in node:
                raise errors.BadRequest(
                    'path /%s does not exist' % '/'.join(parts))
            node = node[part]
        elif isinstance(node, list):
            node = node[_index(node, part)]
        else:
            raise errors.BadRequest(
                'path /%s does not exist' % '/'.join(parts))
    return node


def _get(document, parts):
    if not parts:
        return document
    parent = _parent(document, parts)
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last)]
    raise errors.BadRequest('path /%s does not exist' % '/'.join(parts))


def _remove(document, parts):
    if not parts:
        raise errors.BadRequest('cannot remove the whole document')
    parent = _parent(document, parts)
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_index(parent, last))
    raise errors.BadRequest('path /%s does not exist' % '/'.join(parts))


def _add(document, parts, value):
    if not parts:
        return value
    parent = _parent(document, parts)
    last = parts[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, allow_end=True), value)
    else:
        raise errors.BadRequest('path /%s does not exist' % '/'.join(parts))
    return document


def json_patch(target, operations):
    """Apply an RFC 6902 JSON patch; returns a new document."""
    if not isinstance(operations, list):
        raise errors.BadRequest(
            'a JSON patch must be a list of operations')
    document = copy.deepcopy(target)
    for operation in operations:
        if not isinstance(operation, dict) or 'op' not in operation \
                or 'path' not in operation:
            raise errors.BadRequest(
                'invalid JSON patch operation %r' % (operation,))
        op = operation['op']
        parts = _pointer(operation['path'])
        if op in ('add', 'replace', 'test') and 'value' not in operation:
            raise errors.BadRequest('operation %r needs a value' % op)
        if op == 'add':
            document = _add(document, parts, copy.deepcopy(
                operation['value']))
        elif op == 'remove':
            _remove(document, parts)
        elif op == 'replace':
            _get(document, parts)
            if parts:
                _remove(document, parts)
            document = _add(document, parts, copy.deepcopy(
                operation['value']))
        elif op in ('move', 'copy'):
            source = _pointer(operation.get('from', ''))
            if op == 'move':
                value = _remove(document, source)
            else:
                value = copy.deepcopy(_get(document, source))
            document = _add(document, parts, value)
        elif op == 'test':
            if _get(document, parts) != operation['value']:
                raise errors.Invalid(
                    'the JSON patch test at %s failed' % operation['path'])
        else:
            raise errors.BadRequest('unknown JSON patch operation %r' % op)
    return document


def apply_patch(content_type, target, patch):
    """Apply ``patch`` sent with ``content_type`` to ``target``."""
    media_type = (content_type or '').split(';')[0].strip().lower()
    if media_type == MERGE_PATCH:
        return merge_patch(target, patch)
    if media_type == JSON_PATCH:
        return json_patch(target, patch)
    if media_type == STRATEGIC_MERGE_PATCH:
        return strategic_merge_patch(target, patch)
    raise errors.UnsupportedMediaType(
        'the body of the request was in an unknown format - accepted media '
        'types include: %s, %s, %s (%s is not emulated)'
        % (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH))
