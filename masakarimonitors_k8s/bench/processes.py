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

"""One driver process, and what it costs the machine.

Part of the benchmark (:mod:`masakarimonitors_k8s.bench`). Each driver
runs as its own ``masakari-hostmonitor`` process, so its CPU time and
memory are its own and nothing of the API server, the simulated cluster
or the other driver mixes in. Memory is read twice: samples of the
resident set (the curve) and the kernel's high-water mark ``VmHWM`` just
before the process is asked to stop (the peak while monitoring).
``ru_maxrss`` is not used: Linux carries it over from the forking parent
across ``exec``, so a driver started by a large benchmark process would
report the benchmark's size.

The process is reaped with ``os.wait4`` in a helper thread rather than by
:mod:`subprocess`, because only ``wait4`` returns the child's own CPU
times, to the end.
"""

import os
import signal
import subprocess
import threading
import typing

import psutil

KIB = 1024


class Sample(typing.NamedTuple):
    """CPU seconds (user + system) and resident bytes at a wall time."""

    wall: float
    cpu_seconds: float
    rss_bytes: int


class Exit(typing.NamedTuple):
    """How a driver process ended, from its own rusage."""

    returncode: int
    # It had ended before it was asked to (a crash, a config error).
    ended_early: bool
    stopped_on_sigterm: bool
    cpu_seconds: float


class DriverProcess:
    """A ``masakari-hostmonitor`` process started with ``command``.

    Standard output and error go to ``output_path``.
    """

    def __init__(self, name, command, *, output_path, env=None):
        self.name = name
        self._command = list(command)
        self._output_path = output_path
        self._env = env
        self._popen = None
        self._process = None
        self._reaped = threading.Event()
        self._reaper = None
        self._exit_status = None
        self._rusage = None
        self._ended_early = None

    @property
    def output_path(self):
        return self._output_path

    @property
    def pid(self):
        return self._popen.pid

    def start(self):
        with open(self._output_path, 'ab') as output:
            self._popen = subprocess.Popen(
                self._command, stdin=subprocess.DEVNULL, stdout=output,
                stderr=subprocess.STDOUT, env=self._env, close_fds=True)
        self._process = psutil.Process(self._popen.pid)
        self._reaper = threading.Thread(target=self._reap,
                                        name='reap-%s' % self.name,
                                        daemon=True)
        self._reaper.start()
        return self

    def running(self):
        return self._popen is not None and not self._reaped.is_set()

    def sample(self, wall):
        """A :class:`Sample` taken now (stamped ``wall``); None if gone."""
        if not self.running():
            return None
        try:
            with self._process.oneshot():
                times = self._process.cpu_times()
                rss = self._process.memory_info().rss
        except psutil.Error:
            return None
        return Sample(wall, times.user + times.system + times.children_user
                      + times.children_system, rss)

    def kernel_peak_rss(self):
        """``VmHWM`` of the live process in bytes, or None if unknown."""
        try:
            with open('/proc/%d/status' % self.pid) as status:
                for line in status:
                    if line.startswith('VmHWM:'):
                        return int(line.split()[1]) * KIB
        except (OSError, ValueError, IndexError):
            return None
        return None

    def request_stop(self):
        """SIGTERM, as a service manager stops it; returns at once."""
        if self._ended_early is None:
            self._ended_early = self._reaped.is_set()
        self._signal(signal.SIGTERM)

    def stop(self, *, grace):
        """SIGTERM, then SIGKILL after ``grace`` seconds; returns Exit.

        Several processes stop in parallel when :meth:`request_stop` was
        called on each first.
        """
        self.request_stop()
        stopped_on_sigterm = self._reaped.wait(grace)
        if not stopped_on_sigterm:
            self._signal(signal.SIGKILL)
            self._reaped.wait()
        usage = self._rusage
        return Exit(
            returncode=os.waitstatus_to_exitcode(self._exit_status),
            ended_early=self._ended_early,
            stopped_on_sigterm=stopped_on_sigterm,
            cpu_seconds=usage.ru_utime + usage.ru_stime)

    def _signal(self, signum):
        # Not Popen.send_signal: it polls, and a poll that reaps the child
        # would take its rusage away from the reaper thread.
        if self._reaped.is_set():
            return
        try:
            os.kill(self._popen.pid, signum)
        except ProcessLookupError:
            pass

    def _reap(self):
        _pid, status, usage = os.wait4(self._popen.pid, 0)
        self._exit_status = status
        self._rusage = usage
        # Tell Popen the child is gone, so it never waits for it again.
        self._popen.returncode = os.waitstatus_to_exitcode(status)
        self._reaped.set()
