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
# The renders go to a temporary directory outside the repository: checkov
# silently skips paths under a hidden directory such as .tox/, and a scan
# of nothing would pass. For the same reason each scan must report
# passed checks.
#
# Usage: tools/chart-checkov.sh
set -euo pipefail

repo_root=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo_root"

output_dir=$(mktemp -d "${TMPDIR:-/tmp}/masakari-chart-checkov.XXXXXX")
trap 'rm -rf "$output_dir"' EXIT
python -m tests.chart.render --output-dir "$output_dir"

status=0
for render in "$output_dir"/*/; do
    name=$(basename "$render")
    echo "== checkov: $name"
    # --skip-download: no call to the Prisma Cloud API (CI has no network
    # beyond the package registries); the checks themselves ship with
    # checkov.
    report="$output_dir/$name.report"
    if ! checkov --directory "$render" --framework kubernetes \
            --skip-download --compact >"$report" 2>&1; then
        status=1
    fi
    # The summary, then each failed or skipped check with its resource.
    awk '/Passed checks|ERROR/ {print}
         /^Check:/ {check = $0}
         /FAILED for|SKIPPED for/ {print check; print; shown = 1; next}
         /File:/ && shown {print; shown = 0}' "$report"
    if ! grep -Eq 'Passed checks: [1-9][0-9]*, ' "$report"; then
        echo "checkov checked nothing in $render" >&2
        cat "$report" >&2
        status=1
    fi
done
exit $status
