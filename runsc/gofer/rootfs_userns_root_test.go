//go:build root

package gofer

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// usernsBase is the host id the user namespace test maps the container's
// 0 to.
const usernsBase = 100000

// TestRootfsUserns builds the rootfs as runc does for a container with a
// user namespace: mknod is not permitted, so devices are bound from the
// host; mounts inherited from the host have locked flags. (Idmapped mounts
// are not tested here: the kernel only lets the initial user namespace's
// root make them.)
func TestRootfsUserns(t *testing.T) {
	e := newRootTestEnv(t)
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skipf("no /dev/fuse on the host: %v", err)
	}
	// The namespace's root is an unprivileged host user: it must reach
	// the test's directories and binary, and own the rootfs.
	if err := os.Chmod(filepath.Dir(e.rootfs), 0o755); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	e.exe = filepath.Join(filepath.Dir(e.rootfs), "gofer.test")
	if err := os.WriteFile(e.exe, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{e.rootfs, e.hostDir} {
		if err := chownTree(dir, usernsBase, usernsBase); err != nil {
			t.Fatal(err)
		}
	}
	e.spec.Root.Readonly = true
	e.spec.Mounts = append(e.spec.Mounts,
		specs.Mount{Destination: "/data", Type: "none", Source: e.hostDir, Options: []string{"rbind", "ro", "nosuid", "nodev"}},
		specs.Mount{Destination: "/run", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup", "nosuid"}},
	)
	e.spec.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}}
	e.spec.Linux.MaskedPaths = []string{"/proc/keys", "/proc/timer_list", "/proc/acpi", "/etc/secret"}
	e.spec.Linux.ReadonlyPaths = []string{"/proc/sys", "/run/rosub"}

	out, err := runChildUserns(t, e)
	if err != nil {
		t.Errorf("child: %v", err)
	}
	assertChecks(t, out, []string{"prepare", "console", "finalize", "bound devices", "masked", "readonly", "bind ro", "root readonly"})
}

// chownTree changes the owner of everything under dir (not following
// symlinks).
func chownTree(dir string, uid, gid int) error {
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

// runChildUserns runs the "userns" scenario in a child that also has a
// user namespace mapping 0..65535 to usernsBase.
func runChildUserns(t *testing.T, e *rootTestEnv) (string, error) {
	t.Helper()
	prev := childSysProcAttr
	childSysProcAttr = func() *syscall.SysProcAttr {
		a := prev()
		a.Cloneflags |= unix.CLONE_NEWUSER
		a.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: usernsBase, Size: 65536}}
		a.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: usernsBase, Size: 65536}}
		// Become the namespace's root (host uid usernsBase).
		a.Credential = &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true}
		return a
	}
	defer func() { childSysProcAttr = prev }()
	return runChild(t, "userns", e)
}

func (c *checker) userns() {
	if !c.check("prepare", func() error { return PrepareRootfs(c.spec) }) {
		return
	}
	c.check("console", func() error {
		_, slave, err := NewPty()
		if err != nil {
			return err
		}
		return MountConsole(slave)
	})
	if !c.check("finalize", func() error { return FinalizeRootfs(c.spec) }) {
		return
	}
	c.check("bound devices", func() error {
		devices := append([]specs.LinuxDevice{{Path: "/dev/fuse", Major: 10, Minor: 229}}, defaultDevices...)
		for _, d := range devices {
			var st unix.Stat_t
			if err := unix.Stat(d.Path, &st); err != nil {
				return err
			}
			if st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != uint32(d.Major) || unix.Minor(st.Rdev) != uint32(d.Minor) {
				return fmt.Errorf("%s is %d:%d (mode %#o)", d.Path, unix.Major(st.Rdev), unix.Minor(st.Rdev), st.Mode)
			}
			// mknod is refused in a user namespace: these are binds.
			if _, err := findMount(d.Path); err != nil {
				return err
			}
		}
		return nil
	})
	c.check("masked", func() error {
		for _, p := range []string{"/proc/keys", "/proc/timer_list", "/etc/secret"} {
			if s, err := readAll(p); err != nil || s != "" {
				return fmt.Errorf("masked %s reads %q (%v)", p, s, err)
			}
		}
		if t, err := statfsType("/proc/acpi"); err == nil && t != unix.TMPFS_MAGIC {
			return fmt.Errorf("masked /proc/acpi is not a tmpfs")
		}
		return nil
	})
	c.check("readonly", func() error {
		// /proc/sys belongs to the host's root: writes fail with EACCES
		// before the mount is checked.
		if err := expectMount("/proc/sys", "proc", "ro"); err != nil {
			return err
		}
		if err := expectEROFS("/run/rosub"); err != nil {
			return err
		}
		if s, err := readAll("/run/keep"); err != nil || s != "copied up\n" {
			return fmt.Errorf("/run/keep: %q, %v", s, err)
		}
		return expectWritable("/run")
	})
	c.check("bind ro", func() error {
		if s, err := readAll("/data/hello"); err != nil || s != "hello\n" {
			return fmt.Errorf("/data/hello: %q, %v", s, err)
		}
		if err := expectEROFS("/data"); err != nil {
			return err
		}
		return expectMount("/data", c.hostFstype(), "ro", "nosuid", "nodev")
	})
	c.check("root readonly", func() error {
		if err := expectEROFS("/"); err != nil {
			return err
		}
		out, err := exec.Command("/bin/cat", "/proc/self/uid_map").CombinedOutput()
		if err != nil || !strings.Contains(string(out), fmt.Sprint(usernsBase)) {
			return fmt.Errorf("not in the test user namespace: %q, %v", out, err)
		}
		return nil
	})
}
