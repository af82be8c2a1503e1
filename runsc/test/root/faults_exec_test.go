//go:build root

package root

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"runsc.dev/runsc/runsc/specutils"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/runsc/test/testutil"
)

// faultZombies lists the zombie children of the given parents.
func faultZombies(parents ...int) []string {
	want := map[int]bool{}
	for _, p := range parents {
		want[p] = true
	}
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if faultProcState(pid) == 'Z' && want[specutils.ParentOf(pid)] {
			out = append(out, fmt.Sprintf("%d (parent %d)", pid, specutils.ParentOf(pid)))
		}
	}
	return out
}

// TestFaultExecNoZombies runs `exec -d --pid-file F true` 200 times (1000
// with RUNSC_STRESS=1) on a running container while the test process is a
// child subreaper, as containerd's shim is. Each pid-file process is
// reparented to the test, exits 0 (true's status) and is reaped by it.
// Afterwards no zombie is left under the test, the sandbox, the gofer or
// the container's init, the container holds only its init, no runsc
// process but the sandbox and gofer is left, and delete --force leaves
// nothing.
func TestFaultExecNoZombies(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	defer unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
	g := newFaultRig(t)
	const id = "execzombie"
	b, p := g.createSleeper(t, id)
	defer g.run(30*time.Second, "delete", "--force", id)
	g.mustRun(t, "start", id)
	ns := faultPidns(t, p.Init)

	n := 200
	if faultStress() {
		n = 1000
	}
	const workers = 4
	var mu sync.Mutex
	var failures []string
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(failures) < 10 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				pidFile := filepath.Join(b.Dir, fmt.Sprintf("exec-%d.pid", i))
				res := g.run(30*time.Second, "exec", "-d", "--pid-file", pidFile, id, "true")
				if res.Code != 0 {
					fail("exec %d: %v", i, res)
					continue
				}
				data, err := os.ReadFile(pidFile)
				os.Remove(pidFile)
				proxy, perr := strconv.Atoi(strings.TrimSpace(string(data)))
				if err != nil || perr != nil {
					fail("exec %d: pid file %q: %v %v", i, data, err, perr)
					continue
				}
				// runsc exec has exited: its child, the pid-file process,
				// is ours now. Reap exactly it.
				var ws unix.WaitStatus
				done := make(chan error, 1)
				go func() {
					_, err := unix.Wait4(proxy, &ws, 0, nil)
					done <- err
				}()
				select {
				case err := <-done:
					if err != nil {
						fail("exec %d: reaping pid-file process %d: %v (not our child?)", i, proxy, err)
					} else if !ws.Exited() || ws.ExitStatus() != 0 {
						fail("exec %d: pid-file process %d: status %v, want exit 0", i, proxy, ws)
					}
				case <-time.After(30 * time.Second):
					fail("exec %d: pid-file process %d did not exit", i, proxy)
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}

	// Reaping is not instant inside the sandbox: allow a moment.
	var zombies []string
	var members []int
	deadline := time.Now().Add(5 * time.Second)
	for {
		zombies = faultZombies(os.Getpid(), p.Sandbox, p.Gofer, p.Init)
		members = faultPidnsMembers(ns)
		if len(zombies) == 0 && len(members) == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(zombies) > 0 {
		t.Errorf("zombies after %d execs: %v", n, zombies)
	}
	if len(members) != 1 || members[0] != p.Init {
		t.Errorf("container processes after %d execs: %v, want only init %d", n, members, p.Init)
	}
	procs := g.rootProcs()
	for _, pr := range procs {
		if !strings.HasPrefix(pr, fmt.Sprintf("%d ", p.Sandbox)) && !strings.HasPrefix(pr, fmt.Sprintf("%d ", p.Gofer)) {
			t.Errorf("runsc process %s left after the execs", pr)
		}
	}
	if st, err := g.state(id); err != nil || st.State.Status != specs.StateRunning {
		t.Errorf("state after the execs: %+v %v", st, err)
	}
	if res := g.run(30*time.Second, "delete", "--force", id); res.Code != 0 {
		t.Fatalf("delete --force: %v", res)
	}
	if faultAlive(p.Init) {
		t.Errorf("init %d outlives delete --force", p.Init)
	}
	g.checkGone(t, "delete --force", id, b.Dir, true)
	// Left for the subreaper to collect: the pid-file process (the
	// sandbox) and, orphaned by its death, the gofer and init; nothing
	// else.
	expected := map[int]bool{p.Sandbox: true, p.Gofer: true, p.Init: true}
	var ws unix.WaitStatus
	for {
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err != nil || pid <= 0 {
			break
		}
		if !expected[pid] {
			t.Errorf("unexpected child %d reaped at the end (status %v)", pid, ws)
		}
	}
}
