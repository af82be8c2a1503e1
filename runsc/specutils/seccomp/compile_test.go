// Copyright 2025 The runsc Authors.
// SPDX-License-Identifier: Apache-2.0

package seccomp

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

const (
	sysUname    = unix.SYS_UNAME // 63
	sysGetpid   = unix.SYS_GETPID
	retErrno    = unix.SECCOMP_RET_ERRNO
	retTrace    = unix.SECCOMP_RET_TRACE
	retAllow    = unix.SECCOMP_RET_ALLOW
	retKillProc = unix.SECCOMP_RET_KILL_PROCESS
	x32Bit      = 0x40000000
)

func TestActions(t *testing.T) {
	for _, tc := range []struct {
		action, errnoRet string
		want             uint32
	}{
		{"SCMP_ACT_KILL", "", unix.SECCOMP_RET_KILL_THREAD},
		{"SCMP_ACT_KILL_THREAD", "", unix.SECCOMP_RET_KILL_THREAD},
		{"SCMP_ACT_KILL_PROCESS", "", unix.SECCOMP_RET_KILL_PROCESS},
		{"SCMP_ACT_TRAP", "", unix.SECCOMP_RET_TRAP},
		{"SCMP_ACT_ERRNO", "", retErrno | uint32(unix.EPERM)},
		{"SCMP_ACT_ERRNO", `, "errnoRet": 38`, retErrno | 38},
		{"SCMP_ACT_ERRNO", `, "errnoRet": 0`, retErrno},
		{"SCMP_ACT_TRACE", "", retTrace | uint32(unix.EPERM)},
		{"SCMP_ACT_TRACE", `, "errnoRet": 4242`, retTrace | 4242},
		{"SCMP_ACT_LOG", "", unix.SECCOMP_RET_LOG},
		{"SCMP_ACT_NOTIFY", "", unix.SECCOMP_RET_USER_NOTIF},
	} {
		name := tc.action + tc.errnoRet
		t.Run("rule/"+name, func(t *testing.T) {
			js := fmt.Sprintf(`{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/agent.sock",
				"syscalls": [{"names": ["uname"], "action": %q%s}]}`, tc.action, tc.errnoRet)
			_, p, err := compileJSON(t, js)
			if err != nil {
				t.Fatal(err)
			}
			if got := mustRun(t, p, x64(sysUname)); got != tc.want {
				t.Errorf("uname: got %v, want %v", Action(got), Action(tc.want))
			}
			if got := mustRun(t, p, x64(sysGetpid)); got != retAllow {
				t.Errorf("getpid: got %v, want ALLOW", Action(got))
			}
			if wantNotify := tc.action == "SCMP_ACT_NOTIFY"; p.UsesNotify != wantNotify {
				t.Errorf("UsesNotify = %v, want %v", p.UsesNotify, wantNotify)
			}
		})
		if tc.action == "SCMP_ACT_NOTIFY" {
			continue
		}
		t.Run("default/"+name, func(t *testing.T) {
			js := fmt.Sprintf(`{"defaultAction": %q%s, "syscalls": [{"names": ["uname"], "action": "SCMP_ACT_ALLOW"}]}`,
				tc.action, strings.Replace(tc.errnoRet, "errnoRet", "defaultErrnoRet", 1))
			_, p, err := compileJSON(t, js)
			if err != nil {
				t.Fatal(err)
			}
			if got := mustRun(t, p, x64(sysGetpid)); got != tc.want {
				t.Errorf("getpid: got %v, want %v", Action(got), Action(tc.want))
			}
			if got := mustRun(t, p, x64(sysUname)); got != retAllow {
				t.Errorf("uname: got %v, want ALLOW", Action(got))
			}
		})
	}
}

// Values around the 32-bit boundary of the two halves of an argument.
var edgeValues = []uint64{
	0, 1, 2, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
	0x100000000, 0x100000001, 0x1fffffffe, 0x1ffffffff, 0x200000000,
	0x7fffffffffffffff, 0x8000000000000000, 0xfffffffeffffffff,
	0xffffffff00000000, 0xfffffffffffffffe, 0xffffffffffffffff,
}

func TestOperators(t *testing.T) {
	ops := map[string]func(arg, v uint64) bool{
		"SCMP_CMP_NE": func(a, v uint64) bool { return a != v },
		"SCMP_CMP_LT": func(a, v uint64) bool { return a < v },
		"SCMP_CMP_LE": func(a, v uint64) bool { return a <= v },
		"SCMP_CMP_EQ": func(a, v uint64) bool { return a == v },
		"SCMP_CMP_GE": func(a, v uint64) bool { return a >= v },
		"SCMP_CMP_GT": func(a, v uint64) bool { return a > v },
	}
	for opName, cmp := range ops {
		for _, v := range edgeValues {
			for _, index := range []int{0, 5} {
				t.Run(fmt.Sprintf("%s/%#x/arg%d", opName, v, index), func(t *testing.T) {
					js := fmt.Sprintf(`{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X32"],
						"syscalls": [{"names": ["uname"], "action": "SCMP_ACT_ERRNO", "errnoRet": 9,
						"args": [{"index": %d, "value": %d, "op": %q}]}]}`, index, v, opName)
					_, p, err := compileJSON(t, js)
					if err != nil {
						t.Fatal(err)
					}
					for _, arg := range edgeValues {
						var args [6]uint64
						args[index] = arg
						want := uint32(retAllow)
						if cmp(arg, v) {
							want = retErrno | 9
						}
						for _, d := range []seccompData{x64(sysUname, args[:]...), x32(x32Bit|sysUname, args[:]...)} {
							if got := mustRun(t, p, d); got != want {
								t.Errorf("arg %#x (nr %#x): got %v, want %v", arg, d.nr, Action(got), Action(want))
							}
						}
					}
				})
			}
		}
	}
}

func TestMaskedEqual(t *testing.T) {
	for _, tc := range []struct{ mask, datum uint64 }{
		{0x7e020000, 0},                          // Docker's clone namespace flags
		{0x000000ff0000ff00, 0x0000001200003400}, // both halves
		{0xffffffff00000000, 0x0000000100000000}, // high half only
		{0x00000000ffffffff, 0x00000000deadbeef}, // low half only
		{0, 0},                                   // always matches
		{0xffffffffffffffff, 0x8000000000000001},
		{0xf0, 0xff}, // datum bits outside the mask are ignored
	} {
		t.Run(fmt.Sprintf("%#x/%#x", tc.mask, tc.datum), func(t *testing.T) {
			js := fmt.Sprintf(`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["clone"], "action": "SCMP_ACT_ERRNO",
				"args": [{"index": 1, "value": %d, "valueTwo": %d, "op": "SCMP_CMP_MASKED_EQ"}]}]}`, tc.mask, tc.datum)
			_, p, err := compileJSON(t, js)
			if err != nil {
				t.Fatal(err)
			}
			args := append([]uint64{tc.datum, tc.datum | ^tc.mask, tc.datum ^ tc.mask, tc.datum ^ 1<<33, tc.datum ^ 1<<9}, edgeValues...)
			for _, arg := range args {
				want := uint32(retAllow)
				if arg&tc.mask == tc.datum&tc.mask {
					want = retErrno | 1
				}
				if got := mustRun(t, p, x64(unix.SYS_CLONE, 0, arg)); got != want {
					t.Errorf("arg %#x: got %v, want %v", arg, Action(got), Action(want))
				}
			}
		})
	}
}

func TestSeveralArgsAreANDed(t *testing.T) {
	_, p, err := compileJSON(t, `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["mmap"], "action": "SCMP_ACT_ALLOW",
		"args": [{"index": 2, "value": 4, "op": "SCMP_CMP_NE"}, {"index": 3, "value": 34, "op": "SCMP_CMP_MASKED_EQ", "valueTwo": 34},
		         {"index": 5, "value": 4294967296, "op": "SCMP_CMP_LT"}]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []uint64
		want uint32
	}{
		{[]uint64{0, 4096, 3, 0x22, 0, 0}, retAllow},
		{[]uint64{0, 4096, 3, 0x23, 0, 0xffffffff}, retAllow},
		{[]uint64{0, 4096, 4, 0x22, 0, 0}, retErrno | 1},           // arg2 == 4
		{[]uint64{0, 4096, 3, 0x02, 0, 0}, retErrno | 1},           // arg3 lacks 0x20
		{[]uint64{0, 4096, 3, 0x22, 0, 0x100000000}, retErrno | 1}, // arg5 too big
		{[]uint64{0, 4096, 4 | 1<<32, 0x22, 0, 0}, retAllow},       // arg2 != 4 by its high half
	} {
		if got := mustRun(t, p, x64(unix.SYS_MMAP, tc.args...)); got != tc.want {
			t.Errorf("args %#x: got %v, want %v", tc.args, Action(got), Action(tc.want))
		}
	}
}

// runc turns several conditions on the same argument into separate rules.
func TestSameArgTwiceIsORed(t *testing.T) {
	_, p, err := compileJSON(t, `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO",
		"args": [{"index": 1, "value": 9, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 19, "op": "SCMP_CMP_EQ"}]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	for sig, want := range map[uint64]uint32{9: retErrno | 1, 19: retErrno | 1, 15: retAllow, 0: retAllow} {
		if got := mustRun(t, p, x64(unix.SYS_KILL, 1, sig)); got != want {
			t.Errorf("kill(1, %d): got %v, want %v", sig, Action(got), Action(want))
		}
	}
}

func TestSeveralRulesForOneSyscall(t *testing.T) {
	_, p, err := compileJSON(t, `{"defaultAction": "SCMP_ACT_KILL_PROCESS", "syscalls": [
		{"names": ["ioctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 25},
		{"names": ["ioctl"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 21505, "op": "SCMP_CMP_EQ"}]},
		{"names": ["ioctl"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 21506, "op": "SCMP_CMP_EQ"}]},
		{"names": ["fcntl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 10, "args": [{"index": 1, "value": 5, "op": "SCMP_CMP_GT"}]},
		{"names": ["fcntl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 20, "args": [{"index": 1, "value": 3, "op": "SCMP_CMP_GT"}]},
		{"names": ["fcntl"], "action": "SCMP_ACT_ALLOW"},
		{"names": ["fcntl"], "action": "SCMP_ACT_ALLOW"}
	]}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		d    seccompData
		want uint32
	}{
		{x64(unix.SYS_IOCTL, 0, 21505), retAllow},
		{x64(unix.SYS_IOCTL, 0, 21506), retAllow},
		{x64(unix.SYS_IOCTL, 0, 21507), retErrno | 25},
		{x64(unix.SYS_FCNTL, 0, 6), retErrno | 10}, // the first matching rule wins
		{x64(unix.SYS_FCNTL, 0, 4), retErrno | 20},
		{x64(unix.SYS_FCNTL, 0, 3), retAllow},
		{x64(unix.SYS_GETPID), retKillProc},
	} {
		if got := mustRun(t, p, tc.d); got != tc.want {
			t.Errorf("nr %d args %#x: got %v, want %v", tc.d.nr, tc.d.args[:2], Action(got), Action(tc.want))
		}
	}
}

func TestArchitectures(t *testing.T) {
	const rules = `"syscalls": [{"names": ["uname", "ioctl", "_llseek"], "action": "SCMP_ACT_ERRNO", "errnoRet": 7},
		{"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 8, "args": [{"index": 0, "value": 4294967301, "op": "SCMP_CMP_EQ"}]}]`
	const (
		hit      = retErrno | 7
		argHit   = retErrno | 8
		def      = retAllow
		badArch  = retKillProc
		x32Ioctl = x32Bit | 514
	)
	for _, tc := range []struct {
		name, arches string
		checks       []struct {
			d    seccompData
			want uint32
		}
	}{
		{"native only", `[]`, []struct {
			d    seccompData
			want uint32
		}{
			{x64(sysUname), hit}, {x64(unix.SYS_IOCTL), hit}, {x64(sysGetpid), def},
			{x64(sysGetpid, 0x100000005), argHit}, {x64(sysGetpid, 5), def},
			{x64(0xffffffff), def}, {x64(100000), def},
			{i386(122), badArch}, {i386(1), badArch},
			{x32(x32Bit | sysUname), badArch}, {x32(x32Bit | 0x3fffffff), badArch},
			{seccompData{nr: sysUname, arch: 0xc00000b7 /* AUDIT_ARCH_AARCH64 */}, badArch},
		}},
		{"docker x86 set", `["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"]`, []struct {
			d    seccompData
			want uint32
		}{
			{x64(sysUname), hit}, {x64(unix.SYS_IOCTL), hit}, {x64(140 /* getpriority */), def},
			{i386(122 /* uname */), hit}, {i386(54 /* ioctl */), hit}, {i386(140 /* _llseek */), hit},
			{i386(20 /* getpid */), def},
			// i386 compares the low 32 bits of the truncated value.
			{i386(20, 5), argHit}, {i386(20, 0x100000005), argHit}, {i386(20, 6), def},
			{x32(x32Bit | sysUname), hit}, {x32(x32Ioctl), hit},
			{x32(x32Bit | unix.SYS_IOCTL), def}, // ioctl has its own x32 number
			{x32(x32Bit|sysGetpid, 0x100000005), argHit},
			{x32(x32Bit | 5000), def}, {x64(0xffffffff), def},
			{seccompData{nr: sysUname, arch: 0xc00000b7}, badArch},
		}},
		{"x32 without x86", `["SCMP_ARCH_X32"]`, []struct {
			d    seccompData
			want uint32
		}{
			{x64(sysUname), hit}, {x32(x32Bit | sysUname), hit}, {i386(122), badArch}, {x64(0xffffffff), def},
		}},
		{"x86 without x32", `["SCMP_ARCH_X86"]`, []struct {
			d    seccompData
			want uint32
		}{
			{x64(sysUname), hit}, {i386(122), hit}, {x32(x32Bit | sysUname), badArch}, {x64(0xffffffff), def},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, p, err := compileJSON(t, `{"defaultAction": "SCMP_ACT_ALLOW", "architectures": `+tc.arches+`, `+rules+`}`)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tc.checks {
				if got := mustRun(t, p, c.d); got != c.want {
					t.Errorf("arch %#x nr %#x args %#x: got %v, want %v", c.d.arch, c.d.nr, c.d.args[0], Action(got), Action(c.want))
				}
			}
		})
	}
}

func TestUnknownSyscallSkipped(t *testing.T) {
	var logs []string
	defer func(old func(string, ...any)) { Debugf = old }(Debugf)
	Debugf = func(format string, args ...any) { logs = append(logs, fmt.Sprintf(format, args...)) }
	_, p, err := compileJSON(t, `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["no_such_syscall", "uname", "_llseek"], "action": "SCMP_ACT_ERRNO"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustRun(t, p, x64(sysUname)); got != retErrno|1 {
		t.Errorf("uname: got %v, want ERRNO(1)", Action(got))
	}
	joined := strings.Join(logs, "\n")
	for _, want := range []string{`names[0]: unknown syscall "no_such_syscall" ignored`, `names[2]: unknown syscall "_llseek" ignored`} {
		if !strings.Contains(joined, want) {
			t.Errorf("debug log %q lacks %q", joined, want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		js      string
		sentinl error
		msg     string
	}{
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"},
			{"names": ["read"], "action": "SCMP_ACT_ALLOW"}, {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
			{"names": ["write"], "action": "SCMP_ACT_FOO"}]}`,
			ErrUnknownAction, `linux.seccomp.syscalls[3].action: unknown action "SCMP_ACT_FOO"`},
		{`{"defaultAction": "SCMP_ACT_NOPE"}`, ErrUnknownAction, `linux.seccomp.defaultAction: unknown action "SCMP_ACT_NOPE"`},
		{`{"defaultAction": ""}`, ErrUnknownAction, `linux.seccomp.defaultAction: unknown action ""`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86", "SCMP_ARCH_FOO"]}`,
			ErrUnknownArch, `linux.seccomp.architectures[1]: unknown architecture "SCMP_ARCH_FOO"`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_BOGUS"]}`,
			ErrUnknownFlag, `linux.seccomp.flags[1]: unknown flag "SECCOMP_FILTER_FLAG_BOGUS"`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_NEW_LISTENER"]}`,
			ErrUnknownFlag, `linux.seccomp.flags[0]: unknown flag "SECCOMP_FILTER_FLAG_NEW_LISTENER"`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
			"args": [{"index": 0, "value": 1, "op": "SCMP_CMP_LIKE"}]}]}`,
			ErrUnknownOperator, `linux.seccomp.syscalls[0].args[0].op: unknown operator "SCMP_CMP_LIKE"`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
			"args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}`,
			ErrInvalid, `linux.seccomp.syscalls[0].args[0].index: invalid seccomp configuration: 6 out of range 0-5`},
		{`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1}]}`,
			ErrInvalid, `linux.seccomp.syscalls[0].errnoRet: invalid seccomp configuration: not supported with action "SCMP_ACT_ALLOW"`},
		{`{"defaultAction": "SCMP_ACT_KILL", "defaultErrnoRet": 1}`,
			ErrInvalid, `linux.seccomp.defaultErrnoRet: invalid seccomp configuration: not supported with action "SCMP_ACT_KILL"`},
		{`{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 65536}`,
			ErrInvalid, `linux.seccomp.defaultErrnoRet: invalid seccomp configuration: 65536 does not fit in 16 bits`},
		{`{"defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": "/x"}`,
			ErrInvalid, `linux.seccomp.defaultAction: invalid seccomp configuration: SCMP_ACT_NOTIFY cannot be the default action`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_NOTIFY"}]}`,
			ErrInvalid, `linux.seccomp.listenerPath: invalid seccomp configuration: required when SCMP_ACT_NOTIFY is used`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "listenerMetadata": "x"}`,
			ErrInvalid, `linux.seccomp.listenerMetadata: invalid seccomp configuration: set without listenerPath`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": [], "action": "SCMP_ACT_ERRNO"}]}`,
			ErrInvalid, `linux.seccomp.syscalls[0].names: invalid seccomp configuration: no syscall name`},
		{`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read", "mount"], "action": "SCMP_ACT_ERRNO"},
			{"names": ["mount"], "action": "SCMP_ACT_KILL"}]}`,
			ErrInvalid, `linux.seccomp.syscalls[1].names[0]: invalid seccomp configuration: syscall "mount" (SCMP_ARCH_X86_64 165) already has an unconditional rule with action ERRNO(1) in linux.seccomp.syscalls[0].names[1]`},
	} {
		_, _, err := compileJSON(t, tc.js)
		if err == nil {
			t.Errorf("%s: no error, want %q", tc.js, tc.msg)
			continue
		}
		if err.Error() != tc.msg {
			t.Errorf("error %q, want %q", err, tc.msg)
		}
		if !errors.Is(err, tc.sentinl) {
			t.Errorf("error %q is not %v", err, tc.sentinl)
		}
	}
	if _, err := Compile(nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("Compile(nil) = %v, want ErrInvalid", err)
	}
}

func TestFlags(t *testing.T) {
	_, p, err := compileJSON(t, `{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_TSYNC",
		"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]}`)
	if err != nil {
		t.Fatal(err)
	}
	want := uint(unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_LOG |
		unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW | unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
	if p.Flags != want {
		t.Errorf("Flags = %#x, want %#x", p.Flags, want)
	}
	_, p, err = compileJSON(t, `{"defaultAction": "SCMP_ACT_ALLOW"}`)
	if err != nil {
		t.Fatal(err)
	}
	if p.Flags != 0 {
		t.Errorf("Flags = %#x, want 0", p.Flags)
	}
	if got := mustRun(t, p, x64(sysUname)); got != retAllow {
		t.Errorf("empty profile: got %v, want ALLOW", Action(got))
	}
}

// TestLongFilter gives many syscalls of two ABIs conditional rules and the
// others distinct actions, which makes jumps far beyond 255 instructions, and
// checks every syscall against the reference evaluator.
func TestLongFilter(t *testing.T) {
	s := &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86},
	}
	for i, e := range sysTableX86_64 {
		errno := uint(i % 100)
		sc := specs.LinuxSyscall{Names: []string{e.name}, Action: specs.ActErrno, ErrnoRet: &errno}
		if i%4 == 0 {
			sc.Args = []specs.LinuxSeccompArg{{Index: uint(i % 6), Value: uint64(i) << 20, Op: specs.OpGreaterEqual}}
		}
		s.Syscalls = append(s.Syscalls, sc)
		if i%8 == 0 {
			s.Syscalls = append(s.Syscalls, specs.LinuxSyscall{Names: []string{e.name}, Action: specs.ActAllow})
		}
	}
	var records []seccompData
	for _, tbl := range [][]sysEntry{sysTableX86_64[:], sysTableI386[:], sysTableX32[:]} {
		for i, e := range tbl {
			var args [6]uint64
			args[i%6] = uint64(i) << 20
			records = append(records, x64(e.nr, args[:]...), i386(e.nr, args[:]...), x64(e.nr), i386(e.nr))
		}
	}
	p, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Filter) < 4*256 {
		t.Fatalf("filter has only %d instructions, the test wants long jumps", len(p.Filter))
	}
	trampolines := 0
	for _, in := range p.Filter {
		if in.Code == opJa {
			trampolines++
		}
	}
	if trampolines == 0 {
		t.Errorf("no ja instruction in a %d-instruction filter", len(p.Filter))
	}
	for _, d := range records {
		if got, want := mustRun(t, p, d), refEval(s, d); got != want {
			t.Errorf("arch %#x nr %#x args %#x: got %v, want %v", d.arch, d.nr, d.args, Action(got), Action(want))
		}
	}
	t.Logf("%d instructions, %d ja", len(p.Filter), trampolines)
}

func TestTooLong(t *testing.T) {
	s := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow}
	for i := 0; i < 1000; i++ {
		s.Syscalls = append(s.Syscalls, specs.LinuxSyscall{Names: []string{"read"}, Action: specs.ActErrno,
			Args: []specs.LinuxSeccompArg{{Index: 0, Value: uint64(i), Op: specs.OpGreaterThan}}})
	}
	// Far jumps everywhere: every syscall of three ABIs has rules.
	wide := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchX86, specs.ArchX32}}
	for i := 0; i < 20; i++ {
		for _, e := range sysTableI386 {
			wide.Syscalls = append(wide.Syscalls, specs.LinuxSyscall{Names: []string{e.name}, Action: specs.ActErrno,
				Args: []specs.LinuxSeccompArg{{Index: 0, Value: uint64(i), Op: specs.OpGreaterThan}}})
		}
	}
	for _, s := range []*specs.LinuxSeccomp{s, wide} {
		start := time.Now()
		if _, err := Compile(s); err == nil || !strings.Contains(err.Error(), "more than the kernel's limit of 4096") {
			t.Errorf("Compile = %v, want a too-long error", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Compile took %v to fail", d)
		}
	}
}

func TestDeterministic(t *testing.T) {
	s := dockerProfile(t)
	p1, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		p2, err := Compile(s)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(p1.Filter, p2.Filter) {
			t.Fatal("two compilations of the same profile differ")
		}
	}
}

func TestDisassemble(t *testing.T) {
	_, p, err := compileJSON(t, `{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "syscalls": [
		{"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
		{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	out := p.String()
	t.Logf("\n%s", out)
	if n := strings.Count(out, "\n"); n != len(p.Filter) {
		t.Errorf("%d lines for %d instructions", n, len(p.Filter))
	}
	for _, want := range []string{
		"0000: ld  [4]  ; arch\n",
		"jeq #0xc000003e",
		"ld  [0]  ; nr",
		"ld  [20]  ; args[0] hi",
		"ld  [16]  ; args[0] lo",
		"ret ALLOW",
		"ret ERRNO(1)",
		"ret KILL_PROCESS",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("disassembly lacks %q", want)
		}
	}
	raw := Disassemble([]unix.SockFilter{{Code: unix.BPF_MISC | unix.BPF_TAX}, {Code: opJa, K: 0}, {Code: opAndK, K: 0xff}})
	for _, want := range []string{"0000: raw code=0x0007", "0001: ja  0002", "0002: and #0xff"} {
		if !strings.Contains(raw, want) {
			t.Errorf("Disassemble lacks %q:\n%s", want, raw)
		}
	}
}

func TestActionString(t *testing.T) {
	for a, want := range map[Action]string{
		ActionAllow: "ALLOW", ActionKillProcess: "KILL_PROCESS", ActionKillThread: "KILL_THREAD",
		ActionTrap: "TRAP", ActionTrapData(3): "TRAP(3)", ActionErrno(unix.ENOSYS): "ERRNO(38)",
		ActionTrace(7): "TRACE(7)", ActionLog: "LOG", ActionUserNotif: "USER_NOTIF", Action(0x12340000): "Action(0x12340000)",
	} {
		if got := a.String(); got != want {
			t.Errorf("%#x.String() = %q, want %q", uint32(a), got, want)
		}
	}
}

func TestSyscallTables(t *testing.T) {
	for _, tc := range []struct {
		arch specs.Arch
		name string
		nr   uint32
	}{
		{specs.ArchX86_64, "read", 0}, {specs.ArchX86_64, "uname", 63}, {specs.ArchX86_64, "_sysctl", 156},
		{specs.ArchX86_64, "newfstatat", 262}, {specs.ArchX86_64, "clone3", 435}, {specs.ArchX86_64, "listns", 470},
		{specs.ArchX86_64, "ioctl", 16}, {specs.ArchX86_64, "uretprobe", 335},
		{specs.ArchX32, "read", x32Bit | 0}, {specs.ArchX32, "ioctl", x32Bit | 514}, {specs.ArchX32, "execve", x32Bit | 520},
		{specs.ArchX32, "pwritev2", x32Bit | 547}, {specs.ArchX32, "clone3", x32Bit | 435},
		{specs.ArchX86, "uname", 122}, {specs.ArchX86, "socketcall", 102}, {specs.ArchX86, "_llseek", 140},
		{specs.ArchX86, "clock_gettime64", 403}, {specs.ArchX86, "socket", 359}, {specs.ArchX86, "ugetrlimit", 191},
	} {
		if nr, ok := SyscallNumber(tc.arch, tc.name); !ok || nr != tc.nr {
			t.Errorf("SyscallNumber(%s, %s) = %d, %v; want %d", tc.arch, tc.name, nr, ok, tc.nr)
		}
		if name, ok := SyscallName(tc.arch, tc.nr); !ok || name != tc.name {
			t.Errorf("SyscallName(%s, %d) = %q, %v; want %q", tc.arch, tc.nr, name, ok, tc.name)
		}
	}
	for _, tc := range []struct {
		arch specs.Arch
		name string
	}{
		{specs.ArchX32, "uselib"}, {specs.ArchX32, "_sysctl"}, {specs.ArchX86_64, "_llseek"},
		{specs.ArchX86_64, "socketcall"}, {specs.ArchAARCH64, "read"}, {specs.ArchX86_64, ""},
	} {
		if nr, ok := SyscallNumber(tc.arch, tc.name); ok {
			t.Errorf("SyscallNumber(%s, %s) = %d, want none", tc.arch, tc.name, nr)
		}
	}
	if n := len(sysTableX86_64); n < 360 {
		t.Errorf("x86_64 table has %d syscalls, want 360+", n)
	}
	if n := len(sysTableI386); n < 420 {
		t.Errorf("i386 table has %d syscalls, want 420+", n)
	}
	// Every table maps names and numbers one to one.
	for _, arch := range []specs.Arch{specs.ArchX86_64, specs.ArchX32, specs.ArchX86} {
		a, _ := abiFromArch(arch)
		if len(tables().byName[a]) != len(tables().byNr[a]) {
			t.Errorf("%s: %d names for %d numbers", arch, len(tables().byName[a]), len(tables().byNr[a]))
		}
	}
}
