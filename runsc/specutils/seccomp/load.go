// Copyright 2025 The runsc Authors.
// SPDX-License-Identifier: Apache-2.0

package seccomp

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// loadFlags are the SECCOMP_FILTER_FLAG_* bits Load accepts from its caller.
// NEW_LISTENER and TSYNC_ESRCH are added by Load itself when needed.
const loadFlags = unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_LOG |
	unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW | unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV |
	unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH

// LoadArgs checks p and flags as Load does and returns the flags and the
// program Load would pass to seccomp(SECCOMP_SET_MODE_FILTER), for a
// caller that must make the system call itself (a forked child that may
// only make raw system calls). prog points into p.Filter.
func (p *Program) LoadArgs(flags uint) (uint, *unix.SockFprog, error) {
	if p == nil || len(p.Filter) == 0 {
		return 0, nil, errors.New("seccomp: empty filter")
	}
	if len(p.Filter) > maxInsns {
		return 0, nil, fmt.Errorf("seccomp: filter has %d instructions, more than the kernel's limit of %d", len(p.Filter), maxInsns)
	}
	if flags&^uint(loadFlags) != 0 {
		return 0, nil, fmt.Errorf("seccomp: %w: %#x", ErrUnknownFlag, flags&^uint(loadFlags))
	}
	if p.UsesNotify {
		flags |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
		if flags&unix.SECCOMP_FILTER_FLAG_TSYNC != 0 {
			flags |= unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
		}
	} else if flags&unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV != 0 {
		debugf("seccomp: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ignored: the filter has no listener")
		flags &^= unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
	}
	return flags, &unix.SockFprog{Len: uint16(len(p.Filter)), Filter: &p.Filter[0]}, nil
}

// Load installs the filter on the calling thread with
// seccomp(SECCOMP_SET_MODE_FILTER, flags), flags being SECCOMP_FILTER_FLAG_*
// bits, usually p.Flags. With SECCOMP_FILTER_FLAG_TSYNC the filter is
// installed on every thread of the process, else on the calling thread only.
//
// The caller must have set no_new_privs (prctl(PR_SET_NO_NEW_PRIVS, 1)) or
// hold CAP_SYS_ADMIN. When p.UsesNotify, Load adds
// SECCOMP_FILTER_FLAG_NEW_LISTENER (and SECCOMP_FILTER_FLAG_TSYNC_ESRCH along
// with TSYNC, which the kernel requires) and returns the listener file
// descriptor; otherwise it returns -1 and drops
// SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, which only applies to listeners.
func (p *Program) Load(flags uint) (int, error) {
	flags, prog, err := p.LoadArgs(flags)
	if err != nil {
		return -1, err
	}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(flags), uintptr(unsafe.Pointer(prog)))
	runtime.KeepAlive(p.Filter)
	if errno != 0 {
		err := fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER, %#x): %w", flags, errno)
		if errno == unix.EACCES {
			err = fmt.Errorf("%w (no_new_privs not set and no CAP_SYS_ADMIN)", err)
		}
		return -1, err
	}
	if flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
		return int(r), nil
	}
	if r != 0 {
		// TSYNC without TSYNC_ESRCH: r is the thread that could not sync.
		return -1, fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER, %#x): thread %d could not be synchronized", flags, r)
	}
	return -1, nil
}

// Install installs p on the calling thread (or all threads, if p.Flags has
// SECCOMP_FILTER_FLAG_TSYNC) with p.Flags; see Load. A program that uses
// SCMP_ACT_NOTIFY is refused before anything is installed, since its
// listener would be lost: use Load for it.
func Install(p *Program) error {
	if p == nil {
		return errors.New("seccomp: nil program")
	}
	if p.UsesNotify {
		return errors.New("seccomp: the filter uses SCMP_ACT_NOTIFY: load it with Load to get the listener")
	}
	_, err := p.Load(p.Flags)
	return err
}

// NotifyListener sends state and the seccomp listener fd to the seccomp agent
// listening on the unix socket listenerPath, as the runtime spec requires
// for SCMP_ACT_NOTIFY: one connection carrying the JSON of state, with fd
// attached by SCM_RIGHTS, then closed. state.Fds is set to ["seccompFd"] and
// an empty state.Version to specs.Version; the caller sets Pid, Metadata
// (linux.seccomp.listenerMetadata) and State. fd stays open.
func NotifyListener(state specs.ContainerProcessState, fd int, listenerPath string) error {
	if listenerPath == "" {
		return errors.New("seccomp: notify listener: no listenerPath")
	}
	state.Fds = []string{specs.SeccompFdName}
	if state.Version == "" {
		state.Version = specs.Version
	}
	msg, err := json.Marshal(state)
	if err != nil {
		return fmt.Errorf("seccomp: encoding container process state: %w", err)
	}
	// Raw syscalls, not package net: runsc stays a static binary without
	// cgo's resolver.
	sock, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("seccomp: notify listener socket: %w", err)
	}
	defer unix.Close(sock)
	if err := unix.Connect(sock, &unix.SockaddrUnix{Name: listenerPath}); err != nil {
		return fmt.Errorf("seccomp: connecting to listener: %w", err)
	}
	oob := unix.UnixRights(fd)
	for len(msg) > 0 {
		n, err := unix.SendmsgN(sock, msg, oob, nil, unix.MSG_NOSIGNAL)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("seccomp: sending container process state to %s: %w", listenerPath, err)
		}
		msg, oob = msg[n:], nil
	}
	return nil
}
