#!/usr/bin/env bash
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
#
# checkov over every render of the chart (tests/chart/render.py decides
# which), one render at a time: checkov's graph checks join objects across
# the files it is given, so a NetworkPolicy rendered for one values file
# would otherwise hide a missing one in another.
#
# Usage: tools/chart-checkov.sh OUTPUT_DIR
set -euo pipefail

output_dir=${1:?usage: $0 OUTPUT_DIR}
repo_root=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo_root"

rm -rf "$output_dir"
python -m tests.chart.render --output-dir "$output_dir"

status=0
for render in "$output_dir"/*/; do
    echo "== checkov: $(basename "$render")"
    # --skip-download: no call to the Prisma Cloud API (CI has no network
    # beyond the package registries); the checks themselves ship with
    # checkov. The filter keeps the summary, failures and skips.
    if ! checkov --directory "$render" --framework kubernetes \
            --skip-download --compact \
            | grep -E 'Passed checks|Check:|FAILED|SKIPPED|File:'; then
        status=1
    fi
done
exit $status
