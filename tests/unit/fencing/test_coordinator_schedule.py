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

"""When the fencing coordinator looks at a node: at once, then each recheck.

The rig's settle window is 15 s and its recheck interval 30 s, so a node
whose first attempt the guards held would wait up to 30 s more after its
STOPPED went out, unless the gate's release wakes the coordinator.
"""

from tests.unit.monitor_rig import MonitorRig

FENCE = 'redfish-power-off'


def test_fencing_starts_when_the_settle_window_lets_the_stopped_out():
    rig = MonitorRig(fence_action=FENCE)
    rig.set('n1', ready='Unknown')
    rig.advance(5)
    assert rig.bmc.power_offs == []     # settling: the guards hold it
    assert rig.monitor.fencing.next_due() == rig.clock.monotonic() + 30

    rig.advance(10)                     # 15 s: the STOPPED goes out

    assert rig.sent()[0] == ('n1', 'STOPPED', 'UNKNOWN')
    assert rig.bmc.power_offs == ['n1']


def test_fencing_starts_when_a_storm_ends():
    names = ['n%d' % i for i in range(1, 7)]
    rig = MonitorRig(names, fence_action=FENCE, settle=0.0, limit='1',
                     recovery=20.0)
    rig.set('n1', ready='Unknown')      # announced at once (no settle)
    rig.set('n2', ready='Unknown')      # two failed: a storm
    rig.advance(15)                     # n1 held; next look at 45 s
    rig.set('n2', ready='True')         # recovering for 20 s: still counted
    rig.advance(10)
    assert rig.bmc.power_offs == []
    assert rig.monitor.guards.storm_zones()

    rig.advance(10)                     # 35 s: n2 recovered, storm over

    assert not rig.monitor.guards.storm_zones()
    assert rig.bmc.power_offs == ['n1']


def test_waking_a_node_does_not_add_a_second_schedule():
    rig = MonitorRig(fencing='redfish')
    rig.world['n1'].power = 'On'        # its BMC never confirms Off
    rig.set('n1', ready='Unknown')
    rig.advance(1)
    fencing = rig.monitor.fencing
    assert fencing.checks == 1
    fencing.leadership(True)            # each wakes the node
    fencing.leadership(True)
    fencing.fence_allowed('n1', rig.monitor.engine.host('n1').episode)
    rig.fence()
    assert fencing.checks == 2

    for _ in range(4):
        rig.advance(30)

    assert fencing.checks == 6          # one per recheck, not one per wake


def test_an_announcement_of_another_episode_does_not_wake_the_node():
    rig = MonitorRig(fencing='redfish')
    rig.world['n1'].power = 'On'
    rig.set('n1', ready='Unknown')
    rig.advance(1)
    fencing = rig.monitor.fencing
    due = fencing.next_due()

    fencing.fence_allowed('n1', 'an older episode')

    assert fencing.next_due() == due
