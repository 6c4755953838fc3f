#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager (pinned Kubernetes release) and etcd
# from the Go module proxy into a cache outside the repo, keyed by version.
# Only the first run pays for the build; later runs see the stamped binaries and exit.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
K8S_VERSION="$(cat "$HERE/K8S_VERSION")"
ETCD_VERSION="$(cat "$HERE/ETCD_VERSION")"
CACHE_ROOT="${KSA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-sa-audit}"
OUT="$CACHE_ROOT/k8s-$K8S_VERSION"

if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then export PATH="/usr/local/go/bin:$PATH"; else
    echo "build.sh: the Go toolchain (>= 1.26) is required to build the test control plane." >&2
    echo "Install it (https://go.dev/doc/install, or 'apt-get install golang-go' if new enough) and re-run." >&2
    exit 127
  fi
fi

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod

# Outputs are captured before matching: `cmd | grep -q` under pipefail fails at random when grep exits
# early and the writer gets SIGPIPE.
stamp_ok() {
  [ -x "$OUT/kube-apiserver" ] && [ -x "$OUT/kube-controller-manager" ] && [ -x "$OUT/kubectl" ] && [ -x "$OUT/etcd" ] || return 1
  local api cli
  api="$("$OUT/kube-apiserver" --version 2>/dev/null)" || return 1
  cli="$("$OUT/kubectl" version --client 2>/dev/null)" || return 1
  [ "$api" = "Kubernetes $K8S_VERSION" ] && grep -qx "Client Version: $K8S_VERSION" <<<"$cli" &&
    [ "$(cat "$OUT/etcd.version" 2>/dev/null)" = "$ETCD_VERSION" ]
}

if stamp_ok; then
  echo "control plane $K8S_VERSION / etcd $ETCD_VERSION already built in $OUT"
  exit 0
fi

mkdir -p "$OUT"
start=$(date +%s)
minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
# Version stamping exactly as hack/lib/version.sh does it, so /version reports the real release.
LDX=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDX="$LDX -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  LDX="$LDX -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z -X $pkg.gitCommit=0000000000000000000000000000000000000000"
done

# kubectl of the same release: the tests drive the server with it, and a machine's own kubectl (if any)
# may be several minors away from the server.
echo "building kube-apiserver, kube-controller-manager and kubectl $K8S_VERSION into $OUT (first time: ~15-20 min on 2 cores)" >&2
( cd "$HERE/go/kube" && go build -trimpath -ldflags "-s -w $LDX" -o "$OUT/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl )
echo "building etcd $ETCD_VERSION" >&2
( cd "$HERE/go/etcd" && go build -trimpath -ldflags "-s -w" -o "$OUT/etcd" go.etcd.io/etcd/server/v3 )
echo "$ETCD_VERSION" > "$OUT/etcd.version"
echo "built in $(( $(date +%s) - start )) s" >&2
stamp_ok || { echo "build.sh: built binaries do not report $K8S_VERSION" >&2; exit 1; }
echo "control plane $K8S_VERSION / etcd $ETCD_VERSION built in $OUT"
