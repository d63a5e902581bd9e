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

"""The image recipe builds from pinned inputs, and the chart names its version.

No docker here: these tests read the recipe and run the release build
script's own validation (``tools/build-image.sh --check``), which is what
refuses a mutable base tag.
"""

import configparser
import os
import pathlib
import re
import subprocess
import sys

import pytest
import yaml

from tests.chart import render

IMAGE_DIR = render.REPO_ROOT / 'images' / 'masakari-hostmonitor'
BUILD_SCRIPT = render.REPO_ROOT / 'tools' / 'build-image.sh'
DIGEST = 'sha256:' + 'ab' * 32


def package_version():
    parser = configparser.ConfigParser()
    parser.read(render.REPO_ROOT / 'setup.cfg')
    return parser['metadata']['version']


def check(base_image):
    # setup.py --version needs pbr: the interpreter running the tests has
    # it.
    env = dict(os.environ, BASE_IMAGE=base_image, PATH=os.pathsep.join(
        [str(pathlib.Path(sys.executable).parent), os.environ['PATH']]))
    if base_image is None:
        del env['BASE_IMAGE']
    return subprocess.run(['bash', str(BUILD_SCRIPT), '--check', 'img'],
                          capture_output=True, text=True, env=env,
                          timeout=120, check=False)


def test_chart_app_version_is_the_package_version():
    chart = yaml.safe_load(
        (render.CHART_DIR / 'Chart.yaml').read_text())
    assert chart['appVersion'] == package_version()


@pytest.mark.parametrize('base', [
    'quay.io/airshipit/masakari-monitors:2026.1-ubuntu_noble',
    'quay.io/airshipit/masakari-monitors:latest',
    'quay.io/airshipit/masakari-monitors@sha256:abc',
])
def test_a_mutable_or_malformed_base_is_refused(base):
    done = check(base)
    assert done.returncode == 1
    assert 'is not pinned by digest' in done.stderr


def test_a_digest_pinned_base_passes_with_version_and_revision():
    base = 'quay.io/airshipit/masakari-monitors@' + DIGEST
    done = check(base)
    assert done.returncode == 0, done.stderr
    arguments = done.stdout.split('\n')
    assert 'BASE_IMAGE=' + base in arguments
    version, = [item for item in arguments if item.startswith('VERSION=')]
    # pbr's version of this checkout: the declared release, or a dev
    # build of it.
    assert re.fullmatch(re.escape(package_version()) + r'(\.dev\d+)?',
                        version.split('=', 1)[1])
    revision, = [item for item in arguments if item.startswith('REVISION=')]
    assert re.fullmatch(r'REVISION=[0-9a-f]{40}', revision)


def test_release_env_is_a_digest_or_the_named_placeholder():
    """The committed base reference is never a bare tag.

    Until someone fills in the digest of the base they tested, the
    placeholder keeps release builds from running (the script refuses it).
    """
    values = dict(line.split('=', 1) for line in
                  (IMAGE_DIR / 'release.env').read_text().splitlines()
                  if line and not line.startswith('#'))
    base = values['BASE_IMAGE']
    assert re.fullmatch(
        r'[^@\s]+@sha256:([0-9a-f]{64}|PIN-THE-DIGEST-OF-THE-TESTED-BASE)',
        base)
    if base.endswith('PIN-THE-DIGEST-OF-THE-TESTED-BASE'):
        done = check(None)
        assert done.returncode == 1
        assert 'release.env' in done.stderr


def test_dockerfile_applies_constraints_and_labels():
    dockerfile = (IMAGE_DIR / 'Dockerfile').read_text()
    assert '--constraint /tmp/masakari-monitors-k8s/constraints.txt' in \
        dockerfile
    for label in ('version', 'revision', 'base.name', 'licenses'):
        assert 'org.opencontainers.image.%s=' % label in dockerfile
    assert 'PBR_VERSION=0.1.0' not in dockerfile


def test_constraints_pin_what_the_image_adds():
    pins = {}
    for line in (IMAGE_DIR / 'constraints.txt').read_text().splitlines():
        if not line or line.startswith('#'):
            continue
        name, _, version = line.partition('==')
        assert re.fullmatch(r'[A-Za-z0-9._-]+', name) and \
            re.fullmatch(r'[0-9][0-9A-Za-z.]*', version), line
        pins[name.lower().replace('_', '-')] = version
    for added in ('kubernetes', 'prometheus-client', 'sushy', 'msgspec'):
        assert added in pins
