// Copyright 2025 The runsc Authors.
// SPDX-License-Identifier: Apache-2.0

package seccomp

import (
	"math/rand"
	"testing"

	"golang.org/x/sys/unix"
)

// TestEvaluateMatchesReference checks Evaluate against the test
// interpreter on the Docker default profile's filter and random records.
func TestEvaluateMatchesReference(t *testing.T) {
	p, err := Compile(dockerProfile(t))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(1))
	recs := recordsFor(dockerProfile(t), 5000)
	for range 2000 {
		d := x64(uint32(rng.Intn(500)), rng.Uint64(), rng.Uint64(), uint64(rng.Intn(4)))
		if rng.Intn(4) == 0 {
			d.arch = unix.AUDIT_ARCH_I386
		}
		recs = append(recs, d)
	}
	for _, d := range recs {
		want, err := runFilter(p.Filter, d)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Evaluate(d.nr, d.arch, d.args); uint32(got) != want {
			t.Fatalf("Evaluate(nr %d, arch %#x, %v) = %v, reference says %v", d.nr, d.arch, d.args, got, Action(want))
		}
	}
}

// TestEvaluateRules checks Evaluate on a small allowlist with an argument
// rule.
func TestEvaluateRules(t *testing.T) {
	p, err := AllowList([]uintptr{unix.SYS_READ}, ActionErrno(unix.EPERM),
		SyscallRule{Nr: unix.SYS_FCNTL, Args: []Cond{{Index: 1, Op: OpEqual, Value: unix.F_GETFD}}})
	if err != nil {
		t.Fatal(err)
	}
	x86 := uint32(unix.AUDIT_ARCH_X86_64)
	for _, tc := range []struct {
		nr   uint32
		arch uint32
		args [6]uint64
		want Action
	}{
		{unix.SYS_READ, x86, [6]uint64{}, ActionAllow},
		{unix.SYS_WRITE, x86, [6]uint64{}, ActionErrno(unix.EPERM)},
		{unix.SYS_FCNTL, x86, [6]uint64{3, unix.F_GETFD}, ActionAllow},
		{unix.SYS_FCNTL, x86, [6]uint64{3, unix.F_SETLK}, ActionErrno(unix.EPERM)},
		// F_GETFD with garbage in the upper half of the argument is not F_GETFD.
		{unix.SYS_FCNTL, x86, [6]uint64{3, 1<<32 | unix.F_GETFD}, ActionErrno(unix.EPERM)},
	} {
		if got := p.Evaluate(tc.nr, tc.arch, tc.args); got != tc.want {
			t.Errorf("Evaluate(%d, %#x, %v) = %v, want %v", tc.nr, tc.arch, tc.args, got, tc.want)
		}
	}
	if got := p.Evaluate(3, unix.AUDIT_ARCH_I386, [6]uint64{}); got.Type() != ActionKillProcess.Type() && got.Type() != ActionErrno(0).Type() {
		t.Errorf("i386 read = %v, want a denial", got)
	}
}

// TestEvaluateBadPrograms checks that a program the kernel would refuse
// evaluates to a kill, never to allow.
func TestEvaluateBadPrograms(t *testing.T) {
	for name, prog := range map[string][]unix.SockFilter{
		"empty":       nil,
		"fall off":    {{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}},
		"load past":   {{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 64}, {Code: opRetK, K: uint32(ActionAllow)}},
		"jump past":   {{Code: opJa, K: 5}, {Code: opRetK, K: uint32(ActionAllow)}},
		"div by zero": {{Code: unix.BPF_ALU | unix.BPF_DIV | unix.BPF_K, K: 0}, {Code: opRetK, K: uint32(ActionAllow)}},
		"bad scratch": {{Code: unix.BPF_ST, K: 16}, {Code: opRetK, K: uint32(ActionAllow)}},
		"packet load": {{Code: unix.BPF_LD | unix.BPF_B | unix.BPF_ABS, K: 0}, {Code: opRetK, K: uint32(ActionAllow)}},
	} {
		p := &Program{Filter: prog}
		if got := p.Evaluate(0, unix.AUDIT_ARCH_X86_64, [6]uint64{}); got != ActionKillProcess {
			t.Errorf("%s: Evaluate = %v, want kill process", name, got)
		}
		if _, err := p.EvaluateErr(0, unix.AUDIT_ARCH_X86_64, [6]uint64{}); err == nil {
			t.Errorf("%s: EvaluateErr gave no error", name)
		}
	}
}
