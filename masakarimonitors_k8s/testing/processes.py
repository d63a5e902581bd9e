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

"""Helpers of the harnesses that run a real server as a process.

masakari-api and the Redfish emulator both need a free loopback port and a
wait until the process answers, or dies.
"""

import socket
import subprocess


def free_loopback_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def wait_until_answering(process, answers, *, clock, timeout, what,
                         log_tail, error, pace=0.02):
    """Poll ``answers()`` until true; raise ``error`` on death or timeout.

    :param process: the subprocess.Popen of the server.
    :param answers: callable() -> bool, one cheap request.
    :param log_tail: callable() -> str, the end of the server's log.
    :param error: exception class to raise.
    """
    deadline = clock.monotonic() + timeout
    while True:
        if answers():
            return
        try:
            # Paces the polling and notices an early exit at once.
            code = process.wait(timeout=pace)
        except subprocess.TimeoutExpired:
            code = None
        if code is not None:
            raise error('%s exited with %s before answering; log tail:\n%s'
                        % (what, code, log_tail()))
        if clock.monotonic() > deadline:
            raise error('%s did not answer within %.0f s; log tail:\n%s'
                        % (what, timeout, log_tail()))


def file_tail(path, lines):
    """The last ``lines`` lines of a log file ('' if it does not exist)."""
    try:
        with open(path, 'rb') as log:
            text = log.read().decode('utf-8', 'replace')
    except FileNotFoundError:
        return ''
    return '\n'.join(text.splitlines()[-lines:])
