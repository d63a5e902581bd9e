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

"""What an end-to-end scenario may do to a cluster, whatever runs it.

The scenarios in ``tests/e2e/test_scenarios.py`` are written once against
:class:`Backend`; ``backends/apiserver.py`` (the Kubernetes API test
server, runs anywhere) and ``backends/kind.py`` (a kind cluster) implement
it. The verbs are an operator's: stop a worker, cordon it, taint it, kill
a pod; the observations are what an operator can see: what masakari-api
stored, which pod holds the leader Lease, the monitor's Events on a Node.
Nothing here reaches into the monitor's memory, so the same assertions
hold for a process on this machine and for a pod in a cluster.

Every scenario gets a fresh backend from its session (``scenario()``):
its own monitor release, and notifications counted from its start.
"""

import abc
import dataclasses
import threading
import typing

from masakarimonitors_k8s.clock import Clock
from masakarimonitors_k8s.clock import SystemClock

# How often a condition is looked at again while waiting for it.
POLL_INTERVAL = 0.1
# The chart values path of the driver's options.
K8S_VALUES = 'conf.masakarimonitors.k8s.'


class Stored(typing.NamedTuple):
    """One notification as masakari-api stored it."""

    hostname: str
    event: str
    host_status: str


class NodeEvent(typing.NamedTuple):
    """One Kubernetes Event the monitor recorded on a Node."""

    node: str
    reason: str
    message: str


@dataclasses.dataclass(frozen=True)
class Timeouts:
    """How long each kind of reaction may take on a backend (seconds).

    ``failure``: a stopped worker until its STOPPED is stored, including
    Kubernetes' grace period where it is real. ``recovery``: a started
    worker until its STARTED is stored. ``deploy``: a monitor release
    until it leads and watches. ``takeover``: a killed leader until
    another pod holds the Lease.
    """

    failure: float
    recovery: float
    deploy: float
    takeover: float


class WaitTimeout(AssertionError):
    """A condition did not hold in time; the message says what was seen."""


def wait_until(predicate, *, timeout, what, clock=None,
               interval=POLL_INTERVAL, describe=None):
    """Poll ``predicate`` every ``interval`` until it returns true.

    Returns the predicate's value; ``describe()`` adds what was last seen
    to the error.
    """
    clock = clock or SystemClock()
    deadline = clock.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if clock.monotonic() > deadline:
            seen = ('; last seen: %s' % describe()) if describe else ''
            raise WaitTimeout('timed out after %.0f s waiting for %s%s'
                              % (timeout, what, seen))
        # An Event nobody sets: paces the polling without time.sleep.
        threading.Event().wait(interval)


def k8s_values(**options):
    """Chart values of ``[k8s]`` options: ``k8s_values(fencing="taint")``."""
    return {K8S_VALUES + name: value for name, value in options.items()}


class Backend(abc.ABC):
    """One scenario's view of a cluster with a monitor and a masakari-api.

    Workers are the nodes a scenario may break; each is registered as a
    Masakari host of the scenario's segment under its node name.
    """

    #: Short name, for messages.
    name: str
    #: See :class:`Timeouts`.
    timeouts: Timeouts
    #: ``[k8s] storm_settle_window`` that covers how far apart in time
    #: workers stopped together become Unknown on this backend.
    settle_window: float
    #: The real clock the waits run on.
    clock: Clock = SystemClock()
    #: Seconds between two looks at a condition; each look may cost a
    #: few API requests or a kubectl run.
    poll_interval: float = POLL_INTERVAL

    # -- the monitor ------------------------------------------------------

    @abc.abstractmethod
    def deploy_monitor(self, values):
        """Install the chart with ``values/kind.yaml`` and ``values``.

        ``values`` maps dotted chart value paths to values, as
        ``helm --set-json`` takes them. Returns once a replica leads and
        the replicas watch the cluster.
        """

    @abc.abstractmethod
    def monitor_pods(self):
        """Names of the monitor's running pods."""

    @abc.abstractmethod
    def leader(self):
        """The pod named in the leader election Lease, or None."""

    @abc.abstractmethod
    def kill_pod(self, name):
        """Kill a monitor pod at once, as a node crash would.

        No SIGTERM, no lease release. Its Deployment then starts a
        replacement.
        """

    # -- the cluster ------------------------------------------------------

    @abc.abstractmethod
    def workers(self):
        """Names of the worker nodes, sorted."""

    @abc.abstractmethod
    def stop_workers(self, names):
        """Power the workers off together (their kubelets go silent)."""

    @abc.abstractmethod
    def start_worker(self, name):
        """Power a stopped worker on again."""

    @abc.abstractmethod
    def cordon(self, name):
        """``kubectl cordon``."""

    @abc.abstractmethod
    def taint_out_of_service(self, name):
        """Add the out-of-service taint: the fencing evidence.

        ``node.kubernetes.io/out-of-service=nodeshutdown:NoExecute``, as
        an admin or a remediation operator sets it.
        """

    @abc.abstractmethod
    def untaint_out_of_service(self, name):
        """Remove the out-of-service taint (after the host is repaired)."""

    # -- what can be observed ---------------------------------------------

    @abc.abstractmethod
    def notifications(self):
        """This scenario's notifications in masakari-api, oldest first.

        As :class:`Stored` tuples.
        """

    @abc.abstractmethod
    def node_events(self, node):
        """The monitor's Events on ``node`` in this scenario.

        As :class:`NodeEvent` tuples.
        """

    @abc.abstractmethod
    def diagnostics(self):
        """Text for a failed wait: the monitor's log tails and the like."""

    # -- waiting ----------------------------------------------------------

    def wait_for(self, predicate, *, timeout, what):
        """Poll until ``predicate()`` is true.

        On timeout the error shows the stored notifications and
        :meth:`diagnostics`.
        """
        return wait_until(predicate, timeout=timeout, what=what,
                          clock=self.clock, interval=self.poll_interval,
                          describe=self._describe)

    def _describe(self):
        return 'notifications %s\n%s' % (self.notifications(),
                                         self.diagnostics())
