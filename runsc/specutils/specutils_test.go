package specutils

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// bundle writes config (raw JSON) into a fresh bundle with a rootfs dir.
func bundle(t *testing.T, config string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ConfigName), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func validJSON(t *testing.T, mutate func(*specs.Spec)) string {
	t.Helper()
	s := DefaultSpec(false, 0, 0)
	if mutate != nil {
		mutate(s)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDefaultSpecValidates(t *testing.T) {
	for _, rootless := range []bool{false, true} {
		dir := bundle(t, "")
		b, _ := json.Marshal(DefaultSpec(rootless, 1000, 1000))
		os.WriteFile(filepath.Join(dir, ConfigName), b, 0o644)
		s, err := ReadSpec(dir)
		if err != nil {
			t.Fatalf("rootless=%v: default spec does not validate: %v", rootless, err)
		}
		if s.Root.Path != filepath.Join(dir, "rootfs") {
			t.Errorf("root.path = %q, want it resolved against the bundle", s.Root.Path)
		}
	}
}

func TestReadSpecErrors(t *testing.T) {
	ptr := func(i int) *int { return &i }
	for _, tc := range []struct {
		name   string
		config string
		want   string // a substring naming the problem
	}{
		{"empty file", "", "empty"},
		{"whitespace only", "  \n", "empty"},
		{"not json", "hello", "not valid JSON"},
		{"truncated", validJSON(t, nil)[:40], "not valid JSON"},
		{"array", "[]", "not valid JSON"},
		{"deep nesting", strings.Repeat("[", 10001) + strings.Repeat("]", 10001), "not valid JSON"},
		{"bad version", validJSON(t, func(s *specs.Spec) { s.Version = "2.0.0" }), "ociVersion"},
		{"empty version", validJSON(t, func(s *specs.Spec) { s.Version = "" }), "ociVersion"},
		{"garbage version", validJSON(t, func(s *specs.Spec) { s.Version = "abc" }), "ociVersion"},
		{"no root", validJSON(t, func(s *specs.Spec) { s.Root = nil }), "root.path"},
		{"missing rootfs", validJSON(t, func(s *specs.Spec) { s.Root.Path = "nope" }), "root.path"},
		{"rootfs is a file", validJSON(t, func(s *specs.Spec) { s.Root.Path = ConfigName }), "not a directory"},
		{"no process", validJSON(t, func(s *specs.Spec) { s.Process = nil }), "process"},
		{"empty args", validJSON(t, func(s *specs.Spec) { s.Process.Args = nil }), "process.args"},
		{"empty arg0", validJSON(t, func(s *specs.Spec) { s.Process.Args = []string{""} }), "process.args"},
		{"relative cwd", validJSON(t, func(s *specs.Spec) { s.Process.Cwd = "tmp" }), "process.cwd"},
		{"empty cwd", validJSON(t, func(s *specs.Spec) { s.Process.Cwd = "" }), "process.cwd"},
		{"unknown cap", validJSON(t, func(s *specs.Spec) { s.Process.Capabilities.Bounding = []string{"CAP_FOO"} }), "CAP_FOO"},
		{"unknown ambient cap", validJSON(t, func(s *specs.Spec) { s.Process.Capabilities.Ambient = []string{"CAP_BAR"} }), "process.capabilities.ambient"},
		{"rlimit soft>hard", validJSON(t, func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 10, Hard: 5}}
		}), "soft limit"},
		{"unknown rlimit", validJSON(t, func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_FOO", Soft: 1, Hard: 1}}
		}), "RLIMIT_FOO"},
		{"oom too low", validJSON(t, func(s *specs.Spec) { s.Process.OOMScoreAdj = ptr(-1001) }), "oomScoreAdj"},
		{"oom too high", validJSON(t, func(s *specs.Spec) { s.Process.OOMScoreAdj = ptr(1001) }), "oomScoreAdj"},
		{"bad env", validJSON(t, func(s *specs.Spec) { s.Process.Env = []string{"NOEQUALS"} }), "process.env"},
		{"namespace twice", validJSON(t, func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.PIDNamespace})
		}), "listed twice"},
		{"unknown namespace", validJSON(t, func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "foo"})
		}), "linux.namespaces"},
		{"mappings without userns", validJSON(t, func(s *specs.Spec) {
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}
		}), "user namespace"},
		{"relative mount destination", validJSON(t, func(s *specs.Spec) { s.Mounts[0].Destination = "proc" }), "mounts[0].destination"},
		{"relative masked path", validJSON(t, func(s *specs.Spec) { s.Linux.MaskedPaths = []string{"proc/kcore"} }), "linux.maskedPaths[0]"},
		{"relative readonly path", validJSON(t, func(s *specs.Spec) { s.Linux.ReadonlyPaths = []string{"x"} }), "linux.readonlyPaths[0]"},
		{"bad propagation", validJSON(t, func(s *specs.Spec) { s.Linux.RootfsPropagation = "sideways" }), "rootfsPropagation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadSpec(bundle(t, tc.config))
			if err == nil {
				t.Fatalf("ReadSpec succeeded, want error containing %q", tc.want)
			}
			if !errors.Is(err, ErrInvalidSpec) {
				t.Errorf("error %v does not wrap ErrInvalidSpec", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans several lines", err)
			}
		})
	}
}

func TestReadSpecMissingFile(t *testing.T) {
	if _, err := ReadSpec(t.TempDir()); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want not-exist", err)
	}
}

func TestTooLarge(t *testing.T) {
	dir := bundle(t, "")
	f, _ := os.Create(filepath.Join(dir, ConfigName))
	f.Truncate(MaxConfigSize + 10)
	f.Close()
	if _, err := ReadSpec(dir); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v, want size error", err)
	}
}

func TestUnknownFieldsAccepted(t *testing.T) {
	config := strings.Replace(validJSON(t, func(s *specs.Spec) {
		s.Annotations = map[string]string{"org.example/anything": "x"}
	}), `"ociVersion"`, `"someFutureField":{"a":[1,2]},"ociVersion"`, 1)
	s, err := ReadSpec(bundle(t, config))
	if err != nil {
		t.Fatalf("unknown field refused: %v", err)
	}
	if s.Annotations["org.example/anything"] != "x" {
		t.Error("annotation lost")
	}
}

func TestVersions(t *testing.T) {
	for v, ok := range map[string]bool{"1.0.0": true, "1.0.2-dev": true, "1.2.1": true, "1.3.0": true, "0.9": false, "2.0.0": false, "1": false, "x.1": false} {
		if err := validateVersion(v); (err == nil) != ok {
			t.Errorf("validateVersion(%q) = %v, want ok=%v", v, err, ok)
		}
	}
}

func TestReadSpecFromFileSeeks(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "spec")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(validJSON(t, nil))
	// The write left the offset at the end; a re-read must still work.
	for i := 0; i < 2; i++ {
		s, err := ReadSpecFromFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if s.Process.Args[0] != "sh" {
			t.Fatalf("args = %v", s.Process.Args)
		}
	}
}

func TestCapabilityNames(t *testing.T) {
	if c, err := CapabilityFromName("CAP_SYS_ADMIN"); err != nil || c != 21 {
		t.Fatalf("CAP_SYS_ADMIN = %d, %v", c, err)
	}
	if _, err := CapabilityFromName("CAP_NOPE"); err == nil {
		t.Fatal("unknown capability accepted")
	}
	if n := len(AllCapabilityNames()); n < 38 {
		t.Fatalf("only %d capabilities known", n)
	}
}
