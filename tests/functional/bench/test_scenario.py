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

"""The rules by which the benchmark judges drivers (pure, no I/O).

These sit next to the smoke run because they belong to the benchmark; they
need neither HTTP nor processes (a tests/unit/bench home would suit them
as well). The smoke run shows the rules accept a correct run; these show
they catch a wrong one: a notification for a healthy host, a repeat, a
missed host, a rejected one.
"""

import pytest

from masakarimonitors_k8s.bench import recorder
from masakarimonitors_k8s.bench import report
from masakarimonitors_k8s.bench import runner
from masakarimonitors_k8s.bench import scenario

NAMES = ['compute-%04d' % index for index in range(1, 101)]
UNKNOWN = scenario.SIGNAL_READY_UNKNOWN
TAINT = scenario.SIGNAL_OUT_OF_SERVICE


def answer(node, host_status, wall, *, event='STOPPED', status=202):
    return recorder.Answer(wall=wall, status=status, hostname=node,
                           event=event, host_status=host_status,
                           notification_uuid='uuid-%s-%s' % (node, wall))


def test_failures_are_spaced_spread_and_tainted_after_power_off():
    failures = scenario.plan_failures(NAMES, duration=300, first_at=5,
                                      spacing=10, taint_delay=75,
                                      last_at=150)
    assert [f.power_off_at for f in failures] == list(range(5, 151, 10))
    assert all(f.taint_at == f.power_off_at + 75 for f in failures)
    nodes = [f.node for f in failures]
    assert len(set(nodes)) == len(nodes) == 15
    assert nodes[0] != NAMES[0] and nodes[-1] != NAMES[-1]
    assert nodes == sorted(nodes)


def test_a_run_too_short_for_any_failure_is_refused():
    with pytest.raises(ValueError, match='no failure fits'):
        scenario.plan_failures(NAMES, duration=60, first_at=5, spacing=10,
                               taint_delay=75, last_at=-20)


def test_more_failures_than_nodes_are_refused():
    with pytest.raises(ValueError, match='3 failures planned for 2'):
        scenario.plan_failures(NAMES[:2], duration=300, first_at=5,
                               spacing=10, taint_delay=75, last_at=25)


def test_signal_times_are_the_first_of_each_kind_for_failed_nodes():
    failures = [scenario.Failure('compute-0001', 0, 75)]
    taint = scenario.TIMELINE_KINDS[TAINT]
    timeline = [('power-off', 'compute-0001', 1.0),
                ('ready-unknown', 'compute-0002', 50.0),
                ('ready-unknown', 'compute-0001', 55.0),
                ('ready-unknown', 'compute-0001', 99.0),
                (taint, 'compute-0001', 76.0)]
    assert scenario.signal_times(failures, timeline) == {
        ('compute-0001', scenario.SIGNAL_POWER_OFF): 1.0,
        ('compute-0001', UNKNOWN): 55.0, ('compute-0001', TAINT): 76.0}


@pytest.mark.parametrize('values,fraction,expected', [
    ([], 0.5, None),
    ([3.0], 0.99, 3.0),
    ([1.0, 2.0, 3.0, 4.0], 0.5, 2.0),
    ([5.0, 1.0, 4.0, 2.0, 3.0], 0.99, 5.0),
    (list(range(1, 201)), 0.99, 198),
])
def test_percentile_is_nearest_rank(values, fraction, expected):
    assert scenario.percentile(values, fraction) == expected


FAILED = [scenario.Failure('compute-0001', 0, 75),
          scenario.Failure('compute-0002', 10, 85)]
SIGNALS = {('compute-0001', UNKNOWN): 55.0, ('compute-0001', TAINT): 75.0,
           ('compute-0002', UNKNOWN): 62.0, ('compute-0002', TAINT): 85.0}


def test_upstream_answering_each_failure_once_scores_clean():
    score = scenario.score(scenario.UPSTREAM, failures=FAILED,
                           signals=SIGNALS, answers=[
                               answer('compute-0002', 'NORMAL', 90.0),
                               answer('compute-0001', 'NORMAL', 70.0)])
    assert (score.missed, score.spurious, score.rejected) == ([], [], [])
    assert score.expected == score.accepted == 2
    assert sorted(score.latencies[
        'Ready=Unknown -> STOPPED/NORMAL']) == [15.0, 28.0]


def test_healthy_hosts_repeats_and_other_events_are_spurious():
    score = scenario.score(scenario.UPSTREAM, failures=FAILED,
                           signals=SIGNALS, answers=[
                               answer('compute-0001', 'NORMAL', 70.0),
                               answer('compute-0001', 'NORMAL', 130.0),
                               answer('compute-0050', 'NORMAL', 71.0),
                               answer('compute-0002', 'UNKNOWN', 72.0),
                               answer('compute-0002', 'NORMAL', 73.0,
                                      event='STARTED')])
    assert [(node, what) for node, what, _wall in score.spurious] == [
        ('compute-0050', 'STOPPED/NORMAL'),
        ('compute-0002', 'STOPPED/UNKNOWN'),
        ('compute-0002', 'STARTED/NORMAL'),
        ('compute-0001', 'STOPPED/NORMAL')]
    assert score.missed == [('compute-0002',
                             'Ready=Unknown -> STOPPED/NORMAL')]


def test_rejected_answers_do_not_count_as_reports():
    score = scenario.score(scenario.UPSTREAM, failures=FAILED[:1],
                           signals=SIGNALS, answers=[
                               answer('compute-0001', 'NORMAL', 70.0,
                                      status=409)])
    assert score.accepted == 0
    assert score.rejected == [('compute-0001', 'STOPPED/NORMAL', 409)]
    assert score.missed == [('compute-0001',
                             'Ready=Unknown -> STOPPED/NORMAL')]


def test_ours_unknown_then_normal_answers_both_signals():
    score = scenario.score(scenario.OURS, failures=FAILED[:1],
                           signals=SIGNALS, answers=[
                               answer('compute-0001', 'UNKNOWN', 55.5),
                               answer('compute-0001', 'NORMAL', 75.25)])
    assert score.latencies == {
        'Ready=Unknown -> STOPPED/*': [0.5],
        'out-of-service taint -> STOPPED/NORMAL': [0.25]}
    assert (score.missed, score.spurious) == ([], [])


def test_ours_normal_alone_answers_both_when_the_taint_came_first():
    # The taint arrived while the first STOPPED was still held back.
    score = scenario.score(scenario.OURS, failures=FAILED[:1],
                           signals=SIGNALS, answers=[
                               answer('compute-0001', 'NORMAL', 80.0)])
    assert score.latencies == {
        'Ready=Unknown -> STOPPED/*': [25.0],
        'out-of-service taint -> STOPPED/NORMAL': [5.0]}
    assert score.missed == []


def test_ours_unknown_alone_misses_the_fenced_report():
    score = scenario.score(scenario.OURS, failures=FAILED[:1],
                           signals=SIGNALS, answers=[
                               answer('compute-0001', 'UNKNOWN', 56.0)])
    assert score.missed == [('compute-0001',
                             'out-of-service taint -> STOPPED/NORMAL')]


def test_a_report_without_its_signal_is_spurious_and_a_silence_is_not():
    score = scenario.score(scenario.OURS, failures=FAILED, signals={
        ('compute-0001', UNKNOWN): 55.0}, answers=[
            answer('compute-0001', 'UNKNOWN', 56.0),
            answer('compute-0001', 'NORMAL', 57.0)])
    assert [item[:2] for item in score.spurious] == [
        ('compute-0001', 'out-of-service taint -> STOPPED/NORMAL')]
    assert score.unsignalled == [
        ('compute-0002', 'Ready=Unknown -> STOPPED/*'),
        ('compute-0002', 'out-of-service taint -> STOPPED/NORMAL')]
    assert score.missed == []


def test_answers_are_read_from_the_bodies_masakari_exchanged():
    request = (b'{"notification": {"type": "COMPUTE_HOST", "hostname": '
               b'"compute-0001", "generated_time": "2026-01-01T00:00:00", '
               b'"payload": {"event": "STOPPED", "host_status": "UNKNOWN", '
               b'"cluster_status": "OFFLINE"}}}')
    response = b'{"notification": {"notification_uuid": "abc"}}'
    assert recorder.answer_from(1.5, 202, request, response) == \
        recorder.Answer(1.5, 202, 'compute-0001', 'STOPPED', 'UNKNOWN',
                        'abc')
    assert recorder.answer_from(2.0, 400, b'not json', b'') == \
        recorder.Answer(2.0, 400, '', '', '', '')


def test_variants_of_ours_are_named_after_their_options():
    spec = runner.DriverSpec.our_variant('storm_settle_window=0,x = y')
    assert spec.name == 'ours[storm_settle_window=0,x = y]'
    assert spec.kind == scenario.OURS
    assert spec.options == (('storm_settle_window', '0'), ('x', 'y'))
    with pytest.raises(ValueError):
        runner.DriverSpec.our_variant('storm_settle_window')


def test_the_last_failure_leaves_every_driver_time_to_answer():
    settings = runner.RunSettings(nodes=5000, duration=300)
    # Ready=Unknown up to 65 s after power-off, then upstream's 60 s
    # interval plus up to 45 s for its cycle.
    assert settings.last_failure_at == 300 - 65 - 60 - 45
    with pytest.raises(ValueError, match='taint_delay'):
        runner.RunSettings(nodes=10, taint_delay=60)


def _run(nodes, *, upstream, ours):
    def driver(cpu, size, rss, p99):
        return {'cpu_seconds_per_hour': cpu, 'bytes_per_hour': size,
                'reads_per_hour': 60.0, 'peak_rss_mib': rss,
                'notifications': {
                    'latency_all_s': {'p50': p99 / 2, 'p99': p99},
                    'latency_s': {report.EVIDENCE_LABEL: {'p50': p99 / 2,
                                                          'p99': p99}}}}
    return {'nodes': nodes, 'drivers': {scenario.UPSTREAM: driver(*upstream),
                                        scenario.OURS: driver(*ours)}}


def test_targets_are_judged_on_ratios_and_absolute_limits():
    met = _run(5000, upstream=(600.0, 4e9, 700.0, 60.0),
               ours=(10.0, 8e8, 120.0, 0.2))
    # No dead host -> NORMAL latency in these results: n/a, not missed.
    assert [verdict for _t, _v, verdict in report.judge(met)] == [
        True, True, True, True, None]
    missed = _run(5000, upstream=(600.0, 4e9, 700.0, 60.0),
                  ours=(40.0, 1.2e9, 160.0, 15.0))
    judged = {target.name: (value, verdict)
              for target, value, verdict in report.judge(missed)}
    assert judged['cpu_ratio'] == (pytest.approx(1 / 15), False)
    assert judged['bytes_ratio'] == (pytest.approx(0.3), False)
    assert judged['ours_peak_rss_mib'] == (160.0, False)
    assert judged['ours_p99_s'] == (15.0, False)


def test_the_production_profile_has_no_operator_taint_to_wait_for():
    settings = runner.RunSettings(nodes=5000, duration=300,
                                  profile='production', taint_delay=0)
    assert not settings.operator_taints
    # Upstream is still the slowest to answer a power-off.
    assert settings.last_failure_at == 300 - 65 - 60 - 45
    short = runner.RunSettings(nodes=50, duration=65, profile='production',
                               grace_period=4, lease_renew_interval=1,
                               controller_period=1, upstream_interval=5,
                               upstream_cycle_allowance=5)
    # Ready=Unknown after 6 s, the 15 s settle window, 15 s to fence.
    assert short.last_failure_at == 65 - 6 - 15 - 15 - 10
    with pytest.raises(ValueError, match='profile'):
        runner.RunSettings(nodes=10, profile='fast')


def test_a_production_variant_is_of_the_production_kind():
    spec = runner.DriverSpec.our_variant('lease_stale_after=20',
                                         scenario.OURS_PRODUCTION)
    assert spec.name == 'ours-production[lease_stale_after=20]'
    assert spec.kind == scenario.OURS_PRODUCTION
    assert spec.options == (('lease_stale_after', '20'),)
