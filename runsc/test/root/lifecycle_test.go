//go:build root

package root

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/runsc/test/testutil"
)

func TestRunExitCodes(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	for _, tc := range []struct {
		name   string
		script string
		code   int
		out    string
	}{
		{"zero", "echo hello", 0, "hello\n"},
		{"three", "echo out; exit 3", 3, "out\n"},
		// The container's process is PID 1 of its pid namespace: the
		// kernel drops signals it has no handler for, so a shell trap
		// stands in for "killed by SIGTERM".
		{"trap", "trap 'exit 143' TERM; kill -TERM $$; sleep 5", 143, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := testutil.NewBundle(t, "sh", "-c", tc.script)
			res := r.Run(t, "run", "--bundle", b.Dir, "run-"+tc.name)
			if res.Code != tc.code || res.Stdout != tc.out {
				t.Errorf("run: code %d stdout %q stderr %q; want %d %q", res.Code, res.Stdout, res.Stderr, tc.code, tc.out)
			}
		})
	}
}

// TestRunExecFails checks a run whose execve fails once the container is
// created (an executable file of no known format, which create's lookup
// accepts): run exits 1 naming the error, and leaves no state, cgroup or
// process (Audit). run starts such a container without waiting for a
// Start (control.Message.Start): the sandbox reports init's failure.
func TestRunExecFails(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	b := testutil.NewBundle(t, "/bin/garbage")
	if err := os.WriteFile(filepath.Join(b.Rootfs(), "bin", "garbage"), []byte("\x00\x01 not a binary\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	res := r.Run(t, "run", "--bundle", b.Dir, "execfail")
	if res.Code != 1 || !strings.Contains(res.Stderr, "exec format error") {
		t.Errorf("run of a non-binary: %+v", res)
	}
	if entries, _ := os.ReadDir(r.Root); len(entries) != 0 {
		t.Errorf("state left behind: %v", entries)
	}
}

// TestForkedInit checks the init the gofer forks (gofer/fork.go) of a
// created container, from the kernel's view: one thread (no Go runtime),
// named runsc-init, the gofer's child, holding no descriptor but stdio
// and its two pipes to the gofer (CVE-2024-21626); and, after start, the
// container's process in its place. A container with startContainer
// hooks gets runsc init instead (Go: several threads).
func TestForkedInit(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	b := testutil.NewBundle(t, "sleep", "100")
	r.MustRun(t, "create", "--bundle", b.Dir, "forked")
	defer r.Run(t, "delete", "--force", "forked")
	init := initOf(t, "forked")
	if c := procComm(init); c != "runsc-init" {
		t.Errorf("forked init is named %q, want runsc-init", c)
	}
	if th := procField(init, "Threads"); th != "1" {
		t.Errorf("forked init has %s threads, want 1", th)
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", init))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, fd := range fds {
		names = append(names, fd.Name())
	}
	if strings.Join(names, ",") != "0,1,2,3,4" {
		t.Errorf("forked init holds descriptors %v, want stdio and its two pipes", names)
	}
	r.MustRun(t, "start", "forked")
	waitStatus(t, r, "forked", "running")
	if c := procComm(init); c != "sleep" {
		t.Errorf("after start, init is %q, want sleep", c)
	}

	hb := testutil.NewBundle(t, "sleep", "100")
	hb.Spec.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/true"}}}
	hb.Save(t)
	r.MustRun(t, "create", "--bundle", hb.Dir, "hooked")
	defer r.Run(t, "delete", "--force", "hooked")
	init = initOf(t, "hooked")
	if th, _ := strconv.Atoi(procField(init, "Threads")); th < 2 || procComm(init) == "runsc-init" {
		t.Errorf("with startContainer hooks, init is %q with %d threads, want runsc init", procComm(init), th)
	}
}

// initOf returns the PID of container id's init: the one child of its
// gofer (the runsc-gofer whose last argument is id).
func initOf(t *testing.T, id string) int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || procComm(pid) != "runsc-gofer" {
			continue
		}
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if args[len(args)-1] != id {
			continue
		}
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		var children []string
		for _, task := range tasks {
			c, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, task.Name()))
			children = append(children, strings.Fields(string(c))...)
		}
		if len(children) != 1 {
			t.Fatalf("gofer %d of %s has children %v, want its init", pid, id, children)
		}
		init, _ := strconv.Atoi(children[0])
		return init
	}
	t.Fatalf("no gofer for container %s", id)
	return 0
}

func procComm(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(string(b))
}

func procField(pid int, name string) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	return statusLine(string(b), name)
}

// TestKilledBySignal checks that a container killed by signal N exits with
// 128+N through wait and through the pid-file process.
func TestKilledBySignal(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	b := testutil.NewBundle(t, "sleep", "1000")
	r.MustRun(t, "run", "--detach", "--bundle", b.Dir, "killed")
	defer r.Run(t, "delete", "--force", "killed")
	r.MustRun(t, "kill", "killed", "KILL")
	if res := r.Run(t, "wait", "killed"); res.Code != 137 {
		t.Errorf("wait after SIGKILL: %+v", res)
	}
}

func TestLifecycle(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	b := testutil.NewBundle(t, "sh", "-c", "sleep 0.3; exit 7")
	b.Spec.Annotations = map[string]string{"org.example/k": "v"}
	b.Save(t)
	r.MustRun(t, "create", "--bundle", b.Dir, "walk")
	st := r.State(t, "walk")
	if st.Status != "created" || st.Pid <= 0 || st.Bundle != b.Dir || st.Annotations["org.example/k"] != "v" || st.ID != "walk" {
		t.Fatalf("after create: %+v", st)
	}
	r.MustRun(t, "start", "walk")
	if st := r.State(t, "walk"); st.Status != "running" {
		t.Fatalf("after start: %+v", st)
	}
	if res := r.Run(t, "start", "walk"); res.Code != 1 {
		t.Errorf("second start: exit %d, want 1", res.Code)
	}
	res := r.Run(t, "wait", "walk")
	if res.Code != 7 || !strings.Contains(res.Stdout, `"exitStatus":7`) {
		t.Errorf("wait: %+v", res)
	}
	if st := r.State(t, "walk"); st.Status != "stopped" || st.Pid != 0 {
		t.Fatalf("after exit: %+v", st)
	}
	// list shows it in both forms.
	var list []map[string]any
	if err := json.Unmarshal([]byte(r.MustRun(t, "list", "--format", "json")), &list); err != nil || len(list) != 1 || list[0]["status"] != "stopped" {
		t.Errorf("list json: %v %v", list, err)
	}
	if out := r.MustRun(t, "list", "-q"); out != "walk\n" {
		t.Errorf("list -q = %q", out)
	}
	r.MustRun(t, "delete", "walk")
	if _, err := os.Stat(filepath.Join(r.Root, "walk")); !os.IsNotExist(err) {
		t.Errorf("state dir left: %v", err)
	}
	if res := r.Run(t, "state", "walk"); res.Code != 1 || !strings.Contains(res.Stderr, "does not exist") {
		t.Errorf("state of deleted: %+v", res)
	}
}

func TestKillCreated(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	b := testutil.NewBundle(t, "true")
	r.MustRun(t, "create", "--bundle", b.Dir, "killcreated")
	r.MustRun(t, "kill", "killcreated", "KILL")
	waitStatus(t, r, "killcreated", "stopped")
	if res := r.Run(t, "kill", "killcreated", "9"); res.Code != 1 || !strings.Contains(res.Stderr, "container not running") {
		t.Errorf("kill of stopped: %+v", res)
	}
	r.MustRun(t, "delete", "killcreated")
}

func TestDeleteForceRunning(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	b := testutil.NewBundle(t, "sleep", "1000")
	r.MustRun(t, "run", "--detach", "--bundle", b.Dir, "force")
	st := r.State(t, "force")
	if st.Status != "running" {
		t.Fatalf("state %+v", st)
	}
	if res := r.Run(t, "delete", "force"); res.Code != 1 {
		t.Errorf("delete of running without --force: %+v", res)
	}
	r.MustRun(t, "delete", "--force", "force")
	// Gone, or a zombie waiting for its reaper (the shim, or here the
	// host's init): never still running.
	if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", st.Pid)); err == nil && !strings.Contains(string(data), ") Z ") {
		t.Errorf("container init %d survived delete --force: %s", st.Pid, data)
	}
	// Idempotent, and fine for an id that never existed.
	r.MustRun(t, "delete", "--force", "force")
	r.MustRun(t, "delete", "--force", "never-existed")
}

func TestKillSignals(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	b := testutil.NewBundle(t, "sh", "-c", "trap 'exit 42' USR1; while true; do sleep 0.05; done")
	r.MustRun(t, "run", "--detach", "--bundle", b.Dir, "sig")
	defer r.Run(t, "delete", "--force", "sig")
	time.Sleep(200 * time.Millisecond) // Let sh install its trap.
	for _, bad := range []string{"SIGNOPE", "0", "65", "-1"} {
		if res := r.Run(t, "kill", "sig", bad); res.Code == 0 {
			t.Errorf("kill with signal %q succeeded", bad)
		}
	}
	r.MustRun(t, "kill", "sig", "usr1")
	if res := r.Run(t, "wait", "sig"); res.Code != 42 {
		t.Errorf("wait after USR1: %+v", res)
	}
}

func TestBadInput(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	b := testutil.NewBundle(t, "true")
	for _, id := range []string{".", "..", "../x", "a/b", "a b", strings.Repeat("x", 4096)} {
		res := r.Run(t, "create", "--bundle", b.Dir, id)
		if res.Code != 1 || !strings.Contains(res.Stderr, "invalid container id") {
			t.Errorf("create %q: %+v", id, res)
		}
	}
	// Duplicate ids.
	r.MustRun(t, "create", "--bundle", b.Dir, "dup")
	if res := r.Run(t, "create", "--bundle", b.Dir, "dup"); res.Code != 1 || !strings.Contains(res.Stderr, "already exists") {
		t.Errorf("duplicate create: %+v", res)
	}
	r.MustRun(t, "delete", "--force", "dup")
	// Missing binary fails create with a clear error, leaving nothing.
	nb := testutil.NewBundle(t, "/no/such/binary")
	if res := r.Run(t, "create", "--bundle", nb.Dir, "nobin"); res.Code != 1 || !strings.Contains(res.Stderr, "/no/such/binary") {
		t.Errorf("missing binary: %+v", res)
	}
	// Missing cwd.
	cb := testutil.NewBundle(t, "true")
	cb.Spec.Process.Cwd = "/no/such/dir"
	cb.Save(t)
	if res := r.Run(t, "create", "--bundle", cb.Dir, "nocwd"); res.Code != 1 || !strings.Contains(res.Stderr, "process.cwd") {
		t.Errorf("missing cwd: %+v", res)
	}
	// Every command on a missing id.
	for _, args := range [][]string{{"start", "ghost"}, {"state", "ghost"}, {"kill", "ghost"}, {"delete", "ghost"}, {"wait", "ghost"}} {
		if res := r.Run(t, args...); res.Code != 1 || !strings.Contains(res.Stderr, "does not exist") {
			t.Errorf("%v: %+v", args, res)
		}
	}
	entries, _ := os.ReadDir(r.Root)
	if len(entries) != 0 {
		t.Errorf("state left behind: %v", entries)
	}
}

// waitStatus polls state until it reports want.
func waitStatus(t *testing.T, r *testutil.Runtime, id, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := r.State(t, id)
		if string(st.Status) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: status %q, want %q", id, st.Status, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRunForwardsSignals checks that `runsc run` passes a SIGTERM it gets
// to the container's init (a shell that traps it and exits 7), and exits
// with the container's status, as runc does.
func TestRunForwardsSignals(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	b := testutil.NewBundle(t, "sh", "-c", "trap 'exit 7' TERM; echo set > /tmp/trapped; while :; do sleep 0.05; done")
	cmd := r.Cmd("run", "--bundle", b.Dir, "fwd")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer r.Run(t, "delete", "--force", "fwd")
	// The trap is set once the marker exists.
	if _, ok := awaitFile(filepath.Join(b.Rootfs(), "tmp", "trapped")); !ok {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("the container never set its trap")
	}
	if err := cmd.Process.Signal(unix.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 7 {
		t.Fatalf("runsc run after SIGTERM: %v, want exit status 7", err)
	}
	// run deleted the container.
	if res := r.Run(t, "state", "fwd"); res.Code == 0 {
		t.Errorf("state after run returned: %+v", res)
	}
}

// TestTimerSlack checks that the container's processes, init and exec'd
// ones, get the timer slack of create's caller, and not the coarser one
// runsc's helpers run with (sandbox.HelperTimerSlack).
func TestTimerSlack(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	b := testutil.NewBundle(t, "sh", "-c", "cat /proc/self/timerslack_ns > /tmp/init-slack; sleep 1000")
	const slack = 123457
	// A child inherits the slack of the thread that forks it.
	runtime.LockOSThread()
	old, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, slack, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	res := r.Run(t, "run", "--detach", "--bundle", b.Dir, "slack")
	unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(old), 0, 0, 0)
	runtime.UnlockOSThread()
	if res.Code != 0 {
		t.Fatalf("run: %+v", res)
	}
	defer r.Run(t, "delete", "--force", "slack")
	got, _ := awaitFile(filepath.Join(b.Rootfs(), "tmp", "init-slack"))
	if strings.TrimSpace(string(got)) != strconv.Itoa(slack) {
		t.Errorf("init's timer slack %q, want %d", got, slack)
	}
	out := r.MustRun(t, "exec", "slack", "cat", "/proc/self/timerslack_ns")
	if strings.TrimSpace(out) != strconv.Itoa(slack) {
		t.Errorf("exec'd process's timer slack %q, want %d", out, slack)
	}
}

// awaitFile waits up to 10 s for the file at path to exist and hold
// something, a container's marker, and returns its contents.
func awaitFile(path string) ([]byte, bool) {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return b, true
		}
	}
	return nil, false
}
