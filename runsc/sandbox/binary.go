package sandbox

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Binary names the runsc binary in the sandbox's boot message: the host
// binary, opened O_PATH, which the sandbox binds read-only at /runsc in its
// chroot (it runs from a detached mount that cannot be bound).
const Binary = "runsc-binary"

// minExeFD is the lowest fd the read-only binary may have: above the fds
// a helper's start puts its files at (0-3).
const minExeFD = 16

// readOnlyBinary returns a detached, read-only mount of the running
// binary (open_tree(OPEN_TREE_CLONE) of /proc/self/exe, then
// mount_setattr(MOUNT_ATTR_RDONLY)): the sandbox and the gofer run from it,
// and init and exec'd processes from theirs, so no /proc/<pid>/exe of a
// runsc process of the container opens the host binary for writing
// (CVE-2019-5736), from the first instruction on and after the process
// exits too. It is shared by no namespace and costs no copy (runc copies
// its binary into a sealed memfd for this). It needs CAP_SYS_ADMIN over
// our mount namespace: rootless, it fails, and the helpers seal their own
// view instead (the gofer binds the binary read-only onto itself, the
// sandbox re-executes from its chroot's read-only /runsc).
func readOnlyBinary() (*os.File, error) {
	fd, err := unix.OpenTree(unix.AT_FDCWD, "/proc/self/exe", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("open_tree of the runsc binary: %w", err)
	}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("making the runsc binary read-only: %w", err)
	}
	// A helper execs /proc/self/fd/<this fd> after its stdio and boot
	// socket are put at fds 0-3: keep it clear of them.
	high, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, minExeFD)
	unix.Close(fd)
	if err != nil {
		return nil, fmt.Errorf("dup of the runsc binary: %w", err)
	}
	return os.NewFile(uintptr(high), Binary), nil
}

// hostBinary opens the running binary O_PATH, for the sandbox's chroot.
func hostBinary() (*os.File, error) {
	fd, err := unix.Open("/proc/self/exe", unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("opening the runsc binary: %w", err)
	}
	return os.NewFile(uintptr(fd), Binary), nil
}
