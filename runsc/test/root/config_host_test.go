//go:build root

package root

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/runsc/test/testutil"
)

// Config cases checked (also) from the host: hooks, devices, refusals at
// create, oom_score_adj, I/O priority.

// markerHook is a hook that writes the state it gets on stdin to
// dir/name, and appends name to dir/order.
func markerHook(dir, name string) specs.Hook {
	return specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "cat > " + dir + "/" + name + "; echo " + name + " >> " + dir + "/order"}}
}

func TestConfigHooks(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	t.Run("all six kinds", func(t *testing.T) {
		dir := t.TempDir()
		b := testutil.NewBundle(t, "sh", "-c", "cat /tmp/startContainer > /tmp/seen-by-process; sleep 1000")
		timeout := 10
		start := markerHook("/tmp", "startContainer")
		start.Timeout = &timeout
		b.Spec.Hooks = &specs.Hooks{
			Prestart:        []specs.Hook{markerHook(dir, "prestart")},
			CreateRuntime:   []specs.Hook{markerHook(dir, "createRuntime")},
			CreateContainer: []specs.Hook{markerHook(dir, "createContainer")},
			StartContainer:  []specs.Hook{start},
			Poststart:       []specs.Hook{markerHook(dir, "poststart")},
			Poststop:        []specs.Hook{markerHook(dir, "poststop")},
		}
		b.Save(t)
		const id = "hooks"
		r.MustRun(t, "create", "--bundle", b.Dir, id)
		pid := r.State(t, id).Pid
		check := func(kind string, path string, status specs.ContainerState, wantPid int) {
			t.Helper()
			st, ok := readHookMarker(t, path)
			if !ok {
				t.Errorf("%s hook did not run", kind)
				return
			}
			if st.ID != id || st.Status != status || st.Pid != wantPid || st.Bundle != b.Dir || st.Version == "" {
				t.Errorf("%s hook got state %+v, want id %s status %s pid %d bundle %s", kind, st, id, status, wantPid, b.Dir)
			}
		}
		for _, kind := range []string{"prestart", "createRuntime", "createContainer"} {
			check(kind, filepath.Join(dir, kind), specs.StateCreating, pid)
		}
		for _, kind := range []string{"poststart", "poststop"} {
			if _, err := os.Stat(filepath.Join(dir, kind)); err == nil {
				t.Errorf("%s hook ran at create", kind)
			}
		}
		if _, err := os.Stat(filepath.Join(b.Rootfs(), "tmp", "startContainer")); err == nil {
			t.Errorf("startContainer hook ran at create")
		}
		r.MustRun(t, "start", id)
		check("poststart", filepath.Join(dir, "poststart"), specs.StateRunning, pid)
		// startContainer runs in the container, before its process:
		// its pid is init's in the container's pid namespace.
		check("startContainer", filepath.Join(b.Rootfs(), "tmp", "startContainer"), specs.StateCreated, 1)
		r.MustRun(t, "kill", id, "KILL")
		waitStatus(t, r, id, "stopped")
		r.MustRun(t, "delete", id)
		check("poststop", filepath.Join(dir, "poststop"), specs.StateStopped, 0)
		order, _ := os.ReadFile(filepath.Join(dir, "order"))
		if got := strings.Fields(string(order)); strings.Join(got, " ") != "prestart createRuntime createContainer poststart poststop" {
			t.Errorf("host hooks ran in order %q", got)
		}
	})
	t.Run("failing createRuntime fails create and leaves nothing", func(t *testing.T) {
		dir := t.TempDir()
		b := testutil.NewBundle(t, "true")
		b.Spec.Hooks = &specs.Hooks{
			Prestart:        []specs.Hook{markerHook(dir, "prestart")},
			CreateRuntime:   []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "exit 3"}}},
			CreateContainer: []specs.Hook{markerHook(dir, "createContainer")},
			Poststop:        []specs.Hook{markerHook(dir, "poststop")},
		}
		b.Save(t)
		expectRefused(t, r, "hookfail", "createRuntime", "create", "--bundle", b.Dir, "hookfail")
		rootEmpty(t, r)
		order, _ := os.ReadFile(filepath.Join(dir, "order"))
		if got := strings.Fields(string(order)); strings.Join(got, " ") != "prestart" {
			t.Errorf("hooks that ran: %q, want prestart only", got)
		}
	})
	t.Run("failing poststart and poststop only warn", func(t *testing.T) {
		b := testutil.NewBundle(t, "sleep", "1000")
		fail := []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "echo hook-failed >&2; exit 1"}}}
		b.Spec.Hooks = &specs.Hooks{Poststart: fail, Poststop: fail}
		b.Save(t)
		const id = "postfail"
		r.MustRun(t, "create", "--bundle", b.Dir, id)
		res := r.Run(t, "start", id)
		if res.Code != 0 || !strings.Contains(res.Stderr, "poststart") {
			t.Errorf("start with a failing poststart hook: exit %d, stderr %q; want 0 and a warning", res.Code, res.Stderr)
		}
		if st := r.State(t, id); st.Status != specs.StateRunning {
			t.Errorf("after start: %s", st.Status)
		}
		res = r.Run(t, "delete", "--force", id)
		if res.Code != 0 || !strings.Contains(res.Stderr, "poststop") {
			t.Errorf("delete with a failing poststop hook: exit %d, stderr %q; want 0 and a warning", res.Code, res.Stderr)
		}
		rootEmpty(t, r)
	})
}

func TestConfigDevices(t *testing.T) {
	mode := os.FileMode(0o640)
	uid, gid := uint32(1000), uint32(1001)
	runConfigCases(t, "devices", []configCase{{
		name:   "linux.devices and the default set",
		script: "stat -c '%n %F %t:%T %a %u:%g' /dev/custom /dev/blk /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty; for l in ptmx fd stdin stdout stderr; do readlink /dev/$l; done",
		edit: func(b *testutil.Bundle) {
			b.Spec.Linux.Devices = []specs.LinuxDevice{
				{Path: "/dev/custom", Type: "c", Major: 10, Minor: 229, FileMode: &mode, UID: &uid, GID: &gid},
				{Path: "/dev/blk", Type: "b", Major: 7, Minor: 200},
			}
		},
		check: func(t *testing.T, out string) {
			want := []string{
				"/dev/custom character special file a:e5 640 1000:1001",
				"/dev/blk block special file 7:c8 666 0:0",
				"/dev/null character special file 1:3 666 0:0",
				"/dev/zero character special file 1:5 666 0:0",
				"/dev/full character special file 1:7 666 0:0",
				"/dev/random character special file 1:8 666 0:0",
				"/dev/urandom character special file 1:9 666 0:0",
				"/dev/tty character special file 5:0 666 0:0",
				"pts/ptmx", "/proc/self/fd", "/proc/self/fd/0", "/proc/self/fd/1", "/proc/self/fd/2",
			}
			if got := lines(out); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("devices:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		},
	}})
}

func TestConfigRefusedAtCreate(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	for _, tc := range []struct {
		name, want string
		edit       func(b *testutil.Bundle)
	}{
		{"unknown capability", "CAP_PWN", func(b *testutil.Bundle) {
			b.Spec.Process.Capabilities.Bounding = append(b.Spec.Process.Capabilities.Bounding, "CAP_PWN")
		}},
		{"unknown ambient capability", "CAP_NOPE", func(b *testutil.Bundle) {
			b.Spec.Process.Capabilities.Ambient = []string{"CAP_NOPE"}
		}},
		{"non-namespaced sysctl", "kernel.panic", func(b *testutil.Bundle) {
			b.Spec.Linux.Sysctl = map[string]string{"kernel.panic": "1"}
		}},
		{"net sysctl without a private netns", "net.ipv4.ip_forward", func(b *testutil.Bundle) {
			withoutNamespace(b, specs.NetworkNamespace)
			b.Spec.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		}},
		{"unknown personality", "personality", func(b *testutil.Bundle) {
			b.Spec.Linux.Personality = &specs.LinuxPersonality{Domain: "LINUX64"}
		}},
		{"unknown io priority class", "ioPriority", func(b *testutil.Bundle) {
			b.Spec.Process.IOPriority = &specs.LinuxIOPriority{Class: "IOPRIO_CLASS_PWN"}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			panicBefore, _ := os.ReadFile("/proc/sys/kernel/panic")
			b := testutil.NewBundle(t, "true")
			tc.edit(b)
			b.Save(t)
			id := "refused-" + strings.ReplaceAll(tc.name, " ", "-")
			expectRefused(t, r, id, tc.want, "create", "--bundle", b.Dir, id)
			rootEmpty(t, r)
			if now, _ := os.ReadFile("/proc/sys/kernel/panic"); string(now) != string(panicBefore) {
				t.Errorf("host kernel.panic changed: %q -> %q", panicBefore, now)
			}
		})
	}
}

// TestConfigProcessAttrsFromHost reads oom_score_adj and the I/O priority
// of the container's process from the host, and its own view through the
// inspect program.
func TestConfigProcessAttrsFromHost(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	for _, tc := range []struct {
		name       string
		oom        int
		prio       *specs.LinuxIOPriority
		wantIOPrio int
	}{
		{"oom 500, best-effort 5", 500, &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 5}, 2<<13 | 5},
		// (A negative value needs CAP_SYS_RESOURCE, which this host's
		// root may lack.)
		{"oom 0, idle", 0, &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_IDLE}, 3 << 13},
		{"oom 1000, realtime 0", 1000, &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_RT, Priority: 0}, 1 << 13},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := testutil.NewBundle(t, "sh", "-c", "inspect")
			withInspect(t, b)
			oom := tc.oom
			b.Spec.Process.OOMScoreAdj = &oom
			b.Spec.Process.IOPriority = tc.prio
			id := "attrs-" + strconv.Itoa(tc.oom+1000)
			pid, report := runReporting(t, r, b, id)
			adj, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/oom_score_adj")
			if err != nil || strings.TrimSpace(string(adj)) != strconv.Itoa(tc.oom) {
				t.Errorf("host /proc/%d/oom_score_adj = %q (%v), want %d", pid, adj, err, tc.oom)
			}
			prio, _, errno := unix.Syscall(unix.SYS_IOPRIO_GET, 1, uintptr(pid), 0)
			if errno != 0 || int(prio) != tc.wantIOPrio {
				t.Errorf("host ioprio_get(%d) = %#x (%v), want %#x", pid, prio, errno, tc.wantIOPrio)
			}
			if got := parseInspect(t, report).IOPrio; got != tc.wantIOPrio {
				t.Errorf("container's own ioprio_get = %#x, want %#x", got, tc.wantIOPrio)
			}
			r.MustRun(t, "delete", "--force", id)
		})
	}
}
