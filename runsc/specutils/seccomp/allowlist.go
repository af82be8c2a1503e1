// Copyright 2025 The runsc Authors.
// SPDX-License-Identifier: Apache-2.0

package seccomp

import (
	"fmt"
)

// SyscallRule allows syscall Nr (a native x86_64 number, e.g. unix.SYS_IOCTL)
// when all its Args conditions hold. Several rules for the same syscall are
// alternatives.
type SyscallRule struct {
	// Nr is the x86_64 syscall number.
	Nr uintptr
	// Args must all hold. An empty Args allows the syscall unconditionally.
	Args []Cond
}

// AllowList builds a filter for a process of the runtime itself: the native
// x86_64 syscalls in syscalls are allowed, those of rules are allowed when
// the rule's conditions hold, and every other syscall gets defaultAction
// (e.g. ActionKillProcess or ActionErrno(unix.EPERM)). i386 and x32 syscalls
// kill the process. The program has no flags: set p.Flags (e.g.
// unix.SECCOMP_FILTER_FLAG_TSYNC) before loading it.
func AllowList(syscalls []uintptr, defaultAction Action, rules ...SyscallRule) (*Program, error) {
	if !defaultAction.valid() {
		return nil, fmt.Errorf("seccomp: allow list: %w: invalid default action %#x", ErrInvalid, uint32(defaultAction))
	}
	f := newFilterIR(defaultAction, badArchAction)
	f.abis[abiX86_64] = true
	for i, nr := range syscalls {
		if nr >= x32SyscallBit {
			return nil, fmt.Errorf("seccomp: allow list: syscalls[%d]: %w: %#x is not an x86_64 syscall number", i, ErrInvalid, nr)
		}
		if err := f.add(abiX86_64, uint32(nr), ActionAllow, nil, fmt.Sprintf("syscalls[%d]", i)); err != nil {
			return nil, fmt.Errorf("seccomp: allow list: %w", err)
		}
	}
	for i, r := range rules {
		if r.Nr >= x32SyscallBit {
			return nil, fmt.Errorf("seccomp: allow list: rules[%d]: %w: %#x is not an x86_64 syscall number", i, ErrInvalid, r.Nr)
		}
		if err := f.add(abiX86_64, uint32(r.Nr), ActionAllow, r.Args, fmt.Sprintf("rules[%d]", i)); err != nil {
			return nil, fmt.Errorf("seccomp: allow list: %w", err)
		}
	}
	p := &Program{UsesNotify: f.usesNotify}
	var err error
	if p.Filter, err = f.compile(); err != nil {
		return nil, fmt.Errorf("seccomp: allow list: %w", err)
	}
	return p, nil
}
