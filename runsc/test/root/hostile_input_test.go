//go:build root

package root

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"runsc.dev/runsc/runsc/test/testutil"
)

// TestHostileConfig feeds create configs that are not specs.
func TestHostileConfig(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	valid, err := os.ReadFile(filepath.Join(testutil.NewBundle(t, "true").Dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	huge := make([]byte, 100<<20)
	copy(huge, `{"ociVersion":"1.0.2","x":"`)
	for i := 27; i < len(huge)-2; i++ {
		huge[i] = 'a'
	}
	copy(huge[len(huge)-2:], `"}`)
	for _, tc := range []struct {
		name, config, want string
	}{
		{"not json", "this is not json", "not valid JSON"},
		{"truncated", string(valid[:len(valid)/2]), "not valid JSON"},
		{"empty", "", "empty"},
		{"nested 10000 deep", strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000), "invalid spec"},
		{"nested arrays", `{"process":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + "}", "invalid spec"},
		{"100 MB", string(huge), "larger than"},
		{"null", "null", "root.path"},
		{"wrong types", `{"ociVersion":1,"root":"x","process":[]}`, "not valid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := testutil.NewBundle(t, "true")
			if err := os.WriteFile(filepath.Join(b.Dir, "config.json"), []byte(tc.config), 0o644); err != nil {
				t.Fatal(err)
			}
			expectRefused(t, r, "hostile", tc.want, "create", "--bundle", b.Dir, "hostile")
		})
	}
	t.Run("no config", func(t *testing.T) {
		b := testutil.NewBundle(t, "true")
		os.Remove(filepath.Join(b.Dir, "config.json"))
		expectRefused(t, r, "hostile", "config.json", "create", "--bundle", b.Dir, "hostile")
	})
	t.Run("config is a dir", func(t *testing.T) {
		b := testutil.NewBundle(t, "true")
		os.Remove(filepath.Join(b.Dir, "config.json"))
		os.Mkdir(filepath.Join(b.Dir, "config.json"), 0o755)
		expectRefused(t, r, "hostile", "config.json", "create", "--bundle", b.Dir, "hostile")
	})
	t.Run("config is a fifo", func(t *testing.T) {
		b := testutil.NewBundle(t, "true")
		p := filepath.Join(b.Dir, "config.json")
		os.Remove(p)
		if err := mkfifo(p); err != nil {
			t.Skip(err)
		}
		// Opening a FIFO for reading blocks until a writer comes: give it
		// one that writes garbage.
		go func() {
			if f, err := os.OpenFile(p, os.O_WRONLY, 0); err == nil {
				f.WriteString("garbage")
				f.Close()
			}
		}()
		expectRefused(t, r, "hostile", "", "create", "--bundle", b.Dir, "hostile")
	})
	rootEmpty(t, r)
}

// TestHostileRootfs: a missing rootfs, a file, the bundle itself.
func TestHostileRootfs(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	for _, tc := range []struct{ name, path, want string }{
		{"missing", "nope", "root.path"},
		{"file", "config.json", "not a directory"},
		{"dot", ".", "sh"}, // the bundle holds no /bin/sh
		{"empty", "", "root.path"},
		{"dangling symlink", "dangling", "root.path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := testutil.NewBundle(t, "sh", "-c", "true")
			os.Symlink("/nonexistent-runsc-target", filepath.Join(b.Dir, "dangling"))
			b.Spec.Root.Path = tc.path
			b.Save(t)
			expectRefused(t, r, "hostile-rootfs", tc.want, "create", "--bundle", b.Dir, "hostile-rootfs")
		})
	}
	rootEmpty(t, r)
}

// TestHostileIDs: ids that are not path elements, and duplicates.
func TestHostileIDs(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	b := testutil.NewBundle(t, "true")
	for _, id := range []string{"", ".", "..", "../x", "a/b", "a b", "/abs", "a\nb", "\u00e9", strings.Repeat("x", 4096)} {
		t.Run(fmt.Sprintf("%.20q", id), func(t *testing.T) {
			res := r.Run(t, "create", "--bundle", b.Dir, id)
			if res.Code == 0 {
				r.Run(t, "delete", "--force", id)
			}
			checkRefusal(t, r, res, id, "invalid container id")
		})
	}
	// The parent of the root must not have gained an "x".
	if _, err := os.Stat(filepath.Join(filepath.Dir(r.Root), "x")); err == nil {
		t.Errorf("create ../x made a directory next to the state root")
	}
	t.Run("duplicate", func(t *testing.T) {
		r.MustRun(t, "create", "--bundle", b.Dir, "dup")
		defer r.Run(t, "delete", "--force", "dup")
		expectRefused(t, r, "", "already exists", "create", "--bundle", b.Dir, "dup")
		if st := r.State(t, "dup"); st.Status != "created" {
			t.Errorf("the first dup is %q after the second create", st.Status)
		}
		r.MustRun(t, "delete", "--force", "dup")
	})
	t.Run("64 in parallel", func(t *testing.T) {
		before := memfdSet(r.Root)
		var wg sync.WaitGroup
		results := make([]testutil.Result, 64)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = r.Run(t, "create", "--bundle", b.Dir, "racer")
			}()
		}
		wg.Wait()
		defer r.Run(t, "delete", "--force", "racer")
		won := 0
		for _, res := range results {
			switch {
			case res.Code == 0:
				won++
			case res.Code != 1 || !strings.Contains(res.Stderr, "already exists"):
				t.Errorf("a loser: exit %d, %q (want 1, already exists)", res.Code, res.Stderr)
			}
		}
		if won != 1 {
			t.Errorf("%d creates of one id succeeded, want exactly 1", won)
		}
		if st := r.State(t, "racer"); st.Status != "created" {
			t.Errorf("winner is %q", st.Status)
		}
		r.MustRun(t, "delete", "--force", "racer")
		if m := newMemfds(r.Root, before); len(m) > 0 {
			t.Errorf("spec memfds left: %v", m)
		}
	})
	rootEmpty(t, r)
}

// TestHostileMissingID runs every command on an id that does not exist.
func TestHostileMissingID(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	for _, args := range [][]string{
		{"start", "ghost"}, {"state", "ghost"}, {"kill", "ghost"}, {"kill", "ghost", "KILL"},
		{"kill", "--all", "ghost", "9"}, {"delete", "ghost"}, {"wait", "ghost"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			expectRefused(t, r, "ghost", "does not exist", args...)
		})
	}
	for _, cmd := range []string{"exec", "pause", "resume", "ps", "events", "update"} {
		t.Run(cmd, func(t *testing.T) {
			if res := r.Run(t, cmd); strings.Contains(res.Stdout+res.Stderr, "Usage: runsc <flags> <subcommand>") {
				t.Skipf("needs %s", cmd)
			}
			args := []string{cmd, "ghost"}
			if cmd == "exec" {
				args = append(args, "true")
			}
			expectRefused(t, r, "ghost", "does not exist", args...)
		})
	}
	r.MustRun(t, "delete", "--force", "ghost")
	r.MustRun(t, "delete", "--force", "ghost")
	rootEmpty(t, r)
}

// TestHostileLifecycle: start of a running or stopped container, exec
// into a stopped one, invalid signals.
func TestHostileLifecycle(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	b := testutil.NewBundle(t, "sleep", "1000")
	r.MustRun(t, "create", "--bundle", b.Dir, "life")
	defer r.Run(t, "delete", "--force", "life")
	for _, sig := range []string{"SIGNOPE", "0", "65", "-1", "", "9x", "SIGKILLX", "99999999999999999999", "KILL KILL"} {
		res := r.Run(t, "kill", "life", sig)
		if res.Code != 1 || strings.Contains(strings.TrimSpace(res.Stderr), "\n") {
			t.Errorf("kill %q: %+v", sig, res)
		}
	}
	if st := r.State(t, "life"); st.Status != "created" {
		t.Fatalf("after invalid signals: %q", st.Status)
	}
	r.MustRun(t, "start", "life")
	expectRefused(t, r, "", "", "start", "life")
	r.MustRun(t, "kill", "life", "KILL")
	waitFor(t, r, "life", "stopped")
	expectRefused(t, r, "", "", "start", "life")
	if st := r.State(t, "life"); st.Status != "stopped" {
		t.Errorf("start of a stopped container changed its status to %q", st.Status)
	}
	t.Run("exec into stopped", func(t *testing.T) {
		needExec(t, r)
		expectRefused(t, r, "", "not running", "exec", "life", "true")
	})
	r.MustRun(t, "delete", "life")
	rootEmpty(t, r)
}

// TestHostileProcess: process fields runsc must refuse.
func TestHostileProcess(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	for _, tc := range []struct {
		name   string
		mutate func(b *testutil.Bundle)
		want   string
	}{
		{"empty args", func(b *testutil.Bundle) { b.Spec.Process.Args = nil }, "process.args"},
		{"empty arg0", func(b *testutil.Bundle) { b.Spec.Process.Args = []string{""} }, "process.args"},
		{"missing binary", func(b *testutil.Bundle) { b.Spec.Process.Args = []string{"/no/such/bin"} }, "/no/such/bin"},
		{"binary not in PATH", func(b *testutil.Bundle) { b.Spec.Process.Args = []string{"nosuchcmd"} }, "nosuchcmd"},
		{"binary is a dir", func(b *testutil.Bundle) { b.Spec.Process.Args = []string{"/tmp"} }, "/tmp"},
		{"relative cwd", func(b *testutil.Bundle) { b.Spec.Process.Cwd = "tmp" }, "process.cwd"},
		{"missing cwd", func(b *testutil.Bundle) { b.Spec.Process.Cwd = "/no/such/dir" }, "process.cwd"},
		{"cwd is a file", func(b *testutil.Bundle) { b.Spec.Process.Cwd = "/bin/busybox" }, "process.cwd"},
		{"rlimit soft > hard", func(b *testutil.Bundle) {
			b.Spec.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 100, Hard: 10}}
		}, "soft limit"},
		{"rlimit unknown", func(b *testutil.Bundle) {
			b.Spec.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_WHAT", Soft: 1, Hard: 1}}
		}, "RLIMIT_WHAT"},
		{"rlimit above the host's hard limit", func(b *testutil.Bundle) {
			b.Spec.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1 << 40, Hard: 1 << 40}}
		}, "RLIMIT_NOFILE"},
		{"unknown capability", func(b *testutil.Bundle) {
			b.Spec.Process.Capabilities.Bounding = append(b.Spec.Process.Capabilities.Bounding, "CAP_PWN")
		}, "CAP_PWN"},
		{"env without =", func(b *testutil.Bundle) { b.Spec.Process.Env = append(b.Spec.Process.Env, "JUSTANAME") }, "process.env"},
		{"oom score", func(b *testutil.Bundle) { v := 5000; b.Spec.Process.OOMScoreAdj = &v }, "oomScoreAdj"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := testutil.NewBundle(t, "true")
			tc.mutate(b)
			b.Save(t)
			expectRefused(t, r, "hostile-proc", tc.want, "create", "--bundle", b.Dir, "hostile-proc")
		})
	}
	rootEmpty(t, r)
}

// TestHostileLinux: linux fields runsc must refuse.
func TestHostileLinux(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	for _, tc := range []struct {
		name   string
		mutate func(b *testutil.Bundle)
		want   string
	}{
		{"relative masked path", func(b *testutil.Bundle) { b.Spec.Linux.MaskedPaths = []string{"proc/kcore"} }, "linux.maskedPaths"},
		{"relative readonly path", func(b *testutil.Bundle) { b.Spec.Linux.ReadonlyPaths = []string{"proc/sys"} }, "linux.readonlyPaths"},
		{"vm.swappiness", func(b *testutil.Bundle) { b.Spec.Linux.Sysctl = map[string]string{"vm.swappiness": "0"} }, "vm.swappiness"},
		{"kernel.panic", func(b *testutil.Bundle) { b.Spec.Linux.Sysctl = map[string]string{"kernel.panic": "1"} }, "kernel.panic"},
		{"net sysctl in the host netns", func(b *testutil.Bundle) {
			withoutNamespace(b, specs.NetworkNamespace)
			b.Spec.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		}, "net.ipv4.ip_forward"},
		{"sysctl path escape", func(b *testutil.Bundle) {
			b.Spec.Linux.Sysctl = map[string]string{"kernel/../../sysrq-trigger": "h"}
		}, "sysctl"},
		{"userns mappings without userns", func(b *testutil.Bundle) {
			b.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
			b.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		}, "user namespace"},
		{"unknown seccomp action", func(b *testutil.Bundle) {
			b.Spec.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_PWN"}
		}, "SCMP_ACT_PWN"},
		{"unknown seccomp arch", func(b *testutil.Bundle) {
			b.Spec.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{"SCMP_ARCH_PWN"}}
		}, "SCMP_ARCH_PWN"},
		{"unknown namespace", func(b *testutil.Bundle) {
			b.Spec.Linux.Namespaces = append(b.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: "pwn"})
		}, "pwn"},
		{"namespace path missing", func(b *testutil.Bundle) {
			for i := range b.Spec.Linux.Namespaces {
				if b.Spec.Linux.Namespaces[i].Type == specs.NetworkNamespace {
					b.Spec.Linux.Namespaces[i].Path = "/proc/999999999/ns/net"
				}
			}
		}, "network"},
		{"namespace path of the wrong type", func(b *testutil.Bundle) {
			for i := range b.Spec.Linux.Namespaces {
				if b.Spec.Linux.Namespaces[i].Type == specs.NetworkNamespace {
					b.Spec.Linux.Namespaces[i].Path = "/proc/self/ns/ipc"
				}
			}
		}, "network"},
		{"70 KiB mount destination", func(b *testutil.Bundle) {
			b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/" + strings.Repeat("a", 70<<10), Type: "tmpfs", Source: "tmpfs"})
		}, "mount"},
		{"mount source missing", func(b *testutil.Bundle) {
			b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/mnt", Type: "bind", Source: "/no/such/source", Options: []string{"bind"}})
		}, "/no/such/source"},
		{"unknown mount type", func(b *testutil.Bundle) {
			b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/mnt", Type: "pwnfs", Source: "x"})
		}, "/mnt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := testutil.NewBundle(t, "true")
			tc.mutate(b)
			b.Save(t)
			expectRefused(t, r, "hostile-linux", tc.want, "create", "--bundle", b.Dir, "hostile-linux")
		})
	}
	rootEmpty(t, r)
}

// TestHostileSymlinkPaths: masked and read-only paths that are symlinks
// out of the rootfs act inside the rootfs or fail, never on the host.
func TestHostileSymlinkPaths(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	cfile := canaryFile(t)
	cdir := canaryDir(t)
	beforeF, beforeD := treeDigest(t, cfile), treeDigest(t, cdir)
	b := testutil.NewBundle(t, "sh", "-c", "cat /tmp/maskfile; ls /tmp/maskdir; touch /tmp/rodir/x && echo WROTE; echo DONE")
	os.Symlink(escapeLink(filepath.Join(b.Rootfs(), "tmp"), cfile), filepath.Join(b.Rootfs(), "tmp", "maskfile"))
	os.Symlink(escapeLink(filepath.Join(b.Rootfs(), "tmp"), cdir), filepath.Join(b.Rootfs(), "tmp", "maskdir"))
	os.Symlink(cdir, filepath.Join(b.Rootfs(), "tmp", "rodir"))
	b.Spec.Linux.MaskedPaths = append(b.Spec.Linux.MaskedPaths, "/tmp/maskfile", "/tmp/maskdir")
	b.Spec.Linux.ReadonlyPaths = append(b.Spec.Linux.ReadonlyPaths, "/tmp/rodir")
	b.Save(t)
	res := r.Run(t, "run", "--bundle", b.Dir, "symlink-paths")
	r.Run(t, "delete", "--force", "symlink-paths")
	t.Logf("exit %d stdout %q stderr %q", res.Code, res.Stdout, res.Stderr)
	if res.Code != 0 && res.Code != 1 {
		t.Errorf("exit %d", res.Code)
	}
	if strings.Contains(res.Stdout, "byte-identical") || strings.Contains(res.Stdout, "canary") {
		t.Errorf("the container read the host canary through a masked symlink: %q", res.Stdout)
	}
	if got := treeDigest(t, cfile); got != beforeF {
		t.Errorf("host file changed")
	}
	if got := treeDigest(t, cdir); got != beforeD {
		t.Errorf("host dir changed")
	}
	rootEmpty(t, r)
}

// TestHostileSizes: a 70 KiB annotation and env, argv near ARG_MAX: they
// run, or fail cleanly; anything over the kernel's limits fails cleanly.
func TestHostileSizes(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	big := strings.Repeat("v", 70<<10)
	for _, tc := range []struct {
		name   string
		mutate func(b *testutil.Bundle)
		ok     bool // must run
	}{
		{"70 KiB annotation", func(b *testutil.Bundle) { b.Spec.Annotations = map[string]string{"k": big} }, true},
		{"70 KiB env", func(b *testutil.Bundle) { b.Spec.Process.Env = append(b.Spec.Process.Env, "BIG="+big) }, true},
		{"argv 1.5 MiB", func(b *testutil.Bundle) {
			for range 24 {
				b.Spec.Process.Args = append(b.Spec.Process.Args, strings.Repeat("a", 64<<10))
			}
		}, true},
		{"argv over ARG_MAX", func(b *testutil.Bundle) {
			for range 40 {
				b.Spec.Process.Args = append(b.Spec.Process.Args, strings.Repeat("a", 120<<10))
			}
		}, false},
		{"one arg over MAX_ARG_STRLEN", func(b *testutil.Bundle) {
			b.Spec.Process.Args = append(b.Spec.Process.Args, strings.Repeat("a", 200<<10))
		}, false},
		{"70 KiB hostname", func(b *testutil.Bundle) { b.Spec.Hostname = big }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := testutil.NewBundle(t, "true")
			tc.mutate(b)
			b.Save(t)
			res := r.Run(t, "run", "--bundle", b.Dir, "sizes")
			r.Run(t, "delete", "--force", "sizes")
			switch {
			case res.Code == 0 && !tc.ok:
				t.Errorf("ran, want a refusal")
			case res.Code != 0 && tc.ok:
				t.Errorf("refused: exit %d %.300q", res.Code, res.Stderr)
			case res.Code != 0:
				checkRefusal(t, r, res, "sizes", "")
			}
		})
	}
	rootEmpty(t, r)
}

// TestHostileConsoleSocket: a terminal with a missing or non-socket
// --console-socket, or none at all.
func TestHostileConsoleSocket(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	b := testutil.NewBundle(t, "true")
	b.Spec.Process.Terminal = true
	b.Save(t)
	notSock := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notSock, nil, 0o644)
	for _, tc := range []struct{ name, sock, want string }{
		{"missing", filepath.Join(t.TempDir(), "nope"), "console"},
		{"regular file", notSock, "console"},
		{"directory", t.TempDir(), "console"},
		{"none", "", "console"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"create", "--bundle", b.Dir}
			if tc.sock != "" {
				args = append(args, "--console-socket", tc.sock)
			}
			expectRefused(t, r, "console", tc.want, append(args, "console")...)
		})
	}
	rootEmpty(t, r)
}
