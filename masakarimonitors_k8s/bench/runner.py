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

"""One cluster size, both drivers, one run.

Part of the benchmark (:mod:`masakarimonitors_k8s.bench`). The benchmark
process hosts everything that is not a driver: the simulated cluster
(kubelets renewing Leases and posting status on the real clock, the node
lifecycle controller), one Kubernetes API test server per driver over the
same object store (HTTPS, as in a cluster; each with its own token, so its
request log is that driver's traffic and nothing else), and per driver a
real masakari-api in which every node is a host, behind a recording
proxy. Separate masakari-apis keep Masakari's duplicate rule from
judging one driver's notification by another's (two configurations of
ours send byte-identical notifications). Each driver is a stock
``masakari-hostmonitor`` process:

- upstream: ``[host] monitoring_driver = kubernetes`` with its defaults,
  started through :mod:`.upstream` (in-cluster configuration);
- ours: ``[host] monitoring_driver = k8s`` with its defaults and a
  kubeconfig;
- ours-production (``profile = 'production'``, a run of its own): ours
  with the options of values/production-ha.yaml, its own Redfish emulator
  and no operator taint (:mod:`.production`).

Both run at the same time against the same cluster, see the same failures
and share the same two cores. Sequential runs would give each driver the
machine alone, but would double the run time (the 15-minute budget) and
show the drivers different failures; running them together is what the
comparison is about: the same cluster over the same period. CPU time is
per process, so sharing cores costs each driver waiting time, not CPU
seconds; it can only lengthen detection latency, whichever driver it
hits.

How each figure is measured:

- CPU seconds per hour and bytes per hour are steady-state rates over a
  window: for upstream, from the first to the last full LIST of its run
  (whole polling cycles only: its cost comes in bursts); for ours, from
  the moment its watch is open to the end (its cost is continuous). The
  start-up (imports, the first LIST) is reported apart.
- Bytes and requests come from the request log of the driver's own API
  server: response bodies, watch streams included.
- Peak RSS: the kernel's high-water mark of the process (``VmHWM``) at
  the end of the run, start-up included; 4 Hz samples for the curve.
- Detection latency: from the moment the cluster model wrote the signal
  (``Ready=Unknown`` by the node lifecycle controller, or the
  ``out-of-service`` taint) to the moment masakari-api's 202 reached the
  driver's recording proxy.
- Dead host -> NORMAL accepted (every driver's ``latency`` block): from
  the power-off to the 202 of the STOPPED/NORMAL, with the stages seen on
  the way (:mod:`.latency`).
"""

import dataclasses
import datetime
import functools
import gc
import os
import re
import sys
import threading

import psutil

from masakarimonitors_k8s.bench import latency
from masakarimonitors_k8s.bench import processes
from masakarimonitors_k8s.bench import production
from masakarimonitors_k8s.bench import recorder as recorder_mod
from masakarimonitors_k8s.bench import scenario
from masakarimonitors_k8s.bench import upstream
from masakarimonitors_k8s import clock as clocks
from masakarimonitors_k8s.testing import cluster as test_cluster
from masakarimonitors_k8s.testing.kube_apiserver import server as test_server
from masakarimonitors_k8s.testing.kube_apiserver import store as test_store
from masakarimonitors_k8s.testing import masakari_api as test_masakari
from masakarimonitors_k8s.testing import nodes as test_nodes

NODES_PATH = '/api/v1/nodes'
READ_VERBS = frozenset(('get', 'list', 'watch'))
MIB = 1024 * 1024
# Seconds a driver gets from its last signal to the end of the run, on top
# of what it is designed to wait.
_REPORT_MARGIN = 10.0
# Seconds a driver gets to stop its watches after SIGTERM before the
# request log is read for the last time.
_STREAMS_END_TIMEOUT = 5.0
# The object store keeps this many changes per node for watch resumption:
# about five minutes of Lease renewals, like etcd's history.
_HISTORY_PER_NODE = 30
_HISTORY_BASE = 20000
# Every request is kept: the run is measured from the log.
_REQUEST_LOG_SIZE = 2_000_000
# Seconds between points of the time series kept in the results.
_SERIES_STEP = 1.0

UPSTREAM_RULES = [
    {'apiGroups': [''], 'resources': ['nodes'],
     'verbs': ['get', 'list', 'watch']},
]
# What the Helm chart grants ours (charts/masakari-hostmonitor).
OUR_RULES = [
    {'apiGroups': [''], 'resources': ['nodes'],
     'verbs': ['get', 'list', 'watch']},
    {'apiGroups': ['', 'events.k8s.io'], 'resources': ['events'],
     'verbs': ['create', 'patch']},
    {'apiGroups': ['coordination.k8s.io'], 'resources': ['leases'],
     'verbs': ['get', 'list', 'watch']},
]


@dataclasses.dataclass(frozen=True)
class DriverSpec:
    """A driver to run: its column name, its kind, extra [k8s] options.

    ``options`` only apply to ours, e.g. ``(('storm_settle_window',
    '0'),)`` to show what one default costs next to the defaults.
    """

    name: str
    kind: str
    options: tuple = ()

    @classmethod
    def our_variant(cls, text, kind=scenario.OURS):
        """``'key=value[,key=value]'`` -> a variant of ours (``kind``)."""
        options = []
        for item in text.split(','):
            key, equals, value = item.partition('=')
            if not equals or not key.strip():
                raise ValueError('expected key=value[,key=value], not %r'
                                 % text)
            options.append((key.strip(), value.strip()))
        return cls(name='%s[%s]' % (kind, text), kind=kind,
                   options=tuple(options))


DEFAULT_DRIVERS = (DriverSpec(scenario.UPSTREAM, scenario.UPSTREAM),
                   DriverSpec(scenario.OURS, scenario.OURS))
PRODUCTION_DRIVERS = (DriverSpec(scenario.UPSTREAM, scenario.UPSTREAM),
                      DriverSpec(scenario.OURS_PRODUCTION,
                                 scenario.OURS_PRODUCTION))
PROFILES = ('default', 'production')


@dataclasses.dataclass(frozen=True)
class RunSettings:
    """One run; the defaults are Kubernetes' and both drivers' own."""

    nodes: int
    duration: float = 300.0
    # The cluster: node-monitor-grace-period, the kubelet's lease renewal,
    # node-monitor-period.
    grace_period: float = 50.0
    lease_renew_interval: float = 10.0
    controller_period: float = 5.0
    # Failures: a power-off every failure_spacing seconds, each tainted
    # out-of-service taint_delay seconds after it (after Ready=Unknown).
    first_failure_at: float = 5.0
    failure_spacing: float = 10.0
    taint_delay: float = 75.0
    # Upstream's [host] monitoring_interval and monitoring_samples, and
    # how long one of its cycles may take on top of the interval.
    upstream_interval: int = 60
    upstream_samples: int = 1
    upstream_cycle_allowance: float = 45.0
    # How long ours may wait on purpose before its first STOPPED: the storm
    # guard's [k8s] storm_settle_window (15 s by default).
    ours_settle_allowance: float = 15.0
    # 'production': ours-production instead of ours, its own BMCs, and no
    # operator taint (see .production). Its Redfish power-off, verified
    # Off, taint and NORMAL must fit in fence_allowance seconds after the
    # settle window.
    profile: str = 'default'
    bmc_power_delay: float = 1.0
    fence_allowance: float = 15.0
    # Measurement.
    sample_period: float = 0.25
    ready_timeout: float = 180.0
    stop_grace: float = 10.0
    drivers: tuple = DEFAULT_DRIVERS

    def __post_init__(self):
        if self.profile not in PROFILES:
            raise ValueError('profile must be one of %s, not %r'
                             % (', '.join(PROFILES), self.profile))
        if self.operator_taints and not self.taint_delay > self.unknown_after:
            raise ValueError(
                'taint_delay (%.0f s) must exceed the longest time to '
                'Ready=Unknown (%.0f s)'
                % (self.taint_delay, self.unknown_after))

    @property
    def unknown_after(self):
        """Longest time from power-off to Ready=Unknown."""
        return (self.grace_period + self.lease_renew_interval
                + self.controller_period)

    @property
    def operator_taints(self):
        """An operator taints failed hosts (not in the production run)."""
        return self.profile != 'production'

    @property
    def last_failure_at(self):
        """Latest power-off all drivers can still answer within the run."""
        upstream_last = (self.duration - self.unknown_after
                         - self.upstream_interval
                         - self.upstream_cycle_allowance)
        if not self.operator_taints:
            # Ours-production notices either the stale Lease (40 s after
            # the last renewal by default) or Ready=Unknown.
            detected = min(self.unknown_after,
                           production.DEFAULT_LEASE_STALE_AFTER
                           + self.lease_renew_interval)
            return min(upstream_last, self.duration - detected
                       - self.ours_settle_allowance - self.fence_allowance
                       - _REPORT_MARGIN)
        return min(upstream_last,
                   self.duration - self.unknown_after
                   - self.ours_settle_allowance - _REPORT_MARGIN,
                   self.duration - self.taint_delay - _REPORT_MARGIN)


class _Watched:
    """A driver process with its own API server, as observed over time."""

    def __init__(self, spec, process, server, *, is_ready):
        self.spec = spec
        self.name = spec.name
        self.process = process
        self.server = server
        self._is_ready = is_ready
        self.samples = []
        # (wall when first seen, RequestRecord, CPU seconds then)
        self.requests = []
        self.ready = None   # (wall, index into requests, cpu seconds)
        self.started_at = None

    def start(self, wall):
        self.started_at = wall
        self.process.start()

    def observe(self, wall):
        sample = self.process.sample(wall)
        if sample is not None:
            self.samples.append(sample)
        cpu = sample.cpu_seconds if sample is not None else None
        log = self.server.request_log
        for record in log[len(self.requests):]:
            self.requests.append((wall, record, cpu))
        if self.ready is None and sample is not None and self._is_ready(
                self):
            self.ready = (wall, len(self.requests), cpu)
        return sample

    def node_lists(self, until):
        """Indices of successful node LISTs first seen by ``until``."""
        return [index for index, (wall, record, _cpu)
                in enumerate(self.requests)
                if record.verb == 'list' and record.path == NODES_PATH
                and record.status == 200 and wall <= until]


def _upstream_ready(watched):
    return bool(watched.node_lists(until=float('inf')))


def _ours_ready(watched):
    return watched.server.open_watch_count() > 0


def _write_conf(path, sections):
    with open(path, 'w') as stream:
        for section, options in sections.items():
            stream.write('[%s]\n' % section)
            for key, value in options.items():
                stream.write('%s = %s\n' % (key, value))
            stream.write('\n')
    return path


class SizeRun:
    """Run :class:`RunSettings` once in ``workdir``; see :meth:`run`."""

    def __init__(self, settings, *, workdir, clock=None, log=print):
        self.settings = settings
        self.workdir = os.path.abspath(workdir)
        self.clock = clock or clocks.SystemClock()
        self._log = log
        self._stop_waiting = threading.Event()

    def say(self, message, *args):
        self._log(('[%d nodes] ' % self.settings.nodes) + message % args)

    def run(self):
        """Set up, measure, tear down; returns the results as a dict."""
        os.makedirs(self.workdir, exist_ok=True)
        cleanups = [gc.unfreeze]
        try:
            return self._run(cleanups)
        finally:
            for cleanup in reversed(cleanups):
                try:
                    cleanup()
                except Exception as exc:  # keep tearing down the rest
                    self.say('cleanup %r failed: %s', cleanup, exc)

    # -- set-up ------------------------------------------------------------

    def _start_masakaris(self, names, cleanups):
        """{driver name: (MasakariApi, segment)}, every node a host.

        Hosts are registered in parallel: each registration is a helper
        process writing one row at a time, some 18 s for 5,000 hosts.
        """
        apis = {}
        for spec in self.settings.drivers:
            api = test_masakari.MasakariApi(
                os.path.join(self._directory(spec), 'masakari'),
                clock=self.clock)
            api.start()
            cleanups.append(api.stop)
            apis[spec.name] = (api, api.create_segment('bench'))
        failures = []

        def register(api, segment):
            try:
                api.add_hosts(segment, names)
            except Exception as exc:
                failures.append(exc)

        threads = [threading.Thread(target=register, args=pair)
                   for pair in apis.values()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            raise failures[0]
        return apis

    def _start_cluster(self, cleanups):
        settings = self.settings
        store = test_store.ObjectStore(
            self.clock, history_limit=_HISTORY_BASE
            + _HISTORY_PER_NODE * settings.nodes)
        model = test_cluster.ClusterModel(
            store, self.clock, grace_period=settings.grace_period,
            lease_renew_interval=settings.lease_renew_interval,
            controller_period=settings.controller_period)
        cleanups.append(model.close)
        names = model.add_nodes(settings.nodes)
        return store, model, names

    def _start_server(self, store, token, rules, cleanups):
        server = test_server.KubeApiServer(
            store=store, clock=self.clock, tls=True, auth=True,
            request_log_size=_REQUEST_LOG_SIZE)
        server.add_token(token, user='bench-' + token, rules=rules)
        server.start()
        cleanups.append(server.stop)
        return server

    def _directory(self, spec):
        directory = os.path.join(self.workdir,
                                 re.sub(r'[^A-Za-z0-9_.-]', '_', spec.name))
        os.makedirs(directory, exist_ok=True)
        return directory

    def _upstream_process(self, spec, server, token, api_section):
        directory = self._directory(spec)
        account = upstream.write_service_account(
            os.path.join(directory, 'serviceaccount'), token=token,
            ca_file=server.ca_file)
        conf = _write_conf(os.path.join(directory, 'masakarimonitors.conf'), {
            'DEFAULT': {'debug': 'false', 'log_file': os.path.join(
                directory, 'hostmonitor.log')},
            'host': {'monitoring_driver': 'kubernetes',
                     'monitoring_interval': self.settings.upstream_interval,
                     'monitoring_samples': self.settings.upstream_samples},
            'api': api_section,
        })
        host, port = server.address
        env = dict(os.environ, KUBERNETES_SERVICE_HOST=host,
                   KUBERNETES_SERVICE_PORT=str(port))
        env[upstream.SERVICE_ACCOUNT_DIR_ENV] = account
        return processes.DriverProcess(
            spec.name,
            [sys.executable, '-m', upstream.__name__, '--config-file', conf],
            output_path=os.path.join(directory, 'output.log'), env=env)

    def _our_process(self, spec, server, token, api_section, *,
                     production_options=None):
        directory = self._directory(spec)
        kubeconfig = server.write_kubeconfig(
            os.path.join(directory, 'kubeconfig'), token=token)
        options = {'kubeconfig': kubeconfig}
        options.update(production_options or {})
        options.update(spec.options)
        conf = _write_conf(os.path.join(directory, 'masakarimonitors.conf'), {
            'DEFAULT': {'debug': 'false', 'log_file': os.path.join(
                directory, 'hostmonitor.log')},
            'host': {'monitoring_driver': 'k8s'},
            'k8s': options,
            'api': api_section,
        })
        env = {key: value for key, value in os.environ.items()
               if not key.startswith('KUBERNETES_SERVICE_')}
        # As the chart sets it: the leader election Lease's namespace.
        env['POD_NAMESPACE'] = production.NAMESPACE
        binary = os.path.join(os.path.dirname(sys.executable),
                              'masakari-hostmonitor')
        return processes.DriverProcess(
            spec.name, [binary, '--config-file', conf],
            output_path=os.path.join(directory, 'output.log'), env=env)

    # -- the run -----------------------------------------------------------

    def _run(self, cleanups):
        settings = self.settings
        begun = self.clock.monotonic()
        store, model, names = self._start_cluster(cleanups)
        # At once: kubelets' first renewals are due within one period of
        # their creation, and the controller would take a late start for
        # silence.
        model.start_realtime()
        self.say('%d nodes created; starting a masakari-api per driver and '
                 'registering every node as a host', len(names))
        masakaris = self._start_masakaris(names, cleanups)
        failures = scenario.plan_failures(
            names, duration=settings.duration,
            first_at=settings.first_failure_at,
            spacing=settings.failure_spacing,
            taint_delay=settings.taint_delay,
            last_at=settings.last_failure_at)
        fenced = self._start_production(names, failures, store, cleanups)

        recorders = {}
        watched = {}
        kinds = {scenario.UPSTREAM: (UPSTREAM_RULES, self._upstream_process,
                                     _upstream_ready),
                 scenario.OURS: (OUR_RULES, self._our_process, _ours_ready)}
        for index, spec in enumerate(settings.drivers):
            token = 'bench-token-%d' % index
            if spec.kind == scenario.OURS_PRODUCTION:
                setup = fenced[spec.name]
                rules, is_ready = setup.rules, _ours_ready
                make_process = functools.partial(
                    self._our_process, production_options=setup.options)
            else:
                rules, make_process, is_ready = kinds[spec.kind]
            server = self._start_server(store, token, rules, cleanups)
            masakari = masakaris[spec.name][0]
            recorder = recorder_mod.NotificationRecorder(
                masakari.root_url, clock=self.clock).start()
            cleanups.append(recorder.stop)
            recorders[spec.name] = recorder
            api_section = dict(masakari.masakarimonitors_conf_api_section(),
                               endpoint=recorder.root_url + '/v1')
            process = make_process(spec, server, token, api_section)
            watched[spec.name] = _Watched(spec, process, server,
                                          is_ready=is_ready)
        for item in watched.values():
            item.start(self.clock.wall())
            cleanups.append(lambda item=item: item.process.stop(
                grace=settings.stop_grace))
        self.say('drivers started (%s); waiting until all watch the '
                 'cluster', ', '.join('%s pid %d' % (name, item.process.pid)
                                      for name, item in watched.items()))
        self._wait_ready(watched)
        for item in watched.values():
            self.say('%s ready after %.1f s', item.name,
                     item.ready[0] - item.started_at)

        self.say('measuring for %.0f s; %d failures, one every %.0f s',
                 settings.duration, len(failures), settings.failure_spacing)
        apis = [api for api, _segment in masakaris.values()]
        machine_before = _machine_counters(apis)
        t0 = self.clock.wall()
        cluster_before = model.stats(reset_max_lag=True)
        self._measure(watched, model, failures, t0)
        t_end = self.clock.wall()
        bmc_cpu = {name: setup.bmcs.cpu_seconds()
                   for name, setup in fenced.items()}
        machine_after = _machine_counters(apis)
        peaks = {name: item.process.kernel_peak_rss()
                 for name, item in watched.items()}
        cluster_stats = model.stats()

        for item in watched.values():
            item.process.request_stop()
        exits = {name: item.process.stop(grace=settings.stop_grace)
                 for name, item in watched.items()}
        self._wait_streams_closed(watched)
        for item in watched.values():
            item.observe(self.clock.wall())

        timeline = [tuple(event) for event in model.events]
        signals = scenario.signal_times(failures, timeline)
        renewals = production.last_lease_renewals(
            store, [failure.node for failure in failures],
            test_nodes.parse_time) if fenced else {}
        drivers = {}
        for name, item in watched.items():
            answers = recorders[name].answers()
            score = scenario.score(item.spec.kind, failures=failures,
                                   signals=signals, answers=answers)
            drivers[name] = _driver_result(
                item, exits[name], peaks[name], score, answers,
                masakaris[name][0].notifications(), t0=t0, t_end=t_end,
                cycle_limit=(settings.upstream_interval
                             + settings.upstream_cycle_allowance))
            drivers[name]['latency'], fencing = _latency(
                item, failures, signals, answers, renewals,
                fenced.get(name), t0=t0)
            if fencing is not None:
                fencing['bmc_cpu_seconds'] = bmc_cpu[name]
                drivers[name]['fencing'] = fencing
        self.say('done in %.0f s', self.clock.monotonic() - begun)
        return {
            'nodes': settings.nodes,
            'started': _iso(t0),
            'settings': dataclasses.asdict(settings),
            'profile': settings.profile,
            'node_json_bytes_mean': _mean_node_bytes(store),
            # Over the measured period only: the model ran through the
            # set-up too.
            'cluster': {
                'lease_renewals_per_s': (
                    cluster_stats['lease-renewals']
                    - cluster_before['lease-renewals'])
                / max(t_end - t0, 1e-9),
                'status_reports': cluster_stats['status-reports']
                - cluster_before['status-reports'],
                'max_lag_s': cluster_stats['max-lag'],
                'max_lag_at_s': None if cluster_stats['max-lag-at'] is None
                else cluster_stats['max-lag-at'] - t0,
            },
            'machine': _machine_delta(
                machine_before, machine_after,
                driver_cpu=sum(_cpu_between(item.samples, t0, t_end)
                               for item in watched.values())),
            'failures': [_failure_record(failure, signals, t0)
                         for failure in failures],
            'drivers': drivers,
            'series': {name: _series(item.samples, t0)
                       for name, item in watched.items()},
        }

    def _wait_ready(self, watched):
        deadline = self.clock.monotonic() + self.settings.ready_timeout
        while not all(item.ready for item in watched.values()):
            wall = self.clock.wall()
            for item in watched.values():
                if item.observe(wall) is None and item.ready is None:
                    raise RuntimeError(
                        '%s exited before it was ready; see %s'
                        % (item.name, item.process.output_path))
            if self.clock.monotonic() > deadline:
                raise RuntimeError('drivers not ready after %.0f s'
                                   % self.settings.ready_timeout)
            _out_of_gc_sight()
            self._stop_waiting.wait(self.settings.sample_period)

    def _start_production(self, names, failures, store, cleanups):
        """{driver name: _Fenced} of the production drivers, BMCs up."""
        fenced = {}
        specs = [spec for spec in self.settings.drivers
                 if spec.kind == scenario.OURS_PRODUCTION]
        for index, spec in enumerate(specs):
            lease_name, taint_key = production.identity(index)
            bmcs = production.Bmcs(self._directory(spec), names,
                                   power_delay=self.settings.bmc_power_delay,
                                   clock=self.clock)
            cleanups.append(bmcs.stop)
            bmcs.start()
            options = dict(production.OPTIONS, **bmcs.options())
            options['leader_election_lease_name'] = lease_name
            if taint_key != production.STANDARD_TAINT:
                options['out_of_service_taint'] = taint_key
            fenced[spec.name] = _Fenced(
                bmcs=bmcs, taint_key=taint_key, options=options,
                rules=production.rules(lease_name),
                lease_stale_after=production.lease_stale_after(
                    spec.options))
            self.say('%s: Redfish emulator with %d systems at %s (power '
                     'delay %.1f s)', spec.name, len(names), bmcs.emulator.url,
                     self.settings.bmc_power_delay)
        if fenced:
            observer = production.TaintObserver(
                store, self.clock, [failure.node for failure in failures],
                [setup.taint_key for setup in fenced.values()]).start()
            cleanups.append(observer.stop)
            for setup in fenced.values():
                setup.taints = observer.first
        return fenced

    def _measure(self, watched, model, failures, t0):
        actions = [(failure.power_off_at, 0, model.power_off, failure.node)
                   for failure in failures]
        if self.settings.operator_taints:
            actions += [(failure.taint_at, 1, model.add_out_of_service_taint,
                         failure.node) for failure in failures]
        actions.sort()
        end = t0 + self.settings.duration
        while True:
            wall = self.clock.wall()
            while actions and t0 + actions[0][0] <= wall:
                _at, _order, act, node = actions.pop(0)
                act(node)
            for item in watched.values():
                item.observe(wall)
            if wall >= end:
                return
            next_due = min([end, wall + self.settings.sample_period]
                           + [t0 + action[0] for action in actions[:1]])
            _out_of_gc_sight()
            self._stop_waiting.wait(max(0.0, next_due - self.clock.wall()))

    def _wait_streams_closed(self, watched):
        deadline = self.clock.monotonic() + _STREAMS_END_TIMEOUT
        while any(item.server.open_watch_count()
                  for item in watched.values()):
            if self.clock.monotonic() > deadline:
                self.say('watch streams still open %.0f s after the '
                         'drivers stopped', _STREAMS_END_TIMEOUT)
                return
            self._stop_waiting.wait(0.05)


def _out_of_gc_sight():
    """Keep the garbage collector from pausing the cluster model.

    The object store's history holds about a million objects at 15,000
    nodes; every full collection walked them all, stopping every thread
    for up to a second, which the model showed as lateness. What has
    lived until now is moved out of the collector's sight (it is still
    freed by reference counting); :meth:`SizeRun.run` puts it back at the
    end.
    """
    gc.freeze()


@dataclasses.dataclass
class _Fenced:
    """A production driver's BMCs and identity, and what was observed."""

    bmcs: production.Bmcs
    taint_key: str
    options: dict
    rules: list
    lease_stale_after: float
    taints: dict = None


def _latency(item, failures, signals, answers, renewals, fenced, *, t0):
    """(the driver's ``latency`` block, its ``fencing`` block or None)."""
    fence_log = {}
    if fenced is not None:
        fence_log = production.fence_log_times(
            os.path.join(os.path.dirname(item.process.output_path),
                         'hostmonitor.log'))
    per_failure = []
    for failure in failures:
        node = failure.node
        power_off = signals.get((node, scenario.SIGNAL_POWER_OFF),
                                t0 + failure.power_off_at)
        per_failure.append(latency.stages_for(
            power_off, answers=answers, node=node,
            lease_renew=renewals.get(node) if fenced else None,
            lease_stale_after=fenced.lease_stale_after if fenced else None,
            ready_unknown=signals.get((node, scenario.SIGNAL_READY_UNKNOWN)),
            fence_log=fence_log.get(node),
            taint=(fenced.taints or {}).get((node, fenced.taint_key))
            if fenced else signals.get((node,
                                        scenario.SIGNAL_OUT_OF_SERVICE))))
    block = latency.breakdown(per_failure)
    block['per_failure'] = [
        dict(node=failure.node, **{stage: round(wall - stages[
            latency.POWER_OFF], 3) for stage, wall in stages.items()})
        for failure, stages in zip(failures, per_failure)]
    block['out_of_order'] = [
        [failure.node] + list(pair)
        for failure, stages in zip(failures, per_failure)
        for pair in latency.out_of_order(stages)]
    if fenced is None:
        return block, None
    failed = {failure.node for failure in failures}
    resets = fenced.bmcs.resets()
    return block, {
        'taint_key': fenced.taint_key,
        'emulator_resets': len(resets),
        'emulator_resets_of_failed_hosts': sorted(
            node for _wall, node, _status in resets if node in failed),
        'emulator_resets_of_other_hosts': sorted(
            node for _wall, node, _status in resets if node not in failed),
        'emulator_reset_statuses': sorted({status for _w, _n, status
                                           in resets}),
        # Whole seconds in the emulator's log against the driver's ms.
        'emulator_vs_driver_log_max_s': _log_agreement(resets, fence_log),
    }


def _log_agreement(resets, fence_log):
    gaps = [abs(wall - fence_log[node][latency.REDFISH_REQUEST])
            for wall, node, _status in resets
            if latency.REDFISH_REQUEST in fence_log.get(node, {})]
    return max(gaps) if gaps else None


def _driver_result(item, exit_info, kernel_peak, score, answers, stored, *,
                   t0, t_end, cycle_limit=float('inf')):
    """One driver's figures; ``cycle_limit``: upstream's longest cycle."""
    ready_wall, ready_index, ready_cpu = item.ready
    end_sample = max((sample for sample in item.samples
                      if sample.wall <= t_end),
                     key=lambda sample: sample.wall)
    lists = item.node_lists(until=t_end)
    fell_behind = False
    if item.spec.kind == scenario.UPSTREAM and len(lists) >= 2:
        first, last = lists[0], lists[-1]
        start_wall, _record, start_cpu = item.requests[first]
        end_wall, _record, end_cpu = item.requests[last]
        window = item.requests[first + 1:last + 1]
        method = 'whole polling cycles: first to last full LIST'
        if t_end - end_wall > cycle_limit:
            # Its last cycle outlasted interval + allowance and had not
            # ended: it fell behind, and was busy with that cycle until
            # the end. Whole cycles would leave that work out.
            fell_behind = True
            end_wall, end_cpu = end_sample.wall, end_sample.cpu_seconds
            window = item.requests[first + 1:]
            method = ('from its first full LIST to the end of the run: '
                      'its last cycle outlasted %.0f s and had not ended'
                      % cycle_limit)
    else:
        start_wall, start_cpu = ready_wall, ready_cpu
        end_wall, end_cpu = end_sample.wall, end_sample.cpu_seconds
        window = item.requests[ready_index:]
        method = 'from ready (watch open) to the end of the run'
    seconds = max(end_wall - start_wall, 1e-9)
    window_bytes = sum(record.bytes_sent for _w, record, _c in window)
    per_hour = 3600.0 / seconds
    stored_uuids = {entry['notification_uuid'] for entry in stored}
    accepted_uuids = {answer.notification_uuid for answer in answers
                      if answer.status == scenario.ACCEPTED}
    verbs = {}
    for _wall, record, _cpu in item.requests:
        verbs[record.verb] = verbs.get(record.verb, 0) + 1
    reads = sum(1 for _w, record, _c in window if record.verb in READ_VERBS)
    return {
        'kind': item.spec.kind,
        'options': dict(item.spec.options),
        'startup': {
            'seconds_to_ready': ready_wall - item.started_at,
            'cpu_seconds_to_ready': ready_cpu,
            'bytes_to_ready': sum(record.bytes_sent for _w, record, _c
                                  in item.requests[:ready_index]),
        },
        'window': {'method': method, 'seconds': seconds,
                   'start_s': start_wall - t0, 'end_s': end_wall - t0,
                   'node_lists': len(lists), 'fell_behind': fell_behind},
        'cpu_seconds': end_cpu - start_cpu,
        'cpu_seconds_per_hour': (end_cpu - start_cpu) * per_hour,
        'bytes': window_bytes,
        'bytes_per_hour': window_bytes * per_hour,
        'requests': len(window),
        'requests_per_hour': len(window) * per_hour,
        # Reads are the steady load on the API server; writes (ours: Node
        # Events) come with failures, so their rate is the benchmark's.
        'reads_per_hour': reads * per_hour,
        'writes': len(window) - reads,
        'requests_total_by_verb': verbs,
        'peak_rss_mib': (kernel_peak or 0) / MIB,
        'sampled_max_rss_mib': max(sample.rss_bytes
                                   for sample in item.samples) / MIB,
        'exit': {'returncode': exit_info.returncode,
                 'ended_early': exit_info.ended_early,
                 'stopped_on_sigterm': exit_info.stopped_on_sigterm,
                 'cpu_seconds_lifetime': exit_info.cpu_seconds},
        'notifications': dict(
            score.to_dict(), stored=len(stored_uuids & accepted_uuids),
            # Stored by masakari-api without a 202 seen by the recorder.
            unattributed=sorted(stored_uuids - accepted_uuids)),
    }


def _failure_record(failure, signals, t0):
    def relative(signal):
        wall = signals.get((failure.node, signal))
        return None if wall is None else wall - t0
    return {'node': failure.node, 'power_off_s': failure.power_off_at,
            'ready_unknown_s': relative(scenario.SIGNAL_READY_UNKNOWN),
            'out_of_service_s': relative(scenario.SIGNAL_OUT_OF_SERVICE)}


def _series(samples, t0):
    """Samples thinned to one per _SERIES_STEP: [[s, cpu s, rss MiB]]."""
    series = []
    next_at = None
    for sample in samples:
        at = sample.wall - t0
        if next_at is None or at >= next_at:
            series.append([round(at, 2), round(sample.cpu_seconds, 3),
                           round(sample.rss_bytes / MIB, 1)])
            next_at = at + _SERIES_STEP
    return series


def _mean_node_bytes(store):
    entries = store.list_page('nodes').entries
    if not entries:
        return 0
    return sum(len(entry.full()) for entry in entries) / len(entries)


def _machine_counters(masakari_apis):
    """CPU counters of the machine, this process and the masakari-apis."""
    masakari_cpu = 0.0
    for pid in [pid for api in masakari_apis for pid in api.pids]:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        masakari_cpu += times.user + times.system
    own = psutil.Process().cpu_times()
    system = psutil.cpu_times()
    return {'loadavg': os.getloadavg(),
            # guest time is already part of user time.
            'busy': (system.user + system.nice + system.system + system.irq
                     + system.softirq + system.steal),
            'benchmark': own.user + own.system,
            'masakari': masakari_cpu}


def _cpu_between(samples, start, end):
    inside = [sample for sample in samples if start <= sample.wall <= end]
    if not inside:
        return 0.0
    return inside[-1].cpu_seconds - inside[0].cpu_seconds


def _machine_delta(before, after, *, driver_cpu):
    busy = after['busy'] - before['busy']
    ours = (after['benchmark'] - before['benchmark']
            + after['masakari'] - before['masakari'])
    return {
        'loadavg_start': list(before['loadavg']),
        'loadavg_end': list(after['loadavg']),
        'cpu_busy_seconds': busy,
        'benchmark_process_cpu_seconds': after['benchmark']
        - before['benchmark'],
        'masakari_api_cpu_seconds': after['masakari'] - before['masakari'],
        'drivers_cpu_seconds': driver_cpu,
        # What other users of the machine took meanwhile.
        'other_cpu_seconds': busy - ours - driver_cpu,
    }


def _iso(wall):
    return datetime.datetime.fromtimestamp(
        wall, datetime.timezone.utc).isoformat(timespec='seconds')
