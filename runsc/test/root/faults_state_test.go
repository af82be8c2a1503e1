//go:build root

package root

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/runsc/test/testutil"
)

// faultStartTime is field 22 of /proc/<pid>/stat.
func faultStartTime(t *testing.T, pid int) uint64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	var n uint64
	fmt.Sscanf(f[19], "%d", &n)
	return n
}

// TestFaultStateFile replaces the state file of a live container with an
// empty file, truncated JSON, random bytes, and JSON whose PIDs name an
// unrelated live process (a `sleep` started by the test; once with the
// stored start times left as they were, once with the bystander's own
// start time as a forger would). In every case `state` answers in time and
// says stopped, `kill` and `delete --force` never signal the bystander,
// and `delete` removes the state dir. The real container processes, which
// runsc can no longer know of, are then killed by the test.
func TestFaultStateFile(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	g := newFaultRig(t)
	for _, tc := range []struct {
		name string
		// forge returns the new state file from the old one and the
		// bystander's pid and start time.
		forge func(t *testing.T, old []byte, pid int, start uint64) []byte
		// knownBug, if set, marks a case runsc does not handle yet.
		knownBug string
	}{
		{name: "empty", forge: func(*testing.T, []byte, int, uint64) []byte { return nil }},
		{name: "truncated", forge: func(_ *testing.T, old []byte, _ int, _ uint64) []byte { return old[:len(old)/2] }},
		{name: "garbage", forge: func(t *testing.T, _ []byte, _ int, _ uint64) []byte {
			b := make([]byte, 4096)
			rand.Read(b)
			return b
		}},
		{name: "pid-rewritten", forge: func(t *testing.T, old []byte, pid int, _ uint64) []byte {
			return faultRewritePids(t, old, pid, 0)
		}, knownBug: "delete of a stopped container whose cgroup still holds processes retries rmdir for 5s per hierarchy (50s here) and fails, leaving the state dir"},
		{name: "pid-and-starttime-forged", forge: func(t *testing.T, old []byte, pid int, start uint64) []byte {
			return faultRewritePids(t, old, pid, start)
		}, knownBug: "a state file naming a live process with its start time is trusted: state says created, kill and delete --force signal it, and kill --all/delete --force SIGKILL every process of its PID namespace (the host's, when it is a host process)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "state-" + tc.name
			b, p := g.createSleeper(t, id)
			ns := faultPidns(t, p.Init)
			// The real container, which runsc loses track of, is killed
			// by the test at the end (its sandbox takes the gofer and init
			// with it), and its cgroup removed.
			defer func() {
				unix.Kill(p.Sandbox, unix.SIGKILL)
				for _, pid := range []int{p.Sandbox, p.Gofer, p.Init} {
					faultWaitDead(pid, 10*time.Second)
				}
				g.run(30*time.Second, "delete", "--force", id)
				g.scrub(id)
				g.checkGone(t, "cleanup", id, b.Dir, true)
			}()
			// The bystander runs in a PID namespace of its own: should
			// runsc ever enumerate "the container's PID namespace" from a
			// forged init, it finds only the bystander, not the host's
			// processes.
			bystander := exec.Command("sleep", "100")
			bystander.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWPID, Pdeathsig: syscall.SIGKILL}
			if err := bystander.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				bystander.Process.Kill()
				bystander.Wait()
			}()
			statePath := filepath.Join(g.r.Root, id, "state.json")
			old, err := os.ReadFile(statePath)
			if err != nil {
				t.Fatal(err)
			}
			forged := tc.forge(t, old, bystander.Process.Pid, faultStartTime(t, bystander.Process.Pid))
			if err := os.WriteFile(statePath, forged, 0o600); err != nil {
				t.Fatal(err)
			}

			var failures []string
			fail := func(format string, args ...any) { failures = append(failures, fmt.Sprintf(format, args...)) }
			defer func() {
				if len(failures) > 0 && tc.knownBug != "" {
					knownBug(t, "%s: %s", tc.knownBug, strings.Join(failures, "; "))
				}
				for _, f := range failures {
					t.Error(f)
				}
			}()

			st, err := g.state(id)
			if err != nil {
				fail("%v", err)
			} else if !st.Exists || st.State.Status != specs.StateStopped {
				fail("state with a %s state file: %+v, want stopped", tc.name, st.State)
			}
			// kill must refuse (the container is not running as far as
			// runsc can tell) and signal nobody.
			for _, args := range [][]string{{"kill", id, "KILL"}, {"kill", "--all", id, "KILL"}} {
				res := g.run(30*time.Second, args...)
				if res.TimedOut {
					fail("%v hangs", args)
				}
			}
			// A delete takes well under a second; 15s is a hang.
			if res := g.run(15*time.Second, "delete", id); res.Code != 0 {
				fail("delete with a %s state file: %v", tc.name, res)
			} else if res := g.run(15*time.Second, "delete", "--force", id); res.Code != 0 {
				fail("delete --force (again) with a %s state file: %v", tc.name, res)
			}
			if _, err := os.Lstat(filepath.Join(g.r.Root, id)); err == nil {
				fail("state dir left after delete")
			}
			if !faultAlive(bystander.Process.Pid) {
				fail("the bystander process %d, named by the forged state file, was killed", bystander.Process.Pid)
			}
			// runsc lost track of the real container; say so in the log.
			if alive := faultPidnsMembers(ns); len(alive) > 0 {
				t.Logf("%s: delete could not reach the real container (processes %v still alive; killed by the test)", tc.name, alive)
			}
		})
	}
}

// faultRewritePids rewrites the sandbox, gofer and init PIDs of a state
// file to pid, and their start times to start when start is not 0.
func faultRewritePids(t *testing.T, old []byte, pid int, start uint64) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(old, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"sandbox", "gofer", "init"} {
		p, ok := m[k].(map[string]any)
		if !ok {
			t.Fatalf("state file has no %q: %s", k, old)
		}
		p["pid"] = pid
		if start != 0 {
			p["startTime"] = start
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
