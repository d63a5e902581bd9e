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

"""Kubernetes label selectors: parse and match.

The API server filters the watch by ``[k8s] node_selector``; this module
exists so that a mistyped selector stops start-up with a message naming it
(instead of a 400 from the API later), and so the same grammar can be
matched locally. Grammar as documented for ``labelSelector``: equality
(``=``, ``==``, ``!=``), set-based (``in``, ``notin``) and existence
(``key``, ``!key``) requirements joined by commas.
"""

import dataclasses
import re

# Label keys: optional DNS-subdomain prefix (<= 253) and a name (<= 63).
_NAME = r'([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)'
_PREFIX = r'([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)'
_KEY_RE = re.compile(r'^(%s/)?%s$' % (_PREFIX, _NAME))
_VALUE_RE = re.compile(r'^(%s)?$' % _NAME)
_SET_RE = re.compile(r'^\s*(\S+)\s+(in|notin)\s*\(([^)]*)\)\s*$')
_EQ_RE = re.compile(r'^\s*([^=!\s]+)\s*(==|=|!=)\s*(\S*)\s*$')
_EXISTS_RE = re.compile(r'^\s*(!?)\s*([^=!\s(),]+)\s*$')


class SelectorError(ValueError):
    """The selector text is not a valid label selector."""


@dataclasses.dataclass(frozen=True)
class Requirement:
    key: str
    operator: str  # one of: in, notin, exists, !exists
    values: frozenset = frozenset()

    def matches(self, labels):
        if self.operator == 'exists':
            return self.key in labels
        if self.operator == '!exists':
            return self.key not in labels
        if self.operator == 'in':
            return labels.get(self.key) in self.values
        # notin, like Kubernetes, also matches objects without the key.
        return labels.get(self.key) not in self.values


# NodeRestriction (kube-apiserver admission) lets a kubelet set on its own
# Node every label outside kubernetes.io and k8s.io, and inside them only
# these keys and the kubelet.kubernetes.io and node.kubernetes.io
# namespaces; node-restriction.kubernetes.io is the namespace reserved for
# labels that only administrators may set. Source: k8s.io/kubelet
# pkg/apis/well_known_labels.go (IsKubeletLabel) and the NodeRestriction
# plugin (getForbiddenLabels), Kubernetes 1.35.
KUBELET_LABELS = frozenset((
    'kubernetes.io/hostname',
    'kubernetes.io/os', 'kubernetes.io/arch',
    'beta.kubernetes.io/os', 'beta.kubernetes.io/arch',
    'topology.kubernetes.io/zone', 'topology.kubernetes.io/region',
    'failure-domain.beta.kubernetes.io/zone',
    'failure-domain.beta.kubernetes.io/region',
    'node.kubernetes.io/instance-type', 'beta.kubernetes.io/instance-type',
))
KUBELET_LABEL_NAMESPACES = ('kubelet.kubernetes.io', 'node.kubernetes.io')
ADMIN_ONLY_LABEL_NAMESPACE = 'node-restriction.kubernetes.io'


def _in_namespace(namespace, domain):
    return namespace == domain or namespace.endswith('.' + domain)


def kubelet_may_set(key):
    """Whether a kubelet may set label ``key`` on its own Node.

    True also means that anyone who takes over a node (a hypervisor
    escape on a compute host gives root and the kubelet's credentials)
    controls the value. Annotations are not restricted at all.
    """
    namespace = key.split('/', 1)[0] if '/' in key else ''
    if _in_namespace(namespace, ADMIN_ONLY_LABEL_NAMESPACE):
        return False
    if not any(_in_namespace(namespace, domain)
               for domain in ('kubernetes.io', 'k8s.io')):
        return True
    return key in KUBELET_LABELS or any(
        _in_namespace(namespace, domain)
        for domain in KUBELET_LABEL_NAMESPACES)


def is_valid_label_key(key):
    return bool(key) and len(key) <= 317 and bool(_KEY_RE.match(key)) and (
        '/' not in key or len(key.split('/', 1)[0]) <= 253)


def _check_key(key, text):
    if not is_valid_label_key(key):
        raise SelectorError('invalid label key %r in selector %r'
                            % (key, text))


def _check_value(value, text):
    if len(value) > 63 or not _VALUE_RE.match(value):
        raise SelectorError('invalid label value %r in selector %r'
                            % (value, text))


def _split_terms(text):
    """Split on commas that are not inside parentheses."""
    terms, depth, current = [], 0, []
    for char in text:
        if char == '(':
            depth += 1
        elif char == ')':
            depth -= 1
            if depth < 0:
                raise SelectorError('unbalanced ")" in selector %r' % text)
        if char == ',' and depth == 0:
            terms.append(''.join(current))
            current = []
        else:
            current.append(char)
    if depth:
        raise SelectorError('unbalanced "(" in selector %r' % text)
    terms.append(''.join(current))
    return terms


def parse(text):
    """Parse a selector into a tuple of requirements (empty: everything)."""
    if text is None or not text.strip():
        return ()
    requirements = []
    for term in _split_terms(text):
        if not term.strip():
            raise SelectorError('empty requirement in selector %r' % text)
        match = _SET_RE.match(term)
        if match:
            key, operator, raw_values = match.groups()
            values = [v.strip() for v in raw_values.split(',')]
            _check_key(key, text)
            for value in values:
                _check_value(value, text)
            if operator == 'in' and values == ['']:
                raise SelectorError('"in" needs at least one value in '
                                    'selector %r' % text)
            requirements.append(Requirement(key, operator, frozenset(values)))
            continue
        match = _EQ_RE.match(term)
        if match:
            key, operator, value = match.groups()
            _check_key(key, text)
            _check_value(value, text)
            requirements.append(Requirement(
                key, 'notin' if operator == '!=' else 'in',
                frozenset([value])))
            continue
        match = _EXISTS_RE.match(term)
        if match:
            negated, key = match.groups()
            _check_key(key, text)
            requirements.append(
                Requirement(key, '!exists' if negated else 'exists'))
            continue
        raise SelectorError('cannot parse %r in selector %r'
                            % (term.strip(), text))
    return tuple(requirements)


def matches(requirements, labels):
    labels = labels or {}
    return all(req.matches(labels) for req in requirements)
