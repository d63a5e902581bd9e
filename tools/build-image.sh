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
# Release build of the monitor image (images/masakari-hostmonitor):
# reproducible inputs only.
#   * the base image by digest, from images/masakari-hostmonitor/release.env
#     (or BASE_IMAGE in the environment); a tag is refused;
#   * the package version as pbr computes it from git, and the git commit,
#     as OCI labels;
#   * Python dependencies from images/masakari-hostmonitor/constraints.txt
#     (the Dockerfile applies them).
#
# Usage: tools/build-image.sh [--check] IMAGE_NAME
#   --check  validate the inputs and print the build arguments; no build.
set -euo pipefail

repo_root=$(cd "$(dirname "$0")/.." && pwd)
release_env="$repo_root/images/masakari-hostmonitor/release.env"

check_only=false
if [[ "${1:-}" == "--check" ]]; then
    check_only=true
    shift
fi
image_name=${1:-}
if [[ -z "$image_name" ]]; then
    echo "usage: $0 [--check] IMAGE_NAME" >&2
    exit 2
fi

if [[ -z "${BASE_IMAGE:-}" ]]; then
    BASE_IMAGE=$(sed -n 's/^BASE_IMAGE=//p' "$release_env")
fi
# A digest is 64 hex digits after @sha256:; anything else can change
# under the same name.
if [[ ! "$BASE_IMAGE" =~ @sha256:[0-9a-f]{64}$ ]]; then
    echo "$0: base image '$BASE_IMAGE' is not pinned by digest" \
         "(repo@sha256:<64 hex digits>); set BASE_IMAGE in $release_env" >&2
    exit 1
fi

cd "$repo_root"
version=$(python3 setup.py --version 2>/dev/null | tail -n 1)
revision=$(git rev-parse HEAD)
if [[ -z "$version" ]]; then
    echo "$0: pbr could not compute the package version (is this a git" \
         "checkout with pbr installed?)" >&2
    exit 1
fi

build_args=(--build-arg "BASE_IMAGE=$BASE_IMAGE"
            --build-arg "VERSION=$version"
            --build-arg "REVISION=$revision")
if $check_only; then
    printf '%s\n' "${build_args[@]}"
    exit 0
fi
exec docker build -f images/masakari-hostmonitor/Dockerfile \
    "${build_args[@]}" -t "$image_name" .
