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

"""The benchmark's harness, run small and fast (CI smoke check).

``python -m masakarimonitors_k8s.bench`` at 200 nodes for 50 s, with the
cluster's and upstream's periods shortened so that failures, Ready=Unknown
and upstream's polling all fit, then (``--production-nodes``) the
production profile at 50 nodes for 65 s, into one results.json. It checks
the harness, not performance: no assertion here is about time or cost
figures beyond "measured". Both drivers must have reported every failure,
and nothing else, since a harness that loses or invents notifications
makes every figure wrong.

In the production run ours-production must fence each failed host through
the Redfish emulator exactly once, no other, and report each NORMAL after
its own fence; the stages it is timed by must come in causal order.
"""

import pytest

from masakarimonitors_k8s.bench import cli
from masakarimonitors_k8s.bench import latency
from masakarimonitors_k8s.bench import report
from masakarimonitors_k8s.bench import scenario

# Both runs happen in the first test's fixture: about 3 minutes on an idle
# machine, twice that under a CI's load.
pytestmark = pytest.mark.timeout(900)

QUICK_RUN = ['--nodes', '200', '--duration', '50',
             '--grace-period', '4', '--lease-renew-interval', '1',
             '--controller-period', '1', '--taint-delay', '8',
             '--upstream-interval', '5', '--upstream-cycle-allowance', '5',
             '--failure-spacing', '5',
             '--production-nodes', '50', '--production-duration', '65',
             '--production-first-failure-at', '5', '--no-chart']
DRIVER_FIELDS = ('kind', 'startup', 'window', 'cpu_seconds',
                 'cpu_seconds_per_hour', 'bytes', 'bytes_per_hour',
                 'requests', 'requests_per_hour', 'reads_per_hour', 'writes',
                 'requests_total_by_verb',
                 'peak_rss_mib', 'sampled_max_rss_mib', 'exit',
                 'notifications')


def run_bench(tmp_path_factory, name, argv):
    output = tmp_path_factory.mktemp(name)
    code = cli.main(argv + ['--output-dir', str(output)])
    [results_path] = output.glob('*/results.json')
    return code, report.read_json(results_path), results_path


@pytest.fixture(scope='module')
def bench_run(tmp_path_factory):
    return run_bench(tmp_path_factory, 'bench-results', QUICK_RUN)


def only_run(results, profile='default'):
    [run] = [run for run in results['runs'] if run['profile'] == profile]
    return run


def test_the_harness_saw_no_problem(bench_run):
    code, results, _path = bench_run
    assert cli.harness_failures(results) == []
    assert code == 0


def test_results_describe_machine_versions_and_every_driver(bench_run):
    _code, results, _path = bench_run
    assert results['machine']['logical_cpus'] >= 1
    assert results['versions']['masakari-monitors']
    assert results['versions']['kubernetes']
    run = only_run(results)
    assert run['nodes'] == 200
    assert set(run['drivers']) == {scenario.UPSTREAM, scenario.OURS}
    for driver in run['drivers'].values():
        assert set(DRIVER_FIELDS) <= set(driver)
    assert {item['target'] for item in run['targets']} == {
        target.description for target in report.TARGETS}


def test_each_driver_reported_every_failure_once_and_nothing_else(
        bench_run):
    _code, results, _path = bench_run
    run = only_run(results)
    failed = {failure['node'] for failure in run['failures']}
    assert len(failed) == 3
    for name, driver in run['drivers'].items():
        notifications = driver['notifications']
        assert notifications['missed'] == [], name
        assert notifications['spurious'] == [], name
        assert notifications['unattributed'] == [], name
        assert notifications['expected'] == len(failed) * len(
            scenario.EXPECTATIONS[driver['kind']])
        # Each expectation has one latency per failed host.
        for summary in notifications['latency_s'].values():
            assert summary['n'] == len(failed)
        assert notifications['stored'] == notifications['accepted'] >= len(
            failed)


def test_signals_came_in_the_planned_order(bench_run):
    _code, results, _path = bench_run
    for failure in only_run(results)['failures']:
        assert failure['power_off_s'] < failure['ready_unknown_s'] \
            < failure['out_of_service_s']


def test_costs_were_measured_from_each_process_and_server(bench_run):
    _code, results, _path = bench_run
    run = only_run(results)
    upstream = run['drivers'][scenario.UPSTREAM]
    ours = run['drivers'][scenario.OURS]
    for driver in (upstream, ours):
        assert driver['cpu_seconds_per_hour'] > 0
        assert driver['bytes_per_hour'] > 0
        assert driver['peak_rss_mib'] > 0
        assert driver['exit']['ended_early'] is False
    # Upstream only polls: rates over whole cycles, each a full LIST.
    assert set(upstream['requests_total_by_verb']) == {'list'}
    assert upstream['window']['node_lists'] >= 2
    # Ours lists, then watches.
    assert ours['requests_total_by_verb']['watch'] >= 1


def test_the_table_is_rebuilt_from_the_json_alone(bench_run, capsys):
    _code, _results, path = bench_run
    assert cli.main(['--report', str(path)]) == 0
    table = capsys.readouterr().out
    assert 'CPU seconds per hour' in table
    assert '200 nodes' in table
    # The production run's rows, from the same file.
    assert 'dead host -> NORMAL accepted' in table
    assert 'Redfish power-off sent' in table


def production_of(results):
    return only_run(results, 'production')


def test_bench_run_saw_no_harness_problem(bench_run):
    code, results, _path = bench_run
    assert cli.harness_failures(results) == []
    assert code == 0
    assert [run['profile'] for run in results['runs']] == [
        'default', 'production']
    run = production_of(results)
    assert set(run['drivers']) == {scenario.UPSTREAM,
                                   scenario.OURS_PRODUCTION}
    assert results['profiles'] == ['default', 'production']


def test_production_every_failure_answered_with_normal(bench_run):
    _code, results, _path = bench_run
    run = production_of(results)
    failed = sorted(failure['node'] for failure in run['failures'])
    assert len(failed) == 3
    for name, driver in run['drivers'].items():
        notifications = driver['notifications']
        assert notifications['missed'] == [], name
        assert notifications['spurious'] == [], name
        normal = [entry['node'] for entry in driver['latency']['per_failure']
                  if latency.NORMAL in entry]
        assert sorted(normal) == failed, name
        assert driver['latency']['n'] == len(failed)
        assert driver['latency']['p50'] is not None
    # No operator tainted anything: the only taints are ours-production's,
    # written through its API server, never by the cluster model.
    assert all(failure['out_of_service_s'] is None
               for failure in run['failures'])


def test_production_fenced_each_failed_host_once_and_no_other(
        bench_run):
    _code, results, _path = bench_run
    run = production_of(results)
    failed = sorted(failure['node'] for failure in run['failures'])
    fencing = run['drivers'][scenario.OURS_PRODUCTION]['fencing']
    assert fencing['emulator_resets_of_failed_hosts'] == failed
    assert fencing['emulator_resets_of_other_hosts'] == []
    assert fencing['emulator_reset_statuses'] == [204]
    assert 'fencing' not in run['drivers'][scenario.UPSTREAM]


def test_production_stages_come_in_causal_order(bench_run):
    _code, results, _path = bench_run
    ours = production_of(results)['drivers'][scenario.OURS_PRODUCTION]
    assert ours['latency']['out_of_order'] == []
    for entry in ours['latency']['per_failure']:
        detected = min(entry[latency.LEASE_STALE],
                       entry[latency.READY_UNKNOWN])
        assert entry[latency.POWER_OFF] == 0.0
        assert 0.0 <= detected <= entry[latency.REDFISH_REQUEST] \
            <= entry[latency.VERIFIED_OFF] <= entry[latency.TAINT] \
            <= entry[latency.NORMAL], entry
