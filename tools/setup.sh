#!/usr/bin/env bash
# Installs what building and testing runsc needs on a fresh Debian 12
# machine of this kind (root; Go at /usr/local/go; only apt and the Go
# module proxy reachable). Idempotent.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
pkgs=(
  bazel-bootstrap bazel-skylib bazel-rules-java  # the Bazel build
  busybox-static                                 # container images for tests
  runc crun                                      # references for benchmarks
  iproute2 procps psmisc util-linux              # test helpers (ip, ps, setpriv, script)
  docker.io containerd containernetworking-plugins  # end-to-end tests (runsc/test/e2e)
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# crictl drives containerd's CRI plugin in the end-to-end tests; it is not
# packaged in Debian 12, and builds through the Go module proxy.
crictl_version=v1.34.0
if ! command -v crictl >/dev/null 2>&1; then
  PATH="$PATH:/usr/local/go/bin" GOBIN=/usr/local/bin CGO_ENABLED=0 go install "sigs.k8s.io/cri-tools/cmd/crictl@${crictl_version}"
fi
