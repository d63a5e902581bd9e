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

"""The health policy: is this host dead, and may we say so with NORMAL?

Position in the flow: node state -> **policy** -> guards -> notifier.
This module does no I/O and reads no clock: the caller passes the node's
state, its lease (if leases are watched) and ``now``. It is the only place
where a verdict is reached, so it can be checked with tables of cases.

A host goes HEALTHY -> SUSPECT -> FAILED -> RECOVERING -> HEALTHY:

- *down* means unreachable: ``Ready=Unknown`` (the node lifecycle controller
  heard nothing for its grace period), or a kubelet lease not renewed for
  ``lease_stale_after`` as timed on our own clock (the kubelet stamps
  ``renewTime`` with its clock, which may be off). ``Ready=False`` from a
  live kubelet is down only with ``not_ready_is_failure``: the host and its
  VMs still run; but ``Ready=False`` with the out-of-service taint is down:
  a remediation (medik8s SNR/FAR) reboots or powers the host off and then
  declares its workloads gone. ``Ready=True`` with the taint is neither: the
  host runs again, and nova will not evacuate from a live compute service.
  A cordoned node is not down: that is scheduling; but with
  ``cordon_is_maintenance`` a BMC "Off" reading of it is no evidence.
- SUSPECT lasts ``confirmation_window``; then FAILED and a STOPPED
  notification. Its ``host_status`` is NORMAL only with fencing evidence
  (the out-of-service taint; or ``fencing = none``, the unsafe mode), else
  UNKNOWN, which Masakari records and ignores. Evidence arriving later while
  the host is still FAILED upgrades it with a STOPPED/NORMAL.
- RECOVERING needs ``Ready=True`` without the out-of-service taint for
  ``recovery_window`` without a break; then a STARTED notification.

Notification times come from Kubernetes' own timestamps whenever possible
(the Ready condition's transition), so a restarted monitor rebuilds the
same notification and Masakari recognises it as a duplicate instead of
storing a second one.
"""

import dataclasses
import enum

from masakarimonitors_k8s import conf as k8s_conf


class Health(str, enum.Enum):
    HEALTHY = 'healthy'
    SUSPECT = 'suspect'
    FAILED = 'failed'
    RECOVERING = 'recovering'


class SignalKind(str, enum.Enum):
    UP = 'up'              # Ready=True, lease fresh (or not watched)
    DEGRADED = 'degraded'  # kubelet alive but Ready=False (not a failure)
    DOWN = 'down'          # unreachable (or Ready=False if so configured)
    UNUSABLE = 'unusable'  # the object can't be judged: no new verdict


@dataclasses.dataclass(frozen=True)
class Instant:
    """A moment, read on two clocks.

    ``wall``: the API server's wall clock as best known (epoch s);
    ``monotonic``: the monitor's own monotonic clock (s).
    """
    wall: float
    monotonic: float


@dataclasses.dataclass(frozen=True)
class Signal:
    kind: SignalKind
    reason: str
    # Kubernetes' wall time at which this signal began, when known.
    since: float | None = None


@dataclasses.dataclass(frozen=True)
class Assessment:
    health: Health
    reason: str
    # Monotonic time at which the current phase (suspect/recovering) began.
    phase_started: float
    # Wall time identifying this failure episode (kept until recovery).
    failure_time: float | None = None
    fenced: bool = False
    evidence: str | None = None
    # Wall time of the recovery, for the STARTED notification.
    recovery_time: float | None = None
    # Wall time at which the fencing evidence appeared (taint timeAdded,
    # BMC reading), when known.
    evidence_time: float | None = None


class Event(str, enum.Enum):
    STOPPED = 'STOPPED'
    STARTED = 'STARTED'


@dataclasses.dataclass(frozen=True)
class Intent:
    """What Masakari should be told about one host."""
    event: Event
    host_status: str      # NORMAL or UNKNOWN
    cluster_status: str   # OFFLINE or ONLINE
    generated_time: float
    reason: str

    def payload(self):
        return {'event': self.event.value,
                'host_status': self.host_status,
                'cluster_status': self.cluster_status}


def read_signal(node, lease, *, now_wall, settings, lease_view_fresh,
                now_monotonic=None):
    """Classify what Kubernetes says about a node right now.

    :param node: NodeState.
    :param lease: LeaseState or None.
    :param now_wall: the API server's wall clock (epoch s).
    :param now_monotonic: our monotonic clock; with the lease's
        ``observed_at`` it bounds the silence by what we actually heard.
    :param settings: conf.PolicySettings.
    :param lease_view_fresh: False while the lease watch is not in sync;
        stale-looking leases then prove nothing (our view is what's old).
    """
    if (settings.watch_leases and lease_view_fresh and lease is not None
            and lease.renew_time is not None):
        # Silence is timed from when WE saw the last renewal: renewTime is
        # the kubelet's clock, and a kubelet clock ahead of ours would hide
        # the silence. renewTime only tells whether the lease changed.
        if lease.observed_at is not None and now_monotonic is not None:
            silent_for = now_monotonic - lease.observed_at
        else:
            silent_for = now_wall - lease.renew_time
        if silent_for > settings.lease_stale_after:
            return Signal(SignalKind.DOWN,
                          'kubelet lease not renewed for %.0f s'
                          % silent_for, since=now_wall - silent_for)
    if node.ready == 'Unknown':
        return Signal(SignalKind.DOWN,
                      'Ready=Unknown (%s)' % (node.ready_reason or
                                              'no reason given'),
                      since=node.ready_since)
    if node.ready == 'False':
        reason = 'Ready=False (%s)' % (node.ready_reason or 'no reason')
        if node.out_of_service:
            # A reboot remediation that finished before Ready went Unknown:
            # the taint says the workloads are gone.
            return Signal(SignalKind.DOWN,
                          reason + ' and tainted out-of-service',
                          since=node.ready_since)
        if settings.not_ready_is_failure:
            return Signal(SignalKind.DOWN, reason, since=node.ready_since)
        return Signal(SignalKind.DEGRADED, reason, since=node.ready_since)
    if node.ready == 'True':
        if node.out_of_service:
            # Ready with the power-off taint: somebody's statement and the
            # kubelet disagree. Neither failure nor recovery until they
            # agree again.
            return Signal(SignalKind.DEGRADED,
                          'Ready=True but tainted out-of-service')
        return Signal(SignalKind.UP, 'Ready=True', since=node.ready_since)
    return Signal(SignalKind.UNUSABLE, '; '.join(node.problems) or
                  'no Ready condition')


def fencing_evidence(node, settings, bmc_evidence=None):
    """(fenced, evidence) for a host that is down.

    :param bmc_evidence: what the host's BMC said during this failure
        (``fencing = redfish``): a string describing a verified power-off,
        or None.
    """
    if settings.fencing == 'none':
        return True, 'fencing=none: Kubernetes alone is trusted (UNSAFE)'
    if node.out_of_service:
        return True, 'taint %s' % settings.out_of_service_taint
    if (settings.fencing == 'redfish' and bmc_evidence
            and not in_maintenance(node, settings)):
        return True, bmc_evidence
    return False, None


def in_maintenance(node, settings):
    """Cordoned, and cordons count as planned maintenance."""
    return bool(node.unschedulable and settings.cordon_is_maintenance)


def _evidence_time(node, settings, fenced, bmc_evidence_time):
    if not fenced or settings.fencing == 'none':
        return None
    if node.out_of_service:
        return node.out_of_service_since
    return bmc_evidence_time


def assess(previous, node, lease=None, *, now, settings,
           lease_view_fresh=True, bmc_evidence=None, bmc_evidence_time=None):
    """One step of the state machine.

    Previous assessment (None for a node seen for the first time) and the
    current observation -> the new assessment. ``bmc_evidence_time``: the
    API server's wall time of the BMC reading, when there is one.
    """
    signal = read_signal(node, lease, now_wall=now.wall, settings=settings,
                         lease_view_fresh=lease_view_fresh,
                         now_monotonic=now.monotonic)
    if previous is None:
        previous = Assessment(Health.HEALTHY, 'first seen', now.monotonic)
    health = previous.health

    if signal.kind is SignalKind.UNUSABLE:
        return dataclasses.replace(previous, reason=signal.reason)

    if signal.kind is SignalKind.DOWN:
        fenced, evidence = fencing_evidence(node, settings, bmc_evidence)
        evidence_time = _evidence_time(node, settings, fenced,
                                       bmc_evidence_time)
        if health in (Health.FAILED, Health.RECOVERING):
            return dataclasses.replace(
                previous, health=Health.FAILED, reason=signal.reason,
                fenced=fenced, evidence=evidence, recovery_time=None,
                evidence_time=evidence_time)
        if health is Health.HEALTHY:
            # The window counts from when Kubernetes says the signal began
            # (a relisted or restarted monitor does not wait it out again).
            started = now.monotonic
            if signal.since is not None:
                started -= max(0.0, now.wall - signal.since)
            previous = Assessment(Health.SUSPECT, signal.reason, started)
        if now.monotonic < (previous.phase_started
                            + settings.confirmation_window):
            return dataclasses.replace(previous, reason=signal.reason)
        return Assessment(
            Health.FAILED, signal.reason, now.monotonic,
            failure_time=(signal.since if signal.since is not None
                          else now.wall),
            fenced=fenced, evidence=evidence, evidence_time=evidence_time)

    if signal.kind is SignalKind.DEGRADED:
        if health is Health.SUSPECT:
            return Assessment(Health.HEALTHY, signal.reason, now.monotonic)
        if health in (Health.FAILED, Health.RECOVERING):
            # Evidence that is gone (taint removed, BMC reading void after
            # a Ready) no longer counts; none is gained from a kubelet that
            # talks (Ready=True with the taint runs again).
            fenced, evidence = fencing_evidence(node, settings, bmc_evidence)
            if previous.fenced and not fenced:
                previous = dataclasses.replace(
                    previous, fenced=False, evidence=None,
                    evidence_time=None)
        if health is Health.RECOVERING:
            # Recovery needs Ready=True without a break: start again.
            return dataclasses.replace(previous, health=Health.FAILED,
                                       reason=signal.reason,
                                       recovery_time=None)
        return dataclasses.replace(previous, reason=signal.reason)

    # SignalKind.UP
    if health in (Health.HEALTHY, Health.SUSPECT):
        return Assessment(Health.HEALTHY, signal.reason, now.monotonic)
    if health is Health.FAILED:
        previous = dataclasses.replace(
            previous, health=Health.RECOVERING, phase_started=now.monotonic,
            recovery_time=(signal.since if signal.since is not None
                           else now.wall))
    if now.monotonic < previous.phase_started + settings.recovery_window:
        return dataclasses.replace(previous, reason=signal.reason)
    return Assessment(Health.HEALTHY, 'recovered: ' + signal.reason,
                      now.monotonic, recovery_time=previous.recovery_time)


def decide(previous, current):
    """The notification a transition calls for, or None."""
    was = previous.health if previous is not None else Health.HEALTHY
    if current.health is Health.FAILED:
        if was in (Health.HEALTHY, Health.SUSPECT):
            return _stopped(current)
        if current.fenced and not previous.fenced:
            return _stopped(current)
        return None
    if (current.health is Health.HEALTHY
            and was in (Health.FAILED, Health.RECOVERING)):
        return Intent(Event.STARTED, 'NORMAL', 'ONLINE',
                      current.recovery_time, current.reason)
    return None


def _stopped(assessment):
    host_status = 'NORMAL' if assessment.fenced else 'UNKNOWN'
    generated_time = assessment.failure_time
    if (assessment.fenced and assessment.evidence_time is not None
            and (generated_time is None
                 or assessment.evidence_time > generated_time)):
        # A NORMAL that comes late carries the time of its evidence:
        # Masakari re-processes NEW notifications older than 60 s and
        # expires them after 24 h. Still from Kubernetes data (taint
        # timeAdded) or the BMC reading, so a restart rebuilds it alike.
        generated_time = assessment.evidence_time
    reason = assessment.reason
    if assessment.evidence:
        reason += '; fenced: ' + assessment.evidence
    else:
        reason += '; no fencing evidence yet'
    return Intent(Event.STOPPED, host_status, 'OFFLINE',
                  generated_time, reason)


def next_deadline(assessment, settings):
    """When this assessment may change by itself, or None.

    Monotonic time at which a window (confirmation, recovery) runs out.
    """
    if assessment.health is Health.SUSPECT:
        return assessment.phase_started + settings.confirmation_window
    if assessment.health is Health.RECOVERING:
        return assessment.phase_started + settings.recovery_window
    return None


DEFAULT_SETTINGS = k8s_conf.PolicySettings()
