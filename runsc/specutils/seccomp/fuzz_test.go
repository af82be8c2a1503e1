// Copyright 2025 The runsc Authors.
// SPDX-License-Identifier: Apache-2.0

package seccomp

import (
	"encoding/json"
	"math/rand"
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// recordsFor returns seccomp_data records that exercise the rules of s: the
// syscalls it names on every x86 ABI, with argument values at and around the
// values of its conditions, plus a few fixed records.
func recordsFor(s *specs.LinuxSeccomp, limit int) []seccompData {
	recs := []seccompData{
		x64(0), x64(unix.SYS_UNAME), x64(0xffffffff), x64(x32Bit | 1), x64(x32Bit | 514), x64(0x3fffffff),
		i386(0), i386(122), {nr: 1, arch: 0xc00000b7},
	}
	var values []uint64
	for _, sc := range s.Syscalls {
		for _, a := range sc.Args {
			values = append(values, a.Value, a.Value-1, a.Value+1, a.ValueTwo, a.ValueTwo&a.Value, ^a.Value)
		}
	}
	values = append(values, 0, 0xffffffff, 1<<32, ^uint64(0))
	for _, sc := range s.Syscalls {
		for _, name := range sc.Names {
			for _, arch := range []specs.Arch{specs.ArchX86_64, specs.ArchX32, specs.ArchX86} {
				nr, ok := SyscallNumber(arch, name)
				if !ok {
					continue
				}
				mk := x64
				if arch == specs.ArchX86 {
					mk = i386
				}
				recs = append(recs, mk(nr))
				for i, v := range values {
					var args [6]uint64
					for j := range args {
						args[j] = values[(i+j*7)%len(values)]
					}
					args[i%6] = v
					recs = append(recs, mk(nr, args[:]...))
				}
				if len(recs) > limit {
					return recs[:limit]
				}
			}
		}
	}
	return recs
}

// checkAgainstReference compiles s and, if it compiles, checks the filter
// and compares it with refEval on records. It reports whether s compiled.
func checkAgainstReference(t *testing.T, s *specs.LinuxSeccomp, limit int) bool {
	p, err := Compile(s)
	if err != nil {
		if !strings.HasPrefix(err.Error(), "linux.seccomp") {
			t.Fatalf("error %q does not name the field", err)
		}
		return false
	}
	if err := checkFilter(p.Filter); err != nil {
		t.Fatalf("invalid filter: %v\n%v", err, p)
	}
	for _, d := range recordsFor(s, limit) {
		got, err := runFilter(p.Filter, d)
		if err != nil {
			t.Fatalf("running filter: %v", err)
		}
		if want := refEval(s, d); got != want {
			js, _ := json.Marshal(s)
			t.Fatalf("arch %#x nr %#x args %#x: got %v, want %v\nconfig: %s\n%v", d.arch, d.nr, d.args, Action(got), Action(want), js, p)
		}
	}
	return true
}

func FuzzCompile(f *testing.F) {
	docker, err := os.ReadFile("testdata/docker-default.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(docker)
	for _, seed := range []string{
		`{"defaultAction": "SCMP_ACT_ALLOW"}`,
		`{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "architectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"],
		  "syscalls": [{"names": ["read", "_llseek", "ioctl"], "action": "SCMP_ACT_ALLOW"}]}`,
		`{"defaultAction": "SCMP_ACT_KILL", "syscalls": [{"names": ["mmap"], "action": "SCMP_ACT_ALLOW",
		  "args": [{"index": 2, "value": 4, "op": "SCMP_CMP_MASKED_EQ", "valueTwo": 0}, {"index": 5, "value": 4294967296, "op": "SCMP_CMP_LE"}]}]}`,
		`{"defaultAction": "SCMP_ACT_LOG", "listenerPath": "/a", "syscalls": [{"names": ["uname"], "action": "SCMP_ACT_NOTIFY"},
		  {"names": ["kill"], "action": "SCMP_ACT_TRACE", "errnoRet": 7, "args": [{"index": 1, "value": 9, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 15, "op": "SCMP_CMP_GT"}]}]}`,
		`{"defaultAction": "SCMP_ACT_TRAP", "flags": ["SECCOMP_FILTER_FLAG_TSYNC"], "syscalls": [
		  {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 4294967295, "op": "SCMP_CMP_EQ"}]},
		  {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_NE"}]},
		  {"names": ["personality"], "action": "SCMP_ACT_KILL_PROCESS"}]}`,
		`{"defaultAction": "SCMP_ACT_FOO"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			return // keeps the reference evaluation fast
		}
		var s specs.LinuxSeccomp
		if err := json.Unmarshal(data, &s); err != nil {
			return
		}
		checkAgainstReference(t, &s, 2000)
	})
}

var (
	randActions = []specs.LinuxSeccompAction{specs.ActAllow, specs.ActErrno, specs.ActKill, specs.ActKillProcess,
		specs.ActTrap, specs.ActTrace, specs.ActLog, specs.ActNotify}
	randOps = []specs.LinuxSeccompOperator{specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual, specs.OpEqualTo,
		specs.OpGreaterEqual, specs.OpGreaterThan, specs.OpMaskedEqual}
	randArches = []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32, specs.ArchAARCH64}
	randNames  = []string{"read", "write", "ioctl", "uname", "clone", "mmap", "_llseek", "socketcall", "personality",
		"execve", "rt_sigaction", "kill", "futex", "no_such_call", "clock_gettime64", "open"}
)

func randValue(r *rand.Rand) uint64 {
	switch r.Intn(4) {
	case 0:
		return uint64(r.Intn(16))
	case 1:
		return edgeValues[r.Intn(len(edgeValues))]
	case 2:
		return uint64(r.Uint32())
	}
	return r.Uint64()
}

// TestRandomProfiles compares random configurations with the reference
// evaluator.
func TestRandomProfiles(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	compiled := 0
	for i := 0; i < 300; i++ {
		s := &specs.LinuxSeccomp{DefaultAction: randActions[r.Intn(3)], ListenerPath: "/agent"}
		for _, a := range randArches {
			if r.Intn(2) == 0 {
				s.Architectures = append(s.Architectures, a)
			}
		}
		for j := r.Intn(12); j > 0; j-- {
			sc := specs.LinuxSyscall{Action: randActions[r.Intn(len(randActions))]}
			for k := 1 + r.Intn(3); k > 0; k-- {
				sc.Names = append(sc.Names, randNames[r.Intn(len(randNames))])
			}
			if sc.Action == specs.ActErrno || sc.Action == specs.ActTrace {
				e := uint(r.Intn(200))
				sc.ErrnoRet = &e
			}
			for k := r.Intn(4); k > 0; k-- {
				sc.Args = append(sc.Args, specs.LinuxSeccompArg{Index: uint(r.Intn(3)), Op: randOps[r.Intn(len(randOps))],
					Value: randValue(r), ValueTwo: randValue(r)})
			}
			s.Syscalls = append(s.Syscalls, sc)
		}
		if checkAgainstReference(t, s, 5000) {
			compiled++
		}
	}
	t.Logf("%d of 300 random profiles compiled", compiled)
	if compiled < 100 {
		t.Errorf("only %d random profiles compiled", compiled)
	}
}
