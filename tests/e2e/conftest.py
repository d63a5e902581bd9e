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

"""Fixtures of the end-to-end suite.

``--e2e-backend`` picks what the scenarios run on: ``test-server`` (the
default; ``tox -e e2e``), ``controlplane`` (``tox -e e2e-controlplane``:
a real kube-apiserver, etcd, kube-controller-manager and kwok built from
pinned Go modules) or ``kind`` (``tox -e e2e-kind``), which skips,
naming what is missing, where docker, kind, kubectl or helm are not
there.

* ``e2e_session`` (session): the backend's shared part, set up once (a
  masakari-api; for kind, the cluster, images and masakari-api).
* ``backend`` (function): one scenario's :class:`~tests.e2e.backends.
  base.Backend`; whatever the scenario broke is restored afterwards.
"""

import pytest

from tests.e2e.backends import apiserver
from tests.e2e.backends import controlplane
from tests.e2e.backends import kind

BACKENDS = ('test-server', 'controlplane', 'kind')
# What the session's backend wants said at the end of the run.
_SUMMARY = []


def pytest_addoption(parser):
    parser.addoption(
        '--e2e-backend', choices=BACKENDS, default='test-server',
        help='where the end-to-end scenarios run: the Kubernetes API test '
             'server (default), a real control plane with kwok nodes, or a '
             'kind cluster')


def pytest_terminal_summary(terminalreporter):
    for line in _SUMMARY:
        terminalreporter.write_line('e2e backend: %s' % line)


@pytest.fixture(scope='session')
def e2e_session(request, tmp_path_factory):
    # getoption's default covers a run where this conftest was not among
    # the initial ones (e.g. `pytest tests`), so the option is unknown.
    choice = request.config.getoption('--e2e-backend', default='test-server')
    if choice == 'kind':
        missing = kind.missing_requirements()
        if missing:
            pytest.skip('kind backend: %s' % missing)
        session = kind.KindSession(tmp_path_factory.mktemp('e2e-kind'))
    elif choice == 'controlplane':
        session = controlplane.ControlPlaneSession(
            tmp_path_factory.mktemp('e2e-controlplane'))
    else:
        session = apiserver.TestServerSession(
            tmp_path_factory.mktemp('e2e-test-server'))
    with session:
        if getattr(session, 'summary', None):
            _SUMMARY.append(session.summary)
        yield session


@pytest.fixture
def backend(e2e_session, request):
    with e2e_session.scenario(request.node.name) as scenario_backend:
        yield scenario_backend
