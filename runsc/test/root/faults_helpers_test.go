//go:build root

package root

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"runsc.dev/runsc/runsc/specutils"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/runsc/test/testutil"
)

// faultStress reports whether the long variants of the fault tests run
// (RUNSC_STRESS=1).
func faultStress() bool { return os.Getenv("RUNSC_STRESS") == "1" }

// faultRigs numbers the rigs of this test binary: each gets its own cgroup
// parent.
var faultRigs atomic.Int64

// faultRig is a runtime with a private --root and a test-unique cgroup
// parent under which every container gets linux.cgroupsPath <parent>/<id>,
// so that leftovers of exactly this test can be found.
type faultRig struct {
	r        *testutil.Runtime
	cgParent string
}

// newFaultRig returns a rig whose cgroup parent is checked and removed when
// the test ends.
func newFaultRig(t *testing.T) *faultRig {
	t.Helper()
	g := &faultRig{
		r:        testutil.NewRuntime(t),
		cgParent: fmt.Sprintf("/runsc-faults-%d-%d", os.Getpid(), faultRigs.Add(1)),
	}
	t.Cleanup(func() {
		for _, d := range faultCgroupDirs(g.cgParent) {
			entries, _ := os.ReadDir(d)
			for _, e := range entries {
				if e.IsDir() {
					t.Errorf("cgroup %s/%s left behind", d, e.Name())
				}
			}
			faultRemoveCgroupTree(d)
		}
	})
	return g
}

// cgPath is the cgroupsPath of container id.
func (g *faultRig) cgPath(id string) string { return g.cgParent + "/" + id }

// bundle makes a busybox bundle running args in cgroup cgPath(id).
func (g *faultRig) bundle(t *testing.T, id string, args ...string) *testutil.Bundle {
	t.Helper()
	b := testutil.NewBundle(t, args...)
	b.Spec.Linux.CgroupsPath = g.cgPath(id)
	b.Save(t)
	return b
}

// faultResult is the outcome of one runsc invocation made by faultRig.run.
type faultResult struct {
	Stdout, Stderr string
	Code           int
	TimedOut       bool
	Elapsed        time.Duration
}

func (res faultResult) String() string {
	return fmt.Sprintf("exit %d timedOut=%v stdout %.300q stderr %.300q", res.Code, res.TimedOut, res.Stdout, res.Stderr)
}

// start starts runsc args with its output in temp files (a created
// container holds runsc's stdio, so pipes would wait for the container).
// The returned function waits up to timeout, SIGKILLs runsc on timeout,
// and returns the outcome. It is safe to use from any goroutine.
func (g *faultRig) start(timeout time.Duration, args ...string) (*exec.Cmd, func() faultResult, error) {
	cmd := g.r.Cmd(args...)
	outF, err := os.CreateTemp("", "runsc-fault-out")
	if err != nil {
		return nil, nil, err
	}
	errF, err := os.CreateTemp("", "runsc-fault-err")
	if err != nil {
		outF.Close()
		os.Remove(outF.Name())
		return nil, nil, err
	}
	cleanup := func() {
		outF.Close()
		errF.Close()
		os.Remove(outF.Name())
		os.Remove(errF.Name())
	}
	cmd.Stdout, cmd.Stderr = outF, errF
	began := time.Now()
	if err := cmd.Start(); err != nil {
		cleanup()
		return nil, nil, err
	}
	wait := func() faultResult {
		defer cleanup()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		res := faultResult{}
		select {
		case <-done:
		case <-time.After(timeout):
			res.TimedOut = true
			cmd.Process.Kill()
			<-done
		}
		res.Elapsed = time.Since(began)
		out, _ := os.ReadFile(outF.Name())
		errb, _ := os.ReadFile(errF.Name())
		res.Stdout, res.Stderr, res.Code = string(out), string(errb), cmd.ProcessState.ExitCode()
		return res
	}
	return cmd, wait, nil
}

// run runs runsc args with a timeout; safe from any goroutine.
func (g *faultRig) run(timeout time.Duration, args ...string) faultResult {
	_, wait, err := g.start(timeout, args...)
	if err != nil {
		return faultResult{Code: -1, Stderr: err.Error()}
	}
	return wait()
}

// mustRun runs runsc args and fails the test unless it exits 0 in time.
func (g *faultRig) mustRun(t *testing.T, args ...string) string {
	t.Helper()
	res := g.run(30*time.Second, args...)
	if res.Code != 0 || res.TimedOut {
		t.Fatalf("runsc %s: %v", strings.Join(args, " "), res)
	}
	return res.Stdout
}

// faultState is what `runsc state` said.
type faultState struct {
	Exists bool
	State  specs.State
}

// state asks runsc for id's state and checks that the answer is the truth:
// it comes in time, a missing container is "does not exist", a created or
// running container names a live (not zombie) init, and a stopped one
// names no PID. It returns an error describing any lie.
func (g *faultRig) state(id string) (faultState, error) {
	st, err := g.stateOnce(id)
	if err != nil && strings.Contains(err.Error(), "not a live process") {
		// The init may die between runsc's look and ours (a kill is
		// asynchronous): a lie is only a dead PID reported again.
		time.Sleep(50 * time.Millisecond)
		return g.stateOnce(id)
	}
	return st, err
}

// stateOnce asks once; see state.
func (g *faultRig) stateOnce(id string) (faultState, error) {
	res := g.run(15*time.Second, "state", id)
	if res.TimedOut {
		return faultState{}, fmt.Errorf("state %s hangs", id)
	}
	if res.Code != 0 {
		if strings.Contains(res.Stderr, "does not exist") {
			if _, err := os.Lstat(filepath.Join(g.r.Root, id)); err == nil {
				return faultState{}, fmt.Errorf("state %s: says does not exist, but its state dir is there", id)
			}
			return faultState{}, nil
		}
		return faultState{}, fmt.Errorf("state %s: %v", id, res)
	}
	var s specs.State
	if err := json.Unmarshal([]byte(res.Stdout), &s); err != nil {
		return faultState{}, fmt.Errorf("state %s: output %q: %v", id, res.Stdout, err)
	}
	switch s.Status {
	case specs.StateCreated, specs.StateRunning, "paused":
		if st := faultProcState(s.Pid); s.Pid <= 0 || st == 0 || st == 'Z' || st == 'X' {
			return faultState{}, fmt.Errorf("state %s: %s with pid %d, which is not a live process (state %q)", id, s.Status, s.Pid, st)
		}
	case specs.StateStopped:
		if s.Pid != 0 {
			return faultState{}, fmt.Errorf("state %s: stopped but names pid %d", id, s.Pid)
		}
	default:
		return faultState{}, fmt.Errorf("state %s: unexpected status %q", id, s.Status)
	}
	return faultState{Exists: true, State: s}, nil
}

// faultProcState is the state letter of pid, 0 if there is no such process.
func faultProcState(pid int) byte {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return 0
	}
	return s[i+2]
}

// faultAlive reports whether pid is a live, non-zombie process.
func faultAlive(pid int) bool {
	st := faultProcState(pid)
	return st != 0 && st != 'Z' && st != 'X'
}

// faultWaitDead waits up to d for pid to exit (zombie counts as exited).
func faultWaitDead(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for faultAlive(pid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// rootProcs lists the live runsc processes (argv[0] "runsc-...") whose
// command line names this rig's --root, as "pid argv0".
func (g *faultRig) rootProcs() []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(b) == 0 {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if !strings.HasPrefix(args[0], "runsc-") || !faultAlive(pid) {
			continue
		}
		for i, a := range args {
			if a == "--root="+g.r.Root || (a == "--root" && i+1 < len(args) && args[i+1] == g.r.Root) {
				out = append(out, fmt.Sprintf("%d %s", pid, args[0]))
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// faultCgroupDirs lists the existing directories of cgroup path p in every
// hierarchy under /sys/fs/cgroup (v1 controllers, the hybrid cgroup2 tree,
// or a pure cgroup2 root).
func faultCgroupDirs(p string) []string {
	var out []string
	if fi, err := os.Stat(filepath.Join("/sys/fs/cgroup", p)); err == nil && fi.IsDir() {
		out = append(out, filepath.Join("/sys/fs/cgroup", p))
	}
	entries, _ := os.ReadDir("/sys/fs/cgroup")
	for _, e := range entries {
		d := filepath.Join("/sys/fs/cgroup", e.Name(), p)
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			out = append(out, d)
		}
	}
	return out
}

// faultRemoveCgroupTree removes cgroup dir d and its children, deepest
// first; it is test cleanup, so errors are ignored.
func faultRemoveCgroupTree(d string) {
	entries, _ := os.ReadDir(d)
	for _, e := range entries {
		if e.IsDir() {
			faultRemoveCgroupTree(filepath.Join(d, e.Name()))
		}
	}
	for i := 0; i < 50; i++ {
		if err := unix.Rmdir(d); err == nil || err == unix.ENOENT {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// residue lists what container id left behind: its state dir, its cgroup
// directories, mounts under the rig's root or the bundle, and (when
// withProcs is set) live runsc processes of the rig's root. Processes are
// per root, not per id: callers with several containers in flight check
// them once all are gone.
func (g *faultRig) residue(id, bundle string, withProcs bool) []string {
	var out []string
	if _, err := os.Lstat(filepath.Join(g.r.Root, id)); err == nil {
		out = append(out, "state dir "+id)
	}
	for _, d := range faultCgroupDirs(g.cgPath(id)) {
		out = append(out, "cgroup "+d)
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	for _, l := range strings.Split(string(mi), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && (strings.HasPrefix(f[4], g.r.Root+"/") || bundle != "" && strings.HasPrefix(f[4], bundle+"/")) {
			out = append(out, "mount "+f[4])
		}
	}
	if withProcs {
		for _, p := range g.rootProcs() {
			out = append(out, "process "+p)
		}
	}
	return out
}

// checkGone fails t if container id left anything behind.
func (g *faultRig) checkGone(t *testing.T, what, id, bundle string, withProcs bool) {
	t.Helper()
	if left := g.residue(id, bundle, withProcs); len(left) > 0 {
		t.Errorf("%s: left behind: %s", what, strings.Join(left, "; "))
	}
}

// pids are the host processes of a created container.
type faultPids struct {
	Sandbox, Gofer, Init int
}

// createSleeper creates container id running `sleep 1000` with a pid file
// and returns its bundle and processes.
func (g *faultRig) createSleeper(t *testing.T, id string) (*testutil.Bundle, faultPids) {
	t.Helper()
	b := g.bundle(t, id, "sleep", "1000")
	pidFile := filepath.Join(b.Dir, "pid")
	g.mustRun(t, "create", "--bundle", b.Dir, "--pid-file", pidFile, id)
	var p faultPids
	p.Sandbox = readPidFile(t, pidFile)
	st, err := g.state(id)
	if err != nil || !st.Exists || st.State.Status != specs.StateCreated {
		t.Fatalf("after create: %+v %v", st, err)
	}
	p.Init = st.State.Pid
	// The gofer is init's parent (and the sandbox's sibling); the state
	// file must agree.
	p.Gofer = specutils.ParentOf(p.Init)
	if want := g.stateFilePids(t, id).Gofer; p.Gofer != want {
		t.Fatalf("init's parent %d is not the state file's gofer %d", p.Gofer, want)
	}
	if p.Sandbox <= 0 || p.Gofer <= 0 || p.Init <= 0 || !faultAlive(p.Sandbox) || !faultAlive(p.Gofer) || !faultAlive(p.Init) {
		t.Fatalf("container %s processes: %+v", id, p)
	}
	return b, p
}

// stateFilePids reads the PIDs stored in id's state file.
func (g *faultRig) stateFilePids(t *testing.T, id string) faultPids {
	t.Helper()
	var s struct {
		Sandbox, Gofer, Init struct {
			PID int `json:"pid"`
		}
	}
	data, err := os.ReadFile(filepath.Join(g.r.Root, id, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	return faultPids{Sandbox: s.Sandbox.PID, Gofer: s.Gofer.PID, Init: s.Init.PID}
}

// pidnsMembers lists the live processes in the PID namespace of pid
// (read before pid dies, by ns inode).
func faultPidnsMembers(ns string) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid)); err == nil && l == ns && faultAlive(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// faultPidns is the pid namespace of pid ("pid:[inode]").
func faultPidns(t *testing.T, pid int) string {
	t.Helper()
	l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// scrub removes by force whatever container id left behind (after the
// residue was reported), so that a sweep can go on testing independent
// points: it SIGKILLs the root's runsc processes, removes the cgroup dirs
// and the state dir.
func (g *faultRig) scrub(id string) {
	for _, p := range g.rootProcs() {
		var pid int
		fmt.Sscanf(p, "%d", &pid)
		unix.Kill(pid, unix.SIGKILL)
		faultWaitDead(pid, 5*time.Second)
	}
	for _, d := range faultCgroupDirs(g.cgPath(id)) {
		faultRemoveCgroupTree(d)
	}
	os.RemoveAll(filepath.Join(g.r.Root, id))
}

// faultWriteSpec writes spec as dir/config.json, creating dir.
func faultWriteSpec(dir string, spec *specs.Spec) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644)
}
