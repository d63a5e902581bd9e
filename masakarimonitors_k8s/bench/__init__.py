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

"""Benchmark: masakari-monitors' ``kubernetes`` driver against ours.

Not a test: ``python -m masakarimonitors_k8s.bench`` (or ``tox -e bench``)
runs both drivers, each in its own stock ``masakari-hostmonitor`` process,
against one simulated cluster served by the Kubernetes API test server and
one real masakari-api, fails nodes at known times and reports what each
driver cost and how fast it reported. ``doc/source/benchmarks.rst`` holds
the committed results and explains the method.

Modules, in the order the data flows:

- :mod:`.upstream` starts masakari-monitors' own driver unmodified, with
  its in-cluster configuration read from a directory of ours;
- :mod:`.recorder` stands between each driver and masakari-api and
  timestamps every 202;
- :mod:`.processes` runs one driver process and measures its CPU and
  memory;
- :mod:`.scenario` plans the failures and scores what each driver sent
  (pure functions);
- :mod:`.runner` runs one cluster size end to end;
- :mod:`.report` turns results into the table, JSON and chart;
- :mod:`.cli` is the command line.
"""
