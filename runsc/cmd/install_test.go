package cmd

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/subcommands"
)

// runCmd parses args into c's flags and executes it.
func runCmd(t *testing.T, c subcommands.Command, args ...string) subcommands.ExitStatus {
	t.Helper()
	fs := flag.NewFlagSet(c.Name(), flag.ContinueOnError)
	c.SetFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parsing %q: %v", args, err)
	}
	return c.Execute(context.Background(), fs)
}

// keys returns the top-level keys of the JSON object in data, in order.
func keys(t *testing.T, data []byte) []string {
	t.Helper()
	obj, err := parseObject(data)
	if err != nil {
		t.Fatalf("parsing %s: %v", data, err)
	}
	var out []string
	for _, m := range obj {
		out = append(out, m.key)
	}
	return out
}

// decodeRuntimes returns the "runtimes" map of a daemon.json.
func decodeRuntimes(t *testing.T, data []byte) map[string]dockerRuntime {
	t.Helper()
	var cfg struct {
		Runtimes map[string]dockerRuntime `json:"runtimes"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("decoding %s: %v", data, err)
	}
	return cfg.Runtimes
}

func TestAddRuntimeKeepsOtherKeysInOrder(t *testing.T) {
	in := `{"storage-driver": "overlay2", "runtimes": {"kata": {"path": "/usr/bin/kata"}},
	        "log-opts": {"max-size": "10m", "max-file": "3"}, "debug": true}`
	out, replaced, err := addRuntime([]byte(in), "runsc", "/opt/runsc", []string{"--debug", "--platform=native"})
	if err != nil {
		t.Fatal(err)
	}
	if replaced {
		t.Error("replaced = true for a new runtime")
	}
	if got, want := keys(t, out), []string{"storage-driver", "runtimes", "log-opts", "debug"}; !reflect.DeepEqual(got, want) {
		t.Errorf("keys %v, want %v", got, want)
	}
	var rts struct {
		Runtimes json.RawMessage `json:"runtimes"`
		LogOpts  json.RawMessage `json:"log-opts"`
	}
	if err := json.Unmarshal(out, &rts); err != nil {
		t.Fatal(err)
	}
	if got, want := keys(t, rts.Runtimes), []string{"kata", "runsc"}; !reflect.DeepEqual(got, want) {
		t.Errorf("runtimes keys %v, want %v", got, want)
	}
	if got, want := keys(t, rts.LogOpts), []string{"max-size", "max-file"}; !reflect.DeepEqual(got, want) {
		t.Errorf("nested keys reordered: %v, want %v", got, want)
	}
	want := map[string]dockerRuntime{
		"kata":  {Path: "/usr/bin/kata"},
		"runsc": {Path: "/opt/runsc", RuntimeArgs: []string{"--debug", "--platform=native"}},
	}
	if got := decodeRuntimes(t, out); !reflect.DeepEqual(got, want) {
		t.Errorf("runtimes %+v, want %+v", got, want)
	}
	if !strings.HasSuffix(string(out), "}\n") || !strings.Contains(string(out), "\n  \"debug\": true") {
		t.Errorf("output not indented as expected:\n%s", out)
	}
}

func TestAddRuntimeReplacesInPlace(t *testing.T) {
	in := `{"runtimes": {"runsc": {"path": "/old", "runtimeArgs": ["--x"]}, "b": {"path": "/b"}}}`
	out, replaced, err := addRuntime([]byte(in), "runsc", "/new", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !replaced {
		t.Error("replaced = false for an existing runtime")
	}
	want := map[string]dockerRuntime{"runsc": {Path: "/new"}, "b": {Path: "/b"}}
	if got := decodeRuntimes(t, out); !reflect.DeepEqual(got, want) {
		t.Errorf("runtimes %+v, want %+v", got, want)
	}
	if strings.Contains(string(out), "runtimeArgs") {
		t.Errorf("empty runtimeArgs written:\n%s", out)
	}
}

func TestAddRuntimeEmptyAndNull(t *testing.T) {
	for _, in := range []string{"", " \n", "{}", `{"runtimes": null}`} {
		out, _, err := addRuntime([]byte(in), "r", "/p", nil)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if got := decodeRuntimes(t, out); !reflect.DeepEqual(got, map[string]dockerRuntime{"r": {Path: "/p"}}) {
			t.Errorf("%q: runtimes %+v", in, got)
		}
	}
}

func TestMalformedConfigRefused(t *testing.T) {
	for in, want := range map[string]string{
		`{"a": 1,}`:                       "malformed JSON",
		`{"a": 1`:                         "malformed JSON",
		`[1, 2]`:                          "want an object",
		`{"a": 1} {"b": 2}`:               "trailing data",
		`{"a": 1, "a": 2}`:                `duplicate key "a"`,
		`{"runtimes": ["runsc"]}`:         `"runtimes"`,
		`{"runtimes": {"x": }}`:           "malformed JSON",
		`{"runtimes": {"x": {}, "x": 1}}`: `duplicate key "x"`,
	} {
		_, _, err := addRuntime([]byte(in), "runsc", "/p", nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("addRuntime(%s) error %v, want one containing %q", in, err, want)
		}
		if _, err := removeRuntime([]byte(in), "runsc"); err == nil {
			t.Errorf("removeRuntime(%s) accepted malformed JSON", in)
		}
	}
}

func TestRemoveRuntime(t *testing.T) {
	in := `{"a": 1, "runtimes": {"x": {"path": "/x"}, "runsc": {"path": "/r"}}, "z": [1]}`
	out, err := removeRuntime([]byte(in), "runsc")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := keys(t, out), []string{"a", "runtimes", "z"}; !reflect.DeepEqual(got, want) {
		t.Errorf("keys %v, want %v", got, want)
	}
	if got := decodeRuntimes(t, out); !reflect.DeepEqual(got, map[string]dockerRuntime{"x": {Path: "/x"}}) {
		t.Errorf("runtimes %+v", got)
	}
	// The last runtime takes the "runtimes" key with it.
	out, err = removeRuntime(out, "x")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := keys(t, out), []string{"a", "z"}; !reflect.DeepEqual(got, want) {
		t.Errorf("keys %v, want %v", got, want)
	}
	if _, err := removeRuntime(out, "x"); err == nil || !strings.Contains(err.Error(), "not installed") {
		t.Errorf("removing a missing runtime: %v", err)
	}
}

func TestInstallUninstallFiles(t *testing.T) {
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}

	// A missing file (and directory) is created.
	path := filepath.Join(dir, "etc", "docker", "daemon.json")
	if st := runCmd(t, new(Install), "--config-file", path, "--", "--debug", "--root=/x"); st != subcommands.ExitSuccess {
		t.Fatalf("install: %v", st)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]dockerRuntime{"runsc": {Path: self, RuntimeArgs: []string{"--debug", "--root=/x"}}}
	if got := decodeRuntimes(t, data); !reflect.DeepEqual(got, want) {
		t.Errorf("runtimes %+v, want %+v", got, want)
	}
	if !filepath.IsAbs(self) {
		t.Errorf("path %q is not absolute", self)
	}

	// An existing file keeps its other keys and its mode.
	path2 := filepath.Join(dir, "daemon.json")
	if err := os.WriteFile(path2, []byte(`{"debug": true, "hosts": ["unix:///x.sock"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if st := runCmd(t, new(Install), "--config-file", path2, "--runtime", "sandboxed"); st != subcommands.ExitSuccess {
		t.Fatalf("install: %v", st)
	}
	data, _ = os.ReadFile(path2)
	if got, want := keys(t, data), []string{"debug", "hosts", "runtimes"}; !reflect.DeepEqual(got, want) {
		t.Errorf("keys %v, want %v", got, want)
	}
	if _, ok := decodeRuntimes(t, data)["sandboxed"]; !ok {
		t.Errorf("runtime sandboxed missing:\n%s", data)
	}
	if st, _ := os.Stat(path2); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	if st := runCmd(t, new(Uninstall), "--config-file", path2, "--runtime", "sandboxed"); st != subcommands.ExitSuccess {
		t.Fatalf("uninstall: %v", st)
	}
	data, _ = os.ReadFile(path2)
	if got, want := keys(t, data), []string{"debug", "hosts"}; !reflect.DeepEqual(got, want) {
		t.Errorf("keys after uninstall %v, want %v", got, want)
	}
	// Uninstalling again fails and leaves the file alone.
	if st := runCmd(t, new(Uninstall), "--config-file", path2, "--runtime", "sandboxed"); st != subcommands.ExitFailure {
		t.Errorf("second uninstall: %v, want failure", st)
	}

	// Malformed JSON is refused and left untouched; no temp file is left.
	bad := filepath.Join(dir, "bad", "daemon.json")
	os.MkdirAll(filepath.Dir(bad), 0o755)
	os.WriteFile(bad, []byte(`{"debug": true,`), 0o644)
	if st := runCmd(t, new(Install), "--config-file", bad); st != subcommands.ExitFailure {
		t.Errorf("install into malformed JSON: %v, want failure", st)
	}
	if data, _ := os.ReadFile(bad); string(data) != `{"debug": true,` {
		t.Errorf("malformed file changed to %q", data)
	}
	if entries, _ := os.ReadDir(filepath.Dir(bad)); len(entries) != 1 {
		t.Errorf("temp files left: %v", entries)
	}
	// Uninstall from a missing file fails.
	if st := runCmd(t, new(Uninstall), "--config-file", filepath.Join(dir, "none.json")); st != subcommands.ExitFailure {
		t.Errorf("uninstall from a missing file: %v, want failure", st)
	}
}
