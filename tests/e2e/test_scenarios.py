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

"""End-to-end scenarios: node failures in, what Masakari stored out.

Written once against :class:`~tests.e2e.backends.base.Backend` and run on
the backend that ``--e2e-backend`` picks (see ``conftest.py``). Each
scenario installs the chart (``values/kind.yaml`` plus its own values),
breaks workers as an operator or a power cut would, and asserts the
complete list of notifications masakari-api stored for the scenario.

"Nothing was sent" is never concluded from a quiet while. The monitor
reads Nodes through one ordered watch, so a later notification that did
arrive shows that every earlier change was judged: a barrier. The storm
guard says what it holds in Node Events, which are waited for.
"""

import pytest

from tests.e2e.backends import base

pytestmark = pytest.mark.timeout(900)

STOPPED = 'STOPPED'
STARTED = 'STARTED'
UNKNOWN = 'UNKNOWN'
NORMAL = 'NORMAL'
NOTIFICATION_HELD = 'NotificationHeld'
# A host must stay Ready this long before its STARTED (the default, 30 s,
# is there against flapping; nothing flaps here).
RECOVERY_WINDOW = 2
# Leader election timings that make a take-over quick; the chart checks
# lease > renew deadline > retry period.
FAST_LEADER_ELECTION = {'leader_election_lease_duration': 6,
                        'leader_election_renew_deadline': 4,
                        'leader_election_retry_period': 1}


def monitor_values(backend, **k8s):
    """Chart values of a scenario: the common ones, then ``k8s``."""
    options = {'recovery_window': RECOVERY_WINDOW,
               'storm_settle_window': backend.settle_window}
    options.update(k8s)
    return base.k8s_values(**options)


def expect_notifications(backend, expected, *, timeout):
    """Wait until as many notifications as expected, then compare all."""
    backend.wait_for(lambda: len(backend.notifications()) >= len(expected),
                     timeout=timeout,
                     what='%d notification(s): %s' % (len(expected),
                                                      expected))
    assert backend.notifications() == expected


def test_stopped_worker_is_reported_then_evacuable_once_fenced(backend):
    backend.deploy_monitor(monitor_values(backend))
    worker = backend.workers()[0]

    backend.stop_workers([worker])
    # No fencing evidence yet: recorded, not acted upon.
    expect_notifications(backend, [(worker, STOPPED, UNKNOWN)],
                         timeout=backend.timeouts.failure)

    backend.taint_out_of_service(worker)
    expect_notifications(backend, [(worker, STOPPED, UNKNOWN),
                                   (worker, STOPPED, NORMAL)],
                         timeout=backend.timeouts.failure)


def test_cordoned_worker_is_not_reported(backend):
    backend.deploy_monitor(monitor_values(backend))
    cordoned, barrier = backend.workers()[:2]

    backend.cordon(cordoned)
    # The barrier's failure reaches the monitor after the cordon did.
    backend.stop_workers([barrier])
    expect_notifications(backend, [(barrier, STOPPED, UNKNOWN)],
                         timeout=backend.timeouts.failure)
    assert backend.node_events(cordoned) == []


def test_restarted_worker_is_reported_started(backend):
    backend.deploy_monitor(monitor_values(backend))
    worker = backend.workers()[0]
    backend.stop_workers([worker])
    expect_notifications(backend, [(worker, STOPPED, UNKNOWN)],
                         timeout=backend.timeouts.failure)

    backend.start_worker(worker)
    expect_notifications(backend, [(worker, STOPPED, UNKNOWN),
                                   (worker, STARTED, NORMAL)],
                         timeout=backend.timeouts.recovery)


def test_leader_killed_during_a_failure_reports_it_once(backend):
    backend.deploy_monitor(monitor_values(backend, **FAST_LEADER_ELECTION))
    assert len(backend.monitor_pods()) == 2
    worker = backend.workers()[0]
    backend.stop_workers([worker])
    expect_notifications(backend, [(worker, STOPPED, UNKNOWN)],
                         timeout=backend.timeouts.failure)
    backend.taint_out_of_service(worker)
    expect_notifications(backend, [(worker, STOPPED, UNKNOWN),
                                   (worker, STOPPED, NORMAL)],
                         timeout=backend.timeouts.failure)

    # The standby reached the same verdicts and kept them undelivered; it
    # must not make Masakari store them a second time.
    killed = backend.leader()
    backend.kill_pod(killed)
    successor = backend.wait_for(
        lambda: _live_leader_other_than(backend, killed),
        timeout=backend.timeouts.takeover, what='another pod to lead')

    # The new leader's STARTED is the barrier: whatever it was going to
    # deliver about this host before, it has.
    backend.untaint_out_of_service(worker)
    backend.start_worker(worker)
    expect_notifications(backend, [(worker, STOPPED, UNKNOWN),
                                   (worker, STOPPED, NORMAL),
                                   (worker, STARTED, NORMAL)],
                         timeout=backend.timeouts.recovery)
    assert backend.leader() == successor


def test_storm_of_two_failed_workers_is_held(backend):
    backend.deploy_monitor(monitor_values(backend, max_unhealthy='1'))
    first, second = backend.workers()[:2]

    backend.stop_workers([first, second])
    backend.wait_for(
        lambda: all(_held(backend, worker) for worker in (first, second)),
        timeout=backend.timeouts.failure,
        what='the storm guard to hold both STOPPED notifications')
    assert backend.notifications() == []

    # One comes back: the storm is over, the other one is still down and
    # now reported; the one that came back never is (Masakari never
    # heard of its failure).
    backend.start_worker(first)
    expect_notifications(backend, [(second, STOPPED, UNKNOWN)],
                         timeout=backend.timeouts.recovery
                         + backend.settle_window)


def _live_leader_other_than(backend, killed):
    holder = backend.leader()
    if holder and holder != killed and holder in backend.monitor_pods():
        return holder
    return None


def _held(backend, worker):
    return [event for event in backend.node_events(worker)
            if event.reason == NOTIFICATION_HELD]
