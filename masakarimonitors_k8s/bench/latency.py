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

"""Dead host -> NORMAL accepted: the latency and its stages.

Part of the benchmark (:mod:`masakarimonitors_k8s.bench`); pure functions
only. The runner collects, per failed host, the wall time of each stage
it could observe (the cluster model's timeline, the object store, the
BMC emulator's and the driver's logs, the recording proxy in front of
masakari-api); this module turns them into one ``latency`` block per
driver: p50/p99 from the power-off to masakari-api's 202 of the
``STOPPED``/``NORMAL`` that starts the evacuation, the first ``STOPPED``
(whatever its host_status), and for each stage its time from the
power-off and from the stage before it.
"""

import re

from masakarimonitors_k8s.bench import scenario

POWER_OFF = 'power_off'
LEASE_STALE = 'lease_stale'
READY_UNKNOWN = 'ready_unknown'
FIRST_STOPPED = 'first_stopped_202'
REDFISH_REQUEST = 'redfish_power_off_request'
VERIFIED_OFF = 'verified_off'
TAINT = 'taint'
NORMAL = 'normal_202'

# The order in which the stages happen, when they all do. A stage that a
# driver does not have (upstream neither fences nor watches Leases) is
# left out of its breakdown.
STAGE_ORDER = (POWER_OFF, LEASE_STALE, READY_UNKNOWN, FIRST_STOPPED,
               REDFISH_REQUEST, VERIFIED_OFF, TAINT, NORMAL)
# Short names for the table.
STAGE_LABELS = {
    POWER_OFF: 'power-off',
    LEASE_STALE: 'Lease stale',
    READY_UNKNOWN: 'Ready=Unknown',
    FIRST_STOPPED: 'first STOPPED 202',
    REDFISH_REQUEST: 'Redfish power-off sent',
    VERIFIED_OFF: 'BMC verified Off',
    TAINT: 'out-of-service taint',
    NORMAL: 'NORMAL 202',
}
# Where each stage's time comes from (written into the results).
STAGE_SOURCES = {
    POWER_OFF: "cluster model's timeline (the kubelet falls silent)",
    LEASE_STALE: "the node's Lease renewTime in the object store (its "
                 "last renewal) + the driver's [k8s] lease_stale_after",
    READY_UNKNOWN: "cluster model's timeline (node lifecycle controller)",
    FIRST_STOPPED: "recording proxy: masakari-api's 202 of the first "
                   "STOPPED (the storm settle window ends before it)",
    REDFISH_REQUEST: "driver log (ms); the BMC emulator's access log "
                     "(whole seconds) confirms it",
    VERIFIED_OFF: "driver log (ms): the BMC reported the system Off",
    TAINT: "object store: the out-of-service taint written on the Node",
    NORMAL: "recording proxy: masakari-api's 202 of STOPPED/NORMAL",
}


def stages_for(failure_wall, *, answers, node, lease_renew=None,
               lease_stale_after=None, ready_unknown=None, fence_log=None,
               taint=None):
    """{stage: wall} of one failed host, for the stages observed.

    ``answers`` are the recorder's answers (any host); ``fence_log`` is
    ``{REDFISH_REQUEST: wall, VERIFIED_OFF: wall}`` of this node.
    """
    stages = {POWER_OFF: failure_wall}
    if lease_renew is not None and lease_stale_after is not None:
        stages[LEASE_STALE] = lease_renew + lease_stale_after
    if ready_unknown is not None:
        stages[READY_UNKNOWN] = ready_unknown
    accepted = sorted((answer for answer in answers
                       if answer.hostname == node
                       and answer.status == scenario.ACCEPTED
                       and answer.event == 'STOPPED'
                       and answer.wall >= failure_wall),
                      key=lambda answer: answer.wall)
    if accepted:
        stages[FIRST_STOPPED] = accepted[0].wall
    normal = [answer.wall for answer in accepted
              if answer.host_status == 'NORMAL']
    if normal:
        stages[NORMAL] = normal[0]
    for stage in (REDFISH_REQUEST, VERIFIED_OFF):
        if fence_log and fence_log.get(stage) is not None:
            stages[stage] = fence_log[stage]
    if taint is not None:
        stages[TAINT] = taint
    return stages


def out_of_order(stages):
    """Pairs (earlier stage, later stage) whose walls contradict STAGE_ORDER.

    Only stages that are causes and effects are compared: the power-off
    precedes everything; the lease staleness and Ready=Unknown precede
    the fence; the fence precedes the taint and the taint NORMAL.
    """
    rules = ((POWER_OFF, (LEASE_STALE, READY_UNKNOWN, FIRST_STOPPED,
                          REDFISH_REQUEST, VERIFIED_OFF, TAINT, NORMAL)),
             (REDFISH_REQUEST, (VERIFIED_OFF, TAINT, NORMAL)),
             (VERIFIED_OFF, (TAINT, NORMAL)),
             (TAINT, (NORMAL,)),
             (FIRST_STOPPED, (NORMAL,)))
    wrong = []
    for earlier, laters in rules:
        if earlier not in stages:
            continue
        for later in laters:
            if later in stages and stages[later] < stages[earlier]:
                wrong.append((earlier, later))
    detected = [stages[stage] for stage in (LEASE_STALE, READY_UNKNOWN)
                if stage in stages]
    if detected and REDFISH_REQUEST in stages \
            and stages[REDFISH_REQUEST] < min(detected):
        wrong.append(('detection', REDFISH_REQUEST))
    return wrong


def breakdown(per_failure):
    """The ``latency`` block of one driver from its hosts' stage walls.

    ``per_failure`` is a list of :func:`stages_for` results. Times are
    seconds: ``from_power_off`` per stage, and ``from_previous``, from the
    stage before it in STAGE_ORDER that the same host has.
    """
    to_normal = [stages[NORMAL] - stages[POWER_OFF]
                 for stages in per_failure if NORMAL in stages]
    first = [stages[FIRST_STOPPED] - stages[POWER_OFF]
             for stages in per_failure if FIRST_STOPPED in stages]
    present = [stage for stage in STAGE_ORDER
               if any(stage in stages for stages in per_failure)]
    table = {}
    for index, stage in enumerate(present):
        from_power_off = []
        from_previous = []
        for stages in per_failure:
            if stage not in stages:
                continue
            from_power_off.append(stages[stage] - stages[POWER_OFF])
            previous = next((stages[earlier] for earlier
                             in reversed(present[:index])
                             if earlier in stages), None)
            if previous is not None:
                from_previous.append(stages[stage] - previous)
        table[stage] = {'from_power_off': _short(from_power_off),
                        'from_previous': _short(from_previous),
                        'source': STAGE_SOURCES[stage]}
    return {'n': len(to_normal), 'failures': len(per_failure),
            'p50': scenario.percentile(to_normal, 0.50),
            'p99': scenario.percentile(to_normal, 0.99),
            'max': max(to_normal) if to_normal else None,
            'first_stopped': _short(first),
            'stages': table}


def _short(values):
    return {'n': len(values), 'p50': scenario.percentile(values, 0.50),
            'p99': scenario.percentile(values, 0.99)}


# oslo.log's default format: "2026-12-04 12:50:23.123 4242 WARNING ...".
_LOG_LINE = re.compile(r'^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) ')
_FENCE_MESSAGES = (
    (REDFISH_REQUEST, re.compile(r'node (\S+): powering off its host: ')),
    (VERIFIED_OFF, re.compile(r'node (\S+): host verified powered off')),
)


def fence_log_times(lines, parse_time):
    """{node: {stage: wall}} of the first fence messages per node.

    ``parse_time`` turns the log's local time text into a wall time.
    """
    found = {}
    for line in lines:
        stamp = _LOG_LINE.match(line)
        if stamp is None:
            continue
        for stage, pattern in _FENCE_MESSAGES:
            match = pattern.search(line, stamp.end())
            if match:
                found.setdefault(match.group(1), {}).setdefault(
                    stage, parse_time(stamp.group(1)))
    return found


# werkzeug's access log, as sushy-emulator writes it (colours and all).
_ANSI_ESCAPE = re.compile(r'\x1b\[[0-9;]*m')
_RESET_LINE = re.compile(
    r'\[(\d\d/\w{3}/\d{4} \d\d:\d\d:\d\d)\] "POST /redfish/v1/Systems/'
    r'([^/ ]+)/Actions/ComputerSystem\.Reset HTTP/[\d.]+" (\d{3})')


def emulator_resets(lines, parse_time):
    """[(wall, system id, HTTP status)] of each Reset the BMC answered."""
    resets = []
    for line in lines:
        match = _RESET_LINE.search(_ANSI_ESCAPE.sub('', line))
        if match:
            resets.append((parse_time(match.group(1)), match.group(2),
                           int(match.group(3))))
    return resets
