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

"""Options of the ``[k8s]`` group and their validation.

This is the edge where oslo.config meets the monitor: options are declared
here, read once at start-up, checked as a whole, and handed on as a frozen
:class:`Settings` object. Nothing past this module reads ``CONF``, so the
policy and the delivery code stay testable without a global configuration.
"""

import dataclasses
import ipaddress
import math
import re
import urllib.parse

from oslo_config import cfg
from oslo_log import log as logging

from masakarimonitors_k8s.kube import selectors

LOG = logging.getLogger(__name__)

GROUP = 'k8s'


def _group():
    # A new OptGroup each time: oslo shares a registered group's option
    # table between ConfigOpts objects, which would leak overrides.
    return cfg.OptGroup(
        GROUP,
        title='Kubernetes host monitor options',
        help='Options of the ``k8s`` masakari-hostmonitor driver, which '
             'takes compute host health from the Kubernetes API. Select it '
             'with ``[host] monitoring_driver = k8s``.')


HOSTNAME_SOURCES = ('node-name', 'short-name', 'label', 'annotation')
FENCING_MODES = ('taint', 'redfish', 'none')
FENCE_ACTIONS = ('none', 'redfish-power-off')

# Kubernetes' own marker for "this node is verified powered off" (GA 1.28,
# KEP-2268 non-graceful node shutdown).
OUT_OF_SERVICE_TAINT = 'node.kubernetes.io/out-of-service'

# kube-apiserver sends each watch a bookmark about once a minute
# (k8s.io/apiserver pkg/storage/cacher: defaultBookmarkFrequency, one
# minute); a quieter watch is not dead.
APISERVER_BOOKMARK_PERIOD = 60.0

_DOMAIN_LABEL = r'[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?'
_DOMAIN_RE = re.compile(r'^%s(\.%s)*$' % (_DOMAIN_LABEL, _DOMAIN_LABEL))

connection_opts = [
    cfg.StrOpt('kubeconfig',
               help='Path of a kubeconfig file. When neither this nor '
                    '``api_url`` is set, the in-cluster service account '
                    'is used.'),
    cfg.StrOpt('context',
               help='Context to use from ``kubeconfig``; its current '
                    'context when unset.'),
    cfg.URIOpt('api_url', schemes=['https', 'http'],
               help='URL of the Kubernetes API server, used with '
                    '``ca_file`` and ``token_file`` instead of a '
                    'kubeconfig.'),
    cfg.StrOpt('ca_file',
               help='CA bundle that signs the API server certificate '
                    '(with ``api_url``).'),
    cfg.StrOpt('token_file',
               help='File holding the bearer token (with ``api_url``). It '
                    'is re-read on every new connection, so rotated '
                    'projected tokens keep working.'),
    cfg.BoolOpt('insecure', default=False,
                help='Skip TLS verification of the API server. For '
                     'throwaway test clusters only; logged as a warning.'),
    cfg.FloatOpt('connect_timeout', default=5.0, min=0.1,
                 help='Seconds to wait for a TCP/TLS connection to the API '
                      'server.'),
    cfg.FloatOpt('read_timeout', default=30.0, min=0.1,
                 help='Seconds to wait for an answer to a request. A watch '
                      'waits ``watch_timeout`` plus this margin, so a '
                      'black-holed API server is noticed instead of '
                      'hanging the monitor.'),
    cfg.IntOpt('watch_timeout', default=300, min=10,
               help='Server-side timeout of a watch request in seconds '
                    '(randomised up to twice this, as client-go does, so '
                    'replicas do not reconnect in step).'),
    cfg.FloatOpt('watch_idle_timeout', default=90.0, min=1.0,
                 help='Seconds a watch may carry neither an event nor a '
                      'bookmark before it is considered dead and restarted '
                      '(kube-apiserver sends watchers a bookmark about once '
                      'a minute, so this must be more than 60), even '
                      'though the API server answers each '
                      '``watch_check_after`` check.'),
    cfg.FloatOpt('watch_check_after', default=10.0, min=0.5,
                 help='Seconds of silence on a watch after which the '
                      'monitor checks the flow: it opens the watch again '
                      'from the last resourceVersion on a new connection. '
                      'An answer within ``watch_check_timeout`` means the '
                      'cluster is only quiet (and replays anything a '
                      'silently cut stream lost); none means the API is '
                      'unreachable, and the view is stale. A black-holed '
                      'API server is thus noticed within '
                      '``watch_check_after + watch_check_timeout`` seconds '
                      '(15 s by default; client-go\'s HTTP/2 health check '
                      'takes up to 45 s).'),
    cfg.FloatOpt('watch_check_timeout', default=5.0, min=0.1,
                 help='Seconds the API server has to answer a watch '
                      'request (its headers, which kube-apiserver sends at '
                      'once).'),
    cfg.FloatOpt('watch_read_interval', default=0.5, min=0.0, max=5.0,
                 help='Seconds a watch stream that has nothing waiting is '
                      'left alone before it is read again, so that the '
                      'events arriving meanwhile are read in one wake-up. '
                      'Each event is then handled up to this much later; '
                      'the monitor spends much less CPU on the kubelets\' '
                      'periodic status reports: at 5,000 nodes (17 Node '
                      'events a second) reading and decoding took 0.20 ms '
                      'per event with 0, 0.066 ms with 0.5 and 0.047 ms '
                      'with 1 (benchmark). A burst of events is read '
                      'without pause. 0 reads each event as it arrives.'),
    cfg.IntOpt('list_page_size', default=100, min=1,
               help='Nodes per page of the initial and recovery LIST. Each '
                    'page is parsed whole: at 5,000 nodes, pages of 500 '
                    'made the monitor peak at 160 MiB, pages of 100 at '
                    '111 MiB, for the same CPU (benchmark).'),
    cfg.FloatOpt('backoff_initial', default=0.8, min=0.01,
                 help='First delay in seconds before re-listing or '
                      're-watching after an error; doubles up to '
                      '``backoff_max``, with jitter.'),
    cfg.FloatOpt('backoff_max', default=30.0, min=0.01,
                 help='Longest delay in seconds between attempts to reach '
                      'the API server.'),
]

scope_opts = [
    cfg.StrOpt('node_selector', default='',
               help='Kubernetes label selector of the nodes to monitor, '
                    'e.g. ``openstack-compute-node=enabled``. Empty means '
                    'every node.'),
    cfg.StrOpt('exclude_label',
               default='masakari.openstack.org/exclude',
               help='Nodes carrying this label with any value but '
                    '``false`` are not monitored (maintenance, special '
                    'hosts). Empty disables the exclusion.'),
    cfg.StrOpt('hostname_source', default='node-name',
               choices=HOSTNAME_SOURCES,
               help='How a Node maps to a Masakari host name: the node '
                    'name, the node name without its domain, or the value '
                    'of the label or annotation named by '
                    '``hostname_key``.'),
    cfg.StrOpt('hostname_key',
               help='Label or annotation key holding the Masakari host '
                    'name (with ``hostname_source`` label or annotation). '
                    'A node can write its own annotations and most of its '
                    'labels, and so claim another host\'s name: prefer a '
                    'label under ``node-restriction.kubernetes.io/``, which '
                    'only administrators may set.'),
    cfg.StrOpt('hostname_domain', default='',
               help='DNS domain appended as ``.<domain>`` to a host name '
                    'that has none, after ``hostname_source``: for clouds '
                    'whose nova compute hosts are FQDNs (OpenStack-Helm\'s '
                    '``pod.use_fqdn.compute: true``) while the Kubernetes '
                    'node names are short. With ``hostname_source = '
                    'short-name`` it replaces the node name\'s domain. '
                    'Empty: host names are used as they are.'),
]

policy_opts = [
    cfg.StrOpt('fencing', default='taint', choices=FENCING_MODES,
               help='Evidence that a failed host is really down, which '
                    'alone allows ``host_status: NORMAL`` (the only status '
                    'on which Masakari evacuates). ``taint``: the node '
                    'carries the ``out_of_service_taint``, set by an admin '
                    'or a remediation operator after power-off. '
                    '``redfish``: the taint, or the host\'s BMC reports '
                    'its system powered Off over Redfish. ``none``: '
                    'trust Kubernetes alone and report NORMAL as soon as '
                    'the node is failed. UNSAFE: a partitioned but running '
                    'host gets its VMs started twice; logged as a warning '
                    'at start and on every notification. Without evidence '
                    'a failed host is reported ``host_status: UNKNOWN``, '
                    'which Masakari records but does not act on.'),
    cfg.StrOpt('out_of_service_taint', default=OUT_OF_SERVICE_TAINT,
               help='Taint key that is fencing evidence with ``fencing = '
                    'taint``.'),
    cfg.FloatOpt('confirmation_window', default=0.0, min=0.0,
                 help='Seconds a node must stay unreachable before it is '
                      'declared failed. Kubernetes already waits its '
                      'node-monitor-grace-period (50 s) before Ready turns '
                      'Unknown, so the default adds nothing.'),
    cfg.FloatOpt('recovery_window', default=30.0, min=0.0,
                 help='Seconds a failed node must stay Ready before it is '
                      'declared recovered and ``STARTED`` is sent '
                      '(hysteresis against flapping).'),
    cfg.BoolOpt('not_ready_is_failure', default=False,
                help='Treat ``Ready=False`` reported by a live kubelet '
                     '(container runtime or network plugin down) as host '
                     'failure. Off by default: the host, and its VMs, are '
                     'still running.'),
    cfg.BoolOpt('watch_leases', default=False,
                help='Also watch the kubelets\' Leases in '
                     '``lease_namespace`` and treat a lease older than '
                     '``lease_stale_after`` as unreachable, before the '
                     'node lifecycle controller does. Costs one watch '
                     'event per node every 10 s.'),
    cfg.StrOpt('lease_namespace', default='kube-node-lease',
               help='Namespace of the kubelets\' node Leases.'),
    cfg.FloatOpt('lease_stale_after', default=40.0, min=11.0,
                 help='Seconds without a lease renewal (kubelets renew '
                      'every 10 s) after which a node counts as '
                      'unreachable, measured on the monitor\'s own clock '
                      'from when it saw the last renewal (the kubelet '
                      'stamps ``renewTime`` with its own clock).'),
    cfg.BoolOpt('cordon_is_maintenance', default=True,
                help='A cordoned node (``spec.unschedulable``) is in planned '
                     'maintenance: ``fence_action`` does not power it off, '
                     'and a BMC "Off" reading taken while it is cordoned '
                     'is no fencing evidence (a reboot or firmware update '
                     'passes through Off). The out-of-service taint still '
                     'counts. Set to false to fence and trust BMC readings '
                     'of cordoned nodes too.'),
]

delivery_opts = [
    cfg.FloatOpt('notify_retry_initial', default=1.0, min=0.01,
                 help='First delay in seconds before re-sending a '
                      'notification that failed; doubles up to '
                      '``notify_retry_max``. Notifications are retried '
                      'until delivered or superseded, never dropped.'),
    cfg.FloatOpt('notify_retry_max', default=60.0, min=0.01,
                 help='Longest delay in seconds between delivery '
                      'attempts.'),
    cfg.FloatOpt('unknown_host_recheck', default=300.0, min=1.0,
                 help='Seconds between attempts for a host that Masakari '
                      'does not know (HTTP 400): it may be registered '
                      'later.'),
    cfg.FloatOpt('maintenance_recheck', default=300.0, min=1.0,
                 help='Seconds between attempts of a STOPPED for a host '
                      'that Masakari has on maintenance (HTTP 409): while '
                      'the host stays failed it is sent again, so a '
                      'failure that outlasts the maintenance is reported.'),
]

guard_opts = [
    cfg.StrOpt('max_unhealthy', default='49%',
               help='Storm guard: when more nodes than this are failed at '
                    'once in a zone (a count, or a percentage of the '
                    'monitored nodes of the zone), new STOPPED '
                    'notifications and fencing are held until the number '
                    'drops. Many simultaneous failures are more likely a '
                    'network or control-plane fault than dead hosts. '
                    'Default 49%: the complement of medik8s Node Health '
                    'Check\'s minHealthy 51%, and below the 55% at which '
                    'Kubernetes itself declares a zone disrupted.'),
    cfg.StrOpt('max_unhealthy_cluster',
               help='Storm guard over all monitored nodes together (a '
                    'count, or a percentage): when more are failed at '
                    'once, new STOPPED notifications and fencing are held '
                    'in every zone. Catches a control-plane-wide outage '
                    'that many small zones would each let through. '
                    'Default: the value of ``max_unhealthy``.'),
    cfg.FloatOpt('storm_settle_window', default=15.0, min=0.0,
                 help='Seconds a new STOPPED waits before it leaves, so '
                      'that the storm guard judges a burst of failures as '
                      'a whole: when a partition cuts many nodes off, the '
                      'node lifecycle controller marks them Unknown over '
                      'about 15 s (their lease renewals are spread over '
                      '10 s, and it checks every 5 s). Fencing evidence for '
                      'a host already reported is never delayed. 0 sends at '
                      'once, and a burst may then partly pass before the '
                      'guard engages.'),
    cfg.StrOpt('storm_zone_label', default='topology.kubernetes.io/zone',
               help='Node label that groups nodes into zones for the storm '
                    'guard. Nodes without it, or all nodes when empty, '
                    'form one zone.'),
]

leader_opts = [
    cfg.BoolOpt('leader_election', default=False,
                help='Run leader election on a coordination.k8s.io/v1 '
                     'Lease, so that of several replicas only the leader '
                     'notifies and fences. Standbys keep watching and take '
                     'over within the lease duration.'),
    cfg.StrOpt('leader_election_namespace',
               help='Namespace of the leader election Lease. Default: the '
                    'POD_NAMESPACE environment variable, else the '
                    'service account\'s namespace.'),
    cfg.StrOpt('leader_election_lease_name', default='masakari-hostmonitor',
               help='Name of the leader election Lease.'),
    cfg.FloatOpt('leader_election_lease_duration', default=15.0, min=1.0,
                 help='Seconds a leader holds the lease without renewing '
                      'it before a standby may take over (client-go: '
                      '15).'),
    cfg.FloatOpt('leader_election_renew_deadline', default=10.0, min=0.5,
                 help='Seconds the leader keeps trying to renew before it '
                      'gives up leadership and stops notifying (client-go: '
                      '10).'),
    cfg.FloatOpt('leader_election_retry_period', default=2.0, min=0.1,
                 help='Seconds between attempts to acquire or renew the '
                      'lease (client-go: 2).'),
    cfg.FloatOpt('leader_election_max_stale_view', default=180.0, min=1.0,
                 help='Seconds the node view may stay stale (watch broken, '
                      'not yet listed) before this replica releases the '
                      'lease and stops competing until its view is current '
                      'again, so that a standby that sees the nodes takes '
                      'over from a blind leader.'),
]

redfish_opts = [
    cfg.StrOpt('fence_action', default='none', choices=FENCE_ACTIONS,
               help='Active fencing. ``redfish-power-off``: once a node is '
                    'failed (after ``confirmation_window``) and the guards '
                    'allow it, power its host off through the BMC, verify '
                    'that it is Off, add the out-of-service taint (so '
                    'Kubernetes releases its pods and volumes) and report '
                    'NORMAL. Every action is logged and recorded as an '
                    'Event on the Node.'),
    cfg.BoolOpt('fence_without_leader_election', default=False,
                help='Allow ``fence_action`` without ``leader_election``. '
                     'Only for a monitor that runs as exactly one replica: '
                     'two replicas without leader election would both power '
                     'hosts off. Logged as a warning at start.'),
    cfg.StrOpt('redfish_bmc_map_file',
               help='YAML or JSON file mapping node names to BMC addresses '
                    '(``https://bmc/`` or a full ``.../Systems/<id>`` URL). '
                    'The trusted source of BMC addresses: it always wins '
                    'over the node annotation.'),
    cfg.StrOpt('redfish_bmc_annotation',
               default='masakari.openstack.org/bmc-address',
               help='Node annotation holding the node\'s BMC address. '
                    'Read only with ``redfish_trust_bmc_annotation``, for '
                    'nodes the BMC map does not list.'),
    cfg.BoolOpt('redfish_trust_bmc_annotation', default=False,
                help='Use the BMC annotation of nodes that the BMC map does '
                     'not list, when its host is in '
                     '``redfish_bmc_allowed_hosts``. Any kubelet can write '
                     'its own Node\'s annotations: a compromised host could '
                     'name a BMC it controls (and receive the BMC '
                     'credentials, or fake an Off reading) or another '
                     'host\'s BMC. Off by default; logged as a warning.'),
    cfg.ListOpt('redfish_bmc_allowed_hosts', default=[],
                help='BMC hosts an annotation may name (with '
                     '``redfish_trust_bmc_annotation``): IP addresses, CIDRs '
                     '(``192.0.2.0/24``) or host names, compared exactly '
                     '(case-insensitive). Put only the BMC network here.'),
    cfg.BoolOpt('redfish_allow_http', default=False,
                help='Allow plain ``http://`` BMC addresses. The BMC '
                     'credentials and power readings then cross the network '
                     'unencrypted and unauthenticated; logged as a warning. '
                     'Off by default: such addresses stop start-up (map) or '
                     'are refused (annotation).'),
    cfg.StrOpt('redfish_credentials_file',
               help='YAML or JSON file with the BMC ``username`` and '
                    '``password`` (optionally per node under ``nodes``). '
                    'Mount it from a Secret; never put credentials in the '
                    'configuration file.'),
    cfg.StrOpt('redfish_ca_file',
               help='CA bundle to verify BMC certificates.'),
    cfg.BoolOpt('redfish_insecure', default=False,
                help='Skip TLS verification of BMCs. Logged as a warning.'),
    cfg.FloatOpt('redfish_timeout', default=5.0, min=0.1,
                 help='Seconds to wait for a BMC answer (like [host] '
                      'ipmi_timeout).'),
    cfg.IntOpt('redfish_retry_max', default=3, min=0,
               help='Retries of a failed BMC request (like [host] '
                    'ipmi_retry_max).'),
    cfg.FloatOpt('redfish_retry_interval', default=10.0, min=0.0,
                 help='Seconds between BMC retries (like [host] '
                      'ipmi_retry_interval).'),
    cfg.FloatOpt('fence_recheck_interval', default=30.0, min=0.1,
                 help='Seconds between BMC checks of a failed host that is '
                      'not (yet) Off, and between fencing attempts that the '
                      'guards or a failed BMC call put off.'),
    cfg.FloatOpt('fence_verify_timeout', default=60.0, min=1.0,
                 help='Seconds to wait for the BMC to report the system '
                      'Off after a power-off request.'),
]

status_opts = [
    cfg.PortOpt('status_port', default=0,
                help='Port of the HTTP endpoint serving /healthz, /readyz '
                     'and /metrics (Prometheus). 0 disables it.'),
    cfg.HostAddressOpt('status_bind_host', default='0.0.0.0',
                       help='Address the status endpoint listens on.'),
    cfg.BoolOpt('node_events', default=True,
                help='Record each decision (suspect, failed, notified, '
                     'held, fenced, recovered) as a Kubernetes Event on the '
                     'Node, for ``kubectl describe node``.'),
]

ALL_OPTS = (connection_opts + scope_opts + policy_opts + delivery_opts
            + guard_opts + leader_opts + redfish_opts + status_opts)


def register_opts(conf):
    group = _group()
    conf.register_group(group)
    conf.register_opts(ALL_OPTS, group=group)


def list_opts():
    """The options of this driver, for oslo-config-generator."""
    return [(_group(), ALL_OPTS)]


class ConfigError(Exception):
    """A setting is wrong; the message names the option and the value."""


@dataclasses.dataclass(frozen=True)
class ConnectionSettings:
    kubeconfig: str | None = None
    context: str | None = None
    api_url: str | None = None
    ca_file: str | None = None
    token_file: str | None = None
    insecure: bool = False
    connect_timeout: float = 5.0
    read_timeout: float = 30.0


@dataclasses.dataclass(frozen=True)
class WatchSettings:
    watch_timeout: int = 300
    idle_timeout: float = 90.0
    page_size: int = 100
    backoff_initial: float = 0.8
    backoff_max: float = 30.0
    check_after: float = 10.0
    check_timeout: float = 5.0
    read_interval: float = 0.5


@dataclasses.dataclass(frozen=True)
class ScopeSettings:
    node_selector: str = ''
    exclude_label: str = ''
    hostname_source: str = 'node-name'
    hostname_key: str | None = None
    hostname_domain: str = ''


@dataclasses.dataclass(frozen=True)
class PolicySettings:
    fencing: str = 'taint'
    out_of_service_taint: str = OUT_OF_SERVICE_TAINT
    confirmation_window: float = 0.0
    recovery_window: float = 30.0
    not_ready_is_failure: bool = False
    watch_leases: bool = False
    lease_namespace: str = 'kube-node-lease'
    lease_stale_after: float = 40.0
    cordon_is_maintenance: bool = True


@dataclasses.dataclass(frozen=True)
class DeliverySettings:
    retry_initial: float = 1.0
    retry_max: float = 60.0
    unknown_host_recheck: float = 300.0
    maintenance_recheck: float = 300.0


@dataclasses.dataclass(frozen=True)
class UnhealthyLimit:
    """``max_unhealthy``: a count, or a percentage of a zone's nodes."""
    value: float = 49.0
    percent: bool = True

    @classmethod
    def parse(cls, text):
        match = re.fullmatch(r'\s*(\d+(?:\.\d+)?)\s*(%?)\s*', text or '')
        if not match:
            raise ValueError('is neither a count (3) nor a percentage (49%)')
        value, percent = float(match.group(1)), bool(match.group(2))
        if percent and value > 100:
            raise ValueError('is more than 100%')
        if not percent and value < 1:
            raise ValueError('must allow at least one failed node')
        return cls(value, percent)

    def allowed(self, zone_size):
        """How many failed nodes a zone of ``zone_size`` may have.

        Never fewer than one: a single failed host is the case Masakari
        exists for, whatever the size of its zone.
        """
        if self.percent:
            return max(1, math.floor(zone_size * self.value / 100.0))
        return int(self.value)

    def __str__(self):
        return ('%g%%' % self.value) if self.percent else '%d' % self.value


@dataclasses.dataclass(frozen=True)
class BmcHostAllowList:
    """``redfish_bmc_allowed_hosts``: IP networks and exact host names."""
    networks: tuple = ()
    names: frozenset = frozenset()

    @classmethod
    def parse(cls, entries):
        """Entries -> BmcHostAllowList; ValueError names a bad entry."""
        networks, names = [], set()
        for entry in entries:
            text = entry.strip()
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
                continue
            except ValueError:
                pass
            if '/' in text or not _DOMAIN_RE.match(text) or len(text) > 253:
                raise ValueError('%r is neither an IP address, a CIDR nor '
                                 'a host name' % entry)
            names.add(text.lower())
        return cls(tuple(networks), frozenset(names))

    def __bool__(self):
        return bool(self.networks or self.names)

    def allows(self, host):
        """Whether BMC host ``host`` (a URL's hostname) is listed."""
        if not host:
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return host.lower().rstrip('.') in self.names
        return any(address in network for network in self.networks)

    def __str__(self):
        return ', '.join([str(n) for n in self.networks]
                         + sorted(self.names)) or '(none)'


@dataclasses.dataclass(frozen=True)
class GuardSettings:
    max_unhealthy: UnhealthyLimit = UnhealthyLimit()
    settle_window: float = 15.0
    zone_label: str = 'topology.kubernetes.io/zone'
    # None: the same limit as max_unhealthy, over all monitored nodes.
    max_unhealthy_cluster: UnhealthyLimit | None = None

    @property
    def cluster_limit(self):
        return self.max_unhealthy_cluster or self.max_unhealthy


@dataclasses.dataclass(frozen=True)
class LeaderSettings:
    enabled: bool = False
    namespace: str | None = None
    lease_name: str = 'masakari-hostmonitor'
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    max_stale_view: float = 180.0


@dataclasses.dataclass(frozen=True)
class RedfishSettings:
    fence_action: str = 'none'
    fence_without_leader_election: bool = False
    bmc_map_file: str | None = None
    bmc_annotation: str = 'masakari.openstack.org/bmc-address'
    trust_bmc_annotation: bool = False
    bmc_allowed_hosts: BmcHostAllowList = BmcHostAllowList()
    allow_http: bool = False
    credentials_file: str | None = None
    ca_file: str | None = None
    insecure: bool = False
    timeout: float = 5.0
    retry_max: int = 3
    retry_interval: float = 10.0
    verify_timeout: float = 60.0
    recheck_interval: float = 30.0


@dataclasses.dataclass(frozen=True)
class StatusSettings:
    port: int = 0
    bind_host: str = '0.0.0.0'
    node_events: bool = True


@dataclasses.dataclass(frozen=True)
class Settings:
    connection: ConnectionSettings = ConnectionSettings()
    watch: WatchSettings = WatchSettings()
    scope: ScopeSettings = ScopeSettings()
    policy: PolicySettings = PolicySettings()
    delivery: DeliverySettings = DeliverySettings()
    guards: GuardSettings = GuardSettings()
    leader: LeaderSettings = LeaderSettings()
    redfish: RedfishSettings = RedfishSettings()
    status: StatusSettings = StatusSettings()


def _read(group, name):
    try:
        return getattr(group, name)
    except (cfg.ConfigFileValueError, ValueError) as exc:
        raise ConfigError('[%s] %s: %s' % (GROUP, name, exc)) from exc


def load_settings(conf):
    """Read and check every ``[k8s]`` option.

    Raises ConfigError on the first problem, naming the option and the
    offending value.
    """
    group = conf[GROUP]
    values = {opt.dest: _read(group, opt.dest) for opt in ALL_OPTS}
    for opt in ALL_OPTS:
        value = values[opt.dest]
        # oslo's min= lets nan and inf through.
        if isinstance(value, float) and not math.isfinite(value):
            _fail(opt.dest, value, 'must be a finite number of seconds')
    settings = Settings(
        connection=ConnectionSettings(
            kubeconfig=values['kubeconfig'], context=values['context'],
            api_url=values['api_url'], ca_file=values['ca_file'],
            token_file=values['token_file'], insecure=values['insecure'],
            connect_timeout=values['connect_timeout'],
            read_timeout=values['read_timeout']),
        watch=WatchSettings(
            watch_timeout=values['watch_timeout'],
            idle_timeout=values['watch_idle_timeout'],
            page_size=values['list_page_size'],
            backoff_initial=values['backoff_initial'],
            backoff_max=values['backoff_max'],
            check_after=values['watch_check_after'],
            check_timeout=values['watch_check_timeout'],
            read_interval=values['watch_read_interval']),
        scope=ScopeSettings(
            node_selector=values['node_selector'] or '',
            exclude_label=values['exclude_label'] or '',
            hostname_source=values['hostname_source'],
            hostname_key=values['hostname_key'],
            hostname_domain=values['hostname_domain'] or ''),
        policy=PolicySettings(
            fencing=values['fencing'],
            out_of_service_taint=values['out_of_service_taint'],
            confirmation_window=values['confirmation_window'],
            recovery_window=values['recovery_window'],
            not_ready_is_failure=values['not_ready_is_failure'],
            watch_leases=values['watch_leases'],
            lease_namespace=values['lease_namespace'],
            lease_stale_after=values['lease_stale_after'],
            cordon_is_maintenance=values['cordon_is_maintenance']),
        delivery=DeliverySettings(
            retry_initial=values['notify_retry_initial'],
            retry_max=values['notify_retry_max'],
            unknown_host_recheck=values['unknown_host_recheck'],
            maintenance_recheck=values['maintenance_recheck']),
        guards=GuardSettings(
            max_unhealthy=_unhealthy_limit(values['max_unhealthy']),
            settle_window=values['storm_settle_window'],
            zone_label=values['storm_zone_label'] or '',
            max_unhealthy_cluster=(
                _unhealthy_limit(values['max_unhealthy_cluster'],
                                 'max_unhealthy_cluster')
                if values['max_unhealthy_cluster'] else None)),
        leader=LeaderSettings(
            enabled=values['leader_election'],
            namespace=values['leader_election_namespace'],
            lease_name=values['leader_election_lease_name'],
            lease_duration=values['leader_election_lease_duration'],
            renew_deadline=values['leader_election_renew_deadline'],
            retry_period=values['leader_election_retry_period'],
            max_stale_view=values['leader_election_max_stale_view']),
        redfish=RedfishSettings(
            fence_action=values['fence_action'],
            fence_without_leader_election=values[
                'fence_without_leader_election'],
            bmc_map_file=values['redfish_bmc_map_file'],
            bmc_annotation=values['redfish_bmc_annotation'],
            trust_bmc_annotation=values['redfish_trust_bmc_annotation'],
            bmc_allowed_hosts=_allowed_hosts(
                values['redfish_bmc_allowed_hosts']),
            allow_http=values['redfish_allow_http'],
            credentials_file=values['redfish_credentials_file'],
            ca_file=values['redfish_ca_file'],
            insecure=values['redfish_insecure'],
            timeout=values['redfish_timeout'],
            retry_max=values['redfish_retry_max'],
            retry_interval=values['redfish_retry_interval'],
            verify_timeout=values['fence_verify_timeout'],
            recheck_interval=values['fence_recheck_interval']),
        status=StatusSettings(
            port=values['status_port'],
            bind_host=values['status_bind_host'],
            node_events=values['node_events']),
    )
    check_settings(settings)
    for warning in config_warnings(settings):
        LOG.warning('%s', warning)
    return settings


def _unhealthy_limit(text, option='max_unhealthy'):
    try:
        return UnhealthyLimit.parse(text)
    except ValueError as exc:
        _fail(option, text, str(exc))


def _allowed_hosts(entries):
    entries = [entry for entry in entries or () if entry.strip()]
    try:
        return BmcHostAllowList.parse(entries)
    except ValueError as exc:
        _fail('redfish_bmc_allowed_hosts', ','.join(entries), str(exc))


def _fail(option, value, why):
    raise ConfigError('[%s] %s = %r: %s' % (GROUP, option, value, why))


def check_settings(settings):
    """Cross-option checks that oslo.config's per-option types can't do."""
    conn = settings.connection
    if conn.api_url and conn.kubeconfig:
        _fail('api_url', conn.api_url,
              'set either api_url or kubeconfig, not both')
    if conn.context and not conn.kubeconfig:
        _fail('context', conn.context, 'needs [k8s] kubeconfig')
    if conn.api_url and conn.api_url.startswith('https') and not (
            conn.ca_file or conn.insecure):
        _fail('ca_file', conn.ca_file,
              'an https api_url needs a ca_file to verify the server '
              '(or insecure = true for a throwaway cluster)')
    for option in ('kubeconfig', 'ca_file', 'token_file'):
        path = getattr(conn, option)
        if path is not None and not path.strip():
            _fail(option, path, 'is empty')

    watch = settings.watch
    if watch.idle_timeout <= APISERVER_BOOKMARK_PERIOD:
        _fail('watch_idle_timeout', watch.idle_timeout,
              'must be more than %g: kube-apiserver sends an idle watch a '
              'bookmark only about every %g s, so a shorter timeout '
              'restarts healthy watches' % (APISERVER_BOOKMARK_PERIOD,
                                            APISERVER_BOOKMARK_PERIOD))
    if watch.backoff_max < watch.backoff_initial:
        _fail('backoff_max', watch.backoff_max,
              'is shorter than backoff_initial (%s)' % watch.backoff_initial)

    scope = settings.scope
    try:
        selectors.parse(scope.node_selector)
    except selectors.SelectorError as exc:
        _fail('node_selector', scope.node_selector, str(exc))
    if scope.exclude_label and not selectors.is_valid_label_key(
            scope.exclude_label):
        _fail('exclude_label', scope.exclude_label,
              'is not a valid label key')
    if scope.hostname_source in ('label', 'annotation'):
        if not scope.hostname_key:
            _fail('hostname_key', scope.hostname_key,
                  'is required with hostname_source = %s'
                  % scope.hostname_source)
        if not selectors.is_valid_label_key(scope.hostname_key):
            _fail('hostname_key', scope.hostname_key,
                  'is not a valid %s key' % scope.hostname_source)
    if scope.hostname_domain and (
            len(scope.hostname_domain) > 253
            or not _DOMAIN_RE.match(scope.hostname_domain)):
        _fail('hostname_domain', scope.hostname_domain,
              'is not a DNS domain such as cloud.example.org (no leading '
              'or trailing dot)')

    policy = settings.policy
    if not selectors.is_valid_label_key(policy.out_of_service_taint):
        _fail('out_of_service_taint', policy.out_of_service_taint,
              'is not a valid taint key')

    guards = settings.guards
    if guards.zone_label and not selectors.is_valid_label_key(
            guards.zone_label):
        _fail('storm_zone_label', guards.zone_label,
              'is not a valid label key')

    leader = settings.leader
    if leader.renew_deadline >= leader.lease_duration:
        _fail('leader_election_renew_deadline', leader.renew_deadline,
              'must be shorter than leader_election_lease_duration (%s)'
              % leader.lease_duration)
    if leader.retry_period >= leader.renew_deadline:
        _fail('leader_election_retry_period', leader.retry_period,
              'must be shorter than leader_election_renew_deadline (%s)'
              % leader.renew_deadline)

    redfish = settings.redfish
    uses_redfish = (settings.policy.fencing == 'redfish'
                    or redfish.fence_action == 'redfish-power-off')
    if uses_redfish and not redfish.credentials_file:
        option = ('fencing' if settings.policy.fencing == 'redfish'
                  else 'fence_action')
        _fail('redfish_credentials_file', redfish.credentials_file,
              'is required with %s = %s' % (
                  option, getattr(settings.policy, option, None)
                  or redfish.fence_action))
    if redfish.fence_action != 'none' and settings.policy.fencing == 'none':
        _fail('fence_action', redfish.fence_action,
              'makes no sense with fencing = none (which reports NORMAL '
              'without any evidence)')
    if not selectors.is_valid_label_key(redfish.bmc_annotation):
        _fail('redfish_bmc_annotation', redfish.bmc_annotation,
              'is not a valid annotation key')
    if redfish.fence_action != 'none' and not (
            leader.enabled or redfish.fence_without_leader_election):
        _fail('fence_action', redfish.fence_action,
              'needs leader_election = true, so that only one replica '
              'powers hosts off (or fence_without_leader_election = true '
              'for a monitor that runs as exactly one replica)')
    if redfish.trust_bmc_annotation and not redfish.bmc_allowed_hosts:
        _fail('redfish_bmc_allowed_hosts', '',
              'is required with redfish_trust_bmc_annotation = true: the '
              'BMC hosts or networks that a node annotation may name')

    delivery = settings.delivery
    if delivery.retry_max < delivery.retry_initial:
        _fail('notify_retry_max', delivery.retry_max,
              'is shorter than notify_retry_initial (%s)'
              % delivery.retry_initial)


def config_warnings(settings):
    """Valid but risky settings, one sentence each; logged at start.

    ``masakari-k8s-check`` shows the same sentences.
    """
    warnings = []
    conn = settings.connection
    if conn.api_url and conn.token_file and urllib.parse.urlsplit(
            conn.api_url).scheme == 'http':
        warnings.append(
            '[k8s] api_url = %s is plain http and token_file is set: the '
            'bearer token crosses the network in clear text.'
            % conn.api_url)
    warnings += _kubelet_writable_warnings(settings)
    redfish = settings.redfish
    if redfish.fence_action != 'none':
        if not settings.leader.enabled:
            warnings.append(
                '[k8s] fence_without_leader_election = true: fence_action '
                'runs without leader election. Run exactly ONE replica; two '
                'would both power hosts off.')
        if (settings.policy.watch_leases
                and settings.policy.confirmation_window == 0):
            warnings.append(
                '[k8s] fence_action with watch_leases and '
                'confirmation_window = 0: a kubelet that stalls for '
                'lease_stale_after (%g s; I/O pressure, a long GC pause) '
                'gets its host powered off about %g s after its last '
                'renewal. Consider a confirmation_window of a minute or '
                'more.' % (settings.policy.lease_stale_after,
                           settings.policy.lease_stale_after
                           + settings.guards.settle_window))
    uses_redfish = (settings.policy.fencing == 'redfish'
                    or redfish.fence_action != 'none')
    if uses_redfish and redfish.trust_bmc_annotation:
        warnings.append(
            '[k8s] redfish_trust_bmc_annotation = true: BMC addresses '
            'written by nodes themselves (annotation %s) are used for nodes '
            'the BMC map does not list, within redfish_bmc_allowed_hosts '
            '(%s). A compromised node can still point it at another '
            'allowed BMC; prefer redfish_bmc_map_file.'
            % (redfish.bmc_annotation, redfish.bmc_allowed_hosts))
    if uses_redfish and redfish.allow_http:
        warnings.append(
            '[k8s] redfish_allow_http = true: plain http BMCs get the BMC '
            'credentials in clear text, and their power readings (the '
            'evidence for NORMAL) can be forged on the network.')
    return warnings


def _kubelet_writable_warnings(settings):
    """Labels that decide scope, host name or zone, if nodes can set them.

    With the NodeRestriction admission plugin a kubelet may still set most
    labels and every annotation on its own Node; whoever controls a compute
    host (a hypervisor escape gives root and the kubelet's credentials)
    then controls these decisions.
    """
    scope = settings.scope
    risky = []
    selector_keys = sorted({requirement.key for requirement in
                            selectors.parse(scope.node_selector)
                            if selectors.kubelet_may_set(requirement.key)})
    if selector_keys:
        risky.append(('node_selector', ', '.join(selector_keys),
                      'take itself out of scope'))
    if scope.exclude_label and selectors.kubelet_may_set(scope.exclude_label):
        risky.append(('exclude_label', scope.exclude_label,
                      'exclude itself from monitoring'))
    if scope.hostname_source == 'annotation':
        risky.append(('hostname_key', scope.hostname_key + ' (annotation)',
                      'claim another host\'s Masakari name, so that '
                      'Masakari evacuates that host'))
    elif scope.hostname_source == 'label' and selectors.kubelet_may_set(
            scope.hostname_key):
        risky.append(('hostname_key', scope.hostname_key,
                      'claim another host\'s Masakari name, so that '
                      'Masakari evacuates that host'))
    zone_label = settings.guards.zone_label
    if zone_label and selectors.kubelet_may_set(zone_label):
        risky.append(('storm_zone_label', zone_label,
                      'move itself between storm guard zones'))
    return ['[k8s] %s = %s: a kubelet may set this on its own Node, so a '
            'compromised node could %s. Prefer keys under %s/, which only '
            'administrators may set.' % (
                option, key, effect, selectors.ADMIN_ONLY_LABEL_NAMESPACE)
            for option, key, effect in risky]
