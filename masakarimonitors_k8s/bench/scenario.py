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

"""What happens to the cluster, and what each driver should have said.

Part of the benchmark (:mod:`masakarimonitors_k8s.bench`); pure functions
only, so the rules by which drivers are judged can be read and tested
apart from the machinery that runs them.

A failure is a host powered off at a known time; the node lifecycle
controller marks its Node ``Ready=Unknown`` some 50-65 s later (its grace
period after the last heartbeat it saw), and a fencing operator sets the
``out-of-service`` taint a fixed delay after the power-off, always after
``Ready=Unknown``. The moment of each signal is read from the cluster
model's timeline, not assumed from the schedule.

What each driver should say about each failed host, and when it is
judged to have said it (the first accepted notification that matches):

- upstream (masakari-monitors ``kubernetes``): ``STOPPED``/``NORMAL``,
  answering ``Ready=Unknown``;
- ours (``k8s``, ``fencing = taint``): a ``STOPPED`` answering
  ``Ready=Unknown`` -- ``UNKNOWN`` without fencing evidence, or directly
  ``NORMAL`` when the taint came first -- and a ``STOPPED``/``NORMAL``
  answering the taint.
- ours in the production configuration (``--profile production``: lease
  watch, Redfish power-off, no operator taint): a first ``STOPPED`` and a
  ``STOPPED``/``NORMAL`` (after its own fence), both answering the
  power-off itself, since it may see the silence (stale Lease) before the
  node lifecycle controller does.

Each driver may send each of its kinds of notification once per failed
host; any other accepted notification (another host, a repeat, a
``STARTED``) is spurious. An expected answer not accepted by the end of
the run is missed.
"""

import dataclasses
import math
import typing

UPSTREAM = 'upstream'
OURS = 'ours'
OURS_PRODUCTION = 'ours-production'

SIGNAL_READY_UNKNOWN = 'Ready=Unknown'
SIGNAL_OUT_OF_SERVICE = 'out-of-service taint'
SIGNAL_POWER_OFF = 'power-off'
# The cluster model's timeline kinds for each signal.
TIMELINE_KINDS = {
    SIGNAL_POWER_OFF: 'power-off',
    SIGNAL_READY_UNKNOWN: 'ready-unknown',
    SIGNAL_OUT_OF_SERVICE:
        'taint-added:node.kubernetes.io/out-of-service:NoExecute',
}
ACCEPTED = 202
ANY = '*'


class Failure(typing.NamedTuple):
    """A host powered off, then tainted out-of-service (seconds from t0)."""

    node: str
    power_off_at: float
    taint_at: float


class Expectation(typing.NamedTuple):
    """An answer a driver owes for each failed host."""

    signal: str
    event: str
    host_status: str   # or ANY

    @property
    def label(self):
        return '%s -> %s/%s' % (self.signal, self.event, self.host_status)

    def matches(self, event, host_status):
        return event == self.event and self.host_status in (ANY,
                                                            host_status)


EXPECTATIONS = {
    UPSTREAM: (Expectation(SIGNAL_READY_UNKNOWN, 'STOPPED', 'NORMAL'),),
    OURS: (Expectation(SIGNAL_READY_UNKNOWN, 'STOPPED', ANY),
           Expectation(SIGNAL_OUT_OF_SERVICE, 'STOPPED', 'NORMAL')),
    OURS_PRODUCTION: (Expectation(SIGNAL_POWER_OFF, 'STOPPED', ANY),
                      Expectation(SIGNAL_POWER_OFF, 'STOPPED', 'NORMAL')),
}
# (event, host_status) each driver may send once per failed host.
ALLOWED = {
    UPSTREAM: frozenset({('STOPPED', 'NORMAL')}),
    OURS: frozenset({('STOPPED', 'UNKNOWN'), ('STOPPED', 'NORMAL')}),
    OURS_PRODUCTION: frozenset({('STOPPED', 'UNKNOWN'),
                                ('STOPPED', 'NORMAL')}),
}


def plan_failures(node_names, *, duration, first_at, spacing, taint_delay,
                  last_at):
    """One failure every ``spacing`` s from ``first_at`` to ``last_at``.

    The failed nodes are spread evenly over ``node_names`` so that they
    fall on different pages of a paginated list. Raises ValueError when
    not a single failure fits, or more are planned than there are nodes.
    """
    if spacing <= 0:
        raise ValueError('spacing must be positive, not %r' % spacing)
    last_at = min(last_at, duration)
    if last_at < first_at:
        raise ValueError(
            'no failure fits: the last may start at %.0f s, the first at '
            '%.0f s; lengthen the run' % (last_at, first_at))
    count = int((last_at - first_at) // spacing) + 1
    if count > len(node_names):
        raise ValueError('%d failures planned for %d nodes'
                         % (count, len(node_names)))
    stride = len(node_names) / count
    return [Failure(node=node_names[int((index + 0.5) * stride)],
                    power_off_at=first_at + index * spacing,
                    taint_at=first_at + index * spacing + taint_delay)
            for index in range(count)]


def signal_times(failures, timeline):
    """{(node, signal): wall} of the first timeline event of each signal.

    ``timeline`` holds (kind, node, wall) records, as the cluster model's
    ``events``.
    """
    failed = {failure.node for failure in failures}
    signals = {kind: signal for signal, kind in TIMELINE_KINDS.items()}
    found = {}
    for kind, node, wall in timeline:
        signal = signals.get(kind)
        if signal is not None and node in failed:
            found.setdefault((node, signal), wall)
    return found


def percentile(values, fraction):
    """Nearest-rank percentile (``fraction`` in (0, 1]); None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summary(values):
    return {'n': len(values), 'p50': percentile(values, 0.50),
            'p99': percentile(values, 0.99),
            'max': max(values) if values else None,
            'samples': sorted(values)}


@dataclasses.dataclass
class Score:
    """How one driver's notifications compare with the failures."""

    # {expectation label: [seconds from signal to 202, one per host]}
    latencies: dict
    expected: int
    accepted: int
    # (node, expectation label)
    missed: list
    # (node, event/host_status, wall of the 202)
    spurious: list
    # Signals that never came before the end (not the driver's doing).
    unsignalled: list
    # Answers other than 202, e.g. 409 duplicates: (node, event/status,
    # HTTP status).
    rejected: list

    def all_latencies(self):
        return [value for values in self.latencies.values()
                for value in values]

    def to_dict(self):
        return {
            'expected': self.expected,
            'accepted': self.accepted,
            'missed': [list(item) for item in self.missed],
            'spurious': [list(item) for item in self.spurious],
            'unsignalled': [list(item) for item in self.unsignalled],
            'rejected': [list(item) for item in self.rejected],
            'latency_s': {label: summary(values)
                          for label, values in sorted(
                              self.latencies.items())},
            'latency_all_s': summary(self.all_latencies()),
        }


def score(kind, *, failures, signals, answers):
    """Judge the recorder ``answers`` of a driver of ``kind``.

    ``signals`` is :func:`signal_times`' result.
    """
    expectations = EXPECTATIONS[kind]
    allowed = ALLOWED[kind]
    failed = {failure.node for failure in failures}
    # The accepted notifications that count, per host, oldest first.
    counted = {node: [] for node in failed}
    seen = set()
    spurious = []
    rejected = []
    accepted = 0
    for answer in sorted(answers, key=lambda item: item.wall):
        sent = (answer.event, answer.host_status)
        label = '%s/%s' % sent
        if answer.status != ACCEPTED:
            rejected.append((answer.hostname, label, answer.status))
            continue
        accepted += 1
        key = (answer.hostname,) + sent
        if answer.hostname not in failed or sent not in allowed \
                or key in seen:
            spurious.append((answer.hostname, label, answer.wall))
            continue
        seen.add(key)
        counted[answer.hostname].append(answer)
    latencies = {expectation.label: [] for expectation in expectations}
    missed = []
    unsignalled = []
    for node in sorted(failed):
        for expectation in expectations:
            signalled_at = signals.get((node, expectation.signal))
            answer = next((item for item in counted[node]
                           if expectation.matches(item.event,
                                                  item.host_status)), None)
            if signalled_at is None:
                if answer is None:
                    unsignalled.append((node, expectation.label))
                else:
                    # Reported although the signal never came.
                    spurious.append((node, expectation.label, answer.wall))
            elif answer is None:
                missed.append((node, expectation.label))
            else:
                latencies[expectation.label].append(answer.wall
                                                    - signalled_at)
    return Score(latencies=latencies,
                 expected=len(failed) * len(expectations),
                 accepted=accepted, missed=missed, spurious=spurious,
                 unsignalled=unsignalled, rejected=rejected)
