// Copyright 2025 The runsc Authors.
// SPDX-License-Identifier: Apache-2.0

package seccomp

import (
	"encoding/json"
	"os"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// dockerProfile returns testdata/docker-default.json: the linux.seccomp
// object that Docker's default profile (moby profiles/seccomp/default.json)
// becomes on x86_64 for a container with the default capabilities.
func dockerProfile(t testing.TB) *specs.LinuxSeccomp {
	t.Helper()
	b, err := os.ReadFile("testdata/docker-default.json")
	if err != nil {
		t.Fatal(err)
	}
	var s specs.LinuxSeccomp
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

const (
	cloneThread  = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND | unix.CLONE_THREAD | unix.CLONE_SYSVSEM
	cloneFork    = unix.CLONE_CHILD_SETTID | unix.CLONE_CHILD_CLEARTID | uint64(unix.SIGCHLD)
	i386Clone    = 120
	i386Mount    = 21
	i386Person   = 136
	i386Read     = 3
	x32IoctlNr   = x32Bit | 514
	auditAarch64 = 0xc00000b7
)

func TestDockerDefaultProfile(t *testing.T) {
	s := dockerProfile(t)
	p, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkFilter(p.Filter); err != nil {
		t.Fatal(err)
	}
	t.Logf("Docker default profile: %d syscall names, %d instructions", len(s.Syscalls[0].Names), len(p.Filter))
	eperm := uint32(retErrno | uint32(unix.EPERM))
	for _, tc := range []struct {
		name string
		d    seccompData
		want uint32
	}{
		{"read", x64(unix.SYS_READ), retAllow},
		{"write", x64(unix.SYS_WRITE), retAllow},
		{"futex", x64(unix.SYS_FUTEX), retAllow},
		{"rseq", x64(unix.SYS_RSEQ), retAllow},
		{"mount", x64(unix.SYS_MOUNT), eperm},
		{"umount2", x64(unix.SYS_UMOUNT2), eperm},
		{"unshare", x64(unix.SYS_UNSHARE, unix.CLONE_NEWUSER), eperm},
		{"setns", x64(unix.SYS_SETNS), eperm},
		{"reboot", x64(unix.SYS_REBOOT), eperm},
		{"kexec_load", x64(unix.SYS_KEXEC_LOAD), eperm},
		{"bpf", x64(unix.SYS_BPF), eperm},
		{"open_by_handle_at", x64(unix.SYS_OPEN_BY_HANDLE_AT), eperm},
		{"unknown number", x64(1000), eperm},
		{"clone thread", x64(unix.SYS_CLONE, cloneThread), retAllow},
		{"clone fork", x64(unix.SYS_CLONE, cloneFork), retAllow},
		{"clone high half", x64(unix.SYS_CLONE, 1<<32|cloneFork), retAllow},
		{"clone CLONE_NEWUSER", x64(unix.SYS_CLONE, cloneFork|unix.CLONE_NEWUSER), eperm},
		{"clone CLONE_NEWNS", x64(unix.SYS_CLONE, unix.CLONE_NEWNS), eperm},
		{"clone CLONE_NEWNET", x64(unix.SYS_CLONE, cloneThread|unix.CLONE_NEWNET), eperm},
		{"clone3", x64(unix.SYS_CLONE3), retErrno | uint32(unix.ENOSYS)},
		{"personality(0)", x64(unix.SYS_PERSONALITY, 0), retAllow},
		{"personality(0xffffffff)", x64(unix.SYS_PERSONALITY, 0xffffffff), retAllow},
		{"personality(PER_LINUX32)", x64(unix.SYS_PERSONALITY, 8), retAllow},
		{"personality(UNAME26)", x64(unix.SYS_PERSONALITY, 0x20000), retAllow},
		{"personality(5)", x64(unix.SYS_PERSONALITY, 5), eperm},
		{"personality(1<<32)", x64(unix.SYS_PERSONALITY, 1<<32), eperm},
		{"socket(AF_INET)", x64(unix.SYS_SOCKET, unix.AF_INET), retAllow},
		{"socket(AF_VSOCK)", x64(unix.SYS_SOCKET, unix.AF_VSOCK), eperm},
		{"socket(AF_VSOCK+2^32)", x64(unix.SYS_SOCKET, 1<<32|unix.AF_VSOCK), retAllow},
		{"arch_prctl", x64(unix.SYS_ARCH_PRCTL), retAllow},
		{"ptrace", x64(unix.SYS_PTRACE), retAllow},
		{"i386 read", i386(i386Read), retAllow},
		{"i386 _llseek", i386(140), retAllow},
		{"i386 socketcall", i386(102), retAllow},
		{"i386 mount", i386(i386Mount), eperm},
		{"i386 clone", i386(i386Clone, cloneFork), retAllow},
		{"i386 clone CLONE_NEWUSER", i386(i386Clone, unix.CLONE_NEWUSER), eperm},
		{"i386 personality(0xffffffff)", i386(i386Person, 0xffffffff), retAllow},
		{"i386 personality(5)", i386(i386Person, 5), eperm},
		{"x32 read", x32(x32Bit | unix.SYS_READ), retAllow},
		{"x32 ioctl", x32(x32IoctlNr), retAllow},
		{"x32 mount", x32(x32Bit | unix.SYS_MOUNT), eperm},
		{"x32 clone CLONE_NEWUSER", x32(x32Bit|unix.SYS_CLONE, unix.CLONE_NEWUSER), eperm},
		{"aarch64", seccompData{nr: 63, arch: auditAarch64}, retKillProc},
	} {
		if got := mustRun(t, p, tc.d); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, Action(got), Action(tc.want))
		}
	}
	// Every name of the allow list is allowed on every ABI that has it.
	for _, name := range s.Syscalls[0].Names {
		for _, arch := range []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32} {
			nr, ok := SyscallNumber(arch, name)
			if !ok {
				continue
			}
			d := x64(nr)
			if arch == specs.ArchX86 {
				d = i386(nr)
			}
			if got := mustRun(t, p, d); got != retAllow {
				t.Errorf("%s %s (%#x): got %v, want ALLOW", arch, name, nr, Action(got))
			}
		}
	}
	// And every syscall of every ABI agrees with the reference evaluator.
	argSets := [][]uint64{nil, {cloneFork | unix.CLONE_NEWPID}, {0xffffffff}, {40}, {8}, {1 << 33}}
	for _, tbl := range [][]sysEntry{sysTableX86_64[:], sysTableX32[:], sysTableI386[:]} {
		for _, e := range tbl {
			for _, args := range argSets {
				for _, d := range []seccompData{x64(e.nr, args...), i386(e.nr, args...)} {
					if got, want := mustRun(t, p, d), refEval(s, d); got != want {
						t.Errorf("arch %#x %s (%#x) args %#x: got %v, want %v", d.arch, e.name, e.nr, args, Action(got), Action(want))
					}
				}
			}
		}
	}
}
