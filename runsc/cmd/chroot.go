package cmd

import (
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
	"runsc.dev/runsc/runsc/sandbox"
)

// chrootBinary opens O_PATH, in our mount namespace, the runsc binary to
// bind at the chroot's /runsc. As root, create started us from a detached
// read-only mount of it, which cannot be bound, and sent the host binary
// (sent, an fd of create's mount namespace, which cannot be bound either):
// its path is opened here and checked to be the same file. Rootless, we
// run from the host binary (sandbox.SelfPath).
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
		p, err := sandbox.SelfPath()
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
