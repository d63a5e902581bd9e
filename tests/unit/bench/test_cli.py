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

"""Upstream falling behind is a result; a silent driver otherwise is not."""

import pytest

from masakarimonitors_k8s.bench import cli
from masakarimonitors_k8s.bench import report
from masakarimonitors_k8s.bench import scenario


def driver(kind, *, node_lists, accepted):
    return {'kind': kind, 'options': {},
            'window': {'node_lists': node_lists},
            'exit': {'ended_early': False},
            'notifications': {'accepted': accepted, 'unsignalled': [],
                              'unattributed': []}}


def results(**drivers):
    return {'runs': [{'nodes': 15000, 'failures': [{}] * 13,
                      'drivers': drivers}]}


def test_upstream_without_a_second_cycle_is_a_result_not_a_problem():
    run = results(upstream=driver(scenario.UPSTREAM, node_lists=1,
                                  accepted=0),
                  ours=driver(scenario.OURS, node_lists=1, accepted=26))
    assert cli.harness_failures(run) == []
    assert cli.slow_drivers(run) == [
        '15000 nodes: upstream finished 1 full LIST(s) in the run, the '
        'last cycle unfinished: it fell behind its own interval and '
        'reported 0 of 13 failures']


def test_upstream_whose_last_cycle_outlasted_its_limit_fell_behind():
    upstream = driver(scenario.UPSTREAM, node_lists=2, accepted=0)
    upstream['window']['fell_behind'] = True
    run = results(upstream=upstream,
                  ours=driver(scenario.OURS, node_lists=1, accepted=26))
    assert cli.harness_failures(run) == []
    assert len(cli.slow_drivers(run)) == 1


def test_a_silent_driver_that_kept_its_cycle_is_a_harness_problem():
    run = results(upstream=driver(scenario.UPSTREAM, node_lists=5,
                                  accepted=0),
                  ours=driver(scenario.OURS, node_lists=1, accepted=0))
    assert cli.harness_failures(run) == [
        '15000 nodes: upstream had no notification accepted',
        '15000 nodes: ours had no notification accepted']
    assert cli.slow_drivers(run) == []


def test_production_runs_follow_the_default_ones_in_one_invocation():
    args = cli.parse_args(['--nodes', '1000', '15000',
                           '--ours-variant', 'storm_settle_window=0',
                           '--production-nodes', '5000',
                           '--production-variant', 'lease_stale_after=20'])
    runs = cli.settings_for(args)

    assert [(run.nodes, run.profile) for run in runs] == [
        (1000, 'default'), (15000, 'default'), (5000, 'production')]
    production = runs[-1]
    assert production.duration == cli.PRODUCTION_DURATION
    assert production.first_failure_at == cli.PRODUCTION_FIRST_FAILURE_AT
    assert [spec.name for spec in production.drivers] == [
        scenario.UPSTREAM, scenario.OURS_PRODUCTION,
        'ours-production[lease_stale_after=20]']
    assert [spec.name for spec in runs[0].drivers] == [
        scenario.UPSTREAM, scenario.OURS, 'ours[storm_settle_window=0]']
    assert [cli.workdir_name(run) for run in runs] == [
        'n1000', 'n15000', 'n5000-production']


@pytest.mark.parametrize('argv, message', [
    (['--profile', 'production', '--production-nodes', '50'],
     '--production-nodes adds production runs'),
    (['--production-variant', 'lease_stale_after=20'],
     '--production-variant needs --production-nodes'),
    (['--production-nodes', '50', '--production-variant', 'nonsense'],
     '--production-variant: '),
])
def test_production_options_that_do_not_fit_are_refused(argv, message,
                                                        capsys):
    with pytest.raises(SystemExit) as exited:
        cli.parse_args(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def _judged(nodes, profile):
    run = {'nodes': nodes, 'profile': profile, 'drivers': {
        scenario.UPSTREAM: {'cpu_seconds_per_hour': 600.0,
                            'bytes_per_hour': 4e9, 'reads_per_hour': 60.0,
                            'peak_rss_mib': 700.0,
                            'notifications': {'latency_all_s': {
                                'p50': 30.0, 'p99': 60.0}}},
        scenario.OURS: {'cpu_seconds_per_hour': 10.0, 'bytes_per_hour': 8e8,
                        'reads_per_hour': 1.0, 'peak_rss_mib': 120.0,
                        'notifications': {'latency_all_s': {
                            'p50': 0.1, 'p99': 0.2}}}}}
    report.add_verdicts({'runs': [run]})
    return {target['target'] for target in run['targets']
            if target['judged']}


def test_each_target_is_judged_on_its_own_size_and_profile():
    cpu, size, rss, p99, normal = (target.description
                                   for target in report.TARGETS)
    assert p99 == 'our taint -> STOPPED/NORMAL p99 <= 1 s'
    assert _judged(5000, 'default') == {cpu, size, p99}
    assert _judged(15000, 'default') == {rss}
    assert _judged(5000, 'production') == {normal}
    assert _judged(1000, 'default') == set()
    # Results from before profiles were recorded per run: default.
    assert _judged(5000, None) == {cpu, size, p99}
