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

"""A monitor-shaped object for the observability unit tests.

The observability code reads a monitor through a handful of attributes
(``engine``, ``deliveries``, ``reflectors``, ``clock``, ``stop_event``,
``loops()``, optional ``leader`` and ``guards``). These fakes carry the
real stats classes (ReflectorStats, DeliveryStats, the engine's Counters)
with values set by the test, so what a scrape reports can be compared
with what was set.
"""

import threading

from prometheus_client import parser

from masakarimonitors_k8s.clock import ManualClock
from masakarimonitors_k8s import engine as k8s_engine
from masakarimonitors_k8s.kube import hostnames as kube_hostnames
from masakarimonitors_k8s.kube import reflector as kube_reflector
from masakarimonitors_k8s import notifier
from masakarimonitors_k8s import policy


class FakeEngine:
    def __init__(self):
        self.counts = {health: 0 for health in policy.Health}
        self.counters = k8s_engine.Counters()
        self.hostnames = kube_hostnames.HostnameIndex()
        self.failures_left = 0   # health_counts() raising like a race

    def health_counts(self):
        if self.failures_left:
            self.failures_left -= 1
            raise RuntimeError('dictionary changed size during iteration')
        return dict(self.counts)


class FakeDeliveries:
    def __init__(self):
        self.stats = notifier.DeliveryStats()
        self.waiting = {}

    def pending(self):
        return dict(self.waiting)


class FakeReflector:
    def __init__(self, name, *, alive=True):
        self.name = name
        self.stats = kube_reflector.ReflectorStats()
        self.alive = alive

    def is_alive(self):
        return self.alive


class FakeLoop:
    def __init__(self, *, alive=True):
        self.alive = alive

    def is_alive(self):
        return self.alive


class FakeLeader:
    def __init__(self, *, is_leader=False, holder=None):
        self.is_leader = is_leader
        self.holder = holder


class FakeGuards:
    def __init__(self, holding):
        self._holding = holding

    def holding(self):
        return dict(self._holding)


class FakeMonitor:
    def __init__(self, *, leases=False):
        self.clock = ManualClock()
        self.engine = FakeEngine()
        self.deliveries = FakeDeliveries()
        self.reflectors = [FakeReflector('nodes')]
        if leases:
            self.reflectors.append(FakeReflector('leases'))
        self.delivery_worker = FakeLoop()
        self.stop_event = threading.Event()
        self.listeners = []

    def loops(self):
        return [self.delivery_worker] + list(self.reflectors)


def samples(exposition):
    """{(sample name, frozenset of labels): value} of a text exposition."""
    if isinstance(exposition, bytes):
        exposition = exposition.decode('utf-8')
    found = {}
    for family in parser.text_string_to_metric_families(exposition):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = (
                sample.value)
    return found


def value(found, name, **labels):
    return found[(name, frozenset(labels.items()))]
