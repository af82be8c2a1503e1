//go:build root

package root

import (
	"fmt"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/runsc/test/testutil"
)

// TestFaultKillProcess SIGKILLs one process of a container (the sandbox,
// i.e. the pid-file process; the gofer; the container's init), each while
// the container is created and while it runs. The container ends (every
// process of its PID namespace is gone), the pid-file process exits,
// `state` says stopped, a plain `delete` succeeds and removes the state
// dir, the cgroup dirs and every runsc process of the root.
func TestFaultKillProcess(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	g := newFaultRig(t)
	for _, target := range []string{"sandbox", "gofer", "init"} {
		for _, phase := range []string{"created", "running"} {
			id := target + "-" + phase
			t.Run(id, func(t *testing.T) {
				b, p := g.createSleeper(t, id)
				defer g.run(30*time.Second, "delete", "--force", id)
				if phase == "running" {
					g.mustRun(t, "start", id)
					if st, err := g.state(id); err != nil || st.State.Status != specs.StateRunning {
						t.Fatalf("after start: %+v %v", st, err)
					}
				}
				ns := faultPidns(t, p.Init)
				victim := map[string]int{"sandbox": p.Sandbox, "gofer": p.Gofer, "init": p.Init}[target]
				if err := unix.Kill(victim, unix.SIGKILL); err != nil {
					t.Fatal(err)
				}
				for name, pid := range map[string]int{"pid-file process (sandbox)": p.Sandbox, "gofer": p.Gofer, "init": p.Init} {
					if !faultWaitDead(pid, 10*time.Second) {
						t.Errorf("%s %d still alive 10s after the %s was killed", name, pid, target)
					}
				}
				if left := faultPidnsMembers(ns); len(left) > 0 {
					t.Errorf("processes %v of the container's pid namespace outlive it", left)
				}
				st, err := g.state(id)
				if err != nil {
					t.Fatal(err)
				}
				if !st.Exists || st.State.Status != specs.StateStopped {
					t.Errorf("state after the %s was killed: %+v, want stopped", target, st)
				}
				if res := g.run(30*time.Second, "delete", id); res.Code != 0 {
					t.Errorf("delete of the stopped container: %v", res)
				}
				g.checkGone(t, fmt.Sprintf("delete after killing the %s", target), id, b.Dir, true)
			})
		}
	}
}

// TestFaultDeleteForceOutlive checks that the container cannot outlive
// `delete --force`: when it returns, the init and every process of the
// container's PID namespace are gone (or zombies), and so are the runsc
// processes, whether the container was created, running, or running with
// children of its own.
func TestFaultDeleteForceOutlive(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	g := newFaultRig(t)
	for _, tc := range []struct {
		name string
		args []string
		run  bool
	}{
		{"created", []string{"sleep", "1000"}, false},
		{"running", []string{"sleep", "1000"}, true},
		// A shell with background children that ignore SIGTERM.
		{"children", []string{"sh", "-c", "trap '' TERM; for i in 1 2 3 4; do sleep 1000 & done; wait"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "outlive-" + tc.name
			b := g.bundle(t, id, tc.args...)
			g.mustRun(t, "create", "--bundle", b.Dir, id)
			defer g.run(30*time.Second, "delete", "--force", id)
			st, err := g.state(id)
			if err != nil {
				t.Fatal(err)
			}
			init := st.State.Pid
			ns := faultPidns(t, init)
			if tc.run {
				g.mustRun(t, "start", id)
				// Let the shell fork its children.
				deadline := time.Now().Add(5 * time.Second)
				for tc.name == "children" && len(faultPidnsMembers(ns)) < 5 && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
			}
			members := faultPidnsMembers(ns)
			if res := g.run(30*time.Second, "delete", "--force", id); res.Code != 0 {
				t.Fatalf("delete --force: %v", res)
			}
			if faultAlive(init) {
				t.Errorf("init %d alive after delete --force", init)
			}
			if left := faultPidnsMembers(ns); len(left) > 0 {
				t.Errorf("processes %v of the container (of %v) alive after delete --force", left, members)
			}
			g.checkGone(t, "delete --force", id, b.Dir, true)
		})
	}
}
