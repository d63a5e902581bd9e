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

"""The stock ``masakari-hostmonitor`` process loading this driver."""

import os
import subprocess
import sys

import pytest
from stevedore import driver as stevedore_driver

from masakarimonitors_k8s import driver

pytestmark = pytest.mark.timeout(60)

HOSTMONITOR = os.path.join(os.path.dirname(sys.executable),
                           'masakari-hostmonitor')


def test_entry_point_k8s_loads_our_driver():
    manager = stevedore_driver.DriverManager(
        namespace='hostmonitor.driver', name='k8s', invoke_on_load=False)
    assert manager.driver is driver.KubernetesHostMonitor


def run_hostmonitor(tmp_path, k8s_lines):
    conf = tmp_path / 'masakarimonitors.conf'
    log = tmp_path / 'hostmonitor.log'
    conf.write_text('\n'.join([
        '[DEFAULT]', 'log_file = %s' % log,
        '[host]', 'monitoring_driver = k8s',
        '[k8s]'] + k8s_lines + [
        '[api]', 'auth_type = none', 'endpoint = http://127.0.0.1:9/v1',
    ]) + '\n')
    completed = subprocess.run([HOSTMONITOR, '--config-file', str(conf)],
                               capture_output=True, text=True, timeout=45)
    return completed.returncode, log.read_text()


@pytest.mark.parametrize('k8s_lines,named', [
    (['hostname_source = label', 'api_url = http://127.0.0.1:9'],
     '[k8s] hostname_key'),
    (['node_selector = role in (a', 'api_url = http://127.0.0.1:9'],
     '[k8s] node_selector'),
    (['api_url = https://127.0.0.1:9'], '[k8s] ca_file'),
    (['read_timeout = -1', 'api_url = http://127.0.0.1:9'],
     '[k8s] read_timeout'),
    (['kubeconfig = /nonexistent/kubeconfig'], '/nonexistent/kubeconfig'),
    (['watch_idle_timeout = 30', 'api_url = http://127.0.0.1:9'],
     '[k8s] watch_idle_timeout'),
    (['fence_action = redfish-power-off',
      'redfish_credentials_file = /etc/bmc.yaml',
      'api_url = http://127.0.0.1:9'], '[k8s] fence_action'),
    (['hostname_domain = .example.org', 'api_url = http://127.0.0.1:9'],
     '[k8s] hostname_domain'),
    (['fencing = redfish', 'redfish_credentials_file = /etc/bmc.yaml',
      'redfish_trust_bmc_annotation = true', 'api_url = http://127.0.0.1:9'],
     '[k8s] redfish_bmc_allowed_hosts'),
])
def test_configuration_error_stops_startup_naming_the_option(
        tmp_path, k8s_lines, named):
    code, log = run_hostmonitor(tmp_path, k8s_lines)
    assert code != 0
    assert named in log


def test_a_plain_http_bmc_stops_startup_naming_the_map(tmp_path):
    credentials = tmp_path / 'bmc-credentials.yaml'
    credentials.write_text('username: u\npassword: "p"\n')
    bmc_map = tmp_path / 'bmc-map.yaml'
    bmc_map.write_text('compute-01: http://192.0.2.1\n')
    code, log = run_hostmonitor(tmp_path, [
        'fencing = redfish', 'api_url = http://127.0.0.1:9',
        'redfish_credentials_file = %s' % credentials,
        'redfish_bmc_map_file = %s' % bmc_map])
    assert code != 0
    assert '[k8s] redfish_bmc_map_file' in log
    assert 'redfish_allow_http' in log
