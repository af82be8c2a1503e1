//go:build amd64 || arm64

package gofer

import "syscall"

// canVfork reports whether rawClone3 may be given CLONE_VM|CLONE_VFORK.
const canVfork = true

// rawClone3 is clone3(args, size), in assembly (clone3_$GOARCH.s) so that
// a child sharing our memory and stack (CLONE_VM|CLONE_VFORK) cannot
// clobber the parent's way back: the return address is kept in a register
// across the system call, as package syscall's rawVforkSyscall does, and
// the call from forkInit, in this package, needs no ABI wrapper whose
// frame the child's later calls would overwrite. The parent resumes once
// the child has called execve or exited.
func rawClone3(args, size uintptr) (r1 uintptr, errno syscall.Errno)
