//go:build root

package gofer

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The root tests build a busybox rootfs in a temporary directory and run
// PrepareRootfs, MountConsole and FinalizeRootfs in a child: this test
// binary re-executed in new mount, pid, net, ipc, uts and cgroup
// namespaces (so nothing it mounts outlives it), running TestRootfsChild
// with a scenario name. The child prints one "CHECK <name>: ok" or
// "CHECK <name>: FAIL: <why>" line per check; the parent asserts them.

const (
	childScenarioEnv = "RUNSC_GOFER_ROOTFS_CHILD"
	childSpecEnv     = "RUNSC_GOFER_ROOTFS_SPEC"
	childHostEnv     = "RUNSC_GOFER_ROOTFS_HOST"
)

// busyboxApplets are linked to busybox in the test rootfs.
var busyboxApplets = []string{"sh", "ls", "cat", "echo", "mount", "stat", "touch", "mkdir"}

// makeBusyboxRootfs builds a minimal busybox rootfs in dir.
func makeBusyboxRootfs(t *testing.T, dir string) {
	t.Helper()
	for _, d := range []string{"bin", "etc", "proc", "sys", "dev", "tmp", "run/rosub"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skipf("busybox: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin/busybox"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, a := range busyboxApplets {
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", a)); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range map[string]string{
		"etc/passwd":    "root:x:0:0:root:/:/bin/sh\n",
		"etc/secret":    "top secret\n",
		"run/keep":      "copied up\n",
		"etc/hostfile":  "",
		"secretdir/key": "hidden\n",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// baseMounts are the mounts of runc's example spec.
func baseMounts() []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc"},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
	}
}

// rootTestEnv is what the parent prepares for a scenario.
type rootTestEnv struct {
	rootfs  string
	host    string // a host directory the rootfs's symlinks point at
	spec    *specs.Spec
	hostDir string // bind source with a "hello" file
	exe     string // the test binary to run as the child, if not this one
}

func newRootTestEnv(t *testing.T) *rootTestEnv {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	e := &rootTestEnv{rootfs: t.TempDir(), host: t.TempDir(), hostDir: t.TempDir()}
	makeBusyboxRootfs(t, e.rootfs)
	if err := os.WriteFile(filepath.Join(e.host, "canary"), []byte("host canary\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.hostDir, "hello"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The rootfs's /mnt points at a host directory.
	if err := os.Symlink(e.host, filepath.Join(e.rootfs, "mnt")); err != nil {
		t.Fatal(err)
	}
	e.spec = &specs.Spec{
		Version: specs.Version,
		Root:    &specs.Root{Path: e.rootfs},
		Mounts:  baseMounts(),
		Linux:   &specs.Linux{},
	}
	return e
}

// hostMounts returns the host's mount table, for the leak check.
func hostMounts(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// childSysProcAttr gives the child its namespaces.
var childSysProcAttr = func() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		Cloneflags: unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWCGROUP,
		Pdeathsig:  syscall.SIGKILL,
	}
}

// runChild runs a scenario in the child and returns its output.
func runChild(t *testing.T, scenario string, e *rootTestEnv) (string, error) {
	t.Helper()
	specDir := t.TempDir()
	if err := os.Chmod(specDir, 0o755); err != nil {
		t.Fatal(err)
	}
	specFile := filepath.Join(specDir, "config.json")
	b, err := json.Marshal(e.spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(specFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	exe := e.exe
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			t.Fatal(err)
		}
	}
	before := hostMounts(t)
	cmd := exec.Command(exe, "-test.run=^TestRootfsChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childScenarioEnv+"="+scenario, childSpecEnv+"="+specFile, childHostEnv+"="+e.host)
	cmd.SysProcAttr = childSysProcAttr()
	out, err := cmd.CombinedOutput()
	if after := hostMounts(t); after != before {
		t.Errorf("the host's mount table changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	for _, dir := range []string{e.rootfs, e.host, e.hostDir} {
		if strings.Contains(hostMounts(t), dir) {
			t.Errorf("a mount under %q is left on the host", dir)
		}
	}
	return string(out), err
}

// assertChecks fails the test for every failed check in out, and for
// every check in want that did not run.
func assertChecks(t *testing.T, out string, want []string) {
	t.Helper()
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, " error: ") {
			t.Log(line)
		}
		rest, ok := strings.CutPrefix(line, "CHECK ")
		if !ok {
			continue
		}
		name, result, _ := strings.Cut(rest, ": ")
		seen[name] = true
		if result != "ok" {
			t.Errorf("check %s: %s", name, result)
		}
	}
	for _, w := range want {
		if !seen[w] {
			t.Errorf("check %s did not run", w)
		}
	}
	if t.Failed() {
		t.Logf("child output:\n%s", out)
	}
}

func TestRootfsPrepareAndFinalize(t *testing.T) {
	e := newRootTestEnv(t)
	if err := os.WriteFile(filepath.Join(e.hostDir, "file"), []byte("bound file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	idmapped := t.TempDir()
	if err := os.WriteFile(filepath.Join(idmapped, "owned"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	mode := os.FileMode(0o600)
	uid, gid := uint32(1), uint32(2)
	e.spec.Root.Readonly = true
	e.spec.Mounts = append(e.spec.Mounts,
		specs.Mount{Destination: "/mnt", Type: "tmpfs", Source: "tmpfs"},
		specs.Mount{Destination: "/data", Type: "bind", Source: e.hostDir, Options: []string{"rbind", "ro", "rprivate"}},
		specs.Mount{Destination: "/rdata", Type: "none", Source: e.hostDir, Options: []string{"rbind", "rro", "nosuid"}},
		specs.Mount{Destination: "/etc/hostfile", Type: "bind", Source: filepath.Join(e.hostDir, "file"), Options: []string{"bind"}},
		specs.Mount{Destination: "/newdir/sub/file", Type: "bind", Source: filepath.Join(e.hostDir, "file"), Options: []string{"bind", "ro"}},
		specs.Mount{Destination: "/run", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup", "nosuid", "size=1m"}},
		specs.Mount{Destination: "/ro-tmpfs", Type: "tmpfs", Source: "tmpfs", Options: []string{"ro", "size=1m"}},
		specs.Mount{Destination: "/ro-tmpfs/inner", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m"}},
		specs.Mount{Destination: "/idmapped", Type: "bind", Source: idmapped, Options: []string{"bind", "idmap"},
			UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}},
			GIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 2000, Size: 1}}},
	)
	e.spec.Linux.RootfsPropagation = "rprivate"
	e.spec.Linux.Devices = []specs.LinuxDevice{
		{Path: "/dev/custom/null2", Type: "c", Major: 1, Minor: 3, FileMode: &mode, UID: &uid, GID: &gid},
		{Path: "/dev/myfifo", Type: "p"},
	}
	e.spec.Linux.MaskedPaths = []string{
		"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
		"/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi", "/etc/secret", "/secretdir", "/does/not/exist",
	}
	e.spec.Linux.ReadonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", "/run/rosub", "/missing"}

	out, err := runChild(t, "full", e)
	if err != nil {
		t.Errorf("child: %v", err)
	}
	assertChecks(t, out, []string{
		"prepare", "console", "finalize", "root", "devices", "custom devices", "dev symlinks", "dev mounts",
		"masked files", "masked dirs", "readonly paths", "root readonly", "bind ro", "bind rro", "file bind",
		"symlink destination", "tmpcopyup", "ro tmpfs", "sysfs", "cgroup", "pty", "idmap", "propagation", "busybox",
	})
	// The rootfs's /mnt symlink led to a directory created inside the
	// rootfs, and the host directory it names was not touched.
	if _, err := os.Stat(filepath.Join(e.rootfs, e.host)); err != nil {
		t.Errorf("the symlinked destination was not created inside the rootfs: %v", err)
	}
	entries, _ := os.ReadDir(e.host)
	if len(entries) != 1 {
		t.Errorf("the host directory behind the /mnt symlink changed: %v", entries)
	}
	if _, err := os.Stat(filepath.Join(e.rootfs, "newdir/sub/file")); err != nil {
		t.Errorf("the file bind destination was not created: %v", err)
	}
}

func TestRootfsProcSymlinkRefused(t *testing.T) {
	e := newRootTestEnv(t)
	if err := os.Remove(filepath.Join(e.rootfs, "proc")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(e.host, filepath.Join(e.rootfs, "proc")); err != nil {
		t.Fatal(err)
	}
	out, err := runChild(t, "prepare-fails", e)
	if err != nil {
		t.Errorf("child: %v", err)
	}
	assertChecks(t, out, []string{"prepare fails"})
	if !strings.Contains(out, `mounting "proc" on "/proc"`) || !strings.Contains(out, "ordinary directory") {
		t.Errorf("the error does not name the proc mount:\n%s", out)
	}
}

func TestRootfsProcSubmountRefused(t *testing.T) {
	e := newRootTestEnv(t)
	e.spec.Mounts = append(e.spec.Mounts, specs.Mount{
		Destination: "/proc/sys/kernel/core_pattern", Type: "bind", Source: filepath.Join(e.hostDir, "hello"), Options: []string{"bind"},
	})
	out, err := runChild(t, "prepare-fails", e)
	if err != nil {
		t.Errorf("child: %v", err)
	}
	assertChecks(t, out, []string{"prepare fails"})
	if !strings.Contains(out, "/proc/sys/kernel/core_pattern") || !strings.Contains(out, "inside /proc") {
		t.Errorf("the error does not name the mount:\n%s", out)
	}
}

func TestRootfsProcSymlinkedDestinationRefused(t *testing.T) {
	e := newRootTestEnv(t)
	// /etc/p -> /proc: a tmpfs on /etc/p/sys lands under /proc.
	if err := os.Symlink("/proc", filepath.Join(e.rootfs, "etc/p")); err != nil {
		t.Fatal(err)
	}
	e.spec.Mounts = append(e.spec.Mounts, specs.Mount{Destination: "/etc/p/sys", Type: "tmpfs", Source: "tmpfs"})
	out, err := runChild(t, "prepare-fails", e)
	if err != nil {
		t.Errorf("child: %v", err)
	}
	assertChecks(t, out, []string{"prepare fails"})
	if !strings.Contains(out, `on "/etc/p/sys"`) || !strings.Contains(out, "inside /proc") {
		t.Errorf("the error does not name the mount:\n%s", out)
	}
}

func TestRootfsFakeDevNullRefused(t *testing.T) {
	e := newRootTestEnv(t)
	// No /dev tmpfs: the image's /dev is used, and its /dev/null is a
	// regular file (which mknod keeps). Masking must refuse it.
	var mounts []specs.Mount
	for _, m := range e.spec.Mounts {
		if !strings.HasPrefix(m.Destination, "/dev") {
			mounts = append(mounts, m)
		}
	}
	e.spec.Mounts = mounts
	if err := os.WriteFile(filepath.Join(e.rootfs, "dev/null"), []byte("not null"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(e.rootfs, "dev/console")); err != nil {
		t.Fatal(err)
	}
	e.spec.Linux.MaskedPaths = []string{"/proc/keys"}
	out, err := runChild(t, "fake-devnull", e)
	if err != nil {
		t.Errorf("child: %v", err)
	}
	assertChecks(t, out, []string{"prepare", "console refused", "finalize fails"})
}

// TestRootfsChild is the child side: it only runs when re-executed by
// the tests above.
func TestRootfsChild(t *testing.T) {
	scenario := os.Getenv(childScenarioEnv)
	if scenario == "" {
		t.Skip("runs only as the child of the rootfs root tests")
	}
	b, err := os.ReadFile(os.Getenv(childSpecEnv))
	if err != nil {
		t.Fatal(err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	c := &checker{host: os.Getenv(childHostEnv), spec: &spec}
	switch scenario {
	case "full":
		c.full()
	case "prepare-fails":
		err := PrepareRootfs(&spec)
		fmt.Printf("prepare error: %v\n", err)
		c.check("prepare fails", func() error {
			if err == nil {
				return fmt.Errorf("PrepareRootfs succeeded")
			}
			return nil
		})
	case "fake-devnull":
		c.fakeDevNull()
	case "userns":
		c.userns()
	default:
		t.Fatalf("unknown scenario %q", scenario)
	}
}

// checker runs and reports the child's checks.
type checker struct {
	host string
	spec *specs.Spec
}

// check runs f and prints its outcome.
func (c *checker) check(name string, f func() error) bool {
	if err := f(); err != nil {
		fmt.Printf("CHECK %s: FAIL: %v\n", name, err)
		return false
	}
	fmt.Printf("CHECK %s: ok\n", name)
	return true
}

func (c *checker) fakeDevNull() {
	if !c.check("prepare", func() error { return PrepareRootfs(c.spec) }) {
		return
	}
	c.check("console refused", func() error {
		_, slave, err := NewPty()
		if err != nil {
			// No devpts: use the host's pty device directly is not
			// possible after pivot; open any slave we can.
			return consoleRefusedWithoutPty()
		}
		err = MountConsole(slave)
		fmt.Printf("console error: %v\n", err)
		if err == nil {
			return fmt.Errorf("MountConsole bound over a symlink")
		}
		return nil
	})
	c.check("finalize fails", func() error {
		err := FinalizeRootfs(c.spec)
		fmt.Printf("finalize error: %v\n", err)
		if err == nil || !strings.Contains(err.Error(), "not the null device") {
			return fmt.Errorf("FinalizeRootfs: %v, want a /dev/null error", err)
		}
		if b, err := os.ReadFile("/etc/passwd"); err != nil || !strings.HasPrefix(string(b), "root:") {
			return fmt.Errorf("/etc/passwd changed: %q, %v", b, err)
		}
		return nil
	})
}

// consoleRefusedWithoutPty checks MountConsole refuses a /dev/console
// symlink when no pty can be made (no devpts in the container).
func consoleRefusedWithoutPty() error {
	f, err := os.Open("/etc/passwd")
	if err != nil {
		return err
	}
	defer f.Close()
	err = MountConsole(f)
	fmt.Printf("console error: %v\n", err)
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		return fmt.Errorf("MountConsole: %v, want a refusal of the symlink", err)
	}
	var st unix.Stat_t
	if err := unix.Lstat("/dev/console", &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFLNK {
		return fmt.Errorf("/dev/console changed: %v", err)
	}
	return nil
}

// readAll reads a whole file.
func readAll(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	return string(b), err
}
