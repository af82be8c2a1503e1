// Copyright 2025 The runsc Authors.
// SPDX-License-Identifier: Apache-2.0

package seccomp

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Action is the 32-bit value a seccomp filter returns: one of the
// SECCOMP_RET_* actions in the upper 16 bits and the action's data in the
// lower 16 bits.
type Action uint32

// Actions without data. Use [ActionErrno], [ActionTrace] and [ActionTrapData]
// for the actions that carry data.
const (
	// ActionKillProcess kills the whole process (SECCOMP_RET_KILL_PROCESS).
	ActionKillProcess Action = unix.SECCOMP_RET_KILL_PROCESS
	// ActionKillThread kills the calling thread (SECCOMP_RET_KILL_THREAD).
	ActionKillThread Action = unix.SECCOMP_RET_KILL_THREAD
	// ActionTrap sends SIGSYS to the calling thread (SECCOMP_RET_TRAP).
	ActionTrap Action = unix.SECCOMP_RET_TRAP
	// ActionUserNotif forwards the syscall to the user-space listener of
	// the filter (SECCOMP_RET_USER_NOTIF).
	ActionUserNotif Action = unix.SECCOMP_RET_USER_NOTIF
	// ActionLog allows the syscall after logging it (SECCOMP_RET_LOG).
	ActionLog Action = unix.SECCOMP_RET_LOG
	// ActionAllow allows the syscall (SECCOMP_RET_ALLOW).
	ActionAllow Action = unix.SECCOMP_RET_ALLOW
)

// ActionErrno returns the action that fails the syscall with errno
// (SECCOMP_RET_ERRNO). Only the low 16 bits of errno are kept.
func ActionErrno(errno unix.Errno) Action {
	return Action(unix.SECCOMP_RET_ERRNO | uint32(errno)&unix.SECCOMP_RET_DATA)
}

// ActionTrace returns the action that notifies a ptrace tracer
// (SECCOMP_RET_TRACE), which reads data with PTRACE_GETEVENTMSG.
func ActionTrace(data uint16) Action {
	return Action(unix.SECCOMP_RET_TRACE | uint32(data))
}

// ActionTrapData returns ActionTrap with data, which the kernel reports in
// si_errno of the SIGSYS signal.
func ActionTrapData(data uint16) Action {
	return Action(unix.SECCOMP_RET_TRAP | uint32(data))
}

// Type returns the action without its data (SECCOMP_RET_ACTION_FULL bits).
func (a Action) Type() Action { return a & unix.SECCOMP_RET_ACTION_FULL }

// Data returns the 16-bit data of the action (SECCOMP_RET_DATA bits).
func (a Action) Data() uint16 { return uint16(a & unix.SECCOMP_RET_DATA) }

// valid reports whether a is an action the kernel knows, and carries data
// only if its type takes data.
func (a Action) valid() bool {
	switch a.Type() {
	case ActionTrap, unix.SECCOMP_RET_ERRNO, unix.SECCOMP_RET_TRACE:
		return true
	case ActionKillProcess, ActionKillThread, ActionUserNotif, ActionLog, ActionAllow:
		return a.Data() == 0
	}
	return false
}

// String returns a readable form of the action, e.g. "ALLOW" or "ERRNO(1)".
func (a Action) String() string {
	switch a.Type() {
	case ActionKillProcess:
		return "KILL_PROCESS"
	case ActionKillThread:
		return "KILL_THREAD"
	case ActionTrap:
		if a.Data() != 0 {
			return fmt.Sprintf("TRAP(%d)", a.Data())
		}
		return "TRAP"
	case unix.SECCOMP_RET_ERRNO:
		return fmt.Sprintf("ERRNO(%d)", a.Data())
	case ActionUserNotif:
		return "USER_NOTIF"
	case unix.SECCOMP_RET_TRACE:
		return fmt.Sprintf("TRACE(%d)", a.Data())
	case ActionLog:
		return "LOG"
	case ActionAllow:
		return "ALLOW"
	}
	return fmt.Sprintf("Action(%#x)", uint32(a))
}

// Errors returned by Compile, wrapped with the name of the offending field.
var (
	// ErrUnknownAction is returned for an action name libseccomp does not know.
	ErrUnknownAction = errors.New("unknown action")
	// ErrUnknownArch is returned for an architecture name libseccomp does
	// not know.
	ErrUnknownArch = errors.New("unknown architecture")
	// ErrUnknownFlag is returned for a seccomp flag this package does not
	// support.
	ErrUnknownFlag = errors.New("unknown flag")
	// ErrUnknownOperator is returned for an unknown argument operator.
	ErrUnknownOperator = errors.New("unknown operator")
	// ErrInvalid is returned for any other invalid configuration.
	ErrInvalid = errors.New("invalid seccomp configuration")
)

// parseAction converts an OCI action and its optional errnoRet. field and
// errnoField name them in errors.
func parseAction(act specs.LinuxSeccompAction, errnoRet *uint, field, errnoField string) (Action, error) {
	data := uint(unix.EPERM)
	if errnoRet != nil {
		if act != specs.ActErrno && act != specs.ActTrace {
			if !knownAction(act) {
				return 0, fmt.Errorf("%s: %w %q", field, ErrUnknownAction, act)
			}
			return 0, fmt.Errorf("%s: %w: not supported with action %q", errnoField, ErrInvalid, act)
		}
		if *errnoRet > unix.SECCOMP_RET_DATA {
			return 0, fmt.Errorf("%s: %w: %d does not fit in 16 bits", errnoField, ErrInvalid, *errnoRet)
		}
		data = *errnoRet
	}
	switch act {
	case specs.ActKill, specs.ActKillThread:
		return ActionKillThread, nil
	case specs.ActKillProcess:
		return ActionKillProcess, nil
	case specs.ActTrap:
		return ActionTrap, nil
	case specs.ActErrno:
		return ActionErrno(unix.Errno(data)), nil
	case specs.ActTrace:
		return ActionTrace(uint16(data)), nil
	case specs.ActAllow:
		return ActionAllow, nil
	case specs.ActLog:
		return ActionLog, nil
	case specs.ActNotify:
		return ActionUserNotif, nil
	}
	return 0, fmt.Errorf("%s: %w %q", field, ErrUnknownAction, act)
}

func knownAction(act specs.LinuxSeccompAction) bool {
	switch act {
	case specs.ActKill, specs.ActKillThread, specs.ActKillProcess, specs.ActTrap,
		specs.ActErrno, specs.ActTrace, specs.ActAllow, specs.ActLog, specs.ActNotify:
		return true
	}
	return false
}
