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

"""Fixtures of the fencing tests: real Redfish BMCs on loopback.

See masakarimonitors_k8s/testing/redfish_bmc.py. Starting an emulator
costs 0.4-0.9 s (median 0.6 s on the shared test machine), so
``redfish_bmc_server`` (one emulator with several systems) is shared by
the module; a test that changes a system's power owns that system, so
tests do not depend on each other's order. ``fresh_redfish_bmc`` starts
emulators with other options (TLS, one system, a slow power transition)
and stops them when the test ends.
"""

import pytest

from masakarimonitors_k8s.testing import redfish_bmc

USERNAME = 'admin'
PASSWORD = 'Redfish-Test-Pa55'
SYSTEMS = tuple('compute-%02d' % number for number in range(1, 9))


@pytest.fixture(scope='module')
def redfish_bmc_server(tmp_path_factory):
    with redfish_bmc.RedfishBmc(tmp_path_factory.mktemp('redfish-bmc'),
                                systems=SYSTEMS, username=USERNAME,
                                password=PASSWORD) as server:
        yield server


@pytest.fixture
def fresh_redfish_bmc(tmp_path):
    """Start an emulator with other options: ``fresh_redfish_bmc(**opts)``.

    Options are RedfishBmc's; the credentials default to those of
    ``redfish_bmc_server``.
    """
    started = []

    def start(**options):
        options.setdefault('username', USERNAME)
        options.setdefault('password', PASSWORD)
        server = redfish_bmc.RedfishBmc(
            tmp_path / ('redfish-bmc-%d' % len(started)), **options)
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.stop()
