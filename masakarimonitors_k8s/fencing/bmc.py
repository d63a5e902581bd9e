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

"""Which BMC answers for a node, and with which credentials.

Where it sits: between the configuration and the Redfish fencer
(:mod:`masakarimonitors_k8s.fencing.redfish`). The engine knows a node by
name and, possibly, by the value of its BMC annotation; the fencer needs
an address, a system and credentials. This module turns the first into the
second.

Why it is built so:

* The files are read and checked once, when the monitor starts
  (:meth:`BmcDirectory.from_settings`): a typo in the BMC map or a
  credentials file without a password stops start-up with a
  :class:`~masakarimonitors_k8s.conf.ConfigError` naming the option,
  instead of surfacing the first time a host fails, which is the worst
  moment to learn it.
* BMC addresses are trusted only from the operator. Any kubelet may write
  its own Node's annotations, so the BMC map always wins; an annotation is
  read only for nodes the map does not list, only with ``[k8s]
  redfish_trust_bmc_annotation``, and only when its host is in ``[k8s]
  redfish_bmc_allowed_hosts``. Otherwise a compromised host could have the
  fleet's BMC password sent to a server it runs, fake an ``Off`` reading
  (NORMAL while its VMs run) or have another host powered off.
* Credentials are bound to where the address came from: per-node
  credentials (``nodes``) go only to that node's map entry, per-BMC ones
  (``bmcs``) only to that BMC host; an annotation gets those of its BMC
  host or the default.
* Plain ``http`` BMCs are refused unless ``[k8s] redfish_allow_http``.
* A bad annotation is reported per node (:class:`BmcTargetError`), loudly,
  since someone meant to set it.
* Passwords only live in :class:`Credentials` and :class:`BmcTarget`, both
  of which keep them out of ``repr()``; no message of this module contains
  one.
"""

import dataclasses
import re
import urllib.parse

from oslo_log import log as logging
import yaml

from masakarimonitors_k8s import conf

LOG = logging.getLogger(__name__)

MAP_OPTION = 'redfish_bmc_map_file'
CREDENTIALS_OPTION = 'redfish_credentials_file'
TRUST_OPTION = 'redfish_trust_bmc_annotation'
ALLOWED_HOSTS_OPTION = 'redfish_bmc_allowed_hosts'
ALLOW_HTTP_OPTION = 'redfish_allow_http'

# DSP0266: the service root is /redfish/v1; a ComputerSystem is a member
# of its Systems collection.
SERVICE_ROOT = '/redfish/v1'
_ROOT_PATHS = ('', '/', '/redfish', '/redfish/', SERVICE_ROOT,
               SERVICE_ROOT + '/')
_SYSTEM_PATH = re.compile(r'/redfish/v1/Systems/[^/]+/?')
_CREDENTIAL_KEYS = frozenset(('username', 'password'))
_CREDENTIALS_FILE_KEYS = _CREDENTIAL_KEYS | {'nodes', 'bmcs'}
_MAP_ENTRY_KEYS = frozenset(('address', 'system'))


class BmcTargetError(ValueError):
    """A node's BMC cannot be addressed (bad annotation, no credentials)."""


@dataclasses.dataclass(frozen=True)
class BmcLocation:
    """Where a node's system is: a Redfish service and maybe a system."""
    address: str
    system_path: str | None = None


@dataclasses.dataclass(frozen=True)
class Credentials:
    username: str
    password: str = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True)
class BmcTarget:
    """Everything the fencer needs to reach one node's system."""
    node: str
    address: str
    system_path: str | None
    username: str
    password: str = dataclasses.field(repr=False)

    @property
    def url(self):
        """The address and system, for messages (never credentials)."""
        return self.address + (self.system_path or '')


def parse_location(text):
    """A BMC address string -> BmcLocation; ValueError says what is wrong.

    Accepted: ``https://bmc`` (the service root; the system is discovered)
    or ``https://bmc/redfish/v1/Systems/<id>`` (that system).
    """
    if not isinstance(text, str):
        raise ValueError('%r is not a string' % (text,))
    parsed = urllib.parse.urlsplit(text.strip())
    if parsed.scheme not in ('http', 'https') or not parsed.hostname:
        raise ValueError('%r is not an http(s) URL such as '
                         'https://192.0.2.1' % text)
    if parsed.username is not None or parsed.password is not None:
        # Do not echo the value: it holds a password.
        raise ValueError('the address must not hold credentials; they '
                         'belong in [k8s] %s' % CREDENTIALS_OPTION)
    try:
        parsed.port
    except ValueError:
        raise ValueError('%r has an invalid port' % text) from None
    if parsed.query or parsed.fragment:
        raise ValueError('%r must have no query or fragment' % text)
    address = '%s://%s' % (parsed.scheme, parsed.netloc)
    if parsed.path in _ROOT_PATHS:
        return BmcLocation(address)
    return BmcLocation(address, _system_path(parsed.path, text))


def _system_path(path, text):
    if not _SYSTEM_PATH.fullmatch(path):
        raise ValueError(
            '%r: the path must be empty, %s or %s/Systems/<id>'
            % (text, SERVICE_ROOT, SERVICE_ROOT))
    return path.rstrip('/')


def parse_map_entry(value):
    """A BMC map value (string or {address, system}) -> BmcLocation."""
    if not isinstance(value, dict):
        return parse_location(value)
    unknown = sorted(str(key) for key in set(value) - _MAP_ENTRY_KEYS)
    if unknown:
        raise ValueError('unknown key(s) %s (expected address and '
                         'optionally system)' % ', '.join(unknown))
    if 'address' not in value:
        raise ValueError('has no address')
    location = parse_location(value['address'])
    system = value.get('system')
    if system is None:
        return location
    if location.system_path is not None:
        raise ValueError('gives a system both in address and in system')
    if not isinstance(system, str):
        raise ValueError('system %r is not a string' % (system,))
    return BmcLocation(location.address, _system_path(system, system))


class CredentialStore:
    """Default BMC credentials, per-node and per-BMC-host overrides."""

    def __init__(self, default=None, per_node=None, per_bmc=None):
        self._default = default
        self._per_node = dict(per_node or {})
        # As urlsplit().hostname spells hosts: lower case, no IPv6 brackets.
        self._per_bmc = {host.strip('[]').lower(): credentials
                         for host, credentials in (per_bmc or {}).items()}

    def for_location(self, node, location, *, from_map):
        """Credentials to send to ``location``, or None.

        A node's own credentials go only to its map entry: a node that
        writes its own address must not receive them.
        """
        if from_map and node in self._per_node:
            return self._per_node[node]
        host = urllib.parse.urlsplit(location.address).hostname or ''
        return self._per_bmc.get(host.lower(), self._default)

    @classmethod
    def parse(cls, document):
        """Parsed YAML/JSON -> CredentialStore; ValueError says why not."""
        if not isinstance(document, dict):
            raise ValueError('is not a mapping with username and password')
        unknown = sorted(str(key) for key in
                         set(document) - _CREDENTIALS_FILE_KEYS)
        if unknown:
            raise ValueError('unknown key(s) %s (expected username, '
                             'password, nodes, bmcs)' % ', '.join(unknown))
        default = None
        if document.keys() & _CREDENTIAL_KEYS:
            default = Credentials(
                _required_string(document, 'username', 'the file'),
                _required_string(document, 'password', 'the file'))
        per_node = _credential_section(document, 'nodes', 'node', default)
        per_bmc = _credential_section(document, 'bmcs', 'BMC host', default)
        if default is None and not per_node and not per_bmc:
            raise ValueError('has neither username and password nor nodes '
                             'nor bmcs')
        return cls(default, per_node, per_bmc)


def _credential_section(document, section, what, default):
    entries = document.get(section) or {}
    if not isinstance(entries, dict):
        raise ValueError('%s is not a mapping of %s names' % (section, what))
    parsed = {}
    for name, entry in entries.items():
        where = '%s %r' % (what, name)
        if not isinstance(name, str):
            raise ValueError('%s: %s names must be strings' % (where, what))
        if not isinstance(entry, dict):
            raise ValueError('%s is not a mapping with username and '
                             'password' % where)
        unknown = sorted(str(key) for key in set(entry) - _CREDENTIAL_KEYS)
        if unknown:
            raise ValueError('%s: unknown key(s) %s' % (
                where, ', '.join(unknown)))
        if 'username' in entry or default is None:
            username = _required_string(entry, 'username', where)
        else:
            username = default.username
        parsed[name] = Credentials(
            username, _required_string(entry, 'password', where))
    return parsed


def _required_string(mapping, key, where):
    value = mapping.get(key)
    if value is None:
        raise ValueError('%s has no %s' % (where, key))
    if not isinstance(value, str):
        # Never echo a password; YAML turns an unquoted 1234 into a number.
        raise ValueError('%s: %s must be a string (quote it in YAML)'
                         % (where, key))
    if not value:
        raise ValueError('%s: %s is empty' % (where, key))
    return value


class BmcDirectory:
    """Node name -> BmcTarget, from the BMC map, annotations, credentials.

    :param locations: node name -> BmcLocation (the BMC map).
    :param credentials: a CredentialStore.
    :param trust_annotation: read node annotations for unmapped nodes.
    :param allowed_hosts: conf.BmcHostAllowList an annotation must match.
    :param allow_http: accept plain http BMC addresses.
    """

    def __init__(self, locations, credentials, *, trust_annotation=False,
                 allowed_hosts=conf.BmcHostAllowList(), allow_http=False):
        self._locations = dict(locations)
        self._credentials = credentials
        self._trust_annotation = trust_annotation
        self._allowed_hosts = allowed_hosts
        self._allow_http = allow_http
        # Another node's BMC, named in an annotation, would power off the
        # wrong host.
        self._mapped = {}
        for node, location in self._locations.items():
            self._mapped.setdefault(_bmc_host(location), node)

    @classmethod
    def from_settings(cls, settings):
        """Load the files named by conf.RedfishSettings; ConfigError."""
        if not settings.credentials_file:
            raise _config_error(CREDENTIALS_OPTION, settings.credentials_file,
                                'is required to talk to BMCs')
        document = _load(CREDENTIALS_OPTION, settings.credentials_file)
        try:
            credentials = CredentialStore.parse(document)
        except ValueError as exc:
            raise _config_error(CREDENTIALS_OPTION,
                                settings.credentials_file, str(exc)) from None
        locations = {}
        if settings.bmc_map_file:
            locations = _parse_map(settings.bmc_map_file)
        missing = sorted(node for node, location in locations.items()
                         if credentials.for_location(
                             node, location, from_map=True) is None)
        if missing:
            raise _config_error(
                CREDENTIALS_OPTION, settings.credentials_file,
                'no credentials for node(s) %s of %s (add a default '
                'username and password)' % (', '.join(missing), MAP_OPTION))
        cleartext = sorted(node for node, location in locations.items()
                           if location.address.startswith('http:'))
        if cleartext and not settings.allow_http:
            raise _config_error(
                MAP_OPTION, settings.bmc_map_file,
                'node(s) %s have a plain http BMC address: their BMC '
                'credentials would cross the network unencrypted (use '
                'https, or set [k8s] %s = true)'
                % (', '.join(cleartext), ALLOW_HTTP_OPTION))
        if cleartext:
            LOG.warning('BMC address of node(s) %s is plain http '
                        '([k8s] %s): their BMC credentials cross the network '
                        'unencrypted.', ', '.join(cleartext),
                        ALLOW_HTTP_OPTION)
        return cls(locations, credentials,
                   trust_annotation=settings.trust_bmc_annotation,
                   allowed_hosts=settings.bmc_allowed_hosts,
                   allow_http=settings.allow_http)

    def target_for(self, node, bmc_address=None):
        """The BmcTarget of ``node``, or None when it has no BMC.

        ``bmc_address`` is the value of the node's BMC annotation. The map
        wins; the annotation is used only as the module docstring says.
        Raises BmcTargetError for an annotation that is malformed or not
        trusted, or a node without credentials.
        """
        location = self._locations.get(node)
        from_map = location is not None
        if location is None:
            if bmc_address is None or not bmc_address.strip():
                return None
            location = self._annotated_location(node, bmc_address)
        credentials = self._credentials.for_location(node, location,
                                                     from_map=from_map)
        if credentials is None:
            raise BmcTargetError(
                'node %s: no BMC credentials for it in [k8s] %s'
                % (node, CREDENTIALS_OPTION))
        return BmcTarget(node=node, address=location.address,
                         system_path=location.system_path,
                         username=credentials.username,
                         password=credentials.password)

    def _annotated_location(self, node, bmc_address):
        if not self._trust_annotation:
            raise BmcTargetError(
                'node %s: its BMC annotation is ignored: nodes can write '
                'their own annotations; list the node in [k8s] %s (or set '
                '[k8s] %s with %s)' % (node, MAP_OPTION, TRUST_OPTION,
                                       ALLOWED_HOSTS_OPTION))
        try:
            location = parse_location(bmc_address)
        except ValueError as exc:
            raise BmcTargetError('node %s: bad BMC address annotation: %s'
                                 % (node, exc)) from None
        if location.address.startswith('http:') and not self._allow_http:
            raise BmcTargetError(
                'node %s: refusing the plain http BMC address %s of its '
                'annotation ([k8s] %s is false)'
                % (node, location.address, ALLOW_HTTP_OPTION))
        host = urllib.parse.urlsplit(location.address).hostname
        if not self._allowed_hosts.allows(host):
            raise BmcTargetError(
                'node %s: its BMC annotation names %s, which is not in '
                '[k8s] %s (%s)' % (node, location.address,
                                   ALLOWED_HOSTS_OPTION,
                                   self._allowed_hosts))
        owner = self._mapped.get(_bmc_host(location))
        if owner is not None and owner != node:
            raise BmcTargetError(
                'node %s: its BMC annotation names %s, the BMC of node %s '
                'in [k8s] %s' % (node, location.address, owner, MAP_OPTION))
        return location


def _bmc_host(location):
    return (urllib.parse.urlsplit(location.address).hostname or '').lower()


def _parse_map(path):
    document = _load(MAP_OPTION, path)
    if not isinstance(document, dict):
        raise _config_error(MAP_OPTION, path,
                            'is not a mapping of node name to BMC address')
    locations = {}
    for node, value in document.items():
        if not isinstance(node, str):
            raise _config_error(MAP_OPTION, path,
                                'node name %r is not a string' % (node,))
        try:
            locations[node] = parse_map_entry(value)
        except ValueError as exc:
            raise _config_error(MAP_OPTION, path,
                                'node %s: %s' % (node, exc)) from None
    return locations


def _load(option, path):
    """Parse a YAML (or JSON, a YAML subset) file; ConfigError if unable."""
    try:
        with open(path, encoding='utf-8') as stream:
            document = yaml.safe_load(stream)
    except FileNotFoundError:
        raise _config_error(option, path, 'no such file') from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _config_error(option, path, 'cannot be read: %s'
                            % (getattr(exc, 'strerror', None) or exc)
                            ) from None
    except yaml.YAMLError as exc:
        # The YAML error quotes the offending line; for the credentials
        # file that line may be a password, so say only where it is.
        mark = getattr(exc, 'problem_mark', None)
        where = (' (line %d, column %d)' % (mark.line + 1, mark.column + 1)
                 if mark is not None else '')
        raise _config_error(option, path,
                            'is not valid YAML or JSON%s' % where) from None
    if document is None:
        raise _config_error(option, path,
                            'is empty' + (' (write {} for no entries)'
                                          if option == MAP_OPTION else ''))
    return document


def _config_error(option, value, why):
    return conf.ConfigError('[%s] %s = %r: %s' % (conf.GROUP, option,
                                                  value, why))
