// Package testutil builds what runsc's root tests need: the runsc binary,
// busybox-static bundles, and a helper to run runsc against a private
// --root, plus an audit of what a test leaves behind.
package testutil

import (
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"runsc.dev/runsc/runsc/cgroup"
	"runsc.dev/runsc/runsc/specutils"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// RequireRoot skips the test unless it runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("requires root")
	}
}

// moduleRoot finds the directory holding go.mod, from this file's path.
func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// Binary returns the runsc binary under test: a copy of $RUNSC_BINARY
// (Bazel passes its build output), else one built once from this tree with
// CGO_ENABLED=0. Either way it sits in a world-readable temp dir: a gofer
// in a user namespace (root mapped to an unprivileged host uid) must be
// able to exec it, which it could not under /root/.cache.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "runsc-test-bin")
		if err == nil {
			err = os.Chmod(dir, 0o755)
		}
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "runsc")
		if b := os.Getenv("RUNSC_BINARY"); b != "" {
			data, err := os.ReadFile(b)
			if err == nil {
				err = os.WriteFile(binary, data, 0o755)
			}
			buildErr = err
			return
		}
		cmd := exec.Command("go", "build", "-o", binary, "./runsc")
		cmd.Dir = moduleRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building runsc: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// Busybox returns the path of a static busybox, skipping if there is none.
func Busybox(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		if static(p) {
			return p
		}
	}
	t.Skip("busybox-static is not installed")
	return ""
}

// static reports whether p is an ELF executable without an interpreter.
func static(p string) bool {
	f, err := elf.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}

// Bundle is an OCI bundle in a temp dir with a busybox rootfs.
type Bundle struct {
	Dir  string
	Spec *specs.Spec
}

// Rootfs is the bundle's rootfs path.
func (b *Bundle) Rootfs() string { return filepath.Join(b.Dir, "rootfs") }

// NewBundle makes a bundle whose rootfs holds busybox and its applets, and
// whose spec (runsc's default, no terminal) runs args.
func NewBundle(t testing.TB, args ...string) *Bundle {
	t.Helper()
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	root := filepath.Join(dir, "rootfs")
	for _, d := range []string{"bin", "proc", "dev", "sys", "tmp", "etc", "root"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(filepath.Join(root, "tmp"), 0o1777)
	bb, err := os.ReadFile(Busybox(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin", "busybox"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, applet := range []string{"sh", "ls", "cat", "echo", "true", "false", "sleep", "id", "ps", "mount", "hostname", "grep", "readlink", "stat", "touch", "mkdir", "rm", "wc", "head", "ln", "kill", "env", "pwd", "test", "uname", "dd", "seq", "tr", "sed", "find", "awk", "nproc", "ulimit", "whoami"} {
		os.Symlink("busybox", filepath.Join(root, "bin", applet))
	}
	os.WriteFile(filepath.Join(root, "etc", "passwd"), []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc", "group"), []byte("root:x:0:\nnogroup:x:65534:\n"), 0o644)
	spec := specutils.DefaultSpec(false, 0, 0)
	spec.Root.Path = "rootfs"
	spec.Root.Readonly = false
	spec.Process.Terminal = false
	spec.Process.Args = args
	b := &Bundle{Dir: dir, Spec: spec}
	b.Save(t)
	return b
}

// Save writes the bundle's spec to config.json.
func (b *Bundle) Save(t testing.TB) {
	t.Helper()
	data, err := json.MarshalIndent(b.Spec, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.Dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Runtime runs runsc with a private --root.
type Runtime struct {
	Bin  string
	Root string
	// Extra global flags.
	Flags []string
}

// NewRuntime returns a runsc with a fresh state root that is checked to be
// empty when the test ends.
func NewRuntime(t testing.TB) *Runtime {
	t.Helper()
	r := &Runtime{Bin: Binary(t), Root: t.TempDir()}
	registerRoot(r.Root)
	t.Cleanup(func() {
		// Anything left is force-deleted so later tests start clean, and
		// the test fails: a test must clean up what it creates.
		entries, _ := os.ReadDir(r.Root)
		for _, e := range entries {
			exec.Command(r.Bin, "--root", r.Root, "delete", "--force", e.Name()).Run()
			t.Errorf("container %q left behind in %s", e.Name(), r.Root)
		}
		// delete leaves the default parent cgroup (/runsc), as runc leaves
		// parents: remove it when no other container uses it (rmdir of a
		// cgroup with children fails).
		parents, _ := filepath.Glob("/sys/fs/cgroup/*" + cgroup.DefaultParent)
		for _, d := range parents {
			os.Remove(d)
		}
	})
	return r
}

// Result is the outcome of one runsc invocation.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Cmd returns the command for runsc args.
func (r *Runtime) Cmd(args ...string) *exec.Cmd {
	all := append([]string{"--root", r.Root}, r.Flags...)
	return exec.Command(r.Bin, append(all, args...)...)
}

// Run runs runsc args with a timeout and returns its outcome.
func (r *Runtime) Run(t testing.TB, args ...string) Result {
	t.Helper()
	return RunCmd(t, r.Cmd(args...), 60*time.Second)
}

// RunCmd runs cmd with a timeout and returns its outcome. Output goes
// through files, not pipes: a created container holds runsc's stdio (as
// with runc), and waiting on a pipe would wait for the container.
func RunCmd(t testing.TB, cmd *exec.Cmd, timeout time.Duration) Result {
	t.Helper()
	outF, err := os.CreateTemp("", "runsc-stdout")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(outF.Name())
	defer outF.Close()
	errF, err := os.CreateTemp("", "runsc-stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(errF.Name())
	defer errF.Close()
	cmd.Stdout, cmd.Stderr = outF, errF
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(timeout):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%v timed out after %v", cmd.Args, timeout)
	}
	out, _ := os.ReadFile(outF.Name())
	errb, _ := os.ReadFile(errF.Name())
	return Result{Stdout: string(out), Stderr: string(errb), Code: cmd.ProcessState.ExitCode()}
}

// MustRun runs runsc args and fails the test unless it exits 0.
func (r *Runtime) MustRun(t testing.TB, args ...string) string {
	t.Helper()
	res := r.Run(t, args...)
	if res.Code != 0 {
		t.Fatalf("runsc %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), res.Code, res.Stdout, res.Stderr)
	}
	return res.Stdout
}

// State returns the OCI state of id.
func (r *Runtime) State(t testing.TB, id string) specs.State {
	t.Helper()
	var s specs.State
	out := r.MustRun(t, "state", id)
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("state output %q: %v", out, err)
	}
	return s
}
