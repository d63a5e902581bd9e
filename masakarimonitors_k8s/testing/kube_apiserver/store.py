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

"""The object store behind the Kubernetes API test server.

Part of the Kubernetes API test server; the cluster model (nodes, kubelets,
node lifecycle controller) writes through this module directly, and the
HTTP layer (:mod:`.server`) serves it to the monitor under test.

It keeps what etcd plus the watch cache give kube-apiserver:

* one cluster-wide, monotonically increasing resourceVersion, bumped by
  every write (and not by a write that changes nothing, as in k8s);
* a bounded history of changes, so a watch can resume from a recent
  resourceVersion, a paginated list can keep serving the snapshot its first
  page saw, and anything older gets 410 Expired;
* watchers fed under the store lock, so no change is missed or delivered
  twice between a list and the watch that follows it.

Objects are kept as their serialized JSON (without ``kind`` and
``apiVersion``, as list items are sent) plus the labels and field values
selectors need. Listing 5,000 heavy Nodes is then a join of cached bytes,
and every reader gets a private copy by parsing, which is cheaper than
``copy.deepcopy`` of a 13 KB object. Encoding and parsing use msgspec
(already a dependency of the driver): the bytes are the same as the
standard library's compact JSON, several times faster, which is what
lets one process serve a 15,000-node cluster's writes (1,500 Lease
renewals a second) on the real clock.
"""

import base64
import binascii
import bisect
import collections
import heapq
import json
import random
import re
import threading
import time
import uuid

import msgspec

from masakarimonitors_k8s.testing.kube_apiserver import errors
from masakarimonitors_k8s.testing.kube_apiserver import patches
from masakarimonitors_k8s.testing.kube_apiserver import resources
from masakarimonitors_k8s.testing.kube_apiserver import selectors

# The exceptions callers of the store catch, re-exported under the names
# the cluster model imports.
NotFound = errors.NotFound
AlreadyExists = errors.AlreadyExists
Conflict = errors.Conflict
Expired = errors.Expired
BadRequest = errors.BadRequest
Invalid = errors.Invalid
Timeout = errors.Timeout

__all__ = ['ObjectStore', 'Watcher', 'NotFound', 'AlreadyExists', 'Conflict',
           'Expired', 'BadRequest', 'Invalid', 'Timeout']

# The standard library's encoder stays as the fallback for values
# msgspec refuses (e.g. float dict keys); both write compact UTF-8 JSON.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(',', ':'),
                            check_circular=False)
_FAST_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder()
_SUBDOMAIN_RE = re.compile(
    r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')
_GENERATE_NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789'
_CONTINUE_VERSION = 'meta.k8s.io/v1'
_CONTINUE_TOO_OLD = (
    'The provided continue parameter is too old to display a consistent '
    'list result. You can start a new list without the continue parameter, '
    'or use the continue token in this response to retrieve the remainder '
    'of the results. Continuing with the provided token results in an '
    'inconsistent list - objects that were created, modified, or deleted '
    'between the time the first chunk was returned and now may show up in '
    'the list.')
# How often an idle watcher with bookmarks looks at the clock: a
# ManualClock cannot wake it, so it polls (in real time) this often.
_BOOKMARK_POLL_SECONDS = 0.05

WRITE_OBJECT = 'object'
WRITE_MAIN = 'main'
WRITE_STATUS = 'status'


def format_timestamp(wall):
    """RFC 3339 with second precision and 'Z', as k8s writes metav1.Time."""
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(wall))


def _encode(obj):
    try:
        return _FAST_ENCODER.encode(obj)
    except (TypeError, ValueError, OverflowError):
        return _ENCODER.encode(obj).encode('utf-8')


def _decode(data):
    """Parse JSON this module encoded (stored bodies) into plain dicts."""
    return _DECODER.decode(data)


class _Entry:
    """One stored version of one object; never changed once built."""

    __slots__ = ('key', 'rv', 'body', 'labels', 'fields', 'prefix', '_full')

    def __init__(self, key, rv, body, labels, fields, prefix):
        self.key = key
        self.rv = rv
        self.body = body
        self.labels = labels
        self.fields = fields
        self.prefix = prefix
        self._full = None

    def full(self):
        """The object's JSON with ``kind`` and ``apiVersion``, cached."""
        full = self._full
        if full is None:
            full = self._full = self.prefix + self.body[1:]
        return full

    def forget_full(self):
        """Drop the cached full JSON of a superseded version.

        History keeps old versions for resumed watches, which are rare;
        their bytes are rebuilt if needed instead of doubling the memory
        the history takes.
        """
        self._full = None

    def object(self):
        """A private dict copy of the object, with kind and apiVersion."""
        return _decode(self.full())


class _Change:
    __slots__ = ('rv', 'type', 'resource', 'key', 'entry', 'prev')

    def __init__(self, rv, type_, resource, key, entry, prev):
        self.rv = rv
        self.type = type_
        self.resource = resource
        self.key = key
        self.entry = entry
        self.prev = prev


class _Table:
    """The current objects of one resource, with keys kept sorted."""

    def __init__(self):
        self.entries = {}
        self.keys = []

    def put(self, key, entry):
        if key not in self.entries:
            bisect.insort(self.keys, key)
        self.entries[key] = entry

    def remove(self, key):
        del self.entries[key]
        del self.keys[bisect.bisect_left(self.keys, key)]


class ListPage:
    """One page of a list: entries plus what the list metadata says."""

    __slots__ = ('entries', 'resource_version', 'continue_token',
                 'remaining_item_count')

    def __init__(self, entries, resource_version, continue_token,
                 remaining_item_count):
        self.entries = entries
        self.resource_version = resource_version
        self.continue_token = continue_token
        self.remaining_item_count = remaining_item_count


def _encode_continue(resource, rv, key):
    start = '/%s/%s/%s' % (resource, key[0], key[1])
    raw = json.dumps({'v': _CONTINUE_VERSION, 'rv': rv, 'start': start})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip('=')


def _decode_continue(resource, token):
    try:
        raw = base64.urlsafe_b64decode(token + '=' * (-len(token) % 4))
        data = json.loads(raw)
        if data.get('v') != _CONTINUE_VERSION:
            raise ValueError('unknown version %r' % data.get('v'))
        rv = data['rv']
        if not isinstance(rv, int):
            raise ValueError('rv is not an integer')
        _, kind, namespace, name = data['start'].split('/', 3)
    except (binascii.Error, ValueError, KeyError, TypeError,
            AttributeError) as exc:
        raise errors.BadRequest('continue key is not valid: %s' % exc)
    if kind != resource:
        raise errors.BadRequest(
            'continue key is not valid: it continues a list of %s, not %s'
            % (kind, resource))
    return rv, (namespace, name)


def _parse_rv(text, what='resource version'):
    try:
        value = int(text)
    except (TypeError, ValueError):
        raise errors.BadRequest('invalid %s: %r' % (what, text)) from None
    if value < 0:
        raise errors.BadRequest('invalid %s: %r' % (what, text))
    return value


class ObjectStore:
    """Thread-safe store of Nodes, Leases and Events with watch history.

    :param clock: a :class:`masakarimonitors_k8s.clock.Clock`; ``wall()``
        stamps creationTimestamp, ``monotonic()`` paces watch bookmarks.
    :param history_limit: how many changes are kept for watch resumption
        and consistent pagination; older resourceVersions get 410.
    """

    def __init__(self, clock, history_limit=20000):
        if history_limit < 1:
            raise ValueError('history_limit must be at least 1')
        self._clock = clock
        self._history_limit = history_limit
        self._lock = threading.RLock()
        self._rv = 0
        self._compacted_rv = 0
        self._history = collections.deque()
        self._tables = {name: _Table() for name in resources.RESOURCE_TYPES}
        self._watchers = {name: set() for name in resources.RESOURCE_TYPES}
        self._subscribers = []
        self._random = random.Random()

    # -- introspection ----------------------------------------------------

    @property
    def clock(self):
        return self._clock

    @property
    def resource_version(self):
        """The current cluster-wide resourceVersion, as a string."""
        with self._lock:
            return str(self._rv)

    @property
    def compacted_resource_version(self):
        """Resuming from an older resourceVersion than this gets 410."""
        with self._lock:
            return str(self._compacted_rv)

    def count(self, resource, namespace=None):
        """How many objects of ``resource`` (in ``namespace``) exist."""
        rtype = resources.resource_type(resource)
        with self._lock:
            table = self._tables[rtype.name]
            if namespace is None:
                return len(table.entries)
            return sum(1 for key in table.entries if key[0] == namespace)

    def watcher_count(self, resource=None):
        """How many watchers are open (on ``resource``, or on any)."""
        with self._lock:
            if resource is not None:
                return len(self._watchers[resource])
            return sum(len(found) for found in self._watchers.values())

    # -- reads ------------------------------------------------------------

    def get(self, resource, name, namespace=None):
        """The object as a private dict (with kind/apiVersion)."""
        return self.get_entry(resource, name, namespace).object()

    def get_entry(self, resource, name, namespace=None):
        """The stored entry (serialized bytes); for the HTTP layer."""
        rtype = resources.resource_type(resource)
        key = self._key(rtype, name, namespace)
        with self._lock:
            entry = self._tables[rtype.name].entries.get(key)
        if entry is None:
            raise self._not_found(rtype, name)
        return entry

    def list(self, resource, namespace=None, label_selector=None,
             field_selector=None, limit=None, continue_token=None,
             resource_version=None, *, resource_version_match=None):
        """List like kube-apiserver.

        :returns: ``(items, list_resource_version, continue_token)``; items
            are dicts without kind/apiVersion, as in a k8s list body, and
            the continue token is None on the last page.
        """
        page = self.list_page(
            resource, namespace=namespace, label_selector=label_selector,
            field_selector=field_selector, limit=limit,
            continue_token=continue_token, resource_version=resource_version,
            resource_version_match=resource_version_match)
        items = [_decode(entry.body) for entry in page.entries]
        return items, page.resource_version, page.continue_token

    def list_page(self, resource, *, namespace=None, label_selector=None,
                  field_selector=None, limit=None, continue_token=None,
                  resource_version=None, resource_version_match=None):
        """List returning a :class:`ListPage` of entries (no parsing)."""
        rtype = resources.resource_type(resource)
        labels = selectors.parse_label_selector(label_selector)
        fields = selectors.parse_field_selector(
            field_selector, allowed_fields=rtype.field_labels)
        if limit is not None and limit <= 0:
            limit = None
        if rtype.namespaced is False:
            namespace = None
        self._validate_list_versions(continue_token, resource_version,
                                     resource_version_match)
        with self._lock:
            snapshot_rv, start_key = self._list_start(
                rtype, continue_token, resource_version,
                resource_version_match)
            return self._collect(rtype, namespace, labels, fields, limit,
                                 snapshot_rv, start_key)

    @staticmethod
    def _validate_list_versions(continue_token, resource_version, match):
        if match not in (None, '', 'NotOlderThan', 'Exact'):
            raise errors.BadRequest(
                'resourceVersionMatch: Unsupported value: %r: supported '
                'values: "Exact", "NotOlderThan"' % match)
        if continue_token:
            if match:
                raise errors.BadRequest(
                    'resourceVersionMatch is forbidden when continue is '
                    'provided')
            if resource_version not in (None, '', '0'):
                raise errors.BadRequest(
                    'specifying resource version is not allowed when using '
                    'continue')
        elif match:
            if resource_version in (None, ''):
                raise errors.BadRequest(
                    'resourceVersionMatch is forbidden unless '
                    'resourceVersion is provided')
            if match == 'Exact' and resource_version == '0':
                raise errors.BadRequest(
                    'resourceVersionMatch "Exact" is forbidden for '
                    'resourceVersion "0"')

    def _list_start(self, rtype, continue_token, resource_version, match):
        if continue_token:
            snapshot_rv, start_key = _decode_continue(rtype.name,
                                                      continue_token)
            if snapshot_rv == -1:
                return self._rv, start_key
            if snapshot_rv < self._compacted_rv:
                raise errors.Expired(_CONTINUE_TOO_OLD, metadata={
                    'continue': _encode_continue(rtype.name, -1, start_key)})
            if snapshot_rv > self._rv:
                raise errors.BadRequest(
                    'continue key is not valid: it is from the future')
            return snapshot_rv, start_key
        if resource_version in (None, '', '0'):
            return self._rv, None
        wanted = _parse_rv(resource_version)
        if wanted > self._rv:
            raise errors.Timeout(
                'Too large resource version: %d, current: %d'
                % (wanted, self._rv),
                details={'causes': [{
                    'reason': 'ResourceVersionTooLarge',
                    'message': 'Too large resource version'}],
                    'retryAfterSeconds': 1})
        if match == 'Exact':
            if wanted < self._compacted_rv:
                raise errors.Expired(
                    'The resourceVersion for the provided list is too old.')
            return wanted, None
        return self._rv, None

    def _snapshot(self, rtype, snapshot_rv):
        """The entries changed since ``snapshot_rv``, as they were then.

        Maps key to the entry at ``snapshot_rv``, or to None for a key that
        did not exist then.
        """
        before = {}
        for change in reversed(self._history):
            if change.rv <= snapshot_rv:
                break
            if change.resource == rtype.name:
                before[change.key] = change.prev
        return before

    def _iter_entries(self, rtype, namespace, snapshot_rv, start_key):
        """(key, entry) as they were at ``snapshot_rv``, in key order."""
        table = self._tables[rtype.name]
        keys = table.keys
        low = 0
        if namespace is not None:
            low = bisect.bisect_left(keys, (namespace, ''))
        if start_key is not None:
            low = max(low, bisect.bisect_right(keys, start_key))
        before = self._snapshot(rtype, snapshot_rv) \
            if snapshot_rv < self._rv else {}

        def in_range(key):
            return ((namespace is None or key[0] == namespace)
                    and (start_key is None or key > start_key))

        gone = sorted(key for key, entry in before.items()
                      if entry is not None and key not in table.entries
                      and in_range(key))
        current = (keys[index] for index in range(low, len(keys)))
        for key in heapq.merge(current, gone):
            if namespace is not None and key[0] != namespace:
                if key[0] > namespace:
                    return
                continue
            entry = before[key] if key in before else table.entries[key]
            if entry is not None:
                yield key, entry

    def _collect(self, rtype, namespace, labels, fields, limit, snapshot_rv,
                 start_key):
        filtered = not (labels.empty and fields.empty)
        found = []
        remaining = None
        more = False
        entries = self._iter_entries(rtype, namespace, snapshot_rv,
                                     start_key)
        for _, entry in entries:
            if filtered and not (labels.matches(entry.labels)
                                 and fields.matches(entry.fields)):
                continue
            if limit is not None and len(found) >= limit:
                more = True
                if not filtered:
                    remaining = 1 + sum(1 for _ in entries)
                break
            found.append(entry)
        token = None
        if more:
            token = _encode_continue(rtype.name, snapshot_rv,
                                     found[-1].key)
        return ListPage(found, str(snapshot_rv), token, remaining)

    # -- writes -----------------------------------------------------------

    def create(self, resource, obj, namespace=None):
        """Create ``obj``; returns the stored object (with kind)."""
        return self.create_entry(resource, obj, namespace).object()

    def create_entry(self, resource, obj, namespace=None):
        rtype = resources.resource_type(resource)
        obj = self._own_copy(rtype, obj)
        metadata = obj['metadata']
        namespace = self._namespace_of(rtype, metadata, namespace)
        with self._lock:
            name = metadata.get('name')
            if not name and metadata.get('generateName'):
                name = self._generate_name(rtype, namespace,
                                           metadata['generateName'])
                metadata['name'] = name
            self._validate(rtype, obj, namespace)
            key = (namespace or '', name)
            if key in self._tables[rtype.name].entries:
                raise errors.AlreadyExists(
                    '%s "%s" already exists' % (rtype.qualified_name, name),
                    details=self._details(rtype, name))
            if rtype.namespaced:
                metadata['namespace'] = namespace
            metadata['uid'] = str(uuid.UUID(int=self._random.getrandbits(128),
                                            version=4))
            metadata['creationTimestamp'] = format_timestamp(
                self._clock.wall())
            for transient in ('deletionTimestamp', 'selfLink'):
                metadata.pop(transient, None)
            return self._commit(rtype, key, obj, None, 'ADDED')

    def update(self, resource, obj, namespace=None, *,
               write_scope=WRITE_OBJECT):
        """Replace an object; Conflict if its resourceVersion is stale.

        ``write_scope`` is for the HTTP layer: ``'main'`` keeps the stored
        status of resources with a status subresource (as a PUT to
        ``/nodes/x`` does), ``'status'`` changes only the status.
        """
        return self.update_entry(resource, obj, namespace,
                                 write_scope=write_scope).object()

    def update_entry(self, resource, obj, namespace=None, *,
                     write_scope=WRITE_OBJECT):
        rtype = resources.resource_type(resource)
        obj = self._own_copy(rtype, obj)
        metadata = obj['metadata']
        namespace = self._namespace_of(rtype, metadata, namespace)
        name = metadata.get('name')
        if not name:
            raise errors.BadRequest('the object to update has no name')
        key = (namespace or '', name)
        with self._lock:
            entry = self._tables[rtype.name].entries.get(key)
            if entry is None:
                if rtype.create_on_update and write_scope != WRITE_STATUS:
                    return self.create_entry(resource, obj, namespace)
                raise self._not_found(rtype, name)
            wanted = metadata.get('resourceVersion')
            if wanted and wanted != str(entry.rv):
                raise self._conflict(rtype, name)
            return self._replace(rtype, entry, obj, write_scope)

    def patch(self, resource, name, patch, namespace=None, *,
              content_type=patches.MERGE_PATCH, write_scope=WRITE_OBJECT):
        """Patch an object (JSON merge patch by default).

        A resourceVersion in the patched result that differs from the
        stored one is a precondition, as in k8s, and raises Conflict.
        """
        return self.patch_entry(resource, name, patch, namespace,
                                content_type=content_type,
                                write_scope=write_scope).object()

    def patch_entry(self, resource, name, patch, namespace=None, *,
                    content_type=patches.MERGE_PATCH,
                    write_scope=WRITE_OBJECT):
        rtype = resources.resource_type(resource)
        key = self._key(rtype, name, namespace)
        with self._lock:
            entry = self._tables[rtype.name].entries.get(key)
            if entry is None:
                raise self._not_found(rtype, name)
            current = _decode(entry.body)
            patched = patches.apply_patch(content_type, current, patch)
            if not isinstance(patched, dict) or not isinstance(
                    patched.get('metadata'), dict):
                raise errors.BadRequest(
                    'the patch does not leave an object with metadata')
            wanted = patched['metadata'].get('resourceVersion')
            if wanted and wanted != str(entry.rv):
                raise self._conflict(rtype, name)
            if patched['metadata'].get('name') != name:
                raise errors.Invalid(
                    '%s "%s" is invalid: metadata.name: Invalid value: %s: '
                    'field is immutable' % (
                        rtype.kind, name,
                        json.dumps(patched['metadata'].get('name'))),
                    details=self._details(rtype, name))
            return self._replace(rtype, entry, patched, write_scope)

    def mutate(self, resource, name, fn, namespace=None):
        """Atomic read-modify-write under the store lock.

        ``fn`` gets a private copy of the object and edits it in place or
        returns a replacement. No resourceVersion check is made; nothing
        is written (no event, no new resourceVersion) if nothing changed.
        ``fn`` runs with the store locked, so it must be quick and must not
        wait for other threads that use the store.
        """
        rtype = resources.resource_type(resource)
        key = self._key(rtype, name, namespace)
        with self._lock:
            entry = self._tables[rtype.name].entries.get(key)
            if entry is None:
                raise self._not_found(rtype, name)
            obj = entry.object()
            result = fn(obj)
            if result is not None:
                obj = result
            obj = self._own_copy(rtype, obj)
            return self._replace(rtype, entry, obj, WRITE_OBJECT).object()

    def delete(self, resource, name, namespace=None, *, preconditions=None):
        """Delete; the DELETED event carries the object with a new rv.

        ``preconditions`` may hold ``uid`` and/or ``resourceVersion`` that
        must match the stored object (409 Conflict otherwise).
        """
        return self.delete_entry(resource, name, namespace,
                                 preconditions=preconditions).object()

    def delete_entry(self, resource, name, namespace=None, *,
                     preconditions=None):
        rtype = resources.resource_type(resource)
        key = self._key(rtype, name, namespace)
        with self._lock:
            entry = self._tables[rtype.name].entries.get(key)
            if entry is None:
                raise self._not_found(rtype, name)
            obj = _decode(entry.body)
            self._check_preconditions(rtype, name, obj, preconditions or {})
            return self._commit(rtype, key, obj, entry, 'DELETED')

    def delete_collection(self, resource, namespace=None,
                          label_selector=None, field_selector=None):
        """Delete every matching object; returns the deleted entries."""
        rtype = resources.resource_type(resource)
        with self._lock:
            page = self.list_page(resource, namespace=namespace,
                                  label_selector=label_selector,
                                  field_selector=field_selector)
            return [self.delete_entry(rtype.name, entry.key[1],
                                      entry.key[0] or None)
                    for entry in page.entries]

    def expire_history(self):
        """Forget all history: resuming from any older rv now gets 410."""
        with self._lock:
            self._history.clear()
            self._compacted_rv = self._rv

    def subscribe(self, callback):
        """Call ``callback(type, resource, obj)`` after each change.

        Callbacks run under the store lock, in change order; they may read
        the store but must be quick.
        """
        with self._lock:
            self._subscribers.append(callback)

    def unsubscribe(self, callback):
        with self._lock:
            self._subscribers.remove(callback)

    # -- watch ------------------------------------------------------------

    def watch(self, resource, namespace=None, resource_version=None,
              label_selector=None, field_selector=None, bookmarks=False, *,
              bookmark_interval=60.0, queue_limit=None):
        """Open a :class:`Watcher`.

        ``resource_version`` unset, "" or "0" starts with synthetic ADDED
        events for the current objects; a number resumes after it and
        raises Expired if it is older than the history window.
        """
        rtype = resources.resource_type(resource)
        labels = selectors.parse_label_selector(label_selector)
        fields = selectors.parse_field_selector(
            field_selector, allowed_fields=rtype.field_labels)
        if not rtype.namespaced:
            namespace = None
        with self._lock:
            watcher = Watcher(
                self, rtype, namespace=namespace, labels=labels,
                fields=fields, bookmarks=bookmarks,
                bookmark_interval=bookmark_interval,
                queue_limit=queue_limit or self._history_limit)
            if resource_version in (None, '', '0'):
                initial = [entry for _, entry in self._iter_entries(
                    rtype, namespace, self._rv, None)
                    if watcher.passes(entry)]
                watcher.start_with(initial, self._rv)
            else:
                since = _parse_rv(resource_version)
                if since < self._compacted_rv:
                    raise errors.Expired(
                        'too old resource version: %d (%d)'
                        % (since, self._compacted_rv))
                watcher.resume_from(since)
                for change in self._changes_after(since):
                    if change.resource == rtype.name:
                        watcher.offer(change)
            self._watchers[rtype.name].add(watcher)
            return watcher

    def _changes_after(self, rv):
        newer = []
        for change in reversed(self._history):
            if change.rv <= rv:
                break
            newer.append(change)
        newer.reverse()
        return newer

    def _forget_watcher(self, watcher):
        with self._lock:
            self._watchers[watcher.resource_type.name].discard(watcher)

    # -- internals --------------------------------------------------------

    def _key(self, rtype, name, namespace):
        if rtype.namespaced:
            if not namespace:
                raise errors.BadRequest(
                    'a namespace is required for %s' % rtype.name)
            return (namespace, name)
        return ('', name)

    @staticmethod
    def _details(rtype, name):
        details = {'name': name, 'kind': rtype.name}
        if rtype.group:
            details['group'] = rtype.group
        return details

    def _not_found(self, rtype, name):
        return errors.NotFound(
            '%s "%s" not found' % (rtype.qualified_name, name),
            details=self._details(rtype, name))

    def _conflict(self, rtype, name):
        return errors.Conflict(
            'Operation cannot be fulfilled on %s "%s": the object has been '
            'modified; please apply your changes to the latest version and '
            'try again' % (rtype.qualified_name, name),
            details=self._details(rtype, name))

    def _check_preconditions(self, rtype, name, obj, preconditions):
        metadata = obj['metadata']
        for field, label in (('uid', 'UID'),
                             ('resourceVersion', 'ResourceVersion')):
            wanted = preconditions.get(field)
            if wanted and wanted != metadata.get(field):
                raise errors.Conflict(
                    'Operation cannot be fulfilled on %s "%s": Precondition '
                    'failed: %s in precondition: %s, %s in object meta: %s'
                    % (rtype.qualified_name, name, label, wanted, label,
                       metadata.get(field)),
                    details=self._details(rtype, name))

    @staticmethod
    def _own_copy(rtype, obj):
        """A copy safe to edit at the top two levels, without kind."""
        if not isinstance(obj, dict):
            raise errors.BadRequest('the object must be a JSON object')
        metadata = obj.get('metadata')
        if metadata is None:
            metadata = {}
        if not isinstance(metadata, dict):
            raise errors.BadRequest('metadata must be a JSON object')
        kind = obj.get('kind')
        if kind and kind != rtype.kind:
            raise errors.BadRequest(
                'the kind of the object (%s) does not match the kind served '
                'here (%s)' % (kind, rtype.kind))
        api_version = obj.get('apiVersion')
        if api_version and api_version != rtype.api_version:
            raise errors.BadRequest(
                'the API version in the data (%s) does not match the '
                'expected API version (%s)' % (api_version,
                                               rtype.api_version))
        copy = {'metadata': dict(metadata)}
        for field, value in obj.items():
            if field not in ('kind', 'apiVersion', 'metadata'):
                copy[field] = value
        return copy

    @staticmethod
    def _namespace_of(rtype, metadata, namespace):
        if not rtype.namespaced:
            if metadata.get('namespace'):
                raise errors.BadRequest(
                    '%s are cluster scoped and take no namespace'
                    % rtype.name)
            return None
        given = metadata.get('namespace')
        if namespace and given and given != namespace:
            raise errors.BadRequest(
                'the namespace of the provided object does not match the '
                'namespace sent on the request')
        namespace = namespace or given
        if not namespace:
            raise errors.BadRequest(
                'a namespace is required for %s' % rtype.name)
        return namespace

    def _generate_name(self, rtype, namespace, prefix):
        table = self._tables[rtype.name]
        while True:
            name = prefix[:58] + ''.join(
                self._random.choice(_GENERATE_NAME_CHARS) for _ in range(5))
            if (namespace or '', name) not in table.entries:
                return name

    def _invalid(self, rtype, name, field, value, why):
        message = 'Invalid value: %s: %s' % (json.dumps(value), why)
        return errors.Invalid(
            '%s "%s" is invalid: %s: %s' % (rtype.kind, name, field, message),
            details={'name': name, 'kind': rtype.kind, 'causes': [{
                'reason': 'FieldValueInvalid', 'message': message,
                'field': field}]})

    def _validate(self, rtype, obj, namespace=None):
        metadata = obj['metadata']
        name = metadata.get('name')
        if not name:
            raise self._invalid(rtype, '', 'metadata.name', '',
                                'name or generateName is required')
        if not isinstance(name, str) or len(name) > 253 \
                or not _SUBDOMAIN_RE.match(name):
            raise self._invalid(
                rtype, name, 'metadata.name', name,
                "a lowercase RFC 1123 subdomain must consist of lower case "
                "alphanumeric characters, '-' or '.', and must start and "
                "end with an alphanumeric character")
        for field in ('labels', 'annotations'):
            values = metadata.get(field)
            if values is None:
                continue
            if not isinstance(values, dict) or not all(
                    isinstance(k, str) and isinstance(v, str)
                    for k, v in values.items()):
                raise self._invalid(rtype, name, 'metadata.' + field,
                                    values, 'must map strings to strings')
        for key, value in (metadata.get('labels') or {}).items():
            problem = selectors.label_key_error(key)
            if problem:
                raise self._invalid(rtype, name, 'metadata.labels', key,
                                    problem)
            problem = selectors.label_value_error(value)
            if problem:
                raise self._invalid(rtype, name,
                                    'metadata.labels[%s]' % key, value,
                                    problem)
        if rtype.name == 'events':
            self._validate_event_namespace(
                rtype, name, obj, namespace or metadata.get('namespace'))

    def _validate_event_namespace(self, rtype, name, obj, namespace):
        """kube-apiserver's rule for core/v1 Events.

        An Event about a cluster-scoped object (a Node: involvedObject
        without a namespace) belongs in ``default``; one about a namespaced
        object in that object's namespace.
        """
        involved = (obj.get('involvedObject') or {}).get('namespace') or ''
        if involved:
            allowed = involved == namespace
        else:
            allowed = namespace in (None, '', 'default')
        if not allowed:
            raise self._invalid(rtype, name, 'involvedObject.namespace',
                                involved, 'does not match event.namespace')

    def _replace(self, rtype, entry, obj, write_scope):
        """Write ``obj`` over ``entry`` unless that changes nothing."""
        name = entry.key[1]
        stored = _decode(entry.body)
        if rtype.has_status and write_scope == WRITE_MAIN:
            obj.pop('status', None)
            if 'status' in stored:
                obj['status'] = stored['status']
        elif rtype.has_status and write_scope == WRITE_STATUS:
            status = obj.get('status')
            obj = dict(stored)
            obj['metadata'] = dict(stored['metadata'])
            obj.pop('status', None)
            if status is not None:
                obj['status'] = status
        metadata = obj['metadata']
        old_metadata = stored['metadata']
        metadata['name'] = name
        for field in ('namespace', 'uid', 'creationTimestamp'):
            if field in old_metadata:
                metadata[field] = old_metadata[field]
            else:
                metadata.pop(field, None)
        self._validate(rtype, obj)
        metadata['resourceVersion'] = str(entry.rv)
        # Compared as data, not bytes, so that a client sending the same
        # object with its keys in another order changes nothing (k8s
        # compares canonical protobuf).
        if obj == stored:
            return entry
        return self._commit(rtype, entry.key, obj, entry, 'MODIFIED')

    def _commit(self, rtype, key, obj, prev, change_type):
        """Give ``obj`` the next rv, store it, record and fan out."""
        rv = self._rv + 1
        metadata = obj['metadata']
        metadata['resourceVersion'] = str(rv)
        ordered = {'metadata': metadata}
        ordered.update(obj)
        entry = _Entry(key, rv, _encode(ordered),
                       dict(metadata.get('labels') or {}),
                       rtype.field_values(ordered), rtype.kind_prefix)
        self._rv = rv
        if prev is not None:
            prev.forget_full()
        table = self._tables[rtype.name]
        if change_type == 'DELETED':
            table.remove(key)
        else:
            table.put(key, entry)
        change = _Change(rv, change_type, rtype.name, key, entry, prev)
        self._history.append(change)
        while len(self._history) > self._history_limit:
            self._compacted_rv = self._history.popleft().rv
        for watcher in list(self._watchers[rtype.name]):
            watcher.offer(change)
        if self._subscribers:
            obj_copy = entry.object()
            for callback in list(self._subscribers):
                callback(change_type, rtype.name, obj_copy)
        return entry


class Watcher:
    """A stream of watch events for one resource, fed by the store.

    ``next(timeout)`` returns ``(type, obj)`` -- type is ADDED, MODIFIED,
    DELETED or BOOKMARK -- or None when ``timeout`` (real seconds) passes
    or the watcher is closed (see :attr:`closed`). Bookmarks are paced by
    the store clock's ``monotonic()`` and by real time, whichever comes
    first: a real API server's bookmark timer runs in real time, and a
    test that holds the cluster clock still (a ManualClock) must not make
    a live stream look dead to the client's read timeout.
    """

    def __init__(self, store, rtype, *, namespace, labels, fields,
                 bookmarks, bookmark_interval, queue_limit):
        self._store = store
        self.resource_type = rtype
        self._namespace = namespace
        self._labels = labels
        self._fields = fields
        self._bookmarks = bookmarks
        self._bookmark_interval = bookmark_interval
        self._queue_limit = queue_limit
        self._cond = threading.Condition(store._lock)
        self._queue = collections.deque()
        self._closed = False
        self.close_reason = None
        self._since = 0
        self._progress_rv = None
        self._next_bookmark = store.clock.monotonic() + bookmark_interval
        self._next_real_bookmark = time.monotonic() + bookmark_interval

    # The store calls these with its lock held.

    def passes(self, entry):
        if self._namespace is not None and entry.key[0] != self._namespace:
            return False
        return (self._labels.matches(entry.labels)
                and self._fields.matches(entry.fields))

    def start_with(self, entries, rv):
        self._queue.extend(('ADDED', entry, None, None) for entry in entries)
        self._queue_limit += len(entries)
        self._since = rv
        if not entries:
            self._progress_rv = rv
        else:
            # The last synthetic ADDED completes the state as of rv.
            kind, entry, _, _ = self._queue.pop()
            self._queue.append((kind, entry, rv, None))

    def resume_from(self, rv):
        self._since = rv
        self._progress_rv = rv

    def offer(self, change):
        if self._closed or change.rv <= self._since:
            return
        new_passes = change.type != 'DELETED' and self.passes(change.entry)
        old_passes = change.prev is not None and self.passes(change.prev)
        if new_passes:
            item = ('MODIFIED' if old_passes else 'ADDED', change.entry,
                    change.rv, None)
        elif not old_passes:
            return
        elif change.type == 'DELETED':
            item = ('DELETED', change.entry, change.rv, None)
        else:
            # No longer selected: k8s sends the previous state as DELETED
            # with the resourceVersion of the change.
            item = ('DELETED', change.prev, change.rv, change.rv)
        self._queue.append(item)
        if len(self._queue) > self._queue_limit:
            self._terminate('the watcher fell too far behind')
        self._cond.notify_all()

    # Consumers call these.

    @property
    def closed(self):
        """True once closed by the consumer, the store or an overflow."""
        with self._cond:
            return self._closed

    def close(self):
        with self._cond:
            self._terminate('closed')

    def _terminate(self, reason):
        if not self._closed:
            self._closed = True
            self.close_reason = reason
            self._queue.clear()
            self._store._forget_watcher(self)
        self._cond.notify_all()

    def progress_resource_version(self):
        """Every change up to this rv has been delivered (or filtered)."""
        with self._cond:
            if not self._queue and self._progress_rv is not None:
                return max(self._store._rv, self._since)
            return self._progress_rv

    def _take(self, timeout, max_items):
        deadline = None if timeout is None else time.monotonic() + timeout
        clock = self._store.clock
        with self._cond:
            while True:
                if self._queue:
                    count = min(max_items, len(self._queue))
                    items = [self._queue.popleft() for _ in range(count)]
                    for item in items:
                        if item[2] is not None:
                            self._progress_rv = item[2]
                    return items
                if self._closed:
                    return []
                if self._bookmarks and self._progress_rv is not None:
                    now = clock.monotonic()
                    real_now = time.monotonic()
                    if (now >= self._next_bookmark
                            or real_now >= self._next_real_bookmark):
                        self._next_bookmark = now + self._bookmark_interval
                        self._next_real_bookmark = (
                            real_now + self._bookmark_interval)
                        rv = max(self._store._rv, self._since)
                        return [('BOOKMARK', None, rv, None)]
                wait = None
                if deadline is not None:
                    wait = deadline - time.monotonic()
                    if wait <= 0:
                        return []
                if self._bookmarks:
                    wait = _BOOKMARK_POLL_SECONDS if wait is None \
                        else min(wait, _BOOKMARK_POLL_SECONDS)
                self._cond.wait(wait)

    def _object_bytes(self, item):
        kind, entry, rv, override = item
        if kind == 'BOOKMARK':
            return self.resource_type.kind_prefix + (
                '"metadata":{"resourceVersion":"%d",'
                '"creationTimestamp":null}}' % rv).encode()
        if override is None:
            return entry.full()
        obj = entry.object()
        obj['metadata']['resourceVersion'] = str(override)
        return _encode(obj)

    def next(self, timeout=None):
        """The next ``(type, obj)``, or None on timeout or close."""
        items = self._take(timeout, 1)
        if not items:
            return None
        return items[0][0], _decode(self._object_bytes(items[0]))

    def next_lines(self, timeout=None, max_events=200):
        """Up to ``max_events`` events as newline-terminated JSON lines."""
        return [b'{"type":"%s","object":%s}\n'
                % (item[0].encode(), self._object_bytes(item))
                for item in self._take(timeout, max_events)]

    def bookmark_line(self):
        """A BOOKMARK line at the current progress, or None if unknown."""
        rv = self.progress_resource_version()
        if rv is None:
            return None
        return b'{"type":"BOOKMARK","object":%s}\n' % self._object_bytes(
            ('BOOKMARK', None, rv, None))

    def __iter__(self):
        while True:
            event = self.next()
            if event is None:
                if self.closed:
                    return
                continue
            yield event
