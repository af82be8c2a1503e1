package cmd

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
	"runsc.dev/runsc/pkg/log"
)

// mountInChroot bind-mounts src read-only (recursively) at dst inside the
// chroot, creating dst as a file or directory to match src.
func mountInChroot(chroot, src, dst string) error {
	dst = filepath.Join(chroot, dst)
	fi, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("stat %q: %w", src, err)
	}
	if fi.IsDir() {
		err = os.Mkdir(dst, 0o755)
	} else {
		var f *os.File
		if f, err = os.OpenFile(dst, os.O_CREATE|os.O_EXCL, 0o755); err == nil {
			f.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("creating %q: %w", dst, err)
	}
	if err := unix.Mount(src, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind-mounting %q on %q: %w", src, dst, err)
	}
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	if err := unix.MountSetattr(unix.AT_FDCWD, dst, unix.AT_RECURSIVE, attr); err != nil {
		return fmt.Errorf("making %q read-only: %w", dst, err)
	}
	return nil
}

// selfPath returns the path of the running binary, checked to still be
// the file we run: a swapped binary is never executed or bound. Paths are
// resolved in the caller's mount namespace; /proc/self/exe would name the
// mount of the namespace we were exec'd from, which cannot be bound here.
func selfPath() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("finding runsc binary: %w", err)
	}
	var self, byPath unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &self); err != nil {
		return "", fmt.Errorf("stat /proc/self/exe: %w", err)
	}
	if err := unix.Stat(exe, &byPath); err != nil || self.Dev != byPath.Dev || self.Ino != byPath.Ino {
		return "", fmt.Errorf("runsc binary %q changed since it was started", exe)
	}
	return exe, nil
}

// chrootBinary opens O_PATH, in our mount namespace, the runsc binary to
// bind at the chroot's /runsc. As root, create started us from a detached
// read-only mount of it, which cannot be bound, and sent the host binary
// (sent, an fd of create's mount namespace, which cannot be bound either):
// its path is opened here and checked to be the same file. Rootless, we
// run from the host binary (selfPath).
func chrootBinary(sent *os.File) (*os.File, error) {
	path := ""
	if sent != nil {
		defer sent.Close()
		p, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", sent.Fd()))
		if err != nil {
			return nil, fmt.Errorf("runsc binary: %w", err)
		}
		path = p
	} else {
		p, err := selfPath()
		if err != nil {
			return nil, err
		}
		path = p
	}
	f, err := os.OpenFile(path, unix.O_PATH|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, fmt.Errorf("opening runsc binary: %w", err)
	}
	if sent != nil {
		var a, b unix.Stat_t
		if unix.Fstat(int(sent.Fd()), &a) != nil || unix.Fstat(int(f.Fd()), &b) != nil || a.Dev != b.Dev || a.Ino != b.Ino {
			f.Close()
			return nil, fmt.Errorf("runsc binary %q changed since create started", path)
		}
	}
	return f, nil
}

// prepareChroot is steps 2-3 of the sandbox's minimal root (DESIGN.md §2;
// step 1, making every mount a slave, is done by the caller): a tmpfs goes
// on the scratch dir; /proc and the runsc binary (exeFile, open O_PATH:
// it may live under the scratch dir, as a test build in /tmp does, and is
// bound through its fd) are bound read-only into it.
func prepareChroot(chroot string, exeFile *os.File) error {
	if err := unix.Mount("runsc-root", chroot, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=0755"); err != nil {
		return fmt.Errorf("mounting tmpfs on %q: %w", chroot, err)
	}
	if err := mountInChroot(chroot, "/proc", "/proc"); err != nil {
		return err
	}
	return mountInChroot(chroot, fmt.Sprintf("/proc/self/fd/%d", exeFile.Fd()), "/runsc")
}

// pivotIntoChroot is steps 4-5: chdir into the chroot, remount it
// read-only, pivot_root(".", ".") and detach the old root, which is then
// gone from this mount namespace.
func pivotIntoChroot(chroot string) error {
	if err := unix.Chdir(chroot); err != nil {
		return fmt.Errorf("chdir %q: %w", chroot, err)
	}
	if err := unix.Mount("", ".", "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("remounting chroot read-only: %w", err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detaching old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	log.Debugf("sandbox chroot in place")
	return nil
}

// dropToNobody makes every thread uid and gid nobody with no
// supplementary groups (package syscall applies these to all threads),
// which clears the permitted, effective and ambient capability sets. A
// step whose result is already in place is skipped: each is a
// stop-the-world of the Go runtime that waits for every thread, and a
// root sandbox is born with gid nobody and no groups
// (sandbox.bornAsNobodyGroup), leaving the uid alone to change. Every
// thread has the same credentials until then (none of ours changes its
// own), so the calling thread's say it for all.
func dropToNobody() error {
	const nobody = 65534
	if groups, err := unix.Getgroups(); err != nil || len(groups) > 0 {
		if err := syscall.Setgroups(nil); err != nil {
			return fmt.Errorf("setgroups: %w", err)
		}
	}
	if r, e, s := unix.Getresgid(); r != nobody || e != nobody || s != nobody {
		if err := syscall.Setgid(nobody); err != nil {
			return fmt.Errorf("setgid: %w", err)
		}
	}
	if err := syscall.Setuid(nobody); err != nil {
		return fmt.Errorf("setuid: %w", err)
	}
	return nil
}
