#!/usr/bin/env bash
# The main job: build runsc, install it as /usr/local/bin/runsc (never over
# Debian's gVisor /usr/bin/runsc), and run a busybox container that prints
# what the sandbox looks like from inside and from the host.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
CGO_ENABLED=0 go build -ldflags "-X runsc.dev/runsc/runsc/version.Commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)" -o /usr/local/bin/runsc ./runsc
runsc=/usr/local/bin/runsc
$runsc --version

bundle=$(mktemp -d /tmp/runsc-demo.XXXXXX)
trap 'rm -rf "$bundle"' EXIT
mkdir -p "$bundle/rootfs/bin"
cp /bin/busybox "$bundle/rootfs/bin/"
for a in sh id uname cat grep ls hostname; do ln -s busybox "$bundle/rootfs/bin/$a"; done
mkdir -p "$bundle/rootfs/"{proc,dev,sys,tmp}
(cd "$bundle" && $runsc spec)
# Not a terminal: print and exit.
sed -i 's/"terminal": true/"terminal": false/' "$bundle/config.json"
sed -i 's/"sh"$/"sh", "-c", "echo \\"== inside the container\\"; id; uname -a; hostname; grep -E \\"^(Cap|Seccomp|NoNewPrivs)\\" \/proc\/self\/status; ls \/"/' "$bundle/config.json"
$runsc --root /run/runsc-demo run --bundle "$bundle" demo
