#!/bin/sh
# (Re)generates the BUILD file of every Go package from `go list -json`
# (see tools/genbuild). Idempotent. Run it after adding a package, a file
# or an import. `tools/gen_build.sh -check` only reports out-of-date files.
set -eu
cd "$(dirname "$0")/.."
exec go run ./tools/genbuild "$@"
