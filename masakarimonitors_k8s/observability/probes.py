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

"""What ``/healthz`` and ``/readyz`` answer, as pure functions of a monitor.

Position: read by the status server, kept apart from HTTP so the answers
can be checked on a monitor that was never started.

- *Live* means every loop of the process runs (watches, decisions,
  delivery, leader election). A dead loop is not coming back: the kubelet
  should restart the container, and the answer names the loop.
- *Ready* means the monitor has something to say: the initial LIST of
  nodes completed, and with leader election the elector knows the lease
  (it leads, or it is a standby that has seen the leader). Readiness is
  not withdrawn while a watch reconnects: the view is then stale, which
  the answer says, but restarting the pod would only make it staler.
"""

import dataclasses
import threading


@dataclasses.dataclass(frozen=True)
class ProbeResult:
    ok: bool
    detail: str


def liveness(monitor):
    """Alive when every loop of ``monitor`` runs."""
    if monitor.stop_event.is_set():
        return ProbeResult(False, 'the monitor is stopping')
    loops = [(loop_name(part), part.is_alive()) for part in _loops(monitor)]
    dead = [name for name, alive in loops if not alive]
    if dead or not loops:
        return ProbeResult(False, 'not running: %s' % (
            ', '.join(dead) or 'no loop started'))
    return ProbeResult(True, 'running: %s' % ', '.join(
        name for name, _alive in loops))


def readiness(monitor):
    """Ready once nodes were listed and leader election has a view."""
    nodes = next((r for r in monitor.reflectors if r.name == 'nodes'), None)
    if nodes is None or nodes.stats.lists == 0:
        return ProbeResult(False, 'the initial list of nodes has not '
                                  'completed yet')
    view = 'current' if nodes.stats.synced else (
        'stale (reconnecting to the API server)')
    detail = 'nodes listed (resourceVersion %s); view %s' % (
        nodes.stats.resource_version, view)
    leader = getattr(monitor, 'leader', None)
    if leader is None:
        return ProbeResult(True, detail)
    if getattr(leader, 'is_leader', False):
        return ProbeResult(True, detail + '; leader')
    holder = getattr(leader, 'holder', None)
    if getattr(leader, 'ready', holder is not None):
        return ProbeResult(True, detail + '; standby (leader: %s)'
                           % (holder or 'unknown'))
    return ProbeResult(False, detail + '; leader election has not seen the '
                                       'lease yet')


def loop_name(part):
    if isinstance(part, threading.Thread):
        return part.name
    name = getattr(part, 'name', None)
    if isinstance(name, str):
        return 'watch of %s' % name
    return type(part).__name__


def _loops(monitor):
    loops = getattr(monitor, 'loops', None)
    if loops is not None:
        return list(loops())
    return [monitor.delivery_worker] + list(monitor.reflectors)
