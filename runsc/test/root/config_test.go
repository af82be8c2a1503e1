//go:build root

package root

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"runsc.dev/runsc/runsc/test/testutil"
)

// The config tests start one container per config.json case and read the
// result from inside (busybox: /proc/self/status, limits, id, hostname,
// /proc/sys) and, where it says more, from the host's /proc.

func TestConfigSeccomp(t *testing.T) {
	const e2big = 7
	runConfigCases(t, "seccomp", []configCase{{
		name: "mkdir EPERM, uname custom errno, the rest allowed",
		script: `grep ^Seccomp: /proc/self/status
mkdir /tmp/denied 2>&1; echo "mkdir=$?"
inspect mkdir /tmp/denied2
inspect uname
test -e /tmp/denied -o -e /tmp/denied2 && echo "mkdir made it"
inspect getpid | cut -d' ' -f1
echo allowed > /tmp/ok && cat /tmp/ok`,
		inspect: true,
		edit: func(b *testutil.Bundle) {
			errno := uint(e2big)
			b.Spec.Linux.Seccomp = &specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow,
				Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
				Syscalls: []specs.LinuxSyscall{
					{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno},
					{Names: []string{"uname"}, Action: specs.ActErrno, ErrnoRet: &errno},
				},
			}
		},
		check: func(t *testing.T, out string) {
			got := lines(out)
			want := []string{"Seccomp:\t2", "mkdir: can't create directory '/tmp/denied': Operation not permitted", "mkdir=1",
				"errno 1", "errno 7", "ok", "allowed"}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("output %q, want %q (Seccomp 2, mkdir EPERM, uname errnoRet 7, others allowed)", got, want)
			}
		},
	}, {
		name:    "no profile",
		script:  "grep ^Seccomp: /proc/self/status; inspect uname",
		inspect: true,
		check: func(t *testing.T, out string) {
			if out != "Seccomp:\t0\nok x86_64\n" {
				t.Errorf("output %q", out)
			}
		},
	}})
}

func TestConfigCapabilities(t *testing.T) {
	status := "grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/self/status"
	caps := func(user specs.User, nnp bool) func(b *testutil.Bundle) {
		return func(b *testutil.Bundle) {
			b.Spec.Process.User = user
			b.Spec.Process.NoNewPrivileges = nnp
			b.Spec.Process.Capabilities = &specs.LinuxCapabilities{
				Bounding:    []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_NET_BIND_SERVICE"},
				Effective:   []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"},
				Permitted:   []string{"CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT"},
				Inheritable: []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"},
				Ambient:     []string{"CAP_NET_BIND_SERVICE"},
			}
		}
	}
	bnd := []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_NET_BIND_SERVICE"}
	runConfigCases(t, "caps", []configCase{{
		// execve by uid 0: permitted and effective become bounding |
		// inheritable (the file counts as fully capable); ambient is
		// kept.
		name:   "root",
		script: status,
		edit:   caps(specs.User{}, false),
		check: func(t *testing.T, out string) {
			checkFields(t, "root", statusFields(out, "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"), map[string]string{
				"CapInh": capMask(t, "CAP_KILL", "CAP_NET_BIND_SERVICE"),
				"CapPrm": capMask(t, bnd...),
				"CapEff": capMask(t, bnd...),
				"CapBnd": capMask(t, bnd...),
				"CapAmb": capMask(t, "CAP_NET_BIND_SERVICE"),
			})
		},
	}, {
		// With no_new_privs, execve grants no capability beyond the
		// permitted set runsc applied.
		name:   "root with no_new_privs",
		script: status,
		edit:   caps(specs.User{}, true),
		check: func(t *testing.T, out string) {
			checkFields(t, "root nnp", statusFields(out, "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"), map[string]string{
				"CapInh": capMask(t, "CAP_KILL", "CAP_NET_BIND_SERVICE"),
				"CapPrm": capMask(t, "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT"),
				"CapEff": capMask(t, "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT"),
				"CapBnd": capMask(t, bnd...),
				"CapAmb": capMask(t, "CAP_NET_BIND_SERVICE"),
			})
		},
	}, {
		// execve by a non-root uid of a file without capabilities:
		// permitted and effective are the ambient set.
		name:   "non-root",
		script: status,
		edit:   caps(specs.User{UID: 1000, GID: 1000}, true),
		check: func(t *testing.T, out string) {
			checkFields(t, "uid 1000", statusFields(out, "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"), map[string]string{
				"CapInh": capMask(t, "CAP_KILL", "CAP_NET_BIND_SERVICE"),
				"CapPrm": capMask(t, "CAP_NET_BIND_SERVICE"),
				"CapEff": capMask(t, "CAP_NET_BIND_SERVICE"),
				"CapBnd": capMask(t, bnd...),
				"CapAmb": capMask(t, "CAP_NET_BIND_SERVICE"),
			})
		},
	}, {
		name:   "default set, no inheritable or ambient",
		script: status,
		check: func(t *testing.T, out string) {
			f := statusFields(out, "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")
			if f["CapInh"] != capMask(t) || f["CapAmb"] != capMask(t) || f["CapBnd"] == capMask(t) || f["CapBnd"] != f["CapEff"] || f["CapBnd"] != f["CapPrm"] {
				t.Errorf("default capabilities: %v", f)
			}
		},
	}})
}

func TestConfigRlimits(t *testing.T) {
	runConfigCases(t, "rlimits", []configCase{{
		name:   "nofile and nproc",
		script: "grep -E '^Max (open files|processes) ' /proc/self/limits; ulimit -n; ulimit -Hn",
		edit: func(b *testutil.Bundle) {
			b.Spec.Process.Rlimits = []specs.POSIXRlimit{
				{Type: "RLIMIT_NOFILE", Soft: 1000, Hard: 2000},
				{Type: "RLIMIT_NPROC", Soft: 300, Hard: 400},
			}
		},
		check: func(t *testing.T, out string) {
			var got []string
			for _, l := range lines(out) {
				got = append(got, strings.Join(strings.Fields(l), " "))
			}
			want := []string{"Max processes 300 400 processes", "Max open files 1000 2000 files", "1000", "2000"}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("limits %q, want %q", got, want)
			}
		},
	}})
}

func TestConfigHostnameDomainname(t *testing.T) {
	runConfigCases(t, "uts", []configCase{{
		name:   "hostname and domainname",
		script: "hostname; cat /proc/sys/kernel/hostname /proc/sys/kernel/domainname",
		edit: func(b *testutil.Bundle) {
			b.Spec.Hostname = "cfg-host"
			b.Spec.Domainname = "cfg.example"
		},
		check: func(t *testing.T, out string) {
			if out != "cfg-host\ncfg-host\ncfg.example\n" {
				t.Errorf("output %q", out)
			}
		},
	}})
	host, _ := os.Hostname()
	if host == "cfg-host" {
		t.Errorf("the host's hostname changed")
	}
}

// TestConfigNetworkLoopback checks a new network namespace (create makes
// it and brings its loopback up) holds lo alone, up, and is not the
// host's.
func TestConfigNetworkLoopback(t *testing.T) {
	host, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	runConfigCases(t, "net", []configCase{{
		name:   "new network namespace",
		script: "ls /sys/class/net; cat /sys/class/net/lo/flags; readlink /proc/self/ns/net",
		check: func(t *testing.T, out string) {
			got := lines(out)
			if len(got) != 3 || got[0] != "lo" {
				t.Fatalf("output %q, want lo alone, its flags, the namespace", got)
			}
			flags, err := strconv.ParseUint(strings.TrimPrefix(got[1], "0x"), 16, 32)
			if err != nil || flags&syscall.IFF_UP == 0 {
				t.Errorf("lo flags %q: not up", got[1])
			}
			if got[2] == host {
				t.Errorf("the container is in the host's network namespace %s", host)
			}
		},
	}})
}

func TestConfigSysctl(t *testing.T) {
	hostShmmax, _ := os.ReadFile("/proc/sys/kernel/shmmax")
	hostForward, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	runConfigCases(t, "sysctl", []configCase{{
		name:   "ipc and net sysctls in private namespaces",
		script: "cat /proc/sys/kernel/shmmax /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/ip_unprivileged_port_start",
		edit: func(b *testutil.Bundle) {
			b.Spec.Linux.Sysctl = map[string]string{
				"kernel.shmmax":                       "123456789",
				"net.ipv4.ip_forward":                 "1",
				"net.ipv4.ip_unprivileged_port_start": "80",
			}
		},
		check: func(t *testing.T, out string) {
			if out != "123456789\n1\n80\n" {
				t.Errorf("output %q", out)
			}
		},
	}})
	if now, _ := os.ReadFile("/proc/sys/kernel/shmmax"); string(now) != string(hostShmmax) {
		t.Errorf("host kernel.shmmax changed: %q -> %q", hostShmmax, now)
	}
	if now, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); string(now) != string(hostForward) {
		t.Errorf("host net.ipv4.ip_forward changed: %q -> %q", hostForward, now)
	}
}

func TestConfigMaskedReadonlyPaths(t *testing.T) {
	runConfigCases(t, "paths", []configCase{{
		name: "masked file and directory, read-only path",
		script: `echo "file=[$(cat /etc/secret)]"
echo "dir=[$(ls -A /secretdir)]"
touch /rodir/new 2>&1; echo "touch=$?"
cat /rodir/kept
echo x > /rwdir/new && echo rw-ok`,
		edit: func(b *testutil.Bundle) {
			root := b.Rootfs()
			for _, d := range []string{"secretdir", "rodir", "rwdir"} {
				os.MkdirAll(filepath.Join(root, d), 0o755)
			}
			os.WriteFile(filepath.Join(root, "etc", "secret"), []byte("top secret\n"), 0o644)
			os.WriteFile(filepath.Join(root, "secretdir", "key"), []byte("k"), 0o644)
			os.WriteFile(filepath.Join(root, "rodir", "kept"), []byte("kept\n"), 0o644)
			b.Spec.Linux.MaskedPaths = append(b.Spec.Linux.MaskedPaths, "/etc/secret", "/secretdir")
			b.Spec.Linux.ReadonlyPaths = append(b.Spec.Linux.ReadonlyPaths, "/rodir")
		},
		check: func(t *testing.T, out string) {
			got := lines(out)
			want := []string{"file=[]", "dir=[]", "touch: /rodir/new: Read-only file system", "touch=1", "kept", "rw-ok"}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("output %q, want %q", got, want)
			}
		},
	}})
}

func TestConfigUser(t *testing.T) {
	runConfigCases(t, "user", []configCase{{
		name:   "uid, gid, additional gids, umask",
		script: "grep -E '^(Uid|Gid|Groups|Umask):' /proc/self/status; id; umask; touch /tmp/f; stat -c '%u:%g %a' /tmp/f",
		edit: func(b *testutil.Bundle) {
			umask := uint32(0o027)
			b.Spec.Process.User = specs.User{UID: 1000, GID: 1001, AdditionalGids: []uint32{1002, 1003}, Umask: &umask}
		},
		check: func(t *testing.T, out string) {
			checkFields(t, "status", statusFields(out, "Uid", "Gid", "Groups", "Umask"), map[string]string{
				"Uid": "1000 1000 1000 1000", "Gid": "1001 1001 1001 1001", "Groups": "1002 1003", "Umask": "0027",
			})
			got := lines(out)
			if len(got) != 7 || got[4] != "uid=1000 gid=1001 groups=1002,1003" || got[5] != "0027" || got[6] != "1000:1001 640" {
				t.Errorf("id, umask, new file: %q", got)
			}
		},
	}, {
		name:   "root without additional gids",
		script: "grep -E '^(Uid|Gid|Groups):' /proc/self/status",
		check: func(t *testing.T, out string) {
			checkFields(t, "status", statusFields(out, "Uid", "Gid", "Groups"), map[string]string{
				"Uid": "0 0 0 0", "Gid": "0 0 0 0", "Groups": "",
			})
		},
	}})
}

func TestConfigNoNewPrivileges(t *testing.T) {
	nnp := func(v bool) func(b *testutil.Bundle) {
		return func(b *testutil.Bundle) { b.Spec.Process.NoNewPrivileges = v }
	}
	want := func(v string) func(t *testing.T, out string) {
		return func(t *testing.T, out string) {
			if out != "NoNewPrivs:\t"+v+"\n" {
				t.Errorf("output %q, want NoNewPrivs %s", out, v)
			}
		}
	}
	script := "grep ^NoNewPrivs: /proc/self/status"
	runConfigCases(t, "nnp", []configCase{
		{name: "set", script: script, edit: nnp(true), check: want("1")},
		{name: "unset", script: script, edit: nnp(false), check: want("0")},
	})
}

func TestConfigEnvCwd(t *testing.T) {
	runConfigCases(t, "envcwd", []configCase{{
		name:   "env and cwd",
		script: "pwd; env | sort",
		edit: func(b *testutil.Bundle) {
			os.MkdirAll(filepath.Join(b.Rootfs(), "work", "dir"), 0o755)
			b.Spec.Process.Cwd = "/work/dir"
			b.Spec.Process.Env = []string{"PATH=/bin", "FOO=bar baz", "EMPTY=", "HOME=/root"}
		},
		check: func(t *testing.T, out string) {
			got := lines(out)
			if len(got) == 0 || got[0] != "/work/dir" {
				t.Fatalf("cwd: %q", got)
			}
			env := map[string]bool{}
			for _, l := range got[1:] {
				env[l] = true
			}
			for _, e := range []string{"PATH=/bin", "FOO=bar baz", "EMPTY=", "HOME=/root", "PWD=/work/dir"} {
				if !env[e] {
					t.Errorf("env lacks %q: %q", e, got[1:])
				}
			}
			for e := range env {
				k, _, _ := strings.Cut(e, "=")
				switch k {
				case "PATH", "FOO", "EMPTY", "HOME", "PWD", "SHLVL", "OLDPWD":
				default:
					t.Errorf("unexpected variable %q in the container's environment", e)
				}
			}
		},
	}})
}

func TestConfigReadonlyRoot(t *testing.T) {
	runConfigCases(t, "roroot", []configCase{{
		name:   "write to / fails",
		script: `touch /new 2>&1; echo "root=$?"; awk '$5 == "/" {split($6, o, ","); print o[1]}' /proc/self/mountinfo; echo x > /dev/shm/ok && echo shm-ok`,
		edit:   func(b *testutil.Bundle) { b.Spec.Root.Readonly = true },
		check: func(t *testing.T, out string) {
			want := "touch: /new: Read-only file system\nroot=1\nro\nshm-ok\n"
			if out != want {
				t.Errorf("output %q, want %q", out, want)
			}
		},
	}})
}

func TestConfigPersonality(t *testing.T) {
	runConfigCases(t, "persona", []configCase{{
		name:   "LINUX32",
		script: "uname -m",
		edit: func(b *testutil.Bundle) {
			b.Spec.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32}
		},
		check: func(t *testing.T, out string) {
			if out != "i686\n" {
				t.Errorf("uname -m = %q, want i686", out)
			}
		},
	}, {
		name:   "LINUX",
		script: "uname -m",
		edit: func(b *testutil.Bundle) {
			b.Spec.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux}
		},
		check: func(t *testing.T, out string) {
			if out != "x86_64\n" {
				t.Errorf("uname -m = %q, want x86_64", out)
			}
		},
	}})
}
