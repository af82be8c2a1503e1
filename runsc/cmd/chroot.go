package cmd

import (
	"fmt"
	"os"
	"path/filepath"

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

// prepareChroot is steps 2-3 of the sandbox's minimal root (DESIGN.md §2;
// step 1, making every mount a slave, is done by the caller before it
// spawns the gofer): a tmpfs goes on the scratch dir; /proc and the runsc
// binary are bound read-only into it.
func prepareChroot(chroot, exe string) error {
	// The binary may live under the scratch dir (a test build in /tmp): hold
	// it open before the tmpfs covers it, and bind it through its fd.
	exeFile, err := os.OpenFile(exe, unix.O_PATH, 0)
	if err != nil {
		return fmt.Errorf("opening runsc binary: %w", err)
	}
	defer exeFile.Close()
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

// callSelfAsNobody drops to uid and gid nobody with no supplementary
// groups and re-executes /runsc (the read-only bind inside the chroot) with
// args. It does not return on success.
func callSelfAsNobody(args []string) error {
	const nobody = 65534
	if err := unix.Setgroups(nil); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := unix.Setgid(nobody); err != nil {
		return fmt.Errorf("setgid: %w", err)
	}
	if err := unix.Setuid(nobody); err != nil {
		return fmt.Errorf("setuid: %w", err)
	}
	return unix.Exec("/runsc", append([]string{"runsc-sandbox"}, args...), os.Environ())
}
