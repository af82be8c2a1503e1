//go:build root

package root

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"runsc.dev/runsc/runsc/test/testutil"
)

// faultOps are the commands raced against each other on one container.
var faultOps = map[string][]string{
	"start":  {"start"},
	"delete": {"delete", "--force"},
	"kill":   {"kill", "ID", "KILL"},
	"exec":   {"exec", "ID", "true"},
}

// faultOpArgs puts id into an op's arguments (at ID, else last).
func faultOpArgs(op, id string) []string {
	var out []string
	placed := false
	for _, a := range faultOps[op] {
		if a == "ID" {
			a, placed = id, true
		}
		out = append(out, a)
	}
	if !placed {
		out = append(out, id)
	}
	return out
}

// TestFaultRace races start, delete --force, kill and exec on one created
// container, for every pair and all four at once, 20 times each (several
// containers in flight at a time). No command may hang; afterwards the
// state is consistent with what the commands reported (a successful
// delete leaves no container; a created or running one has a live init;
// a killed one reaches stopped), and a final delete --force leaves
// nothing: no state dir, cgroup, mount or runsc process of the root.
func TestFaultRace(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	g := newFaultRig(t)
	combos := [][]string{
		{"start", "delete"}, {"start", "kill"}, {"start", "exec"},
		{"delete", "kill"}, {"delete", "exec"}, {"kill", "exec"},
		{"start", "delete", "kill", "exec"},
	}
	rounds := 20
	if faultStress() {
		rounds = 100
	}
	const inFlight = 4
	for _, combo := range combos {
		name := strings.Join(combo, "-")
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			var failures []string
			fail := func(format string, args ...any) {
				mu.Lock()
				failures = append(failures, fmt.Sprintf(format, args...))
				mu.Unlock()
			}
			// One bundle per slot: creating the bundles is not raced.
			bundles := make([]*testutil.Bundle, inFlight)
			for i := range bundles {
				bundles[i] = testutil.NewBundle(t, "sleep", "1000")
			}
			sem := make(chan int, inFlight)
			for i := 0; i < inFlight; i++ {
				sem <- i
			}
			var wg sync.WaitGroup
			for round := 0; round < rounds; round++ {
				slot := <-sem
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() { sem <- slot }()
					g.raceOnce(fail, fmt.Sprintf("%s-%d", name, round), bundles[slot], combo)
				}()
			}
			wg.Wait()
			if procs := g.rootProcs(); len(procs) > 0 {
				fail("runsc processes of the root left: %v", procs)
				for i := range rounds {
					g.scrub(fmt.Sprintf("%s-%d", name, i))
				}
			}
			if len(failures) > 10 {
				failures = append(failures[:10], fmt.Sprintf("... and %d more", len(failures)-10))
			}
			for _, f := range failures {
				t.Error(f)
			}
		})
	}
}

// raceOnce creates container id from b (with its own cgroup), runs the
// ops of combo concurrently on it and checks what is left.
func (g *faultRig) raceOnce(fail func(string, ...any), id string, b *testutil.Bundle, combo []string) {
	// Each container gets its own cgroup: write a config per id.
	dir := filepath.Join(b.Dir, id)
	spec := *b.Spec
	linux := *spec.Linux
	linux.CgroupsPath = g.cgPath(id)
	spec.Linux = &linux
	root := *spec.Root
	root.Path = filepath.Join(b.Dir, "rootfs")
	spec.Root = &root
	if err := faultWriteSpec(dir, &spec); err != nil {
		fail("%s: %v", id, err)
		return
	}
	if res := g.run(30*time.Second, "create", "--bundle", dir, id); res.Code != 0 {
		fail("%s: create: %v", id, res)
		return
	}
	results := make([]faultResult, len(combo))
	var wg sync.WaitGroup
	for i, op := range combo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = g.run(30*time.Second, faultOpArgs(op, id)...)
		}()
	}
	wg.Wait()
	ok := map[string]bool{}
	for i, op := range combo {
		if results[i].TimedOut {
			fail("%s: %s hangs while racing %v", id, op, combo)
		}
		ok[op] = results[i].Code == 0
	}
	st, err := g.state(id)
	switch {
	case err != nil:
		fail("%s: after %v: %v", id, combo, err)
	case ok["delete"] && st.Exists:
		fail("%s: delete --force succeeded but the container is %s", id, st.State.Status)
	case st.Exists && ok["kill"]:
		// A kill that succeeded stops the container soon.
		deadline := time.Now().Add(10 * time.Second)
		for st.State.Status != specs.StateStopped && err == nil && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
			st, err = g.state(id)
		}
		if err != nil || st.State.Status != specs.StateStopped {
			fail("%s: kill succeeded but the container is %+v (%v)", id, st.State, err)
		}
	case st.Exists && ok["start"] && !ok["delete"] && !ok["kill"] && st.State.Status != specs.StateRunning:
		fail("%s: start succeeded, nothing stopped it, but the container is %s (results %+v)", id, st.State.Status, results)
	}
	if res := g.run(30*time.Second, "delete", "--force", id); res.Code != 0 {
		fail("%s: final delete --force: %v", id, res)
	}
	if left := g.residue(id, dir, false); len(left) > 0 {
		fail("%s: left behind after racing %v: %s", id, combo, strings.Join(left, "; "))
	}
}
