//go:build root

package gofer

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// findMount returns the last (topmost) mount at mountpoint.
func findMount(mountpoint string) (mountInfo, error) {
	mounts, err := readMountInfo()
	if err != nil {
		return mountInfo{}, err
	}
	var found *mountInfo
	for i := range mounts {
		if mounts[i].mountpoint == mountpoint {
			found = &mounts[i]
		}
	}
	if found == nil {
		return mountInfo{}, fmt.Errorf("nothing mounted on %q", mountpoint)
	}
	return *found, nil
}

// expectMount checks the topmost mount at mountpoint has fstype and all
// the per-mount options opts.
func expectMount(mountpoint, fstype string, opts ...string) error {
	m, err := findMount(mountpoint)
	if err != nil {
		return err
	}
	if m.fstype != fstype {
		return fmt.Errorf("%q is a %s mount, want %s", mountpoint, m.fstype, fstype)
	}
	have := strings.Split(m.options, ",")
	for _, o := range opts {
		if !slices.Contains(have, o) {
			return fmt.Errorf("%q has options %q, want %q", mountpoint, m.options, o)
		}
	}
	return nil
}

// expectEROFS checks that creating a file in dir fails with EROFS.
func expectEROFS(dir string) error {
	fd, err := unix.Open(filepath.Join(dir, "erofs-probe"), unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
	if err == nil {
		unix.Close(fd)
		return fmt.Errorf("created a file in %q", dir)
	}
	if !errors.Is(err, unix.EROFS) {
		return fmt.Errorf("creating a file in %q: %v, want EROFS", dir, err)
	}
	return nil
}

// expectWritable checks that a file can be created in dir.
func expectWritable(dir string) error {
	p := filepath.Join(dir, "write-probe")
	if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
		return err
	}
	return os.Remove(p)
}

// expectDevice checks path is a device of type typ with the given
// numbers, permissions and owner.
func expectDevice(path string, typ uint32, major, minor uint32, perm uint32, uid, gid uint32) error {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != typ {
		return fmt.Errorf("%s has mode %#o, want type %#o", path, st.Mode, typ)
	}
	if typ != unix.S_IFIFO && (unix.Major(st.Rdev) != major || unix.Minor(st.Rdev) != minor) {
		return fmt.Errorf("%s is %d:%d, want %d:%d", path, unix.Major(st.Rdev), unix.Minor(st.Rdev), major, minor)
	}
	if st.Mode&0o7777 != perm {
		return fmt.Errorf("%s has permissions %#o, want %#o", path, st.Mode&0o7777, perm)
	}
	if st.Uid != uid || st.Gid != gid {
		return fmt.Errorf("%s is owned by %d:%d, want %d:%d", path, st.Uid, st.Gid, uid, gid)
	}
	return nil
}

// statfsType returns the filesystem type of path.
func statfsType(path string) (int64, error) {
	var fs unix.Statfs_t
	err := unix.Statfs(path, &fs)
	return fs.Type, err
}

func (c *checker) full() {
	if !c.check("prepare", func() error { return PrepareRootfs(c.spec) }) {
		return
	}
	var master, slave *os.File
	c.check("console", func() error {
		var err error
		master, slave, err = NewPty()
		if err != nil {
			return err
		}
		if err := MountConsole(slave); err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Stat("/dev/console", &st); err != nil {
			return err
		}
		if st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) < ptySlaveMajor0 || unix.Major(st.Rdev) > ptySlaveMajorN {
			return fmt.Errorf("/dev/console is %d:%d (mode %#o), not a pty slave", unix.Major(st.Rdev), unix.Minor(st.Rdev), st.Mode)
		}
		return expectMount("/dev/console", "devpts")
	})
	if !c.check("finalize", func() error { return FinalizeRootfs(c.spec) }) {
		return
	}
	c.check("root", func() error {
		if s, err := readAll("/etc/passwd"); err != nil || !strings.HasPrefix(s, "root:") {
			return fmt.Errorf("/etc/passwd: %q, %v", s, err)
		}
		if _, err := os.Stat(filepath.Join(c.host, "canary")); !os.IsNotExist(err) {
			return fmt.Errorf("the host's canary is visible: %v", err)
		}
		if wd, err := os.Getwd(); err != nil || wd != "/" {
			return fmt.Errorf("cwd is %q, %v", wd, err)
		}
		return nil
	})
	c.check("devices", func() error {
		for _, d := range defaultDevices {
			if err := expectDevice(d.Path, unix.S_IFCHR, uint32(d.Major), uint32(d.Minor), 0o666, 0, 0); err != nil {
				return err
			}
		}
		// stdin was the host's /dev/null: it is now the container's.
		var in, null unix.Stat_t
		if err := unix.Fstat(0, &in); err != nil {
			return err
		}
		if err := unix.Stat("/dev/null", &null); err != nil {
			return err
		}
		if in.Dev != null.Dev || in.Ino != null.Ino {
			return fmt.Errorf("stdin is not the container's /dev/null")
		}
		f, err := os.OpenFile("/dev/null", os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = f.Write([]byte("x"))
		return err
	})
	c.check("custom devices", func() error {
		if err := expectDevice("/dev/custom/null2", unix.S_IFCHR, 1, 3, 0o600, 1, 2); err != nil {
			return err
		}
		return expectDevice("/dev/myfifo", unix.S_IFIFO, 0, 0, 0o666, 0, 0)
	})
	c.check("dev symlinks", func() error {
		links := map[string]string{
			"/dev/fd": "/proc/self/fd", "/dev/stdin": "/proc/self/fd/0", "/dev/stdout": "/proc/self/fd/1",
			"/dev/stderr": "/proc/self/fd/2", "/dev/ptmx": "pts/ptmx",
		}
		if _, err := os.Lstat("/proc/kcore"); err == nil {
			links["/dev/core"] = "/proc/kcore"
		}
		for l, want := range links {
			got, err := os.Readlink(l)
			if err != nil || got != want {
				return fmt.Errorf("%s -> %q (%v), want %q", l, got, err, want)
			}
		}
		return nil
	})
	c.check("dev mounts", func() error {
		for _, m := range []struct{ at, fstype, opt string }{
			{"/dev", "tmpfs", "nosuid"}, {"/dev/pts", "devpts", "noexec"}, {"/dev/shm", "tmpfs", "nodev"},
			{"/dev/mqueue", "mqueue", "noexec"},
		} {
			if err := expectMount(m.at, m.fstype, m.opt); err != nil {
				return err
			}
		}
		return nil
	})
	c.check("masked files", func() error {
		n := 0
		for _, p := range []string{"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug", "/etc/secret"} {
			if _, err := os.Stat(p); err != nil {
				continue
			}
			n++
			s, err := readAll(p)
			if err != nil || s != "" {
				return fmt.Errorf("masked %s reads %d bytes (%v)", p, len(s), err)
			}
		}
		if n < 2 {
			return fmt.Errorf("only %d masked files exist", n)
		}
		return nil
	})
	c.check("masked dirs", func() error {
		for _, p := range []string{"/proc/acpi", "/sys/firmware", "/secretdir"} {
			if _, err := os.Stat(p); err != nil {
				continue
			}
			if t, err := statfsType(p); err != nil || t != unix.TMPFS_MAGIC {
				return fmt.Errorf("masked %s is not a tmpfs (%#x, %v)", p, t, err)
			}
			if entries, err := os.ReadDir(p); err != nil || len(entries) != 0 {
				return fmt.Errorf("masked %s lists %v (%v)", p, entries, err)
			}
			if err := expectEROFS(p); err != nil {
				return err
			}
		}
		return nil
	})
	c.check("readonly paths", func() error {
		if _, err := os.OpenFile("/proc/sys/kernel/hostname", os.O_WRONLY, 0); !errors.Is(err, unix.EROFS) {
			return fmt.Errorf("opening /proc/sys/kernel/hostname for writing: %v, want EROFS", err)
		}
		if err := expectMount("/proc/sys", "proc", "ro"); err != nil {
			return err
		}
		if err := expectEROFS("/run/rosub"); err != nil {
			return err
		}
		return expectWritable("/run")
	})
	c.check("root readonly", func() error {
		if err := expectEROFS("/"); err != nil {
			return err
		}
		return expectMount("/", c.rootFstype(), "ro")
	})
	c.check("bind ro", func() error {
		if s, err := readAll("/data/hello"); err != nil || s != "hello\n" {
			return fmt.Errorf("/data/hello: %q, %v", s, err)
		}
		if err := expectEROFS("/data"); err != nil {
			return err
		}
		return expectMount("/data", c.hostFstype(), "ro")
	})
	c.check("bind rro", func() error {
		if err := expectEROFS("/rdata"); err != nil {
			return err
		}
		return expectMount("/rdata", c.hostFstype(), "ro", "nosuid")
	})
	c.check("file bind", func() error {
		for _, p := range []string{"/etc/hostfile", "/newdir/sub/file"} {
			if s, err := readAll(p); err != nil || s != "bound file\n" {
				return fmt.Errorf("%s: %q, %v", p, s, err)
			}
		}
		if _, err := os.OpenFile("/newdir/sub/file", os.O_WRONLY, 0); !errors.Is(err, unix.EROFS) {
			return fmt.Errorf("writing the read-only file bind: %v, want EROFS", err)
		}
		return nil
	})
	c.check("symlink destination", func() error {
		if t, err := statfsType("/mnt/"); err != nil || t != unix.TMPFS_MAGIC {
			return fmt.Errorf("/mnt/ is not the tmpfs (%#x, %v)", t, err)
		}
		if _, err := os.Stat("/mnt/canary"); !os.IsNotExist(err) {
			return fmt.Errorf("/mnt/canary exists: the host directory shows through (%v)", err)
		}
		// The tmpfs is on the symlink's target inside the rootfs.
		if err := expectMount(c.host, "tmpfs"); err != nil {
			return err
		}
		return expectWritable("/mnt/")
	})
	c.check("tmpcopyup", func() error {
		if t, err := statfsType("/run"); err != nil || t != unix.TMPFS_MAGIC {
			return fmt.Errorf("/run is not a tmpfs (%#x, %v)", t, err)
		}
		if s, err := readAll("/run/keep"); err != nil || s != "copied up\n" {
			return fmt.Errorf("/run/keep: %q, %v", s, err)
		}
		return expectMount("/run", "tmpfs", "nosuid")
	})
	c.check("ro tmpfs", func() error {
		if err := expectEROFS("/ro-tmpfs"); err != nil {
			return err
		}
		return expectWritable("/ro-tmpfs/inner")
	})
	c.check("sysfs", func() error {
		return expectMount("/sys", "sysfs", "ro", "nosuid", "nodev", "noexec")
	})
	c.check("cgroup", c.checkCgroup)
	c.check("pty", func() error {
		if master == nil || slave == nil {
			return fmt.Errorf("no pty")
		}
		if _, err := master.Write([]byte("ping\n")); err != nil {
			return err
		}
		buf := make([]byte, 64)
		n, err := slave.Read(buf)
		if err != nil || string(buf[:n]) != "ping\n" {
			return fmt.Errorf("the slave read %q, %v", buf[:n], err)
		}
		return nil
	})
	c.check("idmap", func() error {
		var st unix.Stat_t
		if err := unix.Stat("/idmapped/owned", &st); err != nil {
			return err
		}
		if st.Uid != 1000 || st.Gid != 2000 {
			return fmt.Errorf("/idmapped/owned is owned by %d:%d, want 1000:2000", st.Uid, st.Gid)
		}
		return nil
	})
	c.check("propagation", func() error {
		mounts, err := readMountInfo()
		if err != nil {
			return err
		}
		for _, m := range mounts {
			if len(m.optional) != 0 {
				return fmt.Errorf("%q has propagation %q, want private", m.mountpoint, m.optional)
			}
		}
		return nil
	})
	c.check("busybox", func() error {
		out, err := exec.Command("/bin/ls", "/dev").CombinedOutput()
		if err != nil {
			return fmt.Errorf("ls /dev: %v: %s", err, out)
		}
		for _, want := range []string{"null", "pts", "ptmx", "console", "shm"} {
			if !slices.Contains(strings.Fields(string(out)), want) {
				return fmt.Errorf("ls /dev: %q, want %q", out, want)
			}
		}
		return nil
	})
}

// rootFstype is the filesystem type of the rootfs (the host's temporary
// directory's).
func (c *checker) rootFstype() string {
	m, err := findMount("/")
	if err != nil {
		return "?"
	}
	return m.fstype
}

// hostFstype is the filesystem type of the host's bind sources (on the
// same filesystem as the rootfs).
func (c *checker) hostFstype() string { return c.rootFstype() }

// checkCgroup checks /sys/fs/cgroup shows the container's cgroups,
// read-only.
func (c *checker) checkCgroup() error {
	t, err := statfsType("/sys/fs/cgroup")
	if err != nil {
		return err
	}
	if t == unix.CGROUP2_SUPER_MAGIC {
		if err := expectMount("/sys/fs/cgroup", "cgroup2", "ro"); err != nil {
			return err
		}
		return c.inOwnCgroup("/sys/fs/cgroup")
	}
	if err := expectMount("/sys/fs/cgroup", "tmpfs", "ro"); err != nil {
		return err
	}
	if err := expectEROFS("/sys/fs/cgroup"); err != nil {
		return err
	}
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return err
	}
	hierarchies, err := parseCgroupHierarchies(f)
	f.Close()
	if err != nil {
		return err
	}
	if len(hierarchies) == 0 {
		return fmt.Errorf("no cgroup v1 hierarchy")
	}
	for _, h := range hierarchies {
		dir := filepath.Join("/sys/fs/cgroup", cgroupDirName(h))
		if err := expectMount(dir, "cgroup", "ro", "nosuid"); err != nil {
			return err
		}
		if err := c.inOwnCgroup(dir); err != nil {
			return err
		}
		for ctrl := range strings.SplitSeq(cgroupDirName(h), ",") {
			if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", ctrl, "cgroup.procs")); err != nil {
				return err
			}
		}
	}
	return nil
}

// inOwnCgroup checks the cgroup root at dir is this process's cgroup
// (it is in the cgroup namespace's root).
func (c *checker) inOwnCgroup(dir string) error {
	s, err := readAll(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return err
	}
	if !slices.Contains(strings.Fields(s), fmt.Sprint(os.Getpid())) {
		return fmt.Errorf("%s/cgroup.procs is %q, without this process (%d)", dir, s, os.Getpid())
	}
	return nil
}
