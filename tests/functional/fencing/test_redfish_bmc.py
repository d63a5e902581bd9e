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

"""The Redfish BMC harness itself: lifecycle, state, failure reports.

The fencing tests trust this harness to tell the truth about the
emulator, so its own promises are checked here: it stops what it started,
a restart keeps the URL and the power state (like a real BMC), and a
failed start says why.
"""

import psutil
import pytest

from masakarimonitors_k8s.testing import redfish_bmc

pytestmark = pytest.mark.timeout(60)


def test_restart_keeps_url_and_power_state(tmp_path):
    server = redfish_bmc.RedfishBmc(tmp_path, systems=['compute-01',
                                                       'compute-02'])
    with server:
        url = server.url
        first_pid = server.pid
        server.set_power('compute-02', 'Off')
        assert [server.power_state(name) for name in server.systems] == [
            'On', 'Off']
    assert not server.running
    assert not psutil.pid_exists(first_pid) or (
        psutil.Process(first_pid).status() == psutil.STATUS_ZOMBIE)

    with server:
        assert server.pid != first_pid
        assert server.url == url
        assert server.power_state('compute-02') == 'Off'
        server.set_power('compute-02', 'On')
        assert server.power_state('compute-02') == 'On'


def test_the_stock_fake_driver_serves_too(tmp_path):
    """power_delay=None: sushy-tools' driver as shipped (random delay)."""
    with redfish_bmc.RedfishBmc(tmp_path, power_delay=None,
                                initial_power='Off') as server:
        assert server.power_state('compute-01') == 'Off'
        # Accepted; its effect comes 1-11 s later, which is not waited for.
        server.set_power('compute-01', 'On', wait=False)


def test_unknown_systems_and_states_are_refused(tmp_path):
    server = redfish_bmc.RedfishBmc(tmp_path, systems=['compute-01'])
    with pytest.raises(redfish_bmc.RedfishBmcError, match='no system'):
        server.system_path('compute-09')
    with pytest.raises(ValueError, match='state must be one of'):
        server.set_power('compute-01', 'Paused')


def test_a_failed_start_says_why(tmp_path):
    server = redfish_bmc.RedfishBmc(tmp_path, python='/bin/false')
    with pytest.raises(redfish_bmc.RedfishBmcError,
                       match='sushy-emulator exited with 1 before '
                             'answering'):
        server.start()
    assert not server.running
