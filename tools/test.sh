#!/usr/bin/env bash
# Runs every test of runsc: both builds, unit tests, and (as root) the tests
# that need a real kernel. Run tools/setup.sh first on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH CGO_ENABLED=0

echo "== BUILD files up to date"
tools/gen_build.sh -check

echo "== bazel build //runsc && bazel test //..."
bazel build //runsc
bazel test //...

echo "== go build, vet"
go build ./...
go vet ./...
go vet -tags root ./...

echo "== go test (unit, fuzz seed corpora)"
go test ./...

if [ "$(id -u)" = 0 ]; then
  echo "== go test -tags root (real kernel: containers, cgroups, mounts)"
  # -p 1: one package at a time, so that one suite's daemons and mounts
  # (the e2e dockerd) are not in another's leftover audit.
  go test -p 1 -count=1 -tags root -timeout 40m ./...
else
  echo "== root tests skipped: not root"
fi
