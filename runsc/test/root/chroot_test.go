//go:build root

package root

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"runsc.dev/runsc/runsc/specutils"
	"runsc.dev/runsc/runsc/test/testutil"
)

// createSleeping creates (not starts) a container running sleep and
// returns its sandbox PID, read from the pid file.
func createSleeping(t *testing.T, r *testutil.Runtime, id string) (*testutil.Bundle, int) {
	t.Helper()
	return createSleepingAs(t, r, id, nil)
}

// createSleepingAs is createSleeping with runsc create run as cred (nil:
// the test's own credentials).
func createSleepingAs(t *testing.T, r *testutil.Runtime, id string, cred *syscall.Credential) (*testutil.Bundle, int) {
	t.Helper()
	b := testutil.NewBundle(t, "sleep", "1000")
	pidFile := filepath.Join(b.Dir, "pid")
	cmd := r.Cmd("create", "--bundle", b.Dir, "--pid-file", pidFile, id)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if res := testutil.RunCmd(t, cmd, 60*time.Second); res.Code != 0 {
		t.Fatalf("runsc create: exit %d\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
	}
	t.Cleanup(func() { r.Run(t, "delete", "--force", id) })
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(string(data))
	if err != nil {
		t.Fatalf("pid file %q: %v", data, err)
	}
	return b, pid
}

// goferAndInit returns the PIDs of container id's gofer and init: init
// from state, the gofer its parent (a sibling of the sandbox, both
// started by create).
func goferAndInit(t *testing.T, r *testutil.Runtime, id string) (gofer, init int) {
	t.Helper()
	init = r.State(t, id).Pid
	gofer = specutils.ParentOf(init)
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", gofer))
	if !strings.HasPrefix(string(cmdline), "runsc-gofer\x00") {
		t.Fatalf("parent %d of init %d is %q, not runsc-gofer", gofer, init, cmdline)
	}
	return gofer, init
}

// children returns the PIDs whose parent is pid.
func children(t *testing.T, pid int) []int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, f := range strings.Fields(string(data)) {
		n, _ := strconv.Atoi(f)
		out = append(out, n)
	}
	return out
}

func statusField(t *testing.T, pid int, tid int, key string) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/status", pid, tid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, key+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %s in status of %d", key, tid)
	return ""
}

// TestChroot checks the sandbox's minimal root from the host's /proc: its
// root resolves to /, its cwd is /, and the root holds exactly proc and
// runsc.
func TestChroot(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	_, pid := createSleeping(t, r, "chroot")
	for _, link := range []string{"root", "cwd"} {
		got, err := os.Readlink(fmt.Sprintf("/proc/%d/%s", pid, link))
		if err != nil {
			t.Fatal(err)
		}
		if got != "/" {
			t.Errorf("sandbox %s = %q, want /", link, got)
		}
	}
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/root", pid))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "proc,runsc" {
		t.Errorf("sandbox root holds %v, want exactly [proc runsc]", names)
	}
	// The root is read-only: nothing can be created in it.
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/root/x", pid), nil, 0o644); err == nil {
		t.Error("sandbox root is writable")
	}
}

// TestChrootGofer checks that the gofer's root is the container's rootfs.
func TestChrootGofer(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	b, pid := createSleeping(t, r, "chrootgofer")
	// The sandbox spawns nothing: the gofer is its sibling.
	if kids := children(t, pid); len(kids) != 0 {
		t.Fatalf("sandbox has children %v, want none", kids)
	}
	gofer, _ := goferAndInit(t, r, "chrootgofer")
	// The gofer's root is the rootfs: the marker we put there is visible
	// through /proc/<gofer>/root, and the host's /etc/hostname is not.
	if err := os.WriteFile(filepath.Join(b.Rootfs(), "marker"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d/root/marker", gofer)); err != nil {
		t.Errorf("gofer root is not the rootfs: %v", err)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d/root/bin/busybox", gofer)); err != nil {
		t.Errorf("gofer root has no /bin/busybox: %v", err)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d/root/usr/local/go", gofer)); err == nil {
		t.Errorf("gofer root shows the host's /usr/local/go")
	}
}

// TestSandboxPosture checks every thread of the sandbox: uid and gid
// nobody, no supplementary groups, no capabilities, no_new_privs, seccomp
// filter mode. Also for a caller with a gid and groups of its own: the
// sandbox is born with gid nobody and no groups, and drops the rest
// itself, skipping what is already in place.
func TestSandboxPosture(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	for _, caller := range []struct {
		name string
		cred *syscall.Credential
	}{
		{"root", nil},
		{"root with gid 20 and groups 10 20", &syscall.Credential{Uid: 0, Gid: 20, Groups: []uint32{10, 20}}},
	} {
		t.Run(caller.name, func(t *testing.T) {
			r := testutil.NewRuntime(t)
			_, pid := createSleepingAs(t, r, "posture", caller.cred)
			tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
			if err != nil {
				t.Fatal(err)
			}
			if len(tasks) == 0 {
				t.Fatal("no threads")
			}
			for _, task := range tasks {
				tid, _ := strconv.Atoi(task.Name())
				for key, want := range map[string]string{
					"Uid":        "65534\t65534\t65534\t65534",
					"Gid":        "65534\t65534\t65534\t65534",
					"Groups":     "",
					"CapEff":     "0000000000000000",
					"CapPrm":     "0000000000000000",
					"CapInh":     "0000000000000000",
					"CapAmb":     "0000000000000000",
					"NoNewPrivs": "1",
					"Seccomp":    "2",
				} {
					if got := statusField(t, pid, tid, key); got != want {
						t.Errorf("sandbox thread %d: %s = %q, want %q", tid, key, got, want)
					}
				}
			}
		})
	}
}

// TestBinaryReadOnly checks CVE-2019-5736's mitigation: the container's
// init, the gofer and the sandbox run runsc from read-only mounts, so no
// /proc/<pid>/exe of theirs can be opened for writing, and the host binary
// is unchanged.
func TestBinaryReadOnly(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	_, sandbox := createSleeping(t, r, "cve-2019-5736")
	gofer, init := goferAndInit(t, r, "cve-2019-5736")
	for _, p := range []int{init, gofer, sandbox} {
		f, err := os.OpenFile(fmt.Sprintf("/proc/%d/exe", p), os.O_WRONLY, 0)
		if err == nil {
			f.Close()
			t.Errorf("/proc/%d/exe opened for writing", p)
		}
	}
}
