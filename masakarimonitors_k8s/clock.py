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

"""Time as an input.

Every piece of logic that depends on time (the health policy, the guards,
delivery backoff, the test cluster's kubelets and node lifecycle controller)
takes a clock instead of calling :mod:`time` itself, so tests can move time
forward explicitly and never sleep to wait for a deadline.

Two readings are offered because they answer different questions:
``wall()`` is comparable with timestamps written by Kubernetes (lease renew
times, condition transition times); ``monotonic()`` measures durations and
never jumps.
"""

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def wall(self) -> float:
        """Seconds since the epoch, comparable with API timestamps."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin; never goes backwards."""


class SystemClock:
    """The real clock."""

    def wall(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock that only moves when told to; safe to share between threads.

    ``wall()`` and ``monotonic()`` advance together, as they do in reality
    unless the wall clock is stepped (``set_wall``).
    """

    def __init__(self, wall: float = 1_800_000_000.0,
                 monotonic: float = 1_000.0):
        self._lock = threading.Lock()
        self._wall = float(wall)
        self._monotonic = float(monotonic)

    def wall(self) -> float:
        with self._lock:
            return self._wall

    def monotonic(self) -> float:
        with self._lock:
            return self._monotonic

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError('a clock cannot advance by %r seconds' % seconds)
        with self._lock:
            self._wall += seconds
            self._monotonic += seconds

    def set_wall(self, wall: float) -> None:
        """Step the wall clock (NTP correction, skew) without moving time."""
        with self._lock:
            self._wall = float(wall)


class OffsetClock:
    """Another clock seen through a fixed wall-time offset (clock skew)."""

    def __init__(self, base: Clock, offset: float = 0.0):
        self._base = base
        self.offset = float(offset)

    def wall(self) -> float:
        return self._base.wall() + self.offset

    def monotonic(self) -> float:
        return self._base.monotonic()
