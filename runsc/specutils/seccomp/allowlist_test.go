// Copyright 2025 The runsc Authors.
// SPDX-License-Identifier: Apache-2.0

package seccomp

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

func TestAllowList(t *testing.T) {
	p, err := AllowList([]uintptr{unix.SYS_READ, unix.SYS_WRITE, unix.SYS_FUTEX, unix.SYS_EXIT_GROUP, unix.SYS_READ},
		ActionKillProcess,
		SyscallRule{Nr: unix.SYS_IOCTL, Args: []Cond{{Index: 1, Op: OpEqual, Value: unix.TCGETS}}},
		SyscallRule{Nr: unix.SYS_IOCTL, Args: []Cond{{Index: 1, Op: OpEqual, Value: unix.TIOCGWINSZ}}},
		SyscallRule{Nr: unix.SYS_MMAP, Args: []Cond{
			{Index: 2, Op: OpMaskedEqual, Value: unix.PROT_EXEC, ValueTwo: 0},
			{Index: 3, Op: OpMaskedEqual, Value: unix.MAP_SHARED, ValueTwo: unix.MAP_SHARED},
		}},
		SyscallRule{Nr: unix.SYS_GETPID},
	)
	if err != nil {
		t.Fatal(err)
	}
	if p.Flags != 0 || p.UsesNotify {
		t.Errorf("Flags %#x UsesNotify %v, want 0 false", p.Flags, p.UsesNotify)
	}
	for _, tc := range []struct {
		name string
		d    seccompData
		want Action
	}{
		{"read", x64(unix.SYS_READ), ActionAllow},
		{"futex", x64(unix.SYS_FUTEX), ActionAllow},
		{"getpid", x64(unix.SYS_GETPID), ActionAllow},
		{"open", x64(unix.SYS_OPEN), ActionKillProcess},
		{"ioctl TCGETS", x64(unix.SYS_IOCTL, 0, unix.TCGETS), ActionAllow},
		{"ioctl TIOCGWINSZ", x64(unix.SYS_IOCTL, 0, unix.TIOCGWINSZ), ActionAllow},
		{"ioctl TIOCSTI", x64(unix.SYS_IOCTL, 0, unix.TIOCSTI), ActionKillProcess},
		{"ioctl TCGETS high", x64(unix.SYS_IOCTL, 0, 1<<32|unix.TCGETS), ActionKillProcess},
		{"mmap shared rw", x64(unix.SYS_MMAP, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED), ActionAllow},
		{"mmap exec", x64(unix.SYS_MMAP, 0, 4096, unix.PROT_READ|unix.PROT_EXEC, unix.MAP_SHARED), ActionKillProcess},
		{"mmap private", x64(unix.SYS_MMAP, 0, 4096, unix.PROT_READ, unix.MAP_PRIVATE), ActionKillProcess},
		{"i386 read", i386(3), ActionKillProcess},
		{"x32 read", x32(x32Bit | unix.SYS_READ), ActionKillProcess},
		{"nr -1", x64(0xffffffff), ActionKillProcess},
	} {
		if got := Action(mustRun(t, p, tc.d)); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}

	p, err = AllowList([]uintptr{unix.SYS_READ}, ActionErrno(unix.EPERM))
	if err != nil {
		t.Fatal(err)
	}
	if got := Action(mustRun(t, p, x64(unix.SYS_WRITE))); got != ActionErrno(unix.EPERM) {
		t.Errorf("write: got %v, want ERRNO(1)", got)
	}
}

func TestAllowListErrors(t *testing.T) {
	for name, f := range map[string]func() (*Program, error){
		"bad default": func() (*Program, error) { return AllowList(nil, Action(0x12340000)) },
		"allow with data": func() (*Program, error) {
			return AllowList(nil, ActionAllow|1)
		},
		"x32 number": func() (*Program, error) { return AllowList([]uintptr{x32Bit | 1}, ActionKillProcess) },
		"rule number": func() (*Program, error) {
			return AllowList(nil, ActionKillProcess, SyscallRule{Nr: 1 << 40})
		},
		"bad index": func() (*Program, error) {
			return AllowList(nil, ActionKillProcess, SyscallRule{Nr: 1, Args: []Cond{{Index: 6, Op: OpEqual}}})
		},
		"bad op": func() (*Program, error) {
			return AllowList(nil, ActionKillProcess, SyscallRule{Nr: 1, Args: []Cond{{Index: 0, Op: Op(99)}}})
		},
	} {
		if _, err := f(); err == nil {
			t.Errorf("%s: no error", name)
		} else if name == "bad op" && !errors.Is(err, ErrUnknownOperator) {
			t.Errorf("%s: %v is not ErrUnknownOperator", name, err)
		}
	}
}
