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

"""``masakari-k8s-check`` against the Kubernetes API test server and a
real masakari-api, with a configuration file as masakari-hostmonitor
reads it: a good setup passes, and each broken one is reported by name.
"""

import io
import os
import subprocess
import sys

from oslo_config import cfg
import pytest

from masakarimonitors_k8s import cli
from masakarimonitors_k8s.testing import harness
from masakarimonitors_k8s.testing import redfish_bmc

pytestmark = pytest.mark.timeout(120)

MONITOR_RULES = [
    {'apiGroups': [''], 'resources': ['nodes'],
     'verbs': ['get', 'list', 'watch']},
    {'apiGroups': [''], 'resources': ['events'],
     'verbs': ['create', 'patch']},
]
NO_WATCH_RULES = [
    {'apiGroups': [''], 'resources': ['nodes'], 'verbs': ['get', 'list']},
    {'apiGroups': [''], 'resources': ['events'],
     'verbs': ['create', 'patch']},
]
SELECTOR_LABEL = 'masakari-check-test'


@pytest.fixture
def cluster():
    cluster = harness.ClusterUnderTest(rules=MONITOR_RULES)
    yield cluster
    cluster.stop()


@pytest.fixture
def config_file(cluster, masakari, tmp_path):
    """write(token=..., **k8s options) -> path of a monitor config file."""

    def write(*, token=harness.TOKEN, **k8s_options):
        kubeconfig = str(tmp_path / ('kubeconfig-%s' % token))
        cluster.server.write_kubeconfig(kubeconfig, token=token)
        options = dict({'kubeconfig': kubeconfig,
                        'node_selector': '%s=yes' % SELECTOR_LABEL},
                       **k8s_options)
        lines = ['[host]', 'monitoring_driver = k8s', '[k8s]']
        lines += ['%s = %s' % item for item in options.items()]
        lines += ['[api]']
        lines += ['%s = %s' % item for item in
                  masakari.api.masakarimonitors_conf_api_section(
                      timeout=10).items()]
        path = tmp_path / 'masakarimonitors.conf'
        path.write_text('\n'.join(lines) + '\n')
        return str(path)

    return write


def closed_loopback_port():
    import socket
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def add_nodes(cluster, names):
    for name in names:
        cluster.model.add_node(name, labels={SELECTOR_LABEL: 'yes'})
    cluster.model.advance(15)


def check(path, *extra):
    """Run in process, with a ConfigOpts of its own.

    Returns (exit status, {check: (result, detail)}, output).
    """
    out = io.StringIO()
    code = cli.main(['--config-file', path] + list(extra),
                    conf=cfg.ConfigOpts(), out=out)
    rows = {}
    last = None
    for line in out.getvalue().splitlines():
        if line.startswith(' ') and last is not None:
            result, detail = rows[last]
            rows[last] = (result, detail + ' ' + line.strip())
            continue
        for result in (cli.OK, cli.WARN, cli.FAIL, cli.SKIP):
            marker = '  %s ' % result
            if marker in line:
                name, _, detail = line.partition(marker)
                last = name.strip()
                rows[last] = (result, detail.strip())
                break
        else:
            last = None
    return code, rows, out.getvalue()


def test_a_good_setup_passes_as_a_console_command(cluster, masakari,
                                                  config_file):
    names = masakari.add_hosts(masakari.host_names(3))
    add_nodes(cluster, names)
    # A node outside the selector is none of the monitor's business.
    cluster.model.add_node(masakari.host_names(1, stem='other')[0])
    path = config_file()
    completed = subprocess.run(
        [sys.executable, '-m', 'masakarimonitors_k8s.cli', '--config-file',
         path, '--nodes'], capture_output=True, text=True, timeout=90,
        env=dict(os.environ, PYTHONWARNINGS='ignore'))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    output = completed.stdout
    assert ' 0 FAIL, ' in output
    assert ' FAIL ' not in output
    for name in ('configuration', 'Kubernetes API', 'may watch nodes',
                 'may create events in default', 'nodes in scope',
                 'masakari-api', 'hosts registered',
                 'hosts on maintenance'):
        line = next(line for line in output.splitlines()
                    if line.startswith(name + ' '))
        assert ' OK ' in line, line
    assert '3 node(s) match masakari-check-test=yes' in output
    assert 'Kubernetes v1.35.0' in output
    # --nodes: each node with its segment.
    for name in names:
        assert any(line.split()[:2] == [name, name] and 'ok' in line
                   for line in output.splitlines()), output


def test_a_token_that_cannot_watch_nodes(cluster, masakari, config_file):
    add_nodes(cluster, masakari.add_hosts(masakari.host_names(2)))
    cluster.server.add_token('no-watch-token', user='limited',
                             rules=NO_WATCH_RULES)
    code, rows, output = check(config_file(token='no-watch-token'))
    assert code == 1, output
    assert rows['may watch nodes'][0] == cli.FAIL
    assert 'denied' in rows['may watch nodes'][1]
    assert [name for name, (result, _) in rows.items()
            if result == cli.FAIL] == ['may watch nodes']
    assert rows['may list nodes'][0] == cli.OK


def test_an_unregistered_node_is_named(cluster, masakari, config_file):
    registered = masakari.add_hosts(masakari.host_names(2))
    stray = masakari.host_names(1, stem='stray')[0]
    add_nodes(cluster, registered + [stray])
    code, rows, output = check(config_file())
    assert code == 1, output
    assert rows['hosts registered'] == (
        cli.FAIL, 'not in any Masakari segment: %s' % stray)
    assert rows['nodes in scope'][0] == cli.OK


def test_a_host_on_maintenance_is_a_warning(cluster, masakari,
                                            config_file):
    names = masakari.add_hosts(masakari.host_names(3))
    add_nodes(cluster, names)
    masakari.set_maintenance(names[2], True)
    code, rows, output = check(config_file())
    assert code == 0, output
    assert rows['hosts on maintenance'][0] == cli.WARN
    assert rows['hosts on maintenance'][1].endswith(': %s' % names[2])
    assert rows['hosts registered'][0] == cli.OK


def test_a_bad_option_and_an_unreachable_masakari(cluster, masakari,
                                                  config_file, tmp_path):
    add_nodes(cluster, masakari.add_hosts(masakari.host_names(1)))
    path = config_file(confirmation_window='-5')
    code, rows, output = check(path)
    assert code == 1, output
    assert rows['configuration'][0] == cli.FAIL
    assert 'confirmation_window' in rows['configuration'][1]
    assert rows['Kubernetes API'][0] == cli.SKIP

    text = open(config_file()).read().replace(
        masakari.api.url, 'http://127.0.0.1:9/v1')
    broken = tmp_path / 'no-masakari.conf'
    broken.write_text(text)
    code, rows, output = check(str(broken))
    assert code == 1, output
    assert rows['masakari-api'][0] == cli.FAIL
    assert rows['hosts registered'][0] == cli.SKIP
    # The Kubernetes side is still checked.
    assert rows['nodes in scope'][0] == cli.OK


def test_redfish_fencing_asks_each_bmc(cluster, masakari, config_file,
                                       tmp_path):
    names = masakari.add_hosts(masakari.host_names(4))
    add_nodes(cluster, names)
    wired, off, dead, unmapped = names
    with redfish_bmc.RedfishBmc(tmp_path / 'bmc', systems=names[:2],
                                username='admin',
                                password='Check-Pa55') as bmc:
        credentials = tmp_path / 'bmc-credentials.yaml'
        credentials.write_text('username: admin\npassword: Check-Pa55\n')
        bmc_map = tmp_path / 'bmc-map.yaml'

        def write_map(entries):
            bmc_map.write_text(''.join('%s: %s\n' % item
                                       for item in entries.items()))

        # The emulator speaks plain http, refused unless allowed.
        path = config_file(fencing='redfish',
                           redfish_credentials_file=str(credentials),
                           redfish_bmc_map_file=str(bmc_map),
                           redfish_allow_http='true')
        write_map({wired: bmc.system_url(wired),
                   off: bmc.system_url(off)})
        code, rows, output = check(path)
        assert code == 0, output
        assert rows['fencing'][0] == cli.WARN
        assert rows['fencing'][1].startswith(
            'the BMC of 2 node(s) answered (power On: 2)')
        assert rows['fencing'][1].endswith(
            'them): %s, %s' % tuple(sorted([dead, unmapped])))

        # One BMC address leads nowhere; one is a machine that is off
        # while its node is Ready; one is another node's: the map is wrong.
        bmc.set_power(off, 'Off')
        write_map({wired: bmc.system_url(wired),
                   off: bmc.system_url(off),
                   dead: 'http://127.0.0.1:%d/' % closed_loopback_port(),
                   unmapped: bmc.system_url(wired)})
        code, rows, output = check(path)
        assert code == 1, output
        result, detail = rows['fencing']
        assert result == cli.FAIL
        assert detail.startswith('no answer: %s (' % dead)
        assert 'one BMC system for several nodes (%s): %s' % (
            bmc.system_url(wired), ', '.join(sorted([wired, unmapped]))
        ) in detail
        assert detail.endswith('wrong BMC address?): %s' % off)


def test_names_that_differ_by_domain_or_case_get_a_hint(cluster, masakari,
                                                        config_file):
    # OpenStack-Helm's nova registers FQDN hosts; nova keeps the case.
    short, cased = masakari.host_names(2)
    masakari.add_hosts([short + '.cloud.example.org', cased.upper()])
    add_nodes(cluster, [short, cased])
    code, rows, output = check(config_file(), '--nodes')
    assert code == 1, output
    assert rows['hosts registered'][0] == cli.FAIL
    result, hints = rows['host name hints']
    assert result == cli.WARN
    assert ('%s: Masakari has %s.cloud.example.org (differs by domain): set '
            'hostname_domain = cloud.example.org' % (short, short)) in hints
    assert ('%s: Masakari has %s (differs only by case)'
            % (cased, cased.upper())) in hints
    assert 'NOT REGISTERED; Masakari has %s.cloud.example.org' % short in (
        output)

    code, rows, output = check(config_file(
        hostname_domain='cloud.example.org'), '--nodes')
    placement = {line.split()[0]: line.split()[1:]
                 for line in output.split('\n\n')[-1].splitlines()[1:]}
    assert placement[short][0] == short + '.cloud.example.org'
    assert placement[short][-1] == 'ok'
