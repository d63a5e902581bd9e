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

"""``python -m masakarimonitors_k8s.bench``: the command line.

Part of the benchmark (:mod:`masakarimonitors_k8s.bench`). It runs each
cluster size in turn (:mod:`.runner`), then writes ``results.json``,
``results.png`` and the table (:mod:`.report`) into a new directory under
``--output-dir``, next to each size's logs. The defaults are the headline
configuration: 1,000 and 5,000 nodes, 300 s each, every option of both
drivers and of the simulated Kubernetes at its default. ``--profile
production`` runs upstream against ours in the production configuration
of values/production-ha.yaml instead (Redfish power-off, Lease watch,
leader election), with the dead host -> NORMAL latency broken down;
``--production-nodes`` adds such runs after the default ones, into the
same results (``tox -e bench-full``).
"""

import argparse
import datetime
import importlib.metadata
import os
import platform
import subprocess
import sys

import psutil

from masakarimonitors_k8s.bench import report
from masakarimonitors_k8s.bench import runner
from masakarimonitors_k8s.bench import scenario

DISTRIBUTIONS = ('masakari-monitors-k8s', 'masakari-monitors', 'masakari',
                 'kubernetes', 'openstacksdk', 'eventlet')
# Production runs added to default ones (--production-nodes): 13 failures
# from 45 s on, after the monitor's start-up (lease silence is counted
# anew at start, by design), each answered before the end.
PRODUCTION_DURATION = 340.0
PRODUCTION_FIRST_FAILURE_AT = 45.0


def parse_args(argv):
    defaults = runner.RunSettings(nodes=1)
    parser = argparse.ArgumentParser(
        prog='python -m masakarimonitors_k8s.bench',
        description='Upstream masakari-monitors kubernetes driver vs the '
                    'k8s driver: same cluster, same period, same failures.')
    parser.add_argument('--nodes', type=int, nargs='+', default=[1000, 5000],
                        help='cluster sizes, run in turn')
    parser.add_argument('--duration', type=float, nargs='+',
                        default=[defaults.duration],
                        help='measured seconds per size (one value for all '
                             'sizes, or one per size)')
    parser.add_argument('--profile', choices=runner.PROFILES,
                        default='default',
                        help='default: upstream and ours with their '
                             'defaults, an operator taints failed hosts; '
                             'production: upstream and ours with the '
                             '[k8s] options of values/production-ha.yaml, '
                             'fencing through a Redfish emulator, no '
                             'operator taint')
    parser.add_argument('--ours-variant', action='append', default=[],
                        metavar='KEY=VALUE[,KEY=VALUE]',
                        help='also run ours (ours-production with '
                             '--profile production) with these [k8s] '
                             'options, in the same run (repeatable)')
    parser.add_argument('--production-nodes', type=int, nargs='+',
                        default=[], metavar='NODES',
                        help='after the runs of --nodes, also run these '
                             'sizes with the production profile, into the '
                             'same results.json and chart')
    parser.add_argument('--production-variant', action='append',
                        default=[], metavar='KEY=VALUE[,KEY=VALUE]',
                        help='with --production-nodes: also run '
                             'ours-production with these [k8s] options '
                             '(repeatable)')
    parser.add_argument('--production-duration', type=float,
                        default=PRODUCTION_DURATION,
                        help='with --production-nodes: measured seconds '
                             'per size')
    parser.add_argument('--production-first-failure-at', type=float,
                        default=PRODUCTION_FIRST_FAILURE_AT,
                        help='with --production-nodes: seconds into the '
                             'run of the first power-off (after the '
                             'monitor\'s start-up, whose lease silence is '
                             'counted anew by design)')
    parser.add_argument('--bmc-power-delay', type=float,
                        default=defaults.bmc_power_delay,
                        help='production: seconds the Redfish emulator '
                             'takes to apply a power-off')
    parser.add_argument('--output-dir', default='bench-results')
    parser.add_argument('--no-chart', action='store_true',
                        help='skip the PNG (matplotlib not needed)')
    parser.add_argument('--report', metavar='RESULTS_JSON',
                        help='only print the table of an earlier run')
    tuning = parser.add_argument_group(
        'not the headline configuration', 'for quick runs of the harness')
    for option, help_text in (
            ('grace_period', 'node-monitor-grace-period (s)'),
            ('lease_renew_interval', 'kubelet lease renewal period (s)'),
            ('controller_period', 'node-monitor-period (s)'),
            ('failure_spacing', 'seconds between two power-offs'),
            ('first_failure_at', 'seconds into the run of the first'),
            ('taint_delay', 'seconds from power-off to out-of-service'),
            ('upstream_cycle_allowance',
             'seconds one upstream cycle may take beyond its interval')):
        tuning.add_argument('--' + option.replace('_', '-'), type=float,
                            default=getattr(defaults, option),
                            help=help_text)
    tuning.add_argument('--upstream-interval', type=int,
                        default=defaults.upstream_interval,
                        help="upstream's [host] monitoring_interval (s)")
    args = parser.parse_args(argv)
    if len(args.duration) not in (1, len(args.nodes)):
        parser.error('give one --duration, or one per --nodes value')
    production = args.profile == 'production'
    if production and args.production_nodes:
        parser.error('--production-nodes adds production runs to default '
                     'ones; with --profile production use --nodes')
    if args.production_variant and not args.production_nodes:
        parser.error('--production-variant needs --production-nodes')
    args.drivers = _drivers(parser, '--ours-variant', args.ours_variant,
                            production)
    args.production_drivers = _drivers(
        parser, '--production-variant', args.production_variant, True)
    return args


def _drivers(parser, option, variants, production):
    try:
        return (runner.PRODUCTION_DRIVERS if production
                else runner.DEFAULT_DRIVERS) + tuple(
            runner.DriverSpec.our_variant(
                text, scenario.OURS_PRODUCTION if production
                else scenario.OURS)
            for text in variants)
    except ValueError as exc:
        parser.error('%s: %s' % (option, exc))


def settings_for(args):
    durations = args.duration * len(args.nodes) \
        if len(args.duration) == 1 else args.duration
    shared = {name: getattr(args, name) for name in (
        'grace_period', 'lease_renew_interval', 'controller_period',
        'failure_spacing', 'first_failure_at', 'taint_delay',
        'upstream_cycle_allowance', 'upstream_interval', 'profile',
        'bmc_power_delay')}
    runs = [runner.RunSettings(nodes=nodes, duration=duration,
                               drivers=args.drivers, **shared)
            for nodes, duration in zip(args.nodes, durations)]
    shared.update(profile='production',
                  first_failure_at=args.production_first_failure_at)
    runs.extend(runner.RunSettings(nodes=nodes,
                                   duration=args.production_duration,
                                   drivers=args.production_drivers,
                                   **shared)
                for nodes in args.production_nodes)
    return runs


def workdir_name(settings):
    """n5000, or n5000-production for a production run."""
    suffix = '-production' if settings.profile == 'production' else ''
    return 'n%d%s' % (settings.nodes, suffix)


def describe_machine():
    model = ''
    try:
        with open('/proc/cpuinfo') as cpuinfo:
            for line in cpuinfo:
                if line.startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return {'cpu_model': model or platform.processor(),
            'logical_cpus': os.cpu_count(),
            'memory_gib': round(psutil.virtual_memory().total / 2 ** 30, 1),
            'os': platform.platform(),
            'python': platform.python_version(),
            'loadavg_before': list(os.getloadavg())}


def versions():
    found = {}
    for name in DISTRIBUTIONS:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def source_revision():
    """The checkout's commit (+ "-dirty" if changed), from a git tree."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        commit = subprocess.run(
            ['git', 'rev-parse', '--short', 'HEAD'], capture_output=True,
            text=True, check=True, timeout=10, cwd=here).stdout.strip()
        changed = subprocess.run(
            ['git', 'status', '--porcelain', '--untracked-files=no'],
            capture_output=True, text=True, check=True, timeout=10,
            cwd=here).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ('-dirty' if changed else '')


def fell_behind(driver):
    """Whether upstream's polling cycle outlasted the run.

    It never finished a second cycle, or its last one had run longer than
    its interval plus the allowance when the run ended. Then its silence
    is its result (at 15,000 nodes one cycle takes minutes), not a fault
    of the harness.
    """
    window = driver['window']
    return (driver['kind'] == scenario.UPSTREAM
            and (window['node_lists'] < 2
                 or bool(window.get('fell_behind'))))


def slow_drivers(results):
    """Lines for the table: drivers whose cycle outlasted the run."""
    return ['%d nodes: %s finished %d full LIST(s) in the run, the last '
            'cycle unfinished: it fell behind its own interval and '
            'reported %d of %d failures'
            % (run['nodes'], name, driver['window']['node_lists'],
               driver['notifications']['accepted'], len(run['failures']))
            for run in results['runs']
            for name, driver in run['drivers'].items()
            if fell_behind(driver)]


def harness_failures(results):
    """What says the harness, not a driver's performance, went wrong."""
    problems = []
    for run in results['runs']:
        for name, driver in run['drivers'].items():
            notifications = driver['notifications']
            if driver['exit']['ended_early']:
                problems.append('%d nodes: %s ended before the end of the '
                                'run' % (run['nodes'], name))
            if not notifications['accepted'] and not fell_behind(driver):
                problems.append('%d nodes: %s had no notification accepted'
                                % (run['nodes'], name))
            if notifications['unsignalled']:
                problems.append('%d nodes: signals never came for %s'
                                % (run['nodes'],
                                   notifications['unsignalled']))
            problems.extend('%d nodes: %s: %s' % (run['nodes'], name,
                                                  problem)
                            for problem in fencing_problems(run, driver))
            if notifications['unattributed']:
                problems.append('%d nodes: %s\'s masakari-api stored '
                                'notifications the recorder never saw '
                                'accepted: %s' % (run['nodes'], name,
                                                  notifications[
                                                      'unattributed']))
    return problems


def fencing_problems(run, driver):
    """What the production harness saw go wrong for one driver."""
    fencing = driver.get('fencing')
    if fencing is None:
        return []
    problems = []
    failed = sorted(failure['node'] for failure in run['failures'])
    if fencing['emulator_resets_of_other_hosts']:
        problems.append('the BMC powered off hosts that never failed: %s'
                        % fencing['emulator_resets_of_other_hosts'])
    if fencing['emulator_resets_of_failed_hosts'] != failed:
        problems.append('Redfish power-offs %s, failed hosts %s'
                        % (fencing['emulator_resets_of_failed_hosts'],
                           failed))
    if driver['latency']['out_of_order']:
        problems.append('stages out of order: %s'
                        % driver['latency']['out_of_order'])
    return problems


def _variant_description(spec):
    return '%s with [k8s] %s' % (spec.kind, ', '.join(
        '%s = %s' % option for option in spec.options))


def _production_description(args):
    options = ', '.join('%s = %s' % option
                        for option in runner.production.OPTIONS)
    return ('[host] monitoring_driver = k8s, [k8s] %s (the options of '
            'values/production-ha.yaml but node_selector); a sushy-tools '
            'Redfish emulator (fake driver, HTTPS, basic auth, power delay '
            '%g s) with one system per node; no operator taint'
            % (options, args.bmc_power_delay))


def run(args):
    started = datetime.datetime.now(datetime.timezone.utc)
    directory = os.path.join(args.output_dir,
                             started.strftime('%Y%m%dT%H%M%SZ'))
    os.makedirs(directory, exist_ok=True)
    runs = settings_for(args)
    results = {
        'benchmark': 'masakari-monitors kubernetes driver (upstream) vs '
                     'masakari-monitors-k8s k8s driver (ours)',
        'date': started.isoformat(timespec='seconds'),
        'command': ' '.join(['python -m masakarimonitors_k8s.bench']
                            + sys.argv[1:]),
        'mode': 'both drivers at once, each in its own process',
        'drivers': {
            scenario.UPSTREAM: '[host] monitoring_driver = kubernetes, '
                               'monitoring_interval = %d, monitoring_samples'
                               ' = %d; in-cluster configuration'
                               % (args.upstream_interval,
                                  runner.RunSettings(nodes=1)
                                  .upstream_samples),
            scenario.OURS: '[host] monitoring_driver = k8s, [k8s] defaults '
                           '(fencing = taint), kubeconfig',
            scenario.OURS_PRODUCTION: _production_description(args),
        },
        'profiles': sorted({settings.profile for settings in runs}),
        'variants': {spec.name: _variant_description(spec)
                     for spec in args.drivers + args.production_drivers
                     if spec.options},
        'machine': describe_machine(),
        'versions': versions(),
        'revision': source_revision(),
        'runs': [],
    }
    for settings in runs:
        results['runs'].append(runner.SizeRun(
            settings, workdir=os.path.join(directory,
                                           workdir_name(settings)),
            log=lambda line: print(line, flush=True)).run())
    results['machine']['loadavg_after'] = list(os.getloadavg())
    results['seconds'] = (datetime.datetime.now(datetime.timezone.utc)
                          - started).total_seconds()
    report.add_verdicts(results)
    json_path = report.write_json(results,
                                  os.path.join(directory, 'results.json'))
    print()
    print(report.table(results))
    print('results: %s' % json_path)
    if not args.no_chart:
        print('chart:   %s' % report.write_chart(
            results, os.path.join(directory, 'results.png')))
    for line in slow_drivers(results):
        print('RESULT: %s' % line)
    problems = harness_failures(results)
    for problem in problems:
        print('HARNESS PROBLEM: %s' % problem)
    return 1 if problems else 0


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.report:
        print(report.table(report.read_json(args.report)))
        return 0
    return run(args)
