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

"""One background loop in its own OS thread.

Every long-running part of the monitor (reflectors, delivery, leader
election, fencing) is a ``Loop``: a ``run()`` method that returns when the
shared stop event is set. They are real threads, never eventlet green
threads, because masakari-hostmonitor does not monkey-patch sockets and a
blocking read in a green thread would freeze the whole process.
"""

import threading


class Loop:
    """Base class: subclasses set ``thread_name`` and define ``run()``."""

    thread_name = 'loop'
    _thread = None

    def start(self):
        self._thread = threading.Thread(target=self.run, daemon=True,
                                        name=self.thread_name)
        self._thread.start()

    def wake(self):
        """Hook: interrupt a wait so that ``run()`` sees the stop event."""

    def join(self, timeout=None):
        if self._thread is not None:
            self.wake()
            self._thread.join(timeout)

    def is_alive(self):
        return self._thread is not None and self._thread.is_alive()

    def run(self):
        raise NotImplementedError
