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

from masakarimonitors_k8s.bench import cli
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
        '15000 nodes: upstream finished 1 full LIST(s) in the run: it fell '
        'behind its own interval and reported 0 of 13 failures']


def test_a_silent_driver_that_kept_its_cycle_is_a_harness_problem():
    run = results(upstream=driver(scenario.UPSTREAM, node_lists=5,
                                  accepted=0),
                  ours=driver(scenario.OURS, node_lists=1, accepted=0))
    assert cli.harness_failures(run) == [
        '15000 nodes: upstream had no notification accepted',
        '15000 nodes: ours had no notification accepted']
    assert cli.slow_drivers(run) == []
