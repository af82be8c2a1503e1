// Copyright 2025 The runsc Authors.
// SPDX-License-Identifier: Apache-2.0

package seccomp

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/pkg/log"
)

// Debugf receives the package's debug messages, such as the syscall names
// skipped because no ABI of the filter knows them. It is log.Debugf unless
// the caller replaces it; nil silences the package.
var Debugf = log.Debugf

func debugf(format string, args ...any) {
	if f := Debugf; f != nil {
		f(format, args...)
	}
}

// Program is a compiled seccomp filter.
type Program struct {
	// Filter is the classic BPF program, at most 4096 instructions.
	Filter []unix.SockFilter
	// Flags are the SECCOMP_FILTER_FLAG_* bits requested by the
	// configuration, to pass to Load.
	Flags uint
	// UsesNotify reports whether some rule returns SECCOMP_RET_USER_NOTIF,
	// in which case the filter must be loaded with
	// SECCOMP_FILTER_FLAG_NEW_LISTENER (Load does it).
	UsesNotify bool
}

// String returns the disassembly of the filter, see Disassemble.
func (p *Program) String() string { return Disassemble(p.Filter) }

// badArchAction is the action for syscalls of an ABI not in the filter.
const badArchAction = ActionKillProcess

var ociFlags = map[specs.LinuxSeccompFlag]uint{
	"SECCOMP_FILTER_FLAG_TSYNC":            unix.SECCOMP_FILTER_FLAG_TSYNC,
	specs.LinuxSeccompFlagLog:              unix.SECCOMP_FILTER_FLAG_LOG,
	specs.LinuxSeccompFlagSpecAllow:        unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW,
	specs.LinuxSeccompFlagWaitKillableRecv: unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
}

var ociOps = map[specs.LinuxSeccompOperator]Op{
	specs.OpNotEqual:     OpNotEqual,
	specs.OpLessThan:     OpLessThan,
	specs.OpLessEqual:    OpLessEqual,
	specs.OpEqualTo:      OpEqual,
	specs.OpGreaterEqual: OpGreaterEqual,
	specs.OpGreaterThan:  OpGreaterThan,
	specs.OpMaskedEqual:  OpMaskedEqual,
}

// foreignArches are the valid OCI architectures whose syscalls can never
// reach an x86_64 kernel: Compile ignores them.
var foreignArches = map[specs.Arch]bool{
	specs.ArchARM: true, specs.ArchAARCH64: true, specs.ArchMIPS: true,
	specs.ArchMIPS64: true, specs.ArchMIPS64N32: true, specs.ArchMIPSEL: true,
	specs.ArchMIPSEL64: true, specs.ArchMIPSEL64N32: true, specs.ArchPPC: true,
	specs.ArchPPC64: true, specs.ArchPPC64LE: true, specs.ArchS390: true,
	specs.ArchS390X: true, specs.ArchPARISC: true, specs.ArchPARISC64: true,
	specs.ArchRISCV64: true, specs.ArchLOONGARCH64: true, specs.ArchM68K: true,
	specs.ArchSH: true, specs.ArchSHEB: true,
}

// Compile compiles the OCI seccomp configuration s (linux.seccomp) to a
// Program, with the semantics described in the package documentation.
// Errors name the offending field, e.g.
// `linux.seccomp.syscalls[3].action: unknown action "SCMP_ACT_FOO"`.
func Compile(s *specs.LinuxSeccomp) (*Program, error) {
	if s == nil {
		return nil, fmt.Errorf("linux.seccomp: %w: no configuration", ErrInvalid)
	}
	def, err := parseAction(s.DefaultAction, s.DefaultErrnoRet, "linux.seccomp.defaultAction", "linux.seccomp.defaultErrnoRet")
	if err != nil {
		return nil, err
	}
	if def == ActionUserNotif {
		return nil, fmt.Errorf("linux.seccomp.defaultAction: %w: %s cannot be the default action", ErrInvalid, specs.ActNotify)
	}
	f := newFilterIR(def, badArchAction)
	f.abis[abiX86_64] = true // the native ABI is always in the filter
	for i, arch := range s.Architectures {
		if a, ok := abiFromArch(arch); ok {
			f.abis[a] = true
			continue
		}
		if !foreignArches[arch] {
			return nil, fmt.Errorf("linux.seccomp.architectures[%d]: %w %q", i, ErrUnknownArch, arch)
		}
		debugf("seccomp: architecture %q ignored on x86_64", arch)
	}
	p := &Program{}
	for i, fl := range s.Flags {
		bit, ok := ociFlags[fl]
		if !ok {
			return nil, fmt.Errorf("linux.seccomp.flags[%d]: %w %q", i, ErrUnknownFlag, fl)
		}
		p.Flags |= bit
	}
	if s.ListenerMetadata != "" && s.ListenerPath == "" {
		return nil, fmt.Errorf("linux.seccomp.listenerMetadata: %w: set without listenerPath", ErrInvalid)
	}
	for i := range s.Syscalls {
		if err := f.addOCISyscall(i, &s.Syscalls[i]); err != nil {
			return nil, err
		}
	}
	if f.usesNotify && s.ListenerPath == "" {
		return nil, fmt.Errorf("linux.seccomp.listenerPath: %w: required when %s is used", ErrInvalid, specs.ActNotify)
	}
	p.UsesNotify = f.usesNotify
	p.Filter, err = f.compile()
	if err != nil {
		return nil, fmt.Errorf("linux.seccomp: generating filter: %w", err)
	}
	return p, nil
}

// addOCISyscall adds the rules of linux.seccomp.syscalls[i].
func (f *filterIR) addOCISyscall(i int, sc *specs.LinuxSyscall) error {
	field := fmt.Sprintf("linux.seccomp.syscalls[%d]", i)
	act, err := parseAction(sc.Action, sc.ErrnoRet, field+".action", field+".errnoRet")
	if err != nil {
		return err
	}
	if len(sc.Names) == 0 {
		return fmt.Errorf("%s.names: %w: no syscall name", field, ErrInvalid)
	}
	conds := make([]Cond, len(sc.Args))
	var perIndex [maxArgs]int
	repeated := false
	for j, arg := range sc.Args {
		op, ok := ociOps[arg.Op]
		if !ok {
			return fmt.Errorf("%s.args[%d].op: %w %q", field, j, ErrUnknownOperator, arg.Op)
		}
		if arg.Index >= maxArgs {
			return fmt.Errorf("%s.args[%d].index: %w: %d out of range 0-%d", field, j, ErrInvalid, arg.Index, maxArgs-1)
		}
		conds[j] = Cond{Index: arg.Index, Op: op, Value: arg.Value, ValueTwo: arg.ValueTwo}
		perIndex[arg.Index]++
		repeated = repeated || perIndex[arg.Index] > 1
	}
	// As runc does: several conditions on one argument make one rule each.
	groups := [][]Cond{conds}
	if repeated {
		groups = groups[:0]
		for _, c := range conds {
			groups = append(groups, []Cond{c})
		}
	}
	for j, name := range sc.Names {
		found := false
		for a := abi(0); a < numABIs; a++ {
			if !f.abis[a] {
				continue
			}
			nr, ok := tables().byName[a][name]
			if !ok {
				continue
			}
			found = true
			for _, g := range groups {
				if err := f.add(a, nr, act, g, fmt.Sprintf("%s.names[%d]", field, j)); err != nil {
					return err
				}
			}
		}
		if !found {
			debugf("seccomp: %s.names[%d]: unknown syscall %q ignored", field, j, name)
		}
	}
	return nil
}
