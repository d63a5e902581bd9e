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

"""Short node names, FQDN nova hosts: the monitor reports the FQDN.

OpenStack-Helm's nova registers ``$(hostname --fqdn)`` while Kubernetes
node names are often short; ``[k8s] hostname_domain`` bridges the two.
Test API server -> driver -> a real masakari-api that knows only FQDNs.
"""

import pytest

from masakarimonitors_k8s import conf as k8s_conf
from masakarimonitors_k8s.testing import harness

pytestmark = pytest.mark.timeout(120)

DOMAIN = 'cloud.example.org'


def test_a_short_node_is_reported_under_its_fqdn_host(cluster, masakari):
    names = masakari.host_names(3)
    masakari.add_hosts(['%s.%s' % (name, DOMAIN) for name in names])
    cluster.add_nodes(names)
    settings = harness.fast_settings(
        scope=k8s_conf.ScopeSettings(hostname_domain=DOMAIN))
    monitor = harness.MonitorUnderTest(cluster, masakari, settings)
    try:
        harness.wait_until(monitor.synced, what='the initial list')
        victim = names[1]
        cluster.fail_and_detect(victim)
        monitor.settled()
        assert harness.stored(masakari) == [
            ('%s.%s' % (victim, DOMAIN), 'STOPPED', 'UNKNOWN')]
        assert monitor.monitor.engine.hostnames.conflict_counts() == {
            'collision': 0, 'case': 0}
    finally:
        monitor.stop()
