#!/bin/sh
# Bazel's --workspace_status_command (see .bazelrc). STABLE_ keys are
# stamped into binaries: runsc's version.Commit is STABLE_GIT_REVISION.
rev=$(git rev-parse HEAD 2>/dev/null) || rev=unknown
if [ "$rev" != unknown ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
	rev="$rev-dirty"
fi
echo "STABLE_GIT_REVISION $rev"
