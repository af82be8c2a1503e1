//go:build root

package root

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"runsc.dev/runsc/runsc/test/testutil"
)

// hostDir makes a directory outside /tmp (which `runsc do` replaces with
// a private tmpfs), removed when the test ends.
func hostDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("/var/tmp", "runsc-do-test-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(d, 0o755)
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// doIn runs `runsc do args` with cwd dir.
func doIn(t *testing.T, r *testutil.Runtime, dir string, args ...string) testutil.Result {
	t.Helper()
	cmd := r.Cmd(append([]string{"do"}, args...)...)
	cmd.Dir = dir
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("runsc do %v timed out", args)
	}
	return testutil.Result{Stdout: out.String(), Stderr: errb.String(), Code: cmd.ProcessState.ExitCode()}
}

// TestDoWritesStayInOverlay checks that writes anywhere in the container's
// root land in the overlay: the command reads back what it wrote, and the
// host's /etc and the caller's directory are unchanged.
func TestDoWritesStayInOverlay(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	dir := hostDir(t)
	name := fmt.Sprintf("hostile-%d", time.Now().UnixNano())
	etcBefore, _ := os.ReadDir("/etc")
	res := doIn(t, r, dir, "sh", "-c", fmt.Sprintf("echo x > /etc/%s && echo y > ./%s && mkdir -p /usr/%s && cat /etc/%s ./%s && pwd", name, name, name, name, name))
	if res.Code != 0 || res.Stdout != "x\ny\n"+dir+"\n" {
		t.Fatalf("do: code %d stdout %q stderr %q", res.Code, res.Stdout, res.Stderr)
	}
	for _, p := range []string{"/etc/" + name, filepath.Join(dir, name), "/usr/" + name} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s exists on the host after runsc do (err %v)", p, err)
			os.RemoveAll(p)
		}
	}
	if etcAfter, _ := os.ReadDir("/etc"); len(etcAfter) != len(etcBefore) {
		t.Errorf("/etc had %d entries, now %d", len(etcBefore), len(etcAfter))
	}
	// The overlay is per run: a second run does not see the first's file.
	if res := doIn(t, r, dir, "test", "-e", "/etc/"+name); res.Code != 1 {
		t.Errorf("second do sees the first one's file: code %d stderr %q", res.Code, res.Stderr)
	}
}

// TestDoReadonlyRoot checks --overlay=false: the root is read-only, /tmp
// stays writable.
func TestDoReadonlyRoot(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	res := doIn(t, r, "/", "--overlay=false", "sh", "-c", "touch /tmp/ok || exit 9; echo x > /etc/runsc-do-ro 2>/dev/null && exit 0; exit 4")
	if res.Code != 4 {
		t.Errorf("write to a read-only root: code %d stderr %q, want 4", res.Code, res.Stderr)
	}
	if _, err := os.Stat("/etc/runsc-do-ro"); err == nil {
		os.Remove("/etc/runsc-do-ro")
		t.Error("/etc/runsc-do-ro was written on the host")
	}
}

// TestDoVolumes checks --volume rw (writes reach the host) and :ro.
func TestDoVolumes(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	rw, ro := hostDir(t), hostDir(t)
	os.WriteFile(filepath.Join(ro, "in"), []byte("ro-data"), 0o644)
	res := doIn(t, r, "/", "--volume", rw+":/mnt/rw", "-v", ro+":/mnt/ro:ro",
		"sh", "-c", "echo hello > /mnt/rw/out && cat /mnt/ro/in && if echo x > /mnt/ro/new; then exit 5; fi")
	if res.Code != 0 || res.Stdout != "ro-data" {
		t.Fatalf("do: code %d stdout %q stderr %q", res.Code, res.Stdout, res.Stderr)
	}
	if b, err := os.ReadFile(filepath.Join(rw, "out")); err != nil || string(b) != "hello\n" {
		t.Errorf("rw volume: host file %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(ro, "new")); err == nil {
		t.Error("ro volume was written")
	}
	if res := doIn(t, r, "/", "--volume", "nocolon", "true"); res.Code != 125 {
		t.Errorf("bad --volume: code %d, want 125", res.Code)
	}
}

// TestDoExitCodes checks that the command's status is runsc do's, and the
// codes of runsc's own failures.
func TestDoExitCodes(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"true"}, 0},
		{[]string{"sh", "-c", "exit 3"}, 3},
		{[]string{"sh", "-c", "sh -c 'kill -KILL $$'"}, 137},
		{[]string{"/no/such/command"}, 127},
		{[]string{"no-such-command-xyz"}, 127},
		{[]string{"/etc"}, 125}, // found, but a directory: runsc's failure, not 127
		{[]string{"--network", "bogus", "true"}, 125},
	} {
		if res := doIn(t, r, "/", tc.args...); res.Code != tc.code {
			t.Errorf("do %q: code %d (stderr %q), want %d", tc.args, res.Code, res.Stderr, tc.code)
		}
	}
}

// TestDoNetwork checks --network none (only lo, and up) and host.
func TestDoNetwork(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	res := doIn(t, r, "/", "sh", "-c", "ls /sys/class/net; cat /sys/class/net/lo/flags; readlink /proc/self/ns/net")
	f := strings.Fields(res.Stdout)
	hostNet, _ := os.Readlink("/proc/self/ns/net")
	if res.Code != 0 || len(f) != 3 || f[0] != "lo" || f[2] == hostNet {
		t.Fatalf("--network none: code %d stdout %q stderr %q (host %s)", res.Code, res.Stdout, res.Stderr, hostNet)
	}
	var flags uint64
	fmt.Sscanf(f[1], "0x%x", &flags)
	if flags&syscall.IFF_UP == 0 {
		t.Errorf("lo is down: flags %s", f[1])
	}
	res = doIn(t, r, "/", "--network", "host", "readlink", "/proc/self/ns/net")
	if res.Code != 0 || strings.TrimSpace(res.Stdout) != hostNet {
		t.Errorf("--network host: %q (host %s), code %d stderr %q", res.Stdout, hostNet, res.Code, res.Stderr)
	}
}

// TestDoEnvUser checks the environment (caller's, minus SUDO_*, plus
// --env) and --user.
func TestDoEnvUser(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	cmd := r.Cmd("do", "--env", "EXTRA=1", "--env", "KEEP=replaced", "--user", "1234:4321",
		"sh", "-c", `echo "$KEEP $EXTRA ${SUDO_USER:-nosudo} ${XDG_RUNTIME_DIR:-noxdg}"; id -u; id -g; grep CapEff /proc/self/status`)
	cmd.Env = append(os.Environ(), "KEEP=host", "SUDO_USER=alice", "XDG_RUNTIME_DIR=/run/user/0")
	cmd.Dir = "/"
	out, err := cmd.Output()
	want := "replaced 1 nosudo noxdg\n1234\n4321\nCapEff:\t0000000000000000\n"
	if err != nil || string(out) != want {
		t.Errorf("do: %v, stdout %q, want %q", err, out, want)
	}
}

// TestDoInterrupt checks that SIGINT to runsc do stops a command that
// ignores it (PID 1 of its namespace) and leaves nothing behind: no
// process, no state, no mount.
func TestDoInterrupt(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	cmd := r.Cmd("do", "sleep", "1717")
	cmd.Dir = "/"
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait for the container to run: its state directory and its sleep.
	deadline := time.Now().Add(20 * time.Second)
	for {
		entries, _ := os.ReadDir(r.Root)
		if len(entries) == 1 && sleepRunning() {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("container did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("runsc do did not exit after SIGINT")
	}
	if code := cmd.ProcessState.ExitCode(); code != 137 {
		t.Errorf("exit code after SIGINT: %d, want 137 (killed after the grace period)", code)
	}
	t.Logf("stopped %v after SIGINT", time.Since(start).Round(time.Millisecond))
	if entries, _ := os.ReadDir(r.Root); len(entries) != 0 {
		t.Errorf("state left in %s: %v", r.Root, entries)
	}
	if sleepRunning() {
		t.Error("sleep still running")
	}
}

// sleepRunning reports whether the container's "sleep 1717" runs.
func sleepRunning() bool {
	out, _ := exec.Command("pgrep", "-f", "^sleep 1717$").Output()
	return len(strings.TrimSpace(string(out))) > 0
}
