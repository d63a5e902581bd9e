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

"""``masakari-k8s-check``: is this monitor set up right, before it matters?

Position: beside the monitor, reading the very configuration file that
``masakari-hostmonitor`` reads (``--config-file``), and asking the same
two services the monitor talks to:

- the ``[k8s]`` options are valid (the monitor's own ``load_settings``);
- the Kubernetes API answers, and the monitor's credentials may do what it
  will do (SelfSubjectAccessReview for each verb: read and watch Nodes,
  record Events, leader election and node Leases when enabled, patch Nodes
  when it fences);
- which Nodes are in scope, that no two of them map to one Masakari host
  name (or names differing only by case), and that each one's Masakari
  host is registered in a segment (unregistered: FAIL, by name, with the
  Masakari host it differs from only by domain or case and the option
  that would fix it), not on maintenance and not in a disabled segment
  (WARN, by name);
- the BMC of each node answers, when Redfish fencing is configured.

The result is a table (check, result, detail); the exit status is 1 when
any check FAILed, so the command can gate a deployment (a Helm test hook,
a CI job). Nothing is written anywhere.
"""

from concurrent import futures
import dataclasses
import logging
import sys
import textwrap

from masakarimonitors.conf import api as monitors_api
from masakarimonitors.conf import host as monitors_host
from oslo_config import cfg

from masakarimonitors_k8s.clock import SystemClock
from masakarimonitors_k8s import conf as k8s_conf
from masakarimonitors_k8s.kube import client as kube_client
from masakarimonitors_k8s.kube import events as kube_events
from masakarimonitors_k8s.kube import hostnames as kube_hostnames
from masakarimonitors_k8s.kube import nodes as kube_nodes
from masakarimonitors_k8s import leader as k8s_leader
from masakarimonitors_k8s import notifier

OK = 'OK'
WARN = 'WARN'
FAIL = 'FAIL'
SKIP = 'SKIP'

PROG = 'masakari-k8s-check'
# Names listed in one detail cell before "and N more".
MAX_NAMES = 20
DETAIL_WIDTH = 72
# Seconds to wait for one BMC request during the fencing check, and how
# many BMCs are asked at once.
BMC_TIMEOUT = 5.0
BMC_WORKERS = 8
# The power state of a BMC that could not be read.
BMC_ERROR = object()
# ... and of one whose address is not trusted or not allowed.
BMC_REFUSED = object()

cli_opts = [
    cfg.BoolOpt('nodes', default=False,
                help='Also print each node in scope with its Masakari host '
                     'and segment, or why it has none.'),
]


@dataclasses.dataclass(frozen=True)
class Row:
    check: str
    result: str
    detail: str


class Report:
    """The rows of the table, in the order the checks ran."""

    def __init__(self):
        self.rows = []

    def add(self, check, result, detail):
        self.rows.append(Row(check, result, detail))

    @property
    def failed(self):
        return any(row.result == FAIL for row in self.rows)

    def render(self):
        width = max([len('CHECK')] + [len(row.check) for row in self.rows])
        lines = ['%-*s  %-6s  %s' % (width, 'CHECK', 'RESULT', 'DETAIL')]
        indent = ' ' * (width + 10)
        for row in self.rows:
            # Names and URLs stay whole, to be copied from the terminal.
            detail = textwrap.wrap(row.detail, DETAIL_WIDTH,
                                   break_long_words=False,
                                   break_on_hyphens=False) or ['']
            lines.append('%-*s  %-6s  %s' % (width, row.check, row.result,
                                             detail[0]))
            lines.extend(indent + more for more in detail[1:])
        counts = {result: sum(1 for row in self.rows if row.result == result)
                  for result in (OK, WARN, FAIL, SKIP)}
        lines.append('')
        lines.append(', '.join('%d %s' % (count, result)
                               for result, count in counts.items()))
        return '\n'.join(lines) + '\n'


@dataclasses.dataclass(frozen=True)
class Permission:
    """One thing the monitor does on the API, as SSAR attributes."""
    verb: str
    resource: str
    group: str = ''
    namespace: str | None = None
    name: str | None = None
    why: str = ''

    @property
    def label(self):
        text = '%s %s' % (self.verb, self.resource)
        if self.name:
            text += ' %s' % self.name
        if self.namespace:
            text += ' in %s' % self.namespace
        return text

    def review(self):
        attributes = {'verb': self.verb, 'resource': self.resource,
                      'group': self.group}
        if self.namespace:
            attributes['namespace'] = self.namespace
        if self.name:
            attributes['name'] = self.name
        return {'apiVersion': 'authorization.k8s.io/v1',
                'kind': 'SelfSubjectAccessReview',
                'spec': {'resourceAttributes': attributes}}


def required_permissions(settings, *, leader_namespace):
    """What the monitor will do with ``settings``, least first."""
    wanted = [Permission(verb, 'nodes', why='see the nodes')
              for verb in ('get', 'list', 'watch')]
    if settings.status.node_events:
        wanted += [Permission(verb, 'events',
                              namespace=kube_events.EVENT_NAMESPACE,
                              why='record Node Events')
                   for verb in ('create', 'patch')]
    if settings.policy.watch_leases:
        wanted += [Permission(verb, 'leases', group='coordination.k8s.io',
                              namespace=settings.policy.lease_namespace,
                              why='watch_leases')
                   for verb in ('get', 'list', 'watch')]
    if settings.leader.enabled:
        lease = settings.leader.lease_name
        wanted += [
            Permission('create', 'leases', group='coordination.k8s.io',
                       namespace=leader_namespace, why='leader_election'),
            Permission('get', 'leases', group='coordination.k8s.io',
                       namespace=leader_namespace, name=lease,
                       why='leader_election'),
            Permission('update', 'leases', group='coordination.k8s.io',
                       namespace=leader_namespace, name=lease,
                       why='leader_election')]
    if settings.redfish.fence_action != 'none':
        wanted.append(Permission('patch', 'nodes',
                                 why='fence_action: taint fenced nodes'))
    return wanted


@dataclasses.dataclass(frozen=True)
class ScopedNode:
    name: str
    hostname: str
    ready: str | None = None
    bmc_address: str | None = None


class Preflight:
    """Runs the checks in order; later ones skip when their input is gone.

    :param conf: a parsed ConfigOpts with masakari-monitors' and our
        options registered.
    :param kube_factory: settings -> KubeClient (tests may inject).
    :param instance_ha_factory: conf -> openstacksdk ``instance_ha`` proxy.
    :param bmc_reader: like :func:`read_power_states`.
    """

    def __init__(self, conf, *, kube_factory=None, instance_ha_factory=None,
                 bmc_reader=None):
        self._conf = conf
        self._kube_factory = kube_factory or _kube_from_settings
        self._instance_ha_factory = (instance_ha_factory
                                     or notifier.instance_ha_from_conf)
        self._bmc_reader = bmc_reader or read_power_states
        self.report = Report()
        self.placement = {}   # node name -> (hostname, segment, state)
        self._settings = None

    def run(self):
        settings = self._configuration()
        nodes = None
        if settings is None:
            self._skip(('Kubernetes API', 'permissions', 'nodes in scope'),
                       'the configuration is invalid')
        else:
            nodes = self._kubernetes(settings)
        self._masakari(nodes)
        self._fencing(settings, nodes)
        return self.report

    def _skip(self, checks, why):
        for check in checks:
            self.report.add(check, SKIP, why)

    def _kubernetes(self, settings):
        kube = self._api(settings)
        if kube is None:
            self._skip(('permissions', 'nodes in scope'),
                       'the Kubernetes API is not reachable')
            return None
        try:
            self._permissions(settings, kube)
            return self._nodes_in_scope(settings, kube)
        finally:
            kube.close()

    # -- the checks ----------------------------------------------------
    def _configuration(self):
        try:
            settings = k8s_conf.load_settings(self._conf)
        except (k8s_conf.ConfigError, cfg.Error) as exc:
            self.report.add('configuration', FAIL, str(exc))
            return None
        driver = self._conf.host.monitoring_driver
        detail = ('[k8s] options are valid; fencing = %s, node_selector = '
                  '%s' % (settings.policy.fencing,
                          settings.scope.node_selector or '(all nodes)'))
        if settings.policy.fencing == 'none':
            self.report.add('configuration', WARN, detail + '. fencing = '
                            'none is UNSAFE: failed hosts are reported '
                            'NORMAL without evidence that they are off')
        elif driver != 'k8s':
            self.report.add('configuration', WARN, detail + '; but [host] '
                            'monitoring_driver = %s, not k8s' % driver)
        else:
            self.report.add('configuration', OK, detail)
        warnings = k8s_conf.config_warnings(settings)
        if warnings:
            self.report.add('risky settings', WARN, ' '.join(warnings))
        self._settings = settings
        return settings

    def _api(self, settings):
        try:
            kube = self._kube_factory(settings)
        except Exception as exc:
            self.report.add('Kubernetes API', FAIL,
                            'cannot configure the client: %s' % exc)
            return None
        try:
            version = kube.get_json('/version')
        except kube_client.ApiError as exc:
            kube.close()
            self.report.add('Kubernetes API', FAIL, '%s: %s'
                            % (kube.host, exc))
            return None
        self.report.add('Kubernetes API', OK, 'Kubernetes %s at %s' % (
            version.get('gitVersion', '(unknown version)'), kube.host))
        return kube

    def _permissions(self, settings, kube):
        namespace = None
        if settings.leader.enabled:
            namespace = k8s_leader.default_namespace(
                settings.leader.namespace)
        for permission in required_permissions(settings,
                                               leader_namespace=namespace):
            check = 'may %s' % permission.label
            try:
                answer = kube.post_json(
                    '/apis/authorization.k8s.io/v1/'
                    'selfsubjectaccessreviews', permission.review())
            except kube_client.ApiError as exc:
                self.report.add(check, WARN, 'could not ask the API server '
                                '(SelfSubjectAccessReview): %s' % exc)
                continue
            status = answer.get('status') or {}
            if status.get('allowed'):
                self.report.add(check, OK, 'allowed (%s)' % permission.why)
            else:
                why = status.get('reason') or status.get(
                    'evaluationError') or 'no rule allows it'
                self.report.add(check, FAIL, 'denied: %s; needed to %s'
                                % (why, permission.why))

    def _nodes_in_scope(self, settings, kube):
        scope = settings.scope
        translator = kube_nodes.NodeTranslator(
            hostname_source=scope.hostname_source,
            hostname_key=scope.hostname_key,
            hostname_domain=scope.hostname_domain,
            exclude_label=scope.exclude_label,
            out_of_service_taint=settings.policy.out_of_service_taint)
        states = []
        bmc_addresses = {}
        try:
            for page in kube.list_pages(
                    '/api/v1/nodes',
                    params=kube_client.selector_params(scope.node_selector),
                    page_size=settings.watch.page_size):
                for obj in page.get('items') or ():
                    state = translator.translate(obj)
                    if state is None:
                        continue
                    states.append(state)
                    annotations = obj['metadata'].get('annotations')
                    if isinstance(annotations, dict):
                        bmc_addresses[state.name] = annotations.get(
                            settings.redfish.bmc_annotation)
        except kube_client.ApiError as exc:
            self.report.add('nodes in scope', FAIL,
                            'cannot list nodes: %s' % exc)
            return None
        excluded = [s.name for s in states if s.excluded]
        unmapped = [s.name for s in states
                    if not s.excluded and s.hostname is None]
        scoped = [ScopedNode(s.name, s.hostname, s.ready,
                             bmc_addresses.get(s.name))
                  for s in states if not s.excluded and s.hostname]
        for name in unmapped:
            self.placement[name] = ('-', '-', 'NO HOST NAME (%s %s)' % (
                scope.hostname_source, scope.hostname_key))
        selector = scope.node_selector or '(all nodes)'
        detail = '%d node(s) match %s' % (len(scoped) + len(unmapped),
                                          selector)
        if excluded:
            detail += '; %d excluded by %s: %s' % (
                len(excluded), scope.exclude_label, _names(excluded))
        if unmapped:
            self.report.add('nodes in scope', FAIL, detail + '; without a '
                            'Masakari host name (%s %s): %s' % (
                                scope.hostname_source, scope.hostname_key,
                                _names(unmapped)))
        elif not scoped:
            self.report.add('nodes in scope', WARN, detail + ': nothing to '
                            'monitor')
        else:
            self.report.add('nodes in scope', OK, detail)
        self._unique_host_names(scoped)
        return scoped

    def _unique_host_names(self, scoped):
        conflicts = kube_hostnames.find_conflicts(
            {node.name: node.hostname for node in scoped})
        problems = [
            'nodes %s all map to host %s' % (', '.join(nodes), hostname)
            for hostname, nodes in conflicts[
                kube_hostnames.COLLISION].items()]
        problems += [
            'host names %s (nodes %s) differ only by case: one host to '
            'Masakari on a case-insensitive database' % (
                spellings, ', '.join(nodes))
            for spellings, nodes in conflicts[kube_hostnames.CASE].items()]
        if problems:
            self.report.add('host names unique', FAIL, '; '.join(problems))
        elif scoped:
            self.report.add('host names unique', OK, 'each of the %d '
                            'node(s) has its own Masakari host name'
                            % len(scoped))

    def _masakari(self, nodes):
        try:
            instance_ha = self._instance_ha_factory(self._conf)
            segments = list(instance_ha.segments())
            hosts = {}
            for segment in segments:
                for host in instance_ha.hosts(segment.uuid):
                    hosts[host.name] = (host, segment)
        except Exception as exc:  # keystoneauth, sdk, HTTP: all say why
            self.report.add('masakari-api', FAIL, _api_failure(exc))
            self._skip(('hosts registered',), 'masakari-api is not '
                                              'reachable')
            return
        self.report.add('masakari-api', OK, '%d segment(s), %d host(s)'
                        % (len(segments), len(hosts)))
        if nodes is None:
            self.report.add('hosts registered', SKIP,
                            'the nodes in scope are unknown')
            return
        unregistered, maintenance, disabled, near = [], [], [], []
        known = KnownHostNames(hosts)
        scope = self._settings.scope if self._settings else None
        for node in nodes:
            host, segment = hosts.get(node.hostname, (None, None))
            if host is None:
                unregistered.append(_node_and_host(node))
                state = 'NOT REGISTERED'
                hint = known.hint(node.hostname, scope)
                if hint is not None:
                    near.append('%s: %s' % (_node_and_host(node), hint))
                    state += '; ' + hint
                self.placement[node.name] = (node.hostname, '-', state)
                continue
            state = 'ok'
            if host.on_maintenance:
                maintenance.append(_node_and_host(node))
                state = 'on maintenance'
            if segment.is_enabled is False:
                disabled.append('%s (segment %s)' % (_node_and_host(node),
                                                     segment.name))
                state = 'segment disabled'
            self.placement[node.name] = (node.hostname, segment.name, state)
        if unregistered:
            self.report.add('hosts registered', FAIL,
                            'not in any Masakari segment: %s'
                            % _names(unregistered))
        else:
            self.report.add('hosts registered', OK,
                            'all %d node(s) have a Masakari host'
                            % len(nodes))
        if near:
            self.report.add('host name hints', WARN, '; '.join(
                near[:MAX_NAMES]) + (' and %d more' % (len(near) - MAX_NAMES)
                                     if len(near) > MAX_NAMES else ''))
        if maintenance:
            self.report.add('hosts on maintenance', WARN,
                            'Masakari ignores notifications about these '
                            'until their maintenance ends: %s'
                            % _names(maintenance))
        else:
            self.report.add('hosts on maintenance', OK, 'none')
        if disabled:
            self.report.add('segments enabled', WARN,
                            'Masakari does not recover hosts of disabled '
                            'segments: %s' % _names(disabled))

    def _fencing(self, settings, nodes):
        if settings is None:
            self.report.add('fencing', SKIP, 'the configuration is invalid')
            return
        redfish = (settings.policy.fencing == 'redfish'
                   or settings.redfish.fence_action == 'redfish-power-off')
        if not redfish:
            self.report.add('fencing', SKIP, 'not configured (fencing = %s, '
                            'fence_action = %s)' % (
                                settings.policy.fencing,
                                settings.redfish.fence_action))
            return
        if not nodes:
            self.report.add('fencing', SKIP, 'no nodes in scope to check')
            return
        try:
            readings = self._bmc_reader(settings.redfish, nodes)
        except k8s_conf.ConfigError as exc:
            self.report.add('fencing', FAIL, str(exc))
            return
        self._report_bmcs(settings, nodes, readings)

    def _report_bmcs(self, settings, nodes, readings):
        ready = {node.name: node.ready == 'True' for node in nodes}
        missing, broken, off_but_ready, states = [], [], [], {}
        refused, shared = [], {}
        for name, reading in sorted(readings.items()):
            if reading.url is not None:
                shared.setdefault(reading.url, []).append(name)
            if reading.state is None:
                missing.append(name)
            elif reading.state is BMC_ERROR:
                broken.append('%s (%s)' % (name, reading.detail))
            elif reading.state is BMC_REFUSED:
                refused.append(reading.detail)
            else:
                states.setdefault(reading.state, []).append(name)
                if reading.state == 'Off' and ready[name]:
                    off_but_ready.append(name)
        problems = []
        if broken:
            problems.append('no answer: %s' % _names(broken))
        if refused:
            problems.append('cannot use the BMC: %s' % '; '.join(
                sorted(refused)[:MAX_NAMES]))
        # Fencing one node of these would power off another's host.
        problems += ['one BMC system for several nodes (%s): %s'
                     % (url, ', '.join(names))
                     for url, names in sorted(shared.items())
                     if len(names) > 1]
        if off_but_ready:
            problems.append('BMC says Off but the node is Ready (wrong BMC '
                            'address?): %s' % _names(off_but_ready))
        if missing and settings.redfish.fence_action != 'none':
            problems.append('no BMC address (cannot be fenced): %s'
                            % _names(missing))
        if problems:
            self.report.add('fencing', FAIL, '; '.join(problems))
            return
        answered = ', '.join('%s: %d' % (state, len(names))
                             for state, names in sorted(states.items()))
        detail = 'the BMC of %d node(s) answered (power %s)' % (
            len(nodes) - len(missing), answered or 'none')
        if missing:
            self.report.add('fencing', WARN, detail + '; without a BMC '
                            'address (only the taint is evidence for '
                            'them): %s' % _names(missing))
        else:
            self.report.add('fencing', OK, detail)


class KnownHostNames:
    """Masakari's host names, to explain a node that matches none of them.

    Masakari host names must equal nova's compute service host, which is
    often an FQDN (OpenStack-Helm: ``pod.use_fqdn.compute``) and keeps its
    case, while Kubernetes node names are lower case and often short.
    """

    def __init__(self, names):
        self._by_folded = {}
        self._by_short = {}
        for name in names:
            self._by_folded.setdefault(name.casefold(), []).append(name)
            self._by_short.setdefault(_short(name).casefold(),
                                      []).append(name)

    def hint(self, hostname, scope):
        """'Masakari has X: <what to set>' for ``hostname``, or None."""
        same_but_case = self._by_folded.get(hostname.casefold())
        if same_but_case:
            known = sorted(same_but_case)[0]
            return 'Masakari has %s (differs only by case): %s' % (
                known, _case_fix(scope))
        candidates = sorted(self._by_short.get(
            _short(hostname).casefold(), ()))
        if len(candidates) != 1:
            return None
        known = candidates[0]
        fix = _domain_fix(hostname, known, scope)
        if _short(known) != _short(hostname):
            fix += '; and the case differs: ' + _case_fix(scope)
        return 'Masakari has %s (differs by domain): %s' % (known, fix)


def _short(name):
    return name.split('.', 1)[0]


def _domain(name):
    return name.split('.', 1)[1] if '.' in name else ''


def _case_fix(scope):
    source = scope.hostname_source if scope else 'node-name'
    if source in ('label', 'annotation'):
        return 'correct the %s %s on the node' % (source, scope.hostname_key)
    return ('Kubernetes node names are lower case: put the exact name in a '
            'node label (under node-restriction.kubernetes.io/) and set '
            'hostname_source = label and hostname_key')


def _domain_fix(hostname, known, scope):
    theirs = _domain(known)
    source = scope.hostname_source if scope else 'node-name'
    if source in ('label', 'annotation'):
        return 'correct the %s %s on the node%s' % (
            source, scope.hostname_key,
            ' or set hostname_domain = %s' % theirs
            if theirs and '.' not in hostname else '')
    ours = scope.hostname_domain if scope else ''
    if ours and hostname.endswith('.' + ours):
        return 'set hostname_domain = %s' % (theirs or '(empty)')
    if not theirs:
        return 'set hostname_source = short-name'
    if '.' not in hostname:
        return 'set hostname_domain = %s' % theirs
    return 'set hostname_source = short-name and hostname_domain = %s' % (
        theirs)


@dataclasses.dataclass(frozen=True)
class BmcReading:
    """What the check learnt of one node's BMC."""
    state: object         # 'On', 'Off', ...; None: no BMC; or BMC_ERROR
    detail: str = ''
    url: str | None = None


def read_power_states(redfish_settings, nodes, *, timeout=BMC_TIMEOUT,
                      workers=BMC_WORKERS):
    """{node name: BmcReading} from each node's BMC.

    One attempt per BMC, at most ``timeout`` per request, a few BMCs at a
    time: a check, not fencing. Raises ConfigError when the BMC map or the
    credentials are wrong.
    """
    # Imported here: sushy is needed only when Redfish is configured.
    from masakarimonitors_k8s.fencing import bmc as fencing_bmc
    from masakarimonitors_k8s.fencing import redfish as fencing_redfish
    directory = fencing_bmc.BmcDirectory.from_settings(redfish_settings)
    fencer = fencing_redfish.RedfishFencer(dataclasses.replace(
        redfish_settings, retry_max=0,
        timeout=min(redfish_settings.timeout, timeout)))

    def read(node):
        target = None
        try:
            target = directory.target_for(node.name, node.bmc_address)
        except fencing_bmc.BmcTargetError as exc:
            return node.name, BmcReading(BMC_REFUSED, str(exc))
        try:
            if target is None:
                return node.name, BmcReading(None, 'no BMC address')
            reading = fencer.power_state(target)
        except Exception as exc:  # each BMC fails in its own way
            return node.name, BmcReading(
                BMC_ERROR, str(exc), target.url if target else None)
        return node.name, BmcReading(reading.state, reading.detail,
                                     target.url)

    with futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(pool.map(read, nodes))


def _api_failure(exc):
    """Why masakari-api could not be read, in one line.

    A 401 is nearly always a wrong [api] password (``helm test`` exists
    to catch it), so it names the options to look at instead of
    keystoneauth's generic "requires authentication".
    """
    status = (getattr(exc, 'http_status', None)
              or getattr(exc, 'status_code', None))
    if status == 401:
        return ('Keystone refused the [api] credentials (HTTP 401): check '
                'username, password (or OS_API__PASSWORD), user_domain_name '
                'and project_name')
    return '%s: %s' % (type(exc).__name__, exc)


def _node_and_host(node):
    if node.name == node.hostname:
        return node.name
    return '%s (host %s)' % (node.name, node.hostname)


def _names(names):
    names = sorted(names)
    shown = ', '.join(names[:MAX_NAMES])
    if len(names) > MAX_NAMES:
        shown += ' and %d more' % (len(names) - MAX_NAMES)
    return shown


def _kube_from_settings(settings):
    connection = settings.connection
    return kube_client.KubeClient(
        kube_client.build_api_client(connection),
        server_clock=kube_client.ServerClock(SystemClock()),
        connect_timeout=connection.connect_timeout,
        read_timeout=connection.read_timeout)


def register_opts(conf):
    """masakari-monitors' options (``[api]``, ``[host]``) and ours."""
    monitors_api.register_opts(conf)
    monitors_host.register_opts(conf)
    k8s_conf.register_opts(conf)
    conf.register_cli_opts(cli_opts)


def render_placement(placement):
    rows = [('NODE', 'MASAKARI HOST', 'SEGMENT', 'STATE')] + [
        (name,) + placement[name] for name in sorted(placement)]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return ''.join('%-*s  %-*s  %-*s  %s\n' % (
        widths[0], row[0], widths[1], row[1], widths[2], row[2], row[3])
        for row in rows)


def main(argv=None, *, conf=None, out=None, kube_factory=None,
         instance_ha_factory=None):
    """Run the checks; 0 when none FAILed, 1 otherwise."""
    out = out or sys.stdout
    conf = conf if conf is not None else cfg.ConfigOpts()
    register_opts(conf)
    conf(sys.argv[1:] if argv is None else argv, project='masakarimonitors',
         prog=PROG)
    # Library warnings go to stderr; the table is the answer.
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    preflight = Preflight(conf, kube_factory=kube_factory,
                          instance_ha_factory=instance_ha_factory)
    report = preflight.run()
    out.write('%s: %s\n\n' % (PROG, ', '.join(conf.config_file)
                              or '(no configuration file)'))
    out.write(report.render())
    if conf.nodes and preflight.placement:
        out.write('\n' + render_placement(preflight.placement))
    return 1 if report.failed else 0


if __name__ == '__main__':
    sys.exit(main())
