//go:build !amd64 && !arm64

package gofer

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// canVfork reports whether rawClone3 may be given CLONE_VM|CLONE_VFORK:
// not on this architecture, which has no assembly for it.
const canVfork = false

// rawClone3 is clone3(args, size), for a child with a copy of our memory.
func rawClone3(args, size uintptr) (r1 uintptr, errno syscall.Errno) {
	r1, _, errno = syscall.RawSyscall(unix.SYS_CLONE3, args, size, 0)
	return r1, errno
}
