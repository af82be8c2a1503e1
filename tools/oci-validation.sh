#!/usr/bin/env bash
# Runs the OCI runtime-tools validation suite (github.com/opencontainers/
# runtime-tools v0.9.0, 58 TAP programs under validation/) against runsc and,
# for reference, runc and crun. Needs root. Nothing of the suite is kept in
# this repository: it is fetched through the Go module proxy into a work dir.
#
# Usage (as root, from anywhere):
#   tools/oci-validation.sh [runtime...]      runtimes: runsc runc crun (default all three)
# Environment:
#   OCIV_DIR    work dir (default: a fresh mktemp -d); suite, binaries, results
#   RUNSC       runsc binary to test (default: built from OCIV_SRC, CGO_ENABLED=0)
#   OCIV_SRC    runsc source tree (default: the tree holding this script)
#   RUNC        runc binary (default /usr/sbin/runc)
#   CRUN        crun binary (default /usr/bin/crun)
#   OCIV_TIMEOUT  seconds per program (default 120)
#   OCIV_ONLY   space-separated program names to run (default: all)
#   OCIV_NORUN  if set, only rebuild summary.txt from existing results
#
# Each runtime gets a wrapper that pins its --root to a private state dir under
# OCIV_DIR, so leftovers are easy to find and other users of the machine are
# not disturbed. crun 1.8.1 cannot cope with this host's hybrid cgroup layout
# (v2 mounted at /sys/fs/cgroup/unified), so its programs run in a private
# mount namespace with that mount lazily unmounted.
#
# Per program: pass = exit 0 and no "not ok" line (the *_fail programs print no
# TAP at all when the runtime rightly refuses the config); fail = at least one
# "not ok" line (listed in the summary); error = no "not ok" but a non-zero
# exit or a timeout. Results: $OCIV_DIR/results/<runtime>/, summary.txt.
set -u

here=${OCIV_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
work=${OCIV_DIR:-$(mktemp -d /tmp/ociv.XXXXXX)}
timeout_s=${OCIV_TIMEOUT:-120}
runtimes=("$@")
[ ${#runtimes[@]} -eq 0 ] && runtimes=(runsc runc crun)
version=v0.9.0
mkdir -p "$work"
echo "work dir: $work"

if [ "$(id -u)" != 0 ]; then
	echo "must run as root" >&2
	exit 1
fi

# --- fetch and build the suite -------------------------------------------
rt=$work/rt
if [ ! -x "$rt/runtimetest" ]; then
	mkdir -p "$work/fetch"
	(cd "$work/fetch" && [ -f go.mod ] || go mod init fetch >/dev/null 2>&1)
	moddir=$(cd "$work/fetch" && go mod download -json "github.com/opencontainers/runtime-tools@$version" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -d "$moddir" ] || { echo "cannot fetch runtime-tools $version" >&2; exit 1; }
	rm -rf "$rt" && cp -r "$moddir" "$rt" && chmod -R u+w "$rt"
	(
		cd "$rt" || exit 1
		export GOFLAGS=-mod=mod
		# v0.9.0 predates modules (Godeps); the proxy has none of its pinned
		# revisions, so take the nearest tagged versions that still compile.
		go mod init github.com/opencontainers/runtime-tools >/dev/null 2>&1
		go mod tidy >/dev/null 2>&1
		go get github.com/opencontainers/runtime-spec@v1.0.2 \
			github.com/opencontainers/selinux@v1.8.2 >/dev/null 2>&1
		CGO_ENABLED=0 go build -o runtimetest ./cmd/runtimetest || exit 1
		for d in validation/*/; do
			n=$(basename "$d")
			[ "$n" = util ] && continue
			go build -o "validation/$n/$n.t" "./validation/$n" || echo "build failed: $n" >&2
		done
	) || { echo "building the suite failed" >&2; exit 1; }
fi
progs=()
if [ -n "${OCIV_ONLY:-}" ]; then
	for n in $OCIV_ONLY; do progs+=("$n"); done
else
	for t in "$rt"/validation/*/*.t; do progs+=("$(basename "$t" .t)"); done
fi
echo "${#progs[@]} programs"

# --- runtimes --------------------------------------------------------------
if [ -z "${RUNSC:-}" ] && [ -z "${OCIV_NORUN:-}" ]; then
	RUNSC=$work/bin/runsc
	mkdir -p "$work/bin"
	(cd "$here" && CGO_ENABLED=0 go build -o "$RUNSC" ./runsc) || exit 1
fi
RUNC=${RUNC:-/usr/sbin/runc}
CRUN=${CRUN:-/usr/bin/crun}

wrapper() { # name binary -> path of a wrapper pinning --root
	local w=$work/bin/$1-wrap
	mkdir -p "$work/bin" "$work/state/$1"
	printf '#!/bin/sh\nexec %s --root %s "$@"\n' "$2" "$work/state/$1" >"$w"
	chmod +x "$w"
	echo "$w"
}

cleanup_runtime() { # name binary
	local root=$work/state/$1 id
	[ -d "$root" ] || return 0
	for id in $("$2" --root "$root" list -q 2>/dev/null); do
		echo "  leftover container $id: deleting" >&2
		"$2" --root "$root" delete --force "$id" >/dev/null 2>&1
	done
}

# The suite's cgroup paths (validation/util, cgroups.AbsCgroupPath and
# RelCgroupPath): the runtime removes the container's own cgroup, the
# intermediate directories of the relative path are the suite's to remove.
cleanup_cgroups() { # results-dir prog
	local d
	for d in /sys/fs/cgroup/*/cgrouptest /sys/fs/cgroup/*/testdir/cgrouptest/container \
		/sys/fs/cgroup/unified/cgrouptest /sys/fs/cgroup/unified/testdir/cgrouptest/container; do
		[ -d "$d" ] || continue
		echo "leftover cgroup $d" >>"$1/$2.leftovers"
		rmdir "$d" 2>/dev/null || echo "  cannot remove $d" >&2
	done
	for d in /sys/fs/cgroup/*/testdir/cgrouptest /sys/fs/cgroup/*/testdir \
		/sys/fs/cgroup/unified/testdir/cgrouptest /sys/fs/cgroup/unified/testdir; do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null
	done
}

# The suite makes its bundles with ioutil.TempDir: they go under
# $work/tmp/<runtime>, so that mounts a runtime leaves on them (runc with no
# mount namespace mounts /proc, /dev... on the bundle in the host's) and
# bundles the suite does not remove can be found and removed.
cleanup_bundles() { # tmpdir results-dir prog
	local m
	for m in $(awk -v t="$1/" 'index($5, t) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
		echo "leftover mount $m" >>"$2/$3.leftovers"
		umount -l "$m" 2>/dev/null
	done
	rm -rf "${1:?}"/* 2>/dev/null
}

run_one() { # runtime-name wrapper prog -> writes results
	local name=$1 w=$2 p=$3 out=$work/results/$1
	local t0 rc
	mkdir -p "$work/tmp/$name"
	export TMPDIR=$work/tmp/$name
	t0=$(date +%s.%N)
	if [ "$name" = crun ]; then
		(cd "$rt" && RUNTIME=$w timeout -k 10 "$timeout_s" unshare -m sh -c \
			'umount -l /sys/fs/cgroup/unified 2>/dev/null; exec "$0"' \
			"validation/$p/$p.t" >"$out/$p.tap" 2>"$out/$p.err")
	else
		(cd "$rt" && RUNTIME=$w timeout -k 10 "$timeout_s" "validation/$p/$p.t" \
			>"$out/$p.tap" 2>"$out/$p.err")
	fi
	rc=$?
	unset TMPDIR
	echo "$rc $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')" >"$out/$p.rc"
}

classify() { # results-dir prog -> pass|fail|error
	local d=$1 p=$2 rc
	rc=$(cut -d' ' -f1 "$d/$p.rc")
	if grep -q '^not ok' "$d/$p.tap"; then
		echo fail
	elif [ "$rc" = 0 ]; then
		echo pass
	else
		echo error
	fi
}

for name in "${runtimes[@]}"; do
	case $name in
	runsc) bin=$RUNSC ;;
	runc) bin=$RUNC ;;
	crun) bin=$CRUN ;;
	*) echo "unknown runtime $name" >&2; exit 1 ;;
	esac
	w=$(wrapper "$name" "$bin")
	mkdir -p "$work/results/$name"
	[ -n "${OCIV_NORUN:-}" ] && continue
	echo "== $name ($bin)"
	for p in "${progs[@]}"; do
		rm -f "$work/results/$name/$p.leftovers"
		run_one "$name" "$w" "$p"
		cleanup_runtime "$name" "$bin" 2>>"$work/results/$name/$p.leftovers"
		cleanup_cgroups "$work/results/$name" "$p"
		cleanup_bundles "$work/tmp/$name" "$work/results/$name" "$p"
		[ -s "$work/results/$name/$p.leftovers" ] || rm -f "$work/results/$name/$p.leftovers"
		printf '  %-40s %s\n' "$p" "$(classify "$work/results/$name" "$p")"
	done
done

# --- summary -----------------------------------------------------------------
summary=$work/summary.txt
{
	printf '%-40s' program
	for name in "${runtimes[@]}"; do printf ' %-6s' "$name"; done
	echo
	for p in "${progs[@]}"; do
		printf '%-40s' "$p"
		for name in "${runtimes[@]}"; do printf ' %-6s' "$(classify "$work/results/$name" "$p")"; done
		echo
	done
	echo
	for name in "${runtimes[@]}"; do
		np=0 nf=0 ne=0 nn=0
		for p in "${progs[@]}"; do
			case $(classify "$work/results/$name" "$p") in
			pass) np=$((np + 1)) ;;
			fail) nf=$((nf + 1)) ;;
			error) ne=$((ne + 1)) ;;
			esac
			grep -q '^not ok' "$work/results/$name/$p.tap" || nn=$((nn + 1))
		done
		echo "$name: pass $np/${#progs[@]}, fail $nf, error $ne (no 'not ok' at all: $nn)"
	done
	echo
	for name in "${runtimes[@]}"; do
		echo "== $name failing assertions"
		for p in "${progs[@]}"; do
			c=$(classify "$work/results/$name" "$p")
			[ "$c" = pass ] && continue
			echo "-- $p ($c, exit $(cut -d' ' -f1 "$work/results/$name/$p.rc"))"
			grep '^not ok' "$work/results/$name/$p.tap" | sed 's/^/   /'
			[ "$c" = error ] && tail -n 3 "$work/results/$name/$p.err" | sed 's/^/   stderr: /'
		done
	done
} >"$summary"
sed -n '/^$/,/^$/p' "$summary" | head -n $((${#runtimes[@]} + 2))
echo "summary: $summary"

# --- leftovers ---------------------------------------------------------------
for name in "${runtimes[@]}"; do
	case $name in runsc) bin=$RUNSC ;; runc) bin=$RUNC ;; crun) bin=$CRUN ;; esac
	cleanup_runtime "$name" "$bin"
done
for name in "${runtimes[@]}"; do
	for f in "$work/results/$name"/*.leftovers; do
		[ -e "$f" ] && echo "$name $(basename "$f" .leftovers) left: $(tr '\n' ' ' <"$f")"
	done
done
left=$(find "$work/state" -mindepth 2 -maxdepth 2 2>/dev/null)
[ -n "$left" ] && echo "state left behind: $left"
exit 0
