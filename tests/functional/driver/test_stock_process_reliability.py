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

"""The stock masakari-hostmonitor through cold starts, silence and stops.

Issue 15: the process an operator runs, with this driver, must start
while Masakari or Keystone is down, notice a silent API within seconds,
and end within the pod's grace period on SIGTERM in every state. Each
test reads the process's state from its own /metrics and waits on
conditions with generous ceilings; the timing bounds are asserted on the
timeline the test observed.
"""

import json
import time

import pytest

from masakarimonitors_k8s.testing import harness
from masakarimonitors_k8s.testing import hostmonitor
from masakarimonitors_k8s.testing import keystone as keystone_mod
from masakarimonitors_k8s.testing import redfish_bmc

pytestmark = pytest.mark.timeout(240)

# SIGTERM must end the process within this (the chart's grace period is
# 30 s).
STOP_BOUND = 15.0


@pytest.fixture
def cluster():
    cluster = harness.ClusterUnderTest()
    yield cluster
    cluster.stop()


@pytest.fixture
def stock(tmp_path):
    """start(cluster, api_section, **k8s) -> StockHostmonitor."""
    started = []

    def start(cluster, api_section, **k8s):
        process = hostmonitor.StockHostmonitor(tmp_path, cluster,
                                               api_section, **k8s)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()


def wait_watching(process):
    harness.wait_until(
        lambda: process.metric('watch_synced', resource='nodes') == 1,
        timeout=60, what='the monitor to list the nodes')


def stored(segment):
    return harness.stored(segment)


# -- item 1: cold start without Masakari or Keystone -----------------------

def test_masakari_down_at_start_then_up_gets_exactly_one_stopped_normal(
        cluster, fresh_masakari, stock):
    masakari = fresh_masakari()
    names = masakari.add_hosts(masakari.host_names(3))
    cluster.add_nodes(names)
    masakari.api.stop()
    process = stock(cluster,
                    masakari.api.masakarimonitors_conf_api_section(
                        timeout=2))
    wait_watching(process)

    victim = names[1]
    cluster.fail_and_detect(victim)
    harness.wait_until(
        lambda: (process.metric('notifications_total', event='STOPPED',
                                result='failed') or 0) >= 1,
        timeout=60, what='a failed delivery while Masakari is down')
    cluster.model.add_out_of_service_taint(victim)
    harness.wait_until(
        lambda: (process.metric('notifications_superseded_total')
                 or 0) >= 1,
        timeout=60, what='STOPPED/NORMAL to supersede STOPPED/UNKNOWN')
    assert process.alive

    masakari.api.start()
    harness.wait_until(lambda: stored(masakari), timeout=60,
                       what='a notification once Masakari is up')
    harness.wait_until(
        lambda: process.metric('pending_notifications') == 0,
        timeout=30, what='nothing left to deliver')
    assert stored(masakari) == [(victim, 'STOPPED', 'NORMAL')]
    assert process.alive, process.log()


def test_keystone_that_never_answers_at_start(cluster, fresh_masakari,
                                              stock):
    masakari = fresh_masakari()
    names = masakari.add_hosts(masakari.host_names(3))
    cluster.add_nodes(names)
    keystone = keystone_mod.FakeKeystone(masakari.url, masakari.api.token,
                                         held=True)
    try:
        process = stock(cluster, keystone.api_section(timeout=2))
        # Before: the driver's constructor authenticated, and hung or
        # exited; the nodes were never watched.
        wait_watching(process)
        victim = names[0]
        cluster.fail_and_detect(victim)
        cluster.model.add_out_of_service_taint(victim)
        harness.wait_until(
            lambda: (process.metric('masakari_client_failures_total')
                     or 0) >= 2,
            timeout=60, what='failed attempts to reach Keystone')
        assert process.metric('masakari_client_ready') == 0
        assert process.metric('nodes', health='failed') == 1
        assert process.alive

        keystone.answer()
        harness.wait_until(lambda: stored(masakari), timeout=60,
                           what='a notification once Keystone answers')
        harness.wait_until(
            lambda: process.metric('pending_notifications') == 0,
            timeout=30, what='nothing left to deliver')
        assert stored(masakari) == [(victim, 'STOPPED', 'NORMAL')]
        assert process.metric('masakari_client_ready') == 1
        assert process.alive, process.log()
        assert process.log().count('Cannot reach Masakari') == 1
    finally:
        keystone.stop()


# -- item 2: a silent API is noticed within seconds -------------------------

def test_a_black_holed_api_is_noticed_within_the_check_bound(
        fresh_masakari, stock):
    # Bookmarks every 30 s: the watches are quiet for longer than the
    # check interval, as in a real cluster between bookmarks.
    cluster = harness.ClusterUnderTest(bookmark_interval=30.0)
    try:
        masakari = fresh_masakari()
        names = masakari.add_hosts(masakari.host_names(3))
        cluster.add_nodes(names)
        check_after, check_timeout = 2.0, 1.0
        process = stock(cluster,
                        masakari.api.masakarimonitors_conf_api_section(
                            timeout=5),
                        watch_check_after=check_after,
                        watch_check_timeout=check_timeout,
                        watch_idle_timeout=120)
        wait_watching(process)

        # A quiet cluster is checked, and stays current.
        harness.wait_until(
            lambda: (process.metric('watch_silence_checks_total',
                                    resource='nodes') or 0) >= 3,
            timeout=60, what='three silence checks of a quiet watch')
        assert process.metric('watch_synced', resource='nodes') == 1
        assert process.metric('watch_errors_total', resource='nodes') == 0

        holed_at = time.monotonic()
        cluster.server.faults.black_hole()
        harness.wait_until(
            lambda: process.metric('watch_synced', resource='nodes') == 0,
            timeout=60, what='the silent API to be noticed')
        noticed_after = time.monotonic() - holed_at
        print('black hole noticed after %.1f s' % noticed_after)
        # Nothing for check_after, then a re-watch that gets no answer in
        # check_timeout; 3 s of slack for scheduling and the 0.02 s polls
        # of this test. watch_idle_timeout (120 s) would have been the
        # bound before.
        assert noticed_after <= check_after + check_timeout + 3.0, (
            noticed_after)

        # A node dies while the API is unreachable.
        victim = names[2]
        cluster.fail_and_detect(victim)
        lifted_at = time.monotonic()
        cluster.server.faults.lift_black_hole()
        harness.wait_until(lambda: stored(masakari), timeout=60,
                           what='the verdict after the API is back')
        verdict_after = time.monotonic() - lifted_at
        print('verdict stored %.1f s after the API answered again'
              % verdict_after)
        assert stored(masakari) == [(victim, 'STOPPED', 'UNKNOWN')]
        # Unanswered requests are retried within 2 s; the rest is a
        # watch, a decision and a POST.
        assert verdict_after <= 6.0, verdict_after
        assert process.alive
    finally:
        cluster.stop()


# -- item 5: SIGTERM ends the process promptly in every state --------------

def test_sigterm_while_list_pages_are_stalled(cluster, masakari, stock):
    names = masakari.add_hosts(masakari.host_names(2))
    cluster.add_nodes(names)
    cluster.server.faults.black_hole()
    # Two reflectors (nodes and leases), each blocked in its first LIST.
    process = stock(cluster, masakari.api.masakarimonitors_conf_api_section(),
                    read_timeout=120, watch_leases='true')
    # The status endpoint is up (it starts before the reflectors) and the
    # LIST, held by the black hole, has not failed yet.
    harness.wait_until(lambda: process.metric('watch_synced',
                                              resource='nodes') == 0,
                       timeout=60, what='the monitor to start')
    assert process.metric('watch_errors_total', resource='nodes') == 0

    took, code = process.terminate()
    print('SIGTERM with LIST pages stalled: exit after %.1f s' % took)

    cluster.server.faults.lift_black_hole()
    assert took < STOP_BOUND, (took, process.log())
    assert code == 0, process.log()


def test_sigterm_while_a_post_to_masakari_is_in_flight(cluster,
                                                       fresh_masakari,
                                                       stock):
    masakari = fresh_masakari()
    names = masakari.add_hosts(masakari.host_names(3))
    cluster.add_nodes(names)
    process = stock(cluster, masakari.api.masakarimonitors_conf_api_section(
        timeout=120))
    wait_watching(process)
    masakari.api.pause()
    try:
        cluster.fail_and_detect(names[0])
        # Pending, and no answer of any kind yet: the POST hangs.
        harness.wait_until(
            lambda: process.metric('pending_notifications') == 1,
            timeout=60, what='a notification to be pending')
        assert process.metric('notifications_total', event='STOPPED',
                              result='failed') is None

        took, code = process.terminate()
        print('SIGTERM with a POST in flight: exit after %.1f s' % took)
    finally:
        masakari.api.resume()
    assert took < STOP_BOUND, (took, process.log())
    assert code == 0, process.log()


def test_sigterm_while_the_fencer_waits_for_the_power_off(
        cluster, fresh_masakari, stock, tmp_path):
    masakari = fresh_masakari()
    names = masakari.add_hosts(masakari.host_names(3))
    cluster.add_nodes(names)
    victim = names[0]
    # The power-off takes effect 10 minutes after the request: the fencer
    # polls for the whole fence_verify_timeout.
    with redfish_bmc.RedfishBmc(tmp_path / 'bmc', systems=('compute-01',),
                                username='admin', password='Pa55-word',
                                power_delay=600.0) as bmc:
        bmc_map = tmp_path / 'bmc-map.json'
        bmc_map.write_text(json.dumps(
            {victim: bmc.system_url('compute-01')}))
        credentials = tmp_path / 'bmc-credentials.json'
        credentials.write_text(json.dumps({'username': 'admin',
                                           'password': 'Pa55-word'}))
        process = stock(
            cluster, masakari.api.masakarimonitors_conf_api_section(),
            fence_action='redfish-power-off',
            redfish_bmc_map_file=bmc_map,
            redfish_credentials_file=credentials,
            fence_verify_timeout=600, redfish_retry_max=0,
            # The emulator speaks plain http.
            redfish_allow_http='true',
            leader_election='true',
            leader_election_namespace=harness.LEADER_NAMESPACE)
        wait_watching(process)
        harness.wait_until(lambda: process.metric('leader') == 1,
                           timeout=60, what='the monitor to lead')
        cluster.fail_and_detect(victim)
        harness.wait_until(lambda: 'powering off its host' in process.log(),
                           timeout=60, what='the power-off request')

        took, code = process.terminate()
        print('SIGTERM while the fencer polls the BMC: exit after %.1f s'
              % took)
    assert took < STOP_BOUND, (took, process.log())
    assert code == 0, process.log()
