package specutils

import (
	"errors"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestSysctls(t *testing.T) {
	withNS := func(types ...specs.LinuxNamespaceType) []specs.LinuxNamespace {
		var out []specs.LinuxNamespace
		for _, ty := range types {
			out = append(out, specs.LinuxNamespace{Type: ty})
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		ns      []specs.LinuxNamespace
		sysctls map[string]string
		want    string // "" when valid
	}{
		{"ipc with ipcns", withNS(specs.IPCNamespace), map[string]string{"kernel.shmmax": "1", "kernel.msgmax": "1", "kernel.sem": "1 2 3 4", "fs.mqueue.msg_max": "5", "kernel.shm_rmid_forced": "1"}, ""},
		{"ipc slash form", withNS(specs.IPCNamespace), map[string]string{"kernel/shmmni": "1"}, ""},
		{"ipc without ipcns", withNS(specs.UTSNamespace), map[string]string{"kernel.shmmax": "1"}, "IPC namespace"},
		{"mqueue without ipcns", nil, map[string]string{"fs.mqueue.queues_max": "1"}, "IPC namespace"},
		{"hostname with uts", withNS(specs.UTSNamespace), map[string]string{"kernel.hostname": "x", "kernel.domainname": "y"}, ""},
		{"hostname without uts", withNS(specs.IPCNamespace), map[string]string{"kernel.hostname": "x"}, "UTS namespace"},
		{"net with netns", withNS(specs.NetworkNamespace), map[string]string{"net.ipv4.ip_forward": "1"}, ""},
		{"net without netns", withNS(specs.IPCNamespace), map[string]string{"net.ipv4.ip_forward": "1"}, "network namespace"},
		{"net in the host netns by path", []specs.LinuxNamespace{{Type: specs.NetworkNamespace, Path: "/proc/self/ns/net"}}, map[string]string{"net.core.somaxconn": "1"}, "is the host's"},
		{"vm.swappiness", withNS(specs.IPCNamespace, specs.UTSNamespace, specs.NetworkNamespace), map[string]string{"vm.swappiness": "0"}, "not namespaced"},
		{"kernel.panic", withNS(specs.IPCNamespace, specs.UTSNamespace), map[string]string{"kernel.panic": "1"}, "not namespaced"},
		{"kernel.shm prefix trick", withNS(specs.IPCNamespace), map[string]string{"kernel.shmfoo": "1"}, "not namespaced"},
		{"dotdot", withNS(specs.IPCNamespace), map[string]string{"fs.mqueue/../../../sysrq-trigger": "b"}, "not a sysctl name"},
		{"empty key", withNS(specs.IPCNamespace), map[string]string{"": "1"}, "not a sysctl name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := validateSysctls(&specs.Linux{Namespaces: tc.ns, Sysctl: tc.sysctls})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("valid sysctls refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("err = %v, want an invalid-spec error mentioning %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), "linux.sysctl") {
				t.Errorf("error %q does not name linux.sysctl", err)
			}
		})
	}
}

// TestReadSpecRefusesHostSysctl checks the check is part of ReadSpec.
func TestReadSpecRefusesHostSysctl(t *testing.T) {
	_, err := ReadSpec(bundle(t, validJSON(t, func(s *specs.Spec) {
		s.Linux.Sysctl = map[string]string{"vm.swappiness": "0"}
	})))
	if err == nil || !strings.Contains(err.Error(), "vm.swappiness") {
		t.Fatalf("err = %v, want vm.swappiness refused", err)
	}
}

// TestReadSpecRefusesBadSeccomp checks that an unknown seccomp action or
// architecture is refused when the spec is read, before anything starts.
func TestReadSpecRefusesBadSeccomp(t *testing.T) {
	for name, mutate := range map[string]func(*specs.LinuxSeccomp){
		"action":         func(s *specs.LinuxSeccomp) { s.DefaultAction = "SCMP_ACT_FOO" },
		"arch":           func(s *specs.LinuxSeccomp) { s.Architectures = []specs.Arch{"SCMP_ARCH_NOPE"} },
		"syscall action": func(s *specs.LinuxSeccomp) { s.Syscalls[0].Action = "SCMP_ACT_BAR" },
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ReadSpec(bundle(t, validJSON(t, func(s *specs.Spec) {
				sc := &specs.LinuxSeccomp{
					DefaultAction: specs.ActErrno,
					Architectures: []specs.Arch{specs.ArchX86_64},
					Syscalls:      []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActAllow}},
				}
				mutate(sc)
				s.Linux.Seccomp = sc
			})))
			if err == nil || !errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), "linux.seccomp") {
				t.Fatalf("err = %v, want an invalid-spec error naming linux.seccomp", err)
			}
		})
	}
}

// TestLongPaths checks that paths over PATH_MAX are refused with a short
// error that does not echo them whole.
func TestLongPaths(t *testing.T) {
	long := "/" + strings.Repeat("a", 70<<10)
	for name, mutate := range map[string]func(*specs.Spec){
		"mount destination": func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: long, Type: "tmpfs", Source: "tmpfs"})
		},
		"mount source": func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Type: "bind", Source: long})
		},
		"cwd":           func(s *specs.Spec) { s.Process.Cwd = long },
		"masked path":   func(s *specs.Spec) { s.Linux.MaskedPaths = append(s.Linux.MaskedPaths, long) },
		"readonly path": func(s *specs.Spec) { s.Linux.ReadonlyPaths = append(s.Linux.ReadonlyPaths, long) },
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ReadSpec(bundle(t, validJSON(t, mutate)))
			if err == nil || !strings.Contains(err.Error(), "PATH_MAX") || len(err.Error()) > 512 {
				t.Fatalf("err = %.600v, want a short PATH_MAX refusal", err)
			}
		})
	}
}
