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

"""Label and field selectors with the grammar and semantics of k8s.

Part of the Kubernetes API test server. A monitor that watches only the
nodes it owns (``labelSelector``) or one lease (``fieldSelector``) must see
exactly what kube-apiserver would send it, so the parser follows the k8s
lexer (``=``, ``==``, ``!=``, ``in``, ``notin``, ``key``, ``!key``, ``>``,
``<``) and rejects what k8s rejects with a 400 that says why.

Selectors are parsed once per request and matched against many objects, so
parsing produces small immutable requirement tuples with a fast
``matches``.
"""

import re

from masakarimonitors_k8s.testing.kube_apiserver import errors

_NAME_RE = re.compile(r'^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$')
_DNS_SUBDOMAIN_RE = re.compile(
    r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')
_SPECIAL = '=!(),<>'
_OPERATORS = ('!=', '==', '=', '>', '<')


class InvalidSelector(errors.BadRequest):
    """A selector k8s would reject; answered with 400 BadRequest."""


def label_key_error(key):
    """Why ``key`` is not a valid label key, or None if it is."""
    prefix, slash, name = key.rpartition('/')
    if slash and not prefix:
        return 'prefix part must be non-empty'
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN_RE.match(prefix)):
        return ('prefix part %r must be a lowercase RFC 1123 subdomain'
                % prefix)
    if not name:
        return 'name part must be non-empty'
    if len(name) > 63:
        return 'name part must be no more than 63 characters'
    if not _NAME_RE.match(name):
        return ("name part must consist of alphanumeric characters, '-', "
                "'_' or '.', and must start and end with an alphanumeric "
                "character")
    return None


def label_value_error(value):
    """Why ``value`` is not a valid label value, or None if it is."""
    if value == '':
        return None
    if len(value) > 63:
        return 'must be no more than 63 characters'
    if not _NAME_RE.match(value):
        return ("a valid label must be an empty string or consist of "
                "alphanumeric characters, '-', '_' or '.', and must start "
                "and end with an alphanumeric character")
    return None


class Requirement(tuple):
    """One ``(key, operator, values)`` term of a label selector.

    The operator is one of ``=``, ``!=``, ``in``, ``notin``, ``exists``,
    ``!``, ``>``, ``<``.
    """

    __slots__ = ()

    def __new__(cls, key, operator, values=()):
        return super().__new__(cls, (key, operator, frozenset(values)))

    key = property(lambda self: self[0])
    operator = property(lambda self: self[1])
    values = property(lambda self: self[2])

    def matches(self, labels):
        key, operator, values = self
        present = key in labels
        if operator in ('=', 'in'):
            return present and labels[key] in values
        if operator in ('!=', 'notin'):
            return not present or labels[key] not in values
        if operator == 'exists':
            return present
        if operator == '!':
            return not present
        if not present:
            return False
        try:
            actual = int(labels[key])
        except ValueError:
            return False
        (bound,) = values
        return actual > bound if operator == '>' else actual < bound


class LabelSelector:
    """A parsed label selector; the empty one matches everything."""

    def __init__(self, requirements=()):
        self.requirements = tuple(requirements)

    @property
    def empty(self):
        return not self.requirements

    def matches(self, labels):
        return all(req.matches(labels) for req in self.requirements)

    def __repr__(self):
        return 'LabelSelector(%r)' % (self.requirements,)


def _tokenize(text):
    """Split a label selector into (kind, value) tokens like the k8s lexer.

    The kind is 'id', 'op', '(', ')', ',' or '!'.
    """
    tokens = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
            continue
        if char in '(),':
            tokens.append((char, char))
            i += 1
            continue
        two = text[i:i + 2]
        if two in ('!=', '=='):
            tokens.append(('op', '!=' if two == '!=' else '='))
            i += 2
            continue
        if char in '=<>':
            tokens.append(('op', char))
            i += 1
            continue
        if char == '!':
            tokens.append(('!', char))
            i += 1
            continue
        start = i
        while i < len(text) and not text[i].isspace() \
                and text[i] not in _SPECIAL:
            i += 1
        word = text[start:i]
        if word in ('in', 'notin'):
            tokens.append(('op', word))
        else:
            tokens.append(('id', word))
    return tokens


class _LabelParser:
    def __init__(self, text):
        self.text = text
        self.tokens = _tokenize(text)
        self.position = 0

    def _peek(self):
        if self.position < len(self.tokens):
            return self.tokens[self.position]
        return ('end', 'end of string')

    def _take(self):
        token = self._peek()
        self.position += 1
        return token

    def _fail(self, found, expected):
        raise InvalidSelector(
            'unable to parse requirement: found %r, expected: %s'
            % (found, expected))

    def parse(self):
        requirements = []
        if self._peek()[0] == 'end':
            return LabelSelector()
        while True:
            requirements.append(self._requirement())
            kind, value = self._take()
            if kind == 'end':
                return LabelSelector(requirements)
            if kind != ',':
                self._fail(value, "',' or 'end of string'")

    def _key(self):
        kind, value = self._take()
        if kind != 'id':
            self._fail(value, 'identifier')
        problem = label_key_error(value)
        if problem:
            raise InvalidSelector(
                'unable to parse requirement: invalid label key %r: %s'
                % (value, problem))
        return value

    def _value(self, kind, value):
        if kind != 'id':
            self._fail(value, 'identifier')
        problem = label_value_error(value)
        if problem:
            raise InvalidSelector(
                'unable to parse requirement: invalid label value %r: %s'
                % (value, problem))
        return value

    def _requirement(self):
        if self._peek()[0] == '!':
            self._take()
            key = self._key()
            if self._peek()[0] not in (',', 'end'):
                self._fail(self._peek()[1], "',' or 'end of string'")
            return Requirement(key, '!')
        key = self._key()
        kind, operator = self._peek()
        if kind in (',', 'end'):
            return Requirement(key, 'exists')
        if kind != 'op':
            self._fail(operator, "'=', '!=', '==', 'in', 'notin', '>' or "
                                 "'<'")
        self._take()
        if operator in ('in', 'notin'):
            return Requirement(key, operator, self._set_values(operator))
        kind, value = self._take()
        if operator in ('>', '<'):
            if kind != 'id' or not re.match(r'^-?[0-9]+$', value):
                raise InvalidSelector(
                    'unable to parse requirement: for %r the value must be '
                    'an integer, got %r' % (operator, value))
            return Requirement(key, operator, (int(value),))
        if kind in (',', 'end'):
            # "key=" selects the label with an empty value.
            self.position -= 1
            return Requirement(key, operator, ('',))
        return Requirement(key, operator, (self._value(kind, value),))

    def _set_values(self, operator):
        kind, value = self._take()
        if kind != '(':
            self._fail(value, "'('")
        values = []
        expect_value = True
        while True:
            kind, value = self._take()
            if kind == ')':
                if expect_value and values:
                    values.append('')
                break
            if kind == ',':
                if expect_value:
                    values.append('')
                expect_value = True
                continue
            if kind == 'end':
                self._fail(value, "')'")
            if not expect_value:
                self._fail(value, "',' or ')'")
            values.append(self._value(kind, value))
            expect_value = False
        if not values:
            raise InvalidSelector(
                "unable to parse requirement: for 'in', 'notin' operators, "
                "values set can't be empty (operator %r)" % operator)
        return values


def parse_label_selector(text):
    """Parse a ``labelSelector`` query value; raises InvalidSelector."""
    if isinstance(text, LabelSelector):
        return text
    return _LabelParser(text or '').parse()


class FieldSelector:
    """A parsed field selector: a conjunction of ``field op value``."""

    def __init__(self, requirements=()):
        self.requirements = tuple(requirements)

    @property
    def empty(self):
        return not self.requirements

    def matches(self, fields):
        for field, operator, value in self.requirements:
            if (fields.get(field) == value) != (operator == '='):
                return False
        return True

    def exact_value(self, field):
        """The value ``field`` must equal, if the selector pins it."""
        for name, operator, value in self.requirements:
            if name == field and operator == '=':
                return value
        return None

    def __repr__(self):
        return 'FieldSelector(%r)' % (self.requirements,)


def _split_unescaped(text, separator):
    parts = []
    current = []
    escaped = False
    for char in text:
        if escaped:
            current.append('\\' + char)
            escaped = False
        elif char == '\\':
            escaped = True
        elif char == separator:
            parts.append(''.join(current))
            current = []
        else:
            current.append(char)
    if escaped:
        raise InvalidSelector(
            'invalid field selector: %r ends with an unfinished escape'
            % text)
    parts.append(''.join(current))
    return parts


def _unescape(text):
    out = []
    escaped = False
    for char in text:
        if escaped:
            if char not in '\\,=':
                raise InvalidSelector(
                    'invalid field selector: invalid escape sequence '
                    '"\\%s"' % char)
            out.append(char)
            escaped = False
        elif char == '\\':
            escaped = True
        else:
            out.append(char)
    return ''.join(out)


def _split_term(term):
    escaped = False
    for index, char in enumerate(term):
        if escaped:
            escaped = False
            continue
        if char == '\\':
            escaped = True
            continue
        for operator in ('!=', '==', '='):
            if term.startswith(operator, index):
                return (term[:index], '!=' if operator == '!=' else '=',
                        term[index + len(operator):])
    raise InvalidSelector(
        "invalid field selector: %r; can't understand %r" % (term, term))


def parse_field_selector(text, *, allowed_fields=None):
    """Parse a ``fieldSelector`` query value; raises InvalidSelector.

    ``allowed_fields`` are the field labels the resource supports; others
    are rejected as k8s does ("field label not supported").
    """
    if isinstance(text, FieldSelector):
        return text
    if not text:
        return FieldSelector()
    requirements = []
    for term in _split_unescaped(text, ','):
        if not term:
            continue
        field, operator, value = _split_term(term)
        field, value = _unescape(field), _unescape(value)
        if allowed_fields is not None and field not in allowed_fields:
            raise InvalidSelector('field label not supported: %s' % field)
        requirements.append((field, operator, value))
    return FieldSelector(requirements)
