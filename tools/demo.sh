#!/usr/bin/env bash
# The main job: build runsc, install it as /usr/local/bin/runsc (never over
# Debian's gVisor /usr/bin/runsc), and run `runsc do` on a command that
# prints the sandbox's view: who it runs as, the kernel, its capabilities,
# no_new_privs and seccomp, and the root it sees (the host's /, read-only
# under a throwaway overlay). Pass a command to run that instead.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
CGO_ENABLED=0 go build -ldflags "-X runsc.dev/runsc/runsc/version.Commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)" -o /usr/local/bin/runsc ./runsc
runsc=/usr/local/bin/runsc
$runsc --version

if [ $# -eq 0 ]; then
	set -- sh -c 'echo "== inside runsc do"; id; uname -a; grep -E "^(Cap|Seccomp|NoNewPrivs)" /proc/self/status; ls /; echo x > /etc/runsc-demo && echo "wrote /etc/runsc-demo (in the overlay only)"'
fi
cd /
$runsc do "$@"
test ! -e /etc/runsc-demo && echo "== on the host: /etc/runsc-demo does not exist"
