package sandbox

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
	"runsc.dev/runsc/pkg/log"
)

// This file builds the sandbox's minimal root (DESIGN.md §2): in a mount
// namespace of its own, every mount a slave, a tmpfs holding only proc and
// the runsc binary, bound read-only, pivoted into, the old root detached.
// A root create builds it on the thread that then forks the sandbox
// (enterRoot), which is born in it and as nobody; a rootless sandbox
// builds it itself, in its user namespace (runsc/cmd).

// ChrootDir is the scratch directory the sandbox's tmpfs is mounted on,
// in its own mount namespace: os.TempDir() of the sandbox's environment,
// which has no TMPDIR.
const ChrootDir = "/tmp"

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

// SelfPath returns the path of the running binary, checked to still be
// the file we run: a swapped binary is never executed or bound. Paths are
// resolved in the caller's mount namespace; /proc/self/exe would name the
// mount of the namespace we were exec'd from, which cannot be bound in
// another.
func SelfPath() (string, error) {
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

// PrepareChroot is steps 2-3 of the sandbox's minimal root (step 1, making
// every mount a slave, is done by the caller): a tmpfs goes on the scratch
// dir; /proc and the runsc binary (exeFile, open O_PATH in this mount
// namespace: it may live under the scratch dir, as a test build in /tmp
// does, and is bound through its fd) are bound read-only into it.
func PrepareChroot(chroot string, exeFile *os.File) error {
	if err := unix.Mount("runsc-root", chroot, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=0755"); err != nil {
		return fmt.Errorf("mounting tmpfs on %q: %w", chroot, err)
	}
	if err := mountInChroot(chroot, "/proc", "/proc"); err != nil {
		return err
	}
	return mountInChroot(chroot, fmt.Sprintf("/proc/self/fd/%d", exeFile.Fd()), "/runsc")
}

// PivotIntoChroot is steps 4-5: chdir into the chroot, remount it
// read-only, pivot_root(".", ".") and detach the old root, which is then
// gone from this mount namespace.
func PivotIntoChroot(chroot string) error {
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

// enterRoot builds the sandbox's minimal root for the calling thread,
// which must be locked and thrown away afterwards (osthread.Throwaway):
// the thread gets a filesystem context and a mount namespace of its own
// (unshare(CLONE_FS|CLONE_NEWNS)), in which it takes the five steps, as
// root, and the sandbox it forks next is born in that namespace with that
// root. Nothing is created on the host, and nothing needs tearing down:
// the namespace goes with the sandbox. The sandbox then starts as nobody,
// a single thread until its execve, instead of building the root itself
// and becoming nobody afterwards, which for a Go process is one
// stop-the-world per credential (0.4 ms for setuid alone, traced) while it
// is on the way to serving.
func enterRoot() error {
	if err := unix.Unshare(unix.CLONE_FS | unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("unshare of the sandbox's mount namespace: %w", err)
	}
	// Nothing we mount may propagate back to the host.
	if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("making / a slave mount: %w", err)
	}
	// The binary is opened in the new namespace: a bind's source must be
	// a mount of the binder's.
	path, err := SelfPath()
	if err != nil {
		return err
	}
	exe, err := os.OpenFile(path, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening runsc binary: %w", err)
	}
	defer exe.Close()
	if err := PrepareChroot(ChrootDir, exe); err != nil {
		return err
	}
	return PivotIntoChroot(ChrootDir)
}
