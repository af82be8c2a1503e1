package gofer

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/runsc/config"
	"runsc.dev/runsc/runsc/control"
	"runsc.dev/runsc/runsc/specutils"
)

func TestForkedMountAttrs(t *testing.T) {
	for _, tc := range []struct {
		opts  []string
		attrs uintptr
		ok    bool
	}{
		{nil, 0, true},
		{[]string{"nosuid", "noexec", "nodev"}, unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NOEXEC | unix.MOUNT_ATTR_NODEV, true},
		{[]string{"ro", "relatime"}, unix.MOUNT_ATTR_RDONLY, true},
		{[]string{"noatime"}, unix.MOUNT_ATTR_NOATIME, true},
		{[]string{"hidepid=2"}, 0, false},
		{[]string{"rslave"}, 0, false},
		{[]string{"rro"}, 0, false},
		{[]string{"bind"}, 0, false},
		{[]string{"sync"}, 0, false},
	} {
		attrs, ok := forkedMountAttrs(&specs.Mount{Type: "proc", Options: tc.opts})
		if ok != tc.ok || ok && attrs != tc.attrs {
			t.Errorf("%q: attrs %#x ok %v, want %#x %v", tc.opts, attrs, ok, tc.attrs, tc.ok)
		}
	}
}

func TestForkedRootfsUnsupported(t *testing.T) {
	spec := specutils.DefaultSpec(false, 0, 0)
	if why := forkedRootfsUnsupported(spec); why != "" {
		t.Fatalf("the default spec: %s", why)
	}
	for name, mounts := range map[string][]specs.Mount{
		"a bind inside /proc": {{Destination: "/proc", Type: "proc"}, {Destination: "/proc/cpuinfo", Type: "bind", Source: "/x", Options: []string{"bind"}}},
		"a tmpfs over /proc":  {{Destination: "/proc", Type: "proc"}, {Destination: "/proc", Type: "tmpfs"}},
		"two procfs":          {{Destination: "/proc", Type: "proc"}, {Destination: "/proc", Type: "proc"}},
		"nested procfs":       {{Destination: "/proc", Type: "proc"}, {Destination: "/proc/x", Type: "proc"}},
		"procfs options":      {{Destination: "/proc", Type: "proc", Options: []string{"hidepid=2"}}},
		"a cgroup2 in /proc":  {{Destination: "/proc", Type: "proc"}, {Destination: "/proc/cg", Type: "cgroup2"}},
	} {
		s := *spec
		s.Mounts = mounts
		if why := forkedRootfsUnsupported(&s); why == "" {
			t.Errorf("%s: supported", name)
		}
	}
	// A mount next to /proc, or one whose path only starts like it.
	s := *spec
	s.Mounts = []specs.Mount{{Destination: "/proc", Type: "proc"}, {Destination: "/process", Type: "tmpfs"}}
	if why := forkedRootfsUnsupported(&s); why != "" {
		t.Errorf("/process next to /proc: %s", why)
	}
}

func TestForkedRootfsUnder(t *testing.T) {
	f := &forkedRootfs{mounts: []forkedMount{{dest: "/proc"}, {dest: "/sys/fs/cgroup"}}}
	for path, want := range map[string]bool{
		"/proc": true, "/proc/kcore": true, "proc/sys": true, "/proc/../proc/bus": true,
		"/process": false, "/sys": false, "/sys/fs/cgroup/x": true, "/sys/firmware": false,
	} {
		if got := f.under(path); got != want {
			t.Errorf("under(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestForkedInitUnsupported(t *testing.T) {
	// runsc spec's default asks for a terminal.
	defaultSpec := func() *specs.Spec {
		s := specutils.DefaultSpec(false, 0, 0)
		s.Process.Terminal = false
		return s
	}
	msg := &control.Message{Gofer: &control.GoferBoot{}}
	conf := &config.Config{}
	if why := forkedInitUnsupported(conf, defaultSpec(), msg); why != "" {
		t.Fatalf("the default spec: %s", why)
	}
	for name, change := range map[string]func(*specs.Spec, *config.Config, *control.Message){
		"rootless": func(_ *specs.Spec, c *config.Config, _ *control.Message) { c.Rootless = true },
		"terminal": func(s *specs.Spec, _ *config.Config, _ *control.Message) { s.Process.Terminal = true },
		"userns": func(s *specs.Spec, _ *config.Config, _ *control.Message) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		},
		"timens": func(s *specs.Spec, _ *config.Config, _ *control.Message) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
		},
		"hooks": func(s *specs.Spec, _ *config.Config, _ *control.Message) {
			s.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/true"}}}
		},
		"listener": func(s *specs.Spec, _ *config.Config, _ *control.Message) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{ListenerPath: "/run/x.sock"}
		},
		"overlay": func(_ *specs.Spec, _ *config.Config, m *control.Message) { m.Gofer.RootfsOverlay = "tmpfs" },
		"idmap": func(s *specs.Spec, _ *config.Config, _ *control.Message) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/x", Type: "bind", Source: "/x", Options: []string{"bind", "idmap"}})
		},
		"idmapFile": func(_ *specs.Spec, _ *config.Config, m *control.Message) { m.FileNames = []string{IdmappedRootfsFile} },
		"no args":   func(s *specs.Spec, _ *config.Config, _ *control.Message) { s.Process.Args = nil },
	} {
		s := defaultSpec()
		c := &config.Config{}
		m := &control.Message{Gofer: &control.GoferBoot{}}
		change(s, c, m)
		if why := forkedInitUnsupported(c, s, m); why == "" {
			t.Errorf("%s: supported", name)
		}
	}
}

// TestSetCaps checks the capability sets the forked init applies against
// the names in the spec.
func TestSetCaps(t *testing.T) {
	c := &specs.LinuxCapabilities{
		Bounding:    []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_BPF"},
		Effective:   []string{"CAP_KILL"},
		Permitted:   []string{"CAP_KILL", "CAP_NET_RAW"},
		Inheritable: []string{"CAP_NET_RAW"},
		Ambient:     []string{"CAP_NET_RAW"},
	}
	caps, err := specutils.CapsFromSpec(c)
	if err != nil {
		t.Fatal(err)
	}
	var p initProgram
	if err := p.setCaps(caps); err != nil {
		t.Fatal(err)
	}
	bit := func(c int) uint64 { return 1 << uint(c) }
	if want := bit(unix.CAP_CHOWN) | bit(unix.CAP_KILL) | bit(unix.CAP_NET_RAW) | bit(unix.CAP_BPF); p.bounding != want {
		t.Errorf("bounding %#x, want %#x", p.bounding, want)
	}
	if p.ambient != bit(unix.CAP_NET_RAW) {
		t.Errorf("ambient %#x", p.ambient)
	}
	d := p.capData
	if d[0].Effective != uint32(bit(unix.CAP_KILL)) || d[0].Permitted != uint32(bit(unix.CAP_KILL)|bit(unix.CAP_NET_RAW)) || d[0].Inheritable != uint32(bit(unix.CAP_NET_RAW)) {
		t.Errorf("low capability words %+v", d[0])
	}
	// CAP_BPF (39) is only bounding: the high words stay empty.
	if d[1] != (unix.CapUserData{}) {
		t.Errorf("high capability words %+v", d[1])
	}
	if p.capHdr.Version != unix.LINUX_CAPABILITY_VERSION_3 || p.capHdr.Pid != 0 {
		t.Errorf("header %+v", p.capHdr)
	}
	if p.lastCap < unix.CAP_BPF {
		t.Errorf("lastCap %d", p.lastCap)
	}
}

func TestDescribeSteps(t *testing.T) {
	spec := specutils.DefaultSpec(false, 0, 0)
	spec.Process.Cwd = "/work"
	spec.Process.User.UID = 1000
	spec.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE"}}
	rootfs := &forkedRootfs{mounts: []forkedMount{{fstype: "proc", dest: "/proc"}}, masked: []string{"/proc/kcore"}}
	d := describeSteps(spec, "/bin/sh", rootfs)
	for _, tc := range []struct {
		rec  statusRecord
		want string
	}{
		{statusRecord{step: stepCwd}, `process.cwd "/work"`},
		{statusRecord{step: stepUID}, "process.user.uid 1000"},
		{statusRecord{step: stepMount}, `mounting proc on "/proc"`},
		{statusRecord{step: stepMask}, `masking "/proc/kcore"`},
		{statusRecord{step: stepMask, index: 5}, `masking "?"`},
		{statusRecord{step: stepRlimit}, "process.rlimits RLIMIT_NOFILE"},
		{statusRecord{step: stepExec}, `exec "sh" (/bin/sh)`},
	} {
		if got := d(tc.rec); got != tc.want {
			t.Errorf("step %d: %q, want %q", tc.rec.step, got, tc.want)
		}
	}
	f := &forkedInit{describe: d}
	err := f.failure(statusRecord{step: stepExec, errno: uint32(unix.ENOEXEC)})
	if !errors.Is(err, syscall.ENOEXEC) || !strings.Contains(err.Error(), "exec format error") {
		t.Errorf("failure: %v", err)
	}
}

// TestReadStatus checks the status pipe's records as the child writes
// them (native byte order, four words), and EOF.
func TestReadStatus(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f := &forkedInit{status: r}
	var b [16]byte
	binary.NativeEndian.PutUint32(b[0:], statusError)
	binary.NativeEndian.PutUint32(b[4:], stepCwd)
	binary.NativeEndian.PutUint32(b[8:], 7)
	binary.NativeEndian.PutUint32(b[12:], uint32(unix.ENOENT))
	w.Write(b[:])
	w.Write(b[:3]) // A partial record, then EOF.
	w.Close()
	rec, err := f.readStatus()
	if err != nil || rec != (statusRecord{kind: statusError, step: stepCwd, index: 7, errno: uint32(unix.ENOENT)}) {
		t.Fatalf("readStatus: %+v, %v", rec, err)
	}
	if _, err := f.readStatus(); !errors.Is(err, io.EOF) {
		t.Errorf("readStatus at a partial record: %v, want EOF", err)
	}
}
