// Copyright 2025 The runsc Authors.
// SPDX-License-Identifier: Apache-2.0

package seccomp

import (
	"encoding/json"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// refEval computes, straight from the configuration and independently of
// the code generator, the value the filter compiled from s must return for
// d. s must be a configuration that Compile accepts.
func refEval(s *specs.LinuxSeccomp, d seccompData) uint32 {
	def := refAction(s.DefaultAction, s.DefaultErrnoRet)
	enabled := map[specs.Arch]bool{specs.ArchX86_64: true}
	for _, a := range s.Architectures {
		enabled[a] = true
	}
	var arch specs.Arch
	switch d.arch {
	case unix.AUDIT_ARCH_X86_64:
		if d.nr == 0xffffffff {
			return def
		}
		arch = specs.ArchX86_64
		if d.nr&0x40000000 != 0 {
			arch = specs.ArchX32
		}
	case unix.AUDIT_ARCH_I386:
		arch = specs.ArchX86
	default:
		return unix.SECCOMP_RET_KILL_PROCESS
	}
	if !enabled[arch] {
		return unix.SECCOMP_RET_KILL_PROCESS
	}
	type refRule struct {
		args []specs.LinuxSeccompArg
		act  uint32
	}
	var rules []refRule
	var uncond *uint32
	for _, sc := range s.Syscalls {
		act := refAction(sc.Action, sc.ErrnoRet)
		for _, name := range sc.Names {
			if nr, ok := SyscallNumber(arch, name); !ok || nr != d.nr {
				continue
			}
			if len(sc.Args) == 0 {
				if uncond == nil {
					uncond = &act
				}
				continue
			}
			seen := map[uint]bool{}
			split := false
			for _, a := range sc.Args {
				split = split || seen[a.Index]
				seen[a.Index] = true
			}
			if split {
				for _, a := range sc.Args {
					rules = append(rules, refRule{[]specs.LinuxSeccompArg{a}, act})
				}
			} else {
				rules = append(rules, refRule{sc.Args, act})
			}
		}
	}
	for _, r := range rules {
		ok := true
		for _, a := range r.args {
			ok = ok && refMatch(a, d.args[a.Index], arch == specs.ArchX86)
		}
		if ok {
			return r.act
		}
	}
	if uncond != nil {
		return *uncond
	}
	return def
}

func refAction(act specs.LinuxSeccompAction, errnoRet *uint) uint32 {
	data := uint32(unix.EPERM)
	if errnoRet != nil {
		data = uint32(*errnoRet)
	}
	switch act {
	case specs.ActKill, specs.ActKillThread:
		return unix.SECCOMP_RET_KILL_THREAD
	case specs.ActKillProcess:
		return unix.SECCOMP_RET_KILL_PROCESS
	case specs.ActTrap:
		return unix.SECCOMP_RET_TRAP
	case specs.ActErrno:
		return unix.SECCOMP_RET_ERRNO | data
	case specs.ActTrace:
		return unix.SECCOMP_RET_TRACE | data
	case specs.ActAllow:
		return unix.SECCOMP_RET_ALLOW
	case specs.ActLog:
		return unix.SECCOMP_RET_LOG
	case specs.ActNotify:
		return unix.SECCOMP_RET_USER_NOTIF
	}
	panic("unknown action " + act)
}

func refMatch(a specs.LinuxSeccompArg, arg uint64, only32 bool) bool {
	v, v2 := a.Value, a.ValueTwo
	if only32 {
		arg, v, v2 = uint64(uint32(arg)), uint64(uint32(v)), uint64(uint32(v2))
	}
	switch a.Op {
	case specs.OpNotEqual:
		return arg != v
	case specs.OpLessThan:
		return arg < v
	case specs.OpLessEqual:
		return arg <= v
	case specs.OpEqualTo:
		return arg == v
	case specs.OpGreaterEqual:
		return arg >= v
	case specs.OpGreaterThan:
		return arg > v
	case specs.OpMaskedEqual:
		return arg&v == v2&v
	}
	panic("unknown op " + a.Op)
}

// compileJSON compiles the JSON form of a linux.seccomp object.
func compileJSON(t testing.TB, js string) (*specs.LinuxSeccomp, *Program, error) {
	t.Helper()
	var s specs.LinuxSeccomp
	if err := json.Unmarshal([]byte(js), &s); err != nil {
		t.Fatalf("bad test JSON: %v\n%s", err, js)
	}
	p, err := Compile(&s)
	return &s, p, err
}

// mustRun checks p and runs it on d.
func mustRun(t testing.TB, p *Program, d seccompData) uint32 {
	t.Helper()
	if err := checkFilter(p.Filter); err != nil {
		t.Fatalf("invalid filter: %v\n%v", err, p)
	}
	ret, err := runFilter(p.Filter, d)
	if err != nil {
		t.Fatalf("running filter: %v\n%v", err, p)
	}
	return ret
}
