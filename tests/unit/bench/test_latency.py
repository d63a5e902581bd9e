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

"""Dead host -> NORMAL: stages per host, their breakdown, the log readers."""

import pytest

from masakarimonitors_k8s.bench import latency
from masakarimonitors_k8s.bench import production
from masakarimonitors_k8s.bench import recorder
from masakarimonitors_k8s.bench import report
from masakarimonitors_k8s.bench import scenario


def answer(wall, hostname, host_status, status=202, event='STOPPED'):
    return recorder.Answer(wall=wall, status=status, hostname=hostname,
                           event=event, host_status=host_status,
                           notification_uuid='u-%s' % wall)


def test_stages_for_takes_the_first_accepted_answers_of_the_host():
    answers = [answer(118.0, 'compute-0002', 'UNKNOWN'),
               answer(130.0, 'compute-0001', 'NORMAL', status=409),
               answer(116.0, 'compute-0001', 'UNKNOWN'),
               answer(140.0, 'compute-0001', 'NORMAL'),
               answer(150.0, 'compute-0001', 'NORMAL'),
               # Before the power-off: an earlier failure, not this one.
               answer(90.0, 'compute-0001', 'NORMAL')]
    stages = latency.stages_for(
        100.0, answers=answers, node='compute-0001', lease_renew=99.5,
        lease_stale_after=40.0, ready_unknown=155.0,
        fence_log={latency.REDFISH_REQUEST: 132.0,
                   latency.VERIFIED_OFF: 133.2},
        taint=133.3)
    assert stages == {
        latency.POWER_OFF: 100.0, latency.LEASE_STALE: 139.5,
        latency.READY_UNKNOWN: 155.0, latency.FIRST_STOPPED: 116.0,
        latency.REDFISH_REQUEST: 132.0, latency.VERIFIED_OFF: 133.2,
        latency.TAINT: 133.3, latency.NORMAL: 140.0}


def test_stages_for_upstream_has_no_fence_stages():
    stages = latency.stages_for(
        10.0, answers=[answer(80.0, 'compute-0001', 'NORMAL')],
        node='compute-0001', ready_unknown=62.0)
    assert stages == {latency.POWER_OFF: 10.0, latency.READY_UNKNOWN: 62.0,
                      latency.FIRST_STOPPED: 80.0, latency.NORMAL: 80.0}


def test_breakdown_gives_percentiles_from_power_off_and_previous_stage():
    per_failure = [
        {latency.POWER_OFF: 0.0, latency.READY_UNKNOWN: 50.0,
         latency.NORMAL: 60.0},
        {latency.POWER_OFF: 10.0, latency.READY_UNKNOWN: 70.0,
         latency.NORMAL: 100.0},
        # Never answered: counts in failures, not in the percentiles.
        {latency.POWER_OFF: 20.0, latency.READY_UNKNOWN: 75.0},
    ]
    block = latency.breakdown(per_failure)
    assert (block['n'], block['failures']) == (2, 3)
    assert (block['p50'], block['p99'], block['max']) == (60.0, 90.0, 90.0)
    ready = block['stages'][latency.READY_UNKNOWN]
    assert ready['from_power_off'] == {'n': 3, 'p50': 55.0, 'p99': 60.0}
    normal = block['stages'][latency.NORMAL]
    assert normal['from_previous'] == {'n': 2, 'p50': 10.0, 'p99': 30.0}
    assert list(block['stages']) == [latency.POWER_OFF,
                                     latency.READY_UNKNOWN, latency.NORMAL]
    assert block['first_stopped'] == {'n': 0, 'p50': None, 'p99': None}


def test_breakdown_of_nothing_is_empty_not_an_error():
    block = latency.breakdown([])
    assert (block['n'], block['p50'], block['p99']) == (0, None, None)
    assert block['stages'] == {}


def test_from_previous_skips_stages_a_host_did_not_have():
    per_failure = [
        {latency.POWER_OFF: 0.0, latency.LEASE_STALE: 40.0,
         latency.TAINT: 58.0},
        {latency.POWER_OFF: 0.0, latency.READY_UNKNOWN: 45.0,
         latency.TAINT: 60.0},
    ]
    taint = latency.breakdown(per_failure)['stages'][latency.TAINT]
    # 58 - 40 (its lease) and 60 - 45 (its Ready=Unknown).
    assert taint['from_previous'] == {'n': 2, 'p50': 15.0, 'p99': 18.0}


def ordered_stages():
    return {latency.POWER_OFF: 0.0, latency.LEASE_STALE: 40.0,
            latency.READY_UNKNOWN: 55.0, latency.FIRST_STOPPED: 55.5,
            latency.REDFISH_REQUEST: 55.6, latency.VERIFIED_OFF: 56.7,
            latency.TAINT: 56.8, latency.NORMAL: 56.9}


def test_ordered_stages_are_in_order():
    assert latency.out_of_order(ordered_stages()) == []


@pytest.mark.parametrize('stage,wall,expected', [
    (latency.TAINT, 56.0, [(latency.VERIFIED_OFF, latency.TAINT)]),
    (latency.NORMAL, 56.75, [(latency.TAINT, latency.NORMAL)]),
    (latency.READY_UNKNOWN, -1.0, [(latency.POWER_OFF,
                                    latency.READY_UNKNOWN)]),
    # Fenced before any sign of death: the unsafe case.
    (latency.LEASE_STALE, 60.0, [('detection', latency.REDFISH_REQUEST)]),
])
def test_a_stage_out_of_order_is_named(stage, wall, expected):
    stages = ordered_stages()
    stages[stage] = wall
    if stage == latency.LEASE_STALE:
        del stages[latency.READY_UNKNOWN]
    assert latency.out_of_order(stages) == expected


def test_fence_log_times_reads_the_first_request_and_verification():
    lines = [
        '2026-12-04 12:54:16.945 17561 WARNING masakarimonitors_k8s.fencing.'
        'coordinator [-] FENCING node compute-0026: powering its host off '
        'through the BMC at https://127.0.0.1:36709.',
        '2026-12-04 12:54:17.040 17561 WARNING masakarimonitors_k8s.fencing.'
        'redfish [-] node compute-0026: powering off its host: ForceOff via '
        'BMC https://127.0.0.1:36709/redfish/v1/Systems/x (PowerState was '
        'On).',
        '2026-12-04 12:54:18.095 17561 WARNING masakarimonitors_k8s.fencing.'
        'redfish [-] node compute-0026: host verified powered off: BMC '
        'https://127.0.0.1:36709 reports system x PowerState Off.',
        '2026-12-04 12:59:00.000 17561 WARNING masakarimonitors_k8s.fencing.'
        'redfish [-] node compute-0026: powering off its host: again',
        'a continuation line: node compute-0001: powering off its host: ',
    ]
    assert latency.fence_log_times(lines, lambda text: text) == {
        'compute-0026': {
            latency.REDFISH_REQUEST: '2026-12-04 12:54:17.040',
            latency.VERIFIED_OFF: '2026-12-04 12:54:18.095'}}


def test_emulator_resets_read_through_werkzeug_colours():
    lines = [
        '127.0.0.1 - - [04/Dec/2026 12:54:16] "\x1b[31m\x1b[1mPOST /redfish/'
        'v1/SessionService/Sessions HTTP/1.1\x1b[0m" 401 -',
        '127.0.0.1 - - [04/Dec/2026 12:54:17] "\x1b[35m\x1b[1mPOST /redfish/'
        'v1/Systems/51a6/Actions/ComputerSystem.Reset HTTP/1.1\x1b[0m" 204 -',
        '127.0.0.1 - - [04/Dec/2026 12:54:18] "GET /redfish/v1/Systems/51a6 '
        'HTTP/1.1" 200 -',
    ]
    assert latency.emulator_resets(lines, lambda text: text) == [
        ('04/Dec/2026 12:54:17', '51a6', 204)]


def test_production_drivers_never_share_a_lease_or_a_taint():
    first, second = production.identity(0), production.identity(1)
    assert first == (production.LEADER_LEASE, production.STANDARD_TAINT)
    assert len({first[0], second[0]}) == len({first[1], second[1]}) == 2


def test_production_rbac_names_only_its_own_election_lease():
    rules = production.rules('masakari-hostmonitor-2')
    named = [rule for rule in rules if 'update' in rule['verbs']]
    assert named == [{'apiGroups': ['coordination.k8s.io'],
                      'resources': ['leases'],
                      'resourceNames': ['masakari-hostmonitor-2'],
                      'verbs': ['get', 'update'],
                      'namespaces': [production.NAMESPACE]}]
    node_leases = [rule for rule in rules
                   if rule.get('namespaces') == [production.LEASE_NAMESPACE]]
    assert node_leases[0]['verbs'] == ['get', 'list', 'watch']


def test_lease_stale_after_follows_the_variant():
    assert production.lease_stale_after(()) == 40.0
    assert production.lease_stale_after((('lease_stale_after', '20'),)) \
        == 20.0


def driver(kind, p50, p99, stages=None):
    return {'kind': kind, 'cpu_seconds_per_hour': 1.0,
            'bytes_per_hour': 1.0, 'reads_per_hour': 1.0,
            'peak_rss_mib': 1.0,
            'notifications': {'latency_all_s': {'p50': 1.0, 'p99': 1.0}},
            'latency': {'p50': p50, 'p99': p99,
                        'stages': stages or {}}}


def test_the_production_run_is_judged_on_dead_host_to_normal():
    run = {'nodes': 5000, 'drivers': {
        scenario.UPSTREAM: driver(scenario.UPSTREAM, 110.0, 150.0),
        scenario.OURS_PRODUCTION: driver(scenario.OURS_PRODUCTION, 60.0,
                                         66.0)}}
    figures = report.figures(run)
    assert figures['dead_to_normal_ratio'] == pytest.approx(0.6)
    # Ours answers the power-off, not a cluster signal: no 1 s target.
    assert figures['ours_p99_s'] is None
    verdicts = {target.name: met for target, _value, met
                in report.judge(run)}
    assert verdicts['dead_to_normal_ratio'] is True
    assert report.driver_order(run) == [scenario.UPSTREAM,
                                        scenario.OURS_PRODUCTION]
