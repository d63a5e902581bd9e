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

"""Each host's current state, as the threads that act may read it.

Position in the flow: the decision engine owns every host's record and,
after each change, publishes an immutable :class:`HostView` of it here.
The parts that act later and elsewhere (the notification gate, the
delivery thread, the fencing thread) hold only a host's key (node name and
failure episode) and ask, at the moment they act, whether the host still
warrants the action: :func:`notification_warrant` and
:func:`fence_warrant` are pure rules over the current view. So a host that
came back, was excluded or deleted, or failed again in a new episode is
never acted upon on the strength of an older observation.

Publishing swaps one dict entry for a new frozen object, which is atomic
in CPython, so readers need no lock and never see half an update.
"""

import dataclasses
import enum

from masakarimonitors_k8s import policy


class Warrant(str, enum.Enum):
    ACT = 'act'     # the host still warrants it: go ahead now
    WAIT = 'wait'   # not now (recovering, maintenance): look again later
    DROP = 'drop'   # never for this episode: withdraw it


@dataclasses.dataclass(frozen=True)
class HostView:
    """One host as the decision thread sees it now.

    ``episode`` numbers the current failure (None while the host is not
    failed); it is unique within the process, so a repeat failure after a
    recovery, a delete or a relist is a new episode. ``deleted`` marks a
    tombstone: the Node is gone, but it was failed with fencing evidence,
    and the NORMAL it earned is still owed to Masakari.
    """
    name: str
    hostname: str
    zone: str
    health: policy.Health
    fenced: bool = False
    episode: int | None = None
    deleted: bool = False
    unschedulable: bool = False
    ready: str | None = None


def notification_warrant(view, notification):
    """Whether ``notification`` may be sent now, given the host's view."""
    if notification.intent.event is policy.Event.STARTED:
        return Warrant.ACT
    if view is None:
        return Warrant.DROP
    if (view.episode != notification.episode
            or view.hostname != notification.hostname):
        return Warrant.DROP
    if view.deleted:
        return (Warrant.ACT if view.fenced
                and notification.host_status == 'NORMAL' else Warrant.DROP)
    if view.health is policy.Health.FAILED:
        if notification.host_status == 'NORMAL' and not view.fenced:
            return Warrant.WAIT
        return Warrant.ACT
    if view.health is policy.Health.RECOVERING:
        # Ready again: not now. Back to FAILED within the recovery window
        # (same episode), it goes out; HEALTHY ends the episode.
        return Warrant.WAIT
    return Warrant.DROP


def fence_warrant(view, episode, *, cordon_is_maintenance=True):
    """Whether the host of ``view`` may be powered off now."""
    if view is None or view.deleted or view.episode != episode:
        return Warrant.DROP
    if view.health is not policy.Health.FAILED or view.fenced:
        return Warrant.DROP
    if view.unschedulable and cordon_is_maintenance:
        return Warrant.WAIT
    return Warrant.ACT


class HostBoard:
    """The published views, readable from any thread."""

    def __init__(self):
        self._views = {}

    def get(self, name):
        return self._views.get(name)

    def publish(self, view):
        self._views[view.name] = view

    def withdraw(self, name):
        self._views.pop(name, None)

    def names(self):
        return list(self._views)
