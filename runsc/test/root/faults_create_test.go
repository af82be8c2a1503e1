//go:build root

package root

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"runsc.dev/runsc/runsc/test/testutil"
)

// faultSweep returns the kill delays of the create sweep over 0-500 ms:
// half of them spread over the measured length of a create (where a kill
// lands mid-way), the rest over the remainder of the 500 ms.
func faultSweep(createTook time.Duration, points int) []time.Duration {
	const span = 500 * time.Millisecond
	busy := createTook * 12 / 10
	if busy > span {
		busy = span
	}
	early := points / 2
	var out []time.Duration
	for i := 0; i < early; i++ {
		out = append(out, busy*time.Duration(i)/time.Duration(early))
	}
	late := points - early
	for i := 0; i < late; i++ {
		out = append(out, busy+(span-busy)*time.Duration(i+1)/time.Duration(late))
	}
	return out
}

// TestFaultKillCreate SIGKILLs `runsc create` at each point of a sweep of
// delays. After each kill, `state` answers in time and tells the truth
// (created with a live init, stopped with no pid, or does not exist),
// `delete --force` removes everything (state dir, runsc processes of the
// root, cgroup dirs, mounts), and the same id can be created again.
// RUNSC_STRESS=1 runs a fine sweep (250 points instead of 26).
func TestFaultKillCreate(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	g := newFaultRig(t)
	const id = "killcreate"
	b := g.bundle(t, id, "sleep", "1000")
	pidFile := filepath.Join(b.Dir, "pid")

	// Calibrate: how long does a whole create take here?
	var took time.Duration
	for i := 0; i < 3; i++ {
		res := g.run(30*time.Second, "create", "--bundle", b.Dir, "--pid-file", pidFile, id)
		if res.Code != 0 {
			t.Fatalf("create: %v", res)
		}
		took = max(took, res.Elapsed)
		g.mustRun(t, "delete", "--force", id)
	}
	points := 26
	if faultStress() {
		points = 250
	}
	delays := faultSweep(took, points)
	t.Logf("create takes %v; sweeping %d kill points over 0-500ms", took, len(delays))

	outcomes := map[string]int{}
	var cgroupLeaks, procLeaks, wedged []string
	for _, d := range delays {
		what := fmt.Sprintf("kill after %v", d)
		cmd, wait, err := g.start(30*time.Second, "create", "--bundle", b.Dir, "--pid-file", pidFile, id)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(d)
		cmd.Process.Kill()
		res := wait()
		killed := res.Code != 0

		// A create killed between its mkdir and its lock file leaves a
		// directory that runsc reports as missing and never removes: a
		// known bug, reported at the end.
		_, lockErr := os.Stat(filepath.Join(g.r.Root, id, "lock"))
		_, dirErr := os.Stat(filepath.Join(g.r.Root, id))
		lockless := dirErr == nil && os.IsNotExist(lockErr)
		st, err := g.state(id)
		switch {
		case err != nil && lockless && strings.Contains(err.Error(), "its state dir is there"):
			wedged = append(wedged, d.Round(time.Millisecond).String())
		case err != nil:
			t.Errorf("%s: %v", what, err)
		}
		outcome := "absent"
		if st.Exists {
			outcome = string(st.State.Status)
			if st.State.Status != specs.StateCreated && st.State.Status != specs.StateStopped {
				t.Errorf("%s: status %q after a create", what, st.State.Status)
			}
			if !killed && st.State.Status != specs.StateCreated {
				t.Errorf("%s: create finished but state is %q", what, st.State.Status)
			}
		} else if !killed {
			t.Errorf("%s: create finished but the container does not exist", what)
		}
		if !killed {
			outcome = "completed"
		}
		outcomes[outcome]++

		del := g.run(30*time.Second, "delete", "--force", id)
		if del.Code != 0 || del.TimedOut {
			t.Errorf("%s: delete --force: %v", what, del)
		}
		if left := g.residue(id, b.Dir, true); len(left) > 0 {
			// Two known bugs (reported together at the end): a cgroup
			// made before the state names it, and runsc processes started
			// before the state names the sandbox, which delete cannot
			// find. Anything else fails at once.
			var other []string
			cgLeak, procLeak := false, false
			for _, l := range left {
				switch {
				case strings.HasPrefix(l, "cgroup "):
					cgLeak = true
				case strings.HasPrefix(l, "process "):
					procLeak = true
				case lockless && l == "state dir "+id:
					// Counted in wedged.
				default:
					other = append(other, l)
				}
			}
			at := d.Round(time.Millisecond).String()
			if cgLeak {
				cgroupLeaks = append(cgroupLeaks, at)
			}
			if procLeak {
				// Do they go away by themselves?
				gone := "still alive after 3s"
				for wait := time.Now(); time.Since(wait) < 3*time.Second; time.Sleep(10 * time.Millisecond) {
					if len(g.rootProcs()) == 0 {
						gone = fmt.Sprintf("gone by themselves %v later", time.Since(wait).Round(time.Millisecond))
						break
					}
				}
				procLeaks = append(procLeaks, fmt.Sprintf("%s (%s)", at, gone))
			}
			if len(other) > 0 {
				t.Errorf("%s: delete --force left behind: %s", what, strings.Join(other, "; "))
			}
			g.scrub(id)
		}

		// The same id again, all the way.
		again := g.run(30*time.Second, "create", "--bundle", b.Dir, "--pid-file", pidFile, id)
		if again.Code != 0 {
			t.Errorf("%s: create of the same id again: %v", what, again)
		} else if st, err := g.state(id); err != nil || st.State.Status != specs.StateCreated {
			t.Errorf("%s: second create: %+v %v", what, st, err)
		}
		if res := g.run(30*time.Second, "delete", "--force", id); res.Code != 0 {
			t.Errorf("%s: delete --force of the second create: %v", what, res)
		}
		if left := g.residue(id, b.Dir, true); len(left) > 0 {
			t.Errorf("%s: the second delete --force left behind: %s", what, strings.Join(left, "; "))
			g.scrub(id)
		}
	}
	var keys []string
	for k, n := range outcomes {
		keys = append(keys, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(keys)
	t.Logf("state after the kill: %s", strings.Join(keys, " "))
	var bugs []string
	if len(cgroupLeaks) > 0 {
		bugs = append(bugs, fmt.Sprintf("a create killed after its cgroup is made but before its state names it leaves the cgroup behind (%d of %d points, killed after: %s)", len(cgroupLeaks), len(delays), strings.Join(cgroupLeaks, ", ")))
	}
	if len(procLeaks) > 0 {
		bugs = append(bugs, fmt.Sprintf("a create killed after starting the sandbox but before its state names it leaves runsc processes running after delete --force (%d of %d points, killed after: %s)", len(procLeaks), len(delays), strings.Join(procLeaks, ", ")))
	}
	if len(wedged) > 0 {
		bugs = append(bugs, fmt.Sprintf("a create killed between its mkdir and its lock file wedges the id: state says does not exist, delete --force succeeds without removing the dir, create says it exists (%d of %d points, killed after: %s)", len(wedged), len(delays), strings.Join(wedged, ", ")))
	}
	if len(bugs) > 0 {
		knownBug(t, "%s", strings.Join(bugs, "; "))
	}
}
