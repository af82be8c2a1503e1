package container

import (
	"os"
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"runsc.dev/runsc/runsc/specutils"
)

func TestDoEnv(t *testing.T) {
	got := doEnv([]string{"HOME=/root", "SUDO_USER=alice", "SUDO_UID=1000", "XDG_RUNTIME_DIR=/run/user/0", "SSH_AUTH_SOCK=/tmp/x", "KEEP=1", "SUDOKU=fine", "=bad", "noequals"},
		[]string{"KEEP=2", "NEW=3"})
	want := []string{"HOME=/root", "KEEP=2", "SUDOKU=fine", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NEW=3"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("doEnv = %q, want %q", got, want)
	}
}

func TestParseUser(t *testing.T) {
	for _, tc := range []struct {
		in       string
		uid, gid uint32
		ok       bool
	}{
		{"", 7, 8, true}, {"1000", 1000, 1000, true}, {"1000:5", 1000, 5, true},
		{"bob", 0, 0, false}, {"1:x", 0, 0, false}, {"-1", 0, 0, false}, {"1:", 0, 0, false},
	} {
		uid, gid, err := parseUser(tc.in, 7, 8)
		if (err == nil) != tc.ok || tc.ok && (uid != tc.uid || gid != tc.gid) {
			t.Errorf("parseUser(%q) = %d, %d, %v", tc.in, uid, gid, err)
		}
	}
}

func TestParseVolume(t *testing.T) {
	dir := t.TempDir()
	m, err := parseVolume(dir + ":/data:ro")
	if err != nil || m.Source != dir || m.Destination != "/data" || m.Options[len(m.Options)-1] != "ro" {
		t.Errorf("ro volume: %+v, %v", m, err)
	}
	if m, err := parseVolume(dir + ":/data"); err != nil || m.Options[len(m.Options)-1] == "ro" {
		t.Errorf("rw volume: %+v, %v", m, err)
	}
	for _, bad := range []string{"x", dir + ":rel", dir + ":/d:rx", "/no/such/dir/x:/d", ":/d", dir + ":/a:ro:x"} {
		if _, err := parseVolume(bad); err == nil {
			t.Errorf("parseVolume(%q) accepted", bad)
		}
	}
}

func hasNS(s *specs.Spec, typ specs.LinuxNamespaceType) bool {
	_, ok := specutils.HasNamespace(s, typ)
	return ok
}

func mountAt(s *specs.Spec, dest string) *specs.Mount {
	for i := range s.Mounts {
		if s.Mounts[i].Destination == dest {
			return &s.Mounts[i]
		}
	}
	return nil
}

func TestDoSpec(t *testing.T) {
	base := DoOptions{Args: []string{"true"}, Overlay: true, Network: "none", Cwd: "/usr", StateRoot: "/var/run/runsc"}

	s, err := DoSpec(base)
	if err != nil {
		t.Fatal(err)
	}
	if err := specutils.Validate(s); err != nil {
		t.Errorf("spec does not validate: %v", err)
	}
	if s.Annotations[specutils.RootfsOverlayAnnotation] != "tmpfs" || s.Root.Readonly || s.Root.Path != "/" {
		t.Errorf("overlay root: %+v %v", s.Root, s.Annotations)
	}
	// --network none: init gets a network namespace of its own.
	if !hasNS(s, specs.NetworkNamespace) || hasNS(s, specs.UserNamespace) || !hasNS(s, specs.PIDNamespace) {
		t.Errorf("root namespaces: %+v", s.Linux.Namespaces)
	}
	if s.Process.Cwd != "/usr" || !s.Process.NoNewPrivileges || s.Process.User.UID != uint32(os.Geteuid()) {
		t.Errorf("process: %+v", s.Process)
	}
	if m := mountAt(s, "/sys"); m == nil || m.Type != "sysfs" {
		t.Errorf("/sys: %+v", m)
	}
	if s.Linux.MaskedPaths[len(s.Linux.MaskedPaths)-1] != "/var/run/runsc" {
		t.Errorf("state root not masked: %v", s.Linux.MaskedPaths)
	}

	o := base
	o.Overlay, o.Rootless, o.Network, o.Cwd = false, true, "host", "/tmp/somewhere"
	o.CPUs, o.Memory = 1.5, 1<<20
	s, err = DoSpec(o)
	if err != nil {
		t.Fatal(err)
	}
	if s.Annotations[specutils.RootfsOverlayAnnotation] != "none" || !s.Root.Readonly {
		t.Errorf("read-only root: %+v %v", s.Root, s.Annotations)
	}
	if !hasNS(s, specs.UserNamespace) || hasNS(s, specs.NetworkNamespace) || s.Process.User.UID != 0 {
		t.Errorf("rootless host-network spec: %+v user %+v", s.Linux.Namespaces, s.Process.User)
	}
	if m := mountAt(s, "/sys"); m == nil || m.Type != "bind" {
		t.Errorf("rootless /sys without a netns must be a bind: %+v", m)
	}
	if s.Process.Cwd != "/" {
		t.Errorf("cwd under the private /tmp: %q, want /", s.Process.Cwd)
	}
	if r := s.Linux.Resources; r == nil || *r.CPU.Quota != 150000 || *r.CPU.Period != 100000 || *r.Memory.Limit != 1<<20 {
		t.Errorf("resources: %+v", r)
	}

	o = base
	o.Rootless = true
	if s, _ := DoSpec(o); !hasNS(s, specs.NetworkNamespace) {
		t.Error("rootless --network none: no network namespace in the spec")
	}
	for _, bad := range []DoOptions{
		{Network: "none"},
		{Args: []string{"x"}, Network: "bridge"},
		{Args: []string{"x"}, Network: "none", RootDir: "/no/such/dir"},
		{Args: []string{"x"}, Network: "none", User: "root"},
		{Args: []string{"x"}, Network: "none", CPUs: -1},
	} {
		if _, err := DoSpec(bad); err == nil {
			t.Errorf("DoSpec(%+v) accepted", bad)
		}
	}
}
