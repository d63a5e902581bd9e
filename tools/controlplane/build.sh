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
# Builds the real Kubernetes control plane the "controlplane" e2e backend
# runs (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl,
# etcd, kwok and kwok's default Stages) from the Go modules pinned in the go.mod/go.sum files next to
# this script, and prints the directory holding the binaries on its last
# line of stdout. Progress goes to stderr.
#
# Only the Go module proxy is used: no binary and no upstream file lives in
# the repository. The binaries land in a cache outside the repository, keyed
# by a hash of the pins (and of this script), so a second run with unchanged
# pins returns at once; Go's build cache lives beside it and makes a rebuild
# after a pin change cheap.
#
# Environment:
#   MASAKARI_K8S_CONTROLPLANE_CACHE  cache root
#       (default: ${XDG_CACHE_HOME:-~/.cache}/masakari-k8s-controlplane)
#   MASAKARI_K8S_CONTROLPLANE_GO_P   parallel compile jobs (default: 2)
#   MASAKARI_K8S_CONTROLPLANE_BIN    use the binaries there; build nothing
#   GO                               the go binary (default: go on PATH)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=${MASAKARI_K8S_CONTROLPLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/masakari-k8s-controlplane}
go=${GO:-go}
# Go's own installer puts it here, not always on a non-login shell's PATH.
if ! command -v "$go" >/dev/null 2>&1 && [ -z "${GO:-}" ] &&
        [ -x /usr/local/go/bin/go ]; then
    go=/usr/local/go/bin/go
fi
jobs=${MASAKARI_K8S_CONTROLPLANE_GO_P:-2}

log() { echo "controlplane-build: $*" >&2; }

if [ -n "${MASAKARI_K8S_CONTROLPLANE_BIN:-}" ]; then
    log "using the binaries in $MASAKARI_K8S_CONTROLPLANE_BIN"
    echo "$MASAKARI_K8S_CONTROLPLANE_BIN"
    exit 0
fi

if ! command -v "$go" >/dev/null 2>&1; then
    log "no Go toolchain ('$go' is not on PATH); install Go >= 1.25"
    exit 2
fi

pins=$(cd "$here" && cat build.sh ./*/go.mod ./*/go.sum ./*/*/*.go |
    sha256sum | cut -c1-16)
dest=$root/$pins/bin
if [ -f "$dest/.complete" ]; then
    log "cached binaries for pins $pins in $dest"
    echo "$dest"
    exit 0
fi

mkdir -p "$root"
# One build at a time per cache: parallel tox envs wait for the first.
exec 9>"$root/.lock"
flock 9
if [ -f "$dest/.complete" ]; then
    echo "$dest"
    exit 0
fi

export GOCACHE=$root/go-build
export GOMODCACHE=$root/gomodcache
export CGO_ENABLED=0
export GOFLAGS="-mod=readonly -trimpath -p=$jobs"

stage=$root/$pins/bin.partial.$$
rm -rf "$stage"
mkdir -p "$stage"
trap 'rm -rf "$stage"' EXIT

start=$(date +%s)
elapsed() { echo "$(($(date +%s) - start)) s"; }

# go build -v names each package as it compiles; a line per hundred keeps a
# long cold build visibly alive without flooding the tox output. The full
# output goes to a log whose tail is shown when the build fails.
buildlog=$root/$pins/build.log
: >"$buildlog"
go_build() {
    local what=$1 dir=$2
    shift 2
    log "$what"
    if ! (cd "$here/$dir" && "$go" build -v "$@") 2>&1 | tee -a "$buildlog" |
        awk -v what="$dir" '{n++} n % 100 == 0 {
            printf "controlplane-build:   %s: %d packages\n", what, n > "/dev/stderr"
            fflush("/dev/stderr")}'; then
        log "go build failed; the end of $buildlog:"
        tail -n 40 "$buildlog" >&2
        exit 1
    fi
    log "$what: done after $(elapsed)"
}

module_version() {
    (cd "$here/$1" && "$go" list -m -f '{{.Version}}' "$2")
}

k8s_version=$(module_version kubernetes k8s.io/kubernetes)
k8s_minor=$(echo "$k8s_version" | cut -d. -f2)
etcd_version=$(module_version etcd go.etcd.io/etcd/server/v3)
kwok_version=$(module_version kwok sigs.k8s.io/kwok)

# Without these the binaries report v0.0.0 on /version, and helm's
# kubeVersion checks and client version skew checks go wrong.
k8s_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    k8s_ldflags+=" -X $pkg.gitVersion=$k8s_version"
    k8s_ldflags+=" -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor"
    k8s_ldflags+=" -X $pkg.gitTreeState=clean"
done

log "building kubernetes $k8s_version, etcd $etcd_version, kwok $kwok_version into $dest (GOFLAGS=$GOFLAGS)"

go_build "kubernetes $k8s_version" kubernetes -ldflags "$k8s_ldflags" -o "$stage/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler \
    k8s.io/kubernetes/cmd/kubectl
go_build "etcd $etcd_version" etcd -ldflags "-s -w" -o "$stage/etcd" \
    go.etcd.io/etcd/server/v3
go_build "kwok $kwok_version" kwok -ldflags "-s -w" -o "$stage/kwok" \
    sigs.k8s.io/kwok/cmd/kwok
# kwok ships no Stages of its own; this prints the ones its module embeds.
go_build "kwok-stages" kwok -o "$stage/kwok-stages" ./stages

for bin in kube-apiserver kube-controller-manager kube-scheduler kubectl \
        etcd kwok kwok-stages; do
    if [ ! -x "$stage/$bin" ]; then
        log "$bin was not built"
        exit 1
    fi
done
cat > "$stage/versions.env" <<EOF
KUBERNETES_VERSION=$k8s_version
ETCD_VERSION=$etcd_version
KWOK_VERSION=$kwok_version
BUILD_SECONDS=$(($(date +%s) - start))
EOF
touch "$stage/.complete"
rm -rf "$dest"
mv "$stage" "$dest"
trap - EXIT
log "built in $(elapsed): $dest"
echo "$dest"
