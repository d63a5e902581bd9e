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

"""Fixtures of the chart tests.

* ``chart`` (session): renders through ``tests/chart/render.py`` and
  remembers each result, since many tests look at the same render.
* ``named_render`` (parametrized): each render the checks cover (the
  defaults, every ``values/`` file, all optional parts on) as
  ``(name, objects)``.
"""

import copy
import json

import pytest

from tests.chart import render


class Chart:
    """Renders of the chart, each made once per session.

    Callers get deep copies, so a test that edits what it was given
    cannot change what the next test sees.
    """

    def __init__(self):
        self._renders = {}

    def render(self, values_files=(), set_values=None):
        key = (tuple(str(path) for path in values_files),
               json.dumps(set_values or {}, sort_keys=True))
        if key not in self._renders:
            self._renders[key] = render.render(values_files, set_values)
        return copy.deepcopy(self._renders[key])


@pytest.fixture(scope='session')
def chart():
    return Chart()


@pytest.fixture(params=render.named_renders(), ids=lambda named: named[0])
def named_render(request, chart):
    name, values_files, set_values = request.param
    return name, chart.render(values_files, set_values)
