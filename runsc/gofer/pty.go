package gofer

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// Device numbers of the pty multiplexer and of the Unix98 pty slaves.
const (
	ptmxMajor      = 5
	ptmxMinor      = 2
	ptySlaveMajor0 = 136
	ptySlaveMajorN = 143
)

// NewPty opens a new pseudo-terminal from the container's /dev/ptmx (call
// it after PrepareRootfs: the pty then belongs to the container's devpts
// instance), unlocks it and returns its master and slave ends. The slave
// is obtained with TIOCGPTPEER, from the master itself, never by a path;
// both are close-on-exec and the slave is opened with O_NOCTTY.
func NewPty() (master, slave *os.File, err error) {
	rootFd, err := openRoot("/")
	if err != nil {
		return nil, nil, fmt.Errorf("opening a pty: %w", err)
	}
	defer unix.Close(rootFd)
	mfd, err := openInRoot(rootFd, "/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY, 0, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("opening a pty: opening /dev/ptmx: %w", err)
	}
	defer func() {
		if err != nil {
			unix.Close(mfd)
		}
	}()
	st, err := fdStat(mfd)
	if err != nil {
		return nil, nil, fmt.Errorf("opening a pty: stat of /dev/ptmx: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != ptmxMajor || unix.Minor(st.Rdev) != ptmxMinor {
		return nil, nil, fmt.Errorf("opening a pty: /dev/ptmx is not the pty multiplexer (device %d:%d)", unix.Major(st.Rdev), unix.Minor(st.Rdev))
	}
	if err := unix.IoctlSetPointerInt(mfd, unix.TIOCSPTLCK, 0); err != nil {
		return nil, nil, fmt.Errorf("opening a pty: unlocking it: %w", err)
	}
	n, err := unix.IoctlGetUint32(mfd, unix.TIOCGPTN)
	if err != nil {
		return nil, nil, fmt.Errorf("opening a pty: getting its number: %w", err)
	}
	name := "/dev/pts/" + strconv.FormatUint(uint64(n), 10)
	sfd, err := openPtyPeer(rootFd, mfd, name)
	if err != nil {
		return nil, nil, fmt.Errorf("opening a pty: opening its slave %s: %w", name, err)
	}
	return os.NewFile(uintptr(mfd), "/dev/ptmx"), os.NewFile(uintptr(sfd), name), nil
}

// openPtyPeer opens the slave of the master mfd: with TIOCGPTPEER, or
// (before Linux 4.13) by its path name inside the root, checking it is a
// pty slave.
func openPtyPeer(rootFd, mfd int, name string) (int, error) {
	r, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(mfd), unix.TIOCGPTPEER, uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
	if errno == 0 {
		return int(r), nil
	}
	if errno != unix.EINVAL && errno != unix.ENOTTY {
		return -1, errno
	}
	sfd, err := openInRoot(rootFd, name, unix.O_RDWR|unix.O_NOCTTY|unix.O_NOFOLLOW, 0, unix.RESOLVE_NO_SYMLINKS)
	if err != nil {
		return -1, err
	}
	st, err := fdStat(sfd)
	if err == nil && (st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) < ptySlaveMajor0 || unix.Major(st.Rdev) > ptySlaveMajorN) {
		err = errors.New("not a pty slave")
	}
	if err != nil {
		unix.Close(sfd)
		return -1, err
	}
	return sfd, nil
}

// MountConsole binds the pty slave onto the container's /dev/console
// (call it after PrepareRootfs and before FinalizeRootfs, with a slave
// from NewPty: a bind source must be in this mount namespace). /dev is
// resolved inside "/" and /dev/console created there as an empty regular
// file if missing, never following a symlink; an existing entry must be
// a regular file or a character device. The bind is made from the
// slave's /proc/self/fd link onto the target's, so no path an attacker
// could swap is ever followed (CVE-2025-52565).
func MountConsole(slave *os.File) error {
	if err := mountConsole(slave); err != nil {
		return fmt.Errorf("mounting the console on /dev/console: %w", err)
	}
	return nil
}

func mountConsole(slave *os.File) error {
	if slave == nil {
		return errors.New("no pty slave")
	}
	if err := checkProcSelfFd(); err != nil {
		return err
	}
	rootFd, err := openRoot("/")
	if err != nil {
		return err
	}
	defer unix.Close(rootFd)
	dev, err := resolveInRoot(rootFd, "/dev", createDir)
	if err != nil {
		return err
	}
	defer unix.Close(dev.fd)
	fd, err := unix.Openat(dev.fd, "console", unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_RDONLY|unix.O_CLOEXEC, 0o666)
	if err == nil {
		unix.Close(fd)
	} else if !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("creating /dev/console: %w", err)
	}
	dst, err := unix.Openat(dev.fd, "console", unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening /dev/console: %w", err)
	}
	defer unix.Close(dst)
	st, err := fdStat(dst)
	if err != nil {
		return fmt.Errorf("stat of /dev/console: %w", err)
	}
	if t := st.Mode & unix.S_IFMT; t != unix.S_IFREG && t != unix.S_IFCHR {
		return fmt.Errorf("/dev/console exists and is not a regular file or character device (mode %#o)", st.Mode)
	}
	sc, err := slave.SyscallConn()
	if err != nil {
		return fmt.Errorf("pty slave: %w", err)
	}
	var mountErr error
	if err := sc.Control(func(sfd uintptr) {
		var sst unix.Stat_t
		if err := unix.Fstat(int(sfd), &sst); err != nil {
			mountErr = fmt.Errorf("stat of the pty slave: %w", err)
			return
		}
		if sst.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(sst.Rdev) < ptySlaveMajor0 || unix.Major(sst.Rdev) > ptySlaveMajorN {
			mountErr = fmt.Errorf("the console is not a pty slave (device %d:%d)", unix.Major(sst.Rdev), unix.Minor(sst.Rdev))
			return
		}
		if err := mountOnFd(procFdPath(int(sfd)), dst, "", unix.MS_BIND, ""); err != nil {
			mountErr = fmt.Errorf("binding the pty slave: %w", err)
		}
	}); err != nil {
		return fmt.Errorf("pty slave: %w", err)
	}
	runtime.KeepAlive(slave)
	return mountErr
}
