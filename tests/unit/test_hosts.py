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

"""The rules that say whether a host still warrants an action, as tables."""

import pytest

from masakarimonitors_k8s import engine as k8s_engine
from masakarimonitors_k8s import hosts
from masakarimonitors_k8s import policy

ACT, WAIT, DROP = hosts.Warrant.ACT, hosts.Warrant.WAIT, hosts.Warrant.DROP
H = policy.Health


def view(health=H.FAILED, *, fenced=False, episode=1, deleted=False,
         unschedulable=False, hostname='cmp-1'):
    return hosts.HostView(name='cmp-1', hostname=hostname, zone='',
                          health=health, fenced=fenced, episode=episode,
                          deleted=deleted, unschedulable=unschedulable)


def note(event='STOPPED', status='NORMAL', episode=1):
    return k8s_engine.Notification(
        'cmp-1', 'cmp-1', policy.Intent(policy.Event(event), status,
                                        'OFFLINE', 0.0, 'test'),
        episode=episode)


@pytest.mark.parametrize('case, current, notification, expected', [
    ('failed with evidence', view(fenced=True), note(), ACT),
    ('failed, UNKNOWN needs none', view(), note(status='UNKNOWN'), ACT),
    ('failed, evidence gone for now', view(), note(), WAIT),
    ('Ready again, within the recovery window',
     view(H.RECOVERING, fenced=True), note(), WAIT),
    ('recovered', view(H.HEALTHY, episode=None), note(), DROP),
    ('forgotten (excluded, no host name)', None, note(), DROP),
    ('a new episode', view(fenced=True, episode=2), note(episode=1), DROP),
    ('another host name now', view(fenced=True, hostname='other'), note(),
     DROP),
    ('deleted with evidence', view(fenced=True, deleted=True), note(), ACT),
    ('deleted, an UNKNOWN', view(fenced=True, deleted=True),
     note(status='UNKNOWN'), DROP),
    ('a STARTED is always true', None, note('STARTED'), ACT),
])
def test_notification_warrant(case, current, notification, expected):
    assert hosts.notification_warrant(current, notification) is expected


@pytest.mark.parametrize('case, current, episode, maintenance, expected', [
    ('failed, unfenced', view(), 1, True, ACT),
    ('fenced already', view(fenced=True), 1, True, DROP),
    ('Ready again', view(H.RECOVERING), 1, True, DROP),
    ('recovered', view(H.HEALTHY, episode=None), 1, True, DROP),
    ('forgotten', None, 1, True, DROP),
    ('deleted', view(deleted=True), 1, True, DROP),
    ('a new episode', view(episode=2), 1, True, DROP),
    ('cordoned: maintenance', view(unschedulable=True), 1, True, WAIT),
    ('cordoned, fenced anyway by option', view(unschedulable=True), 1,
     False, ACT),
])
def test_fence_warrant(case, current, episode, maintenance, expected):
    assert hosts.fence_warrant(
        current, episode, cordon_is_maintenance=maintenance) is expected


def test_the_board_publishes_and_withdraws():
    board = hosts.HostBoard()
    board.publish(view())
    assert board.get('cmp-1').health is H.FAILED
    board.withdraw('cmp-1')
    assert board.get('cmp-1') is None
    assert board.names() == []
