package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestVersion(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"--version"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "runsc version ") || !strings.HasPrefix(lines[1], "commit: ") || lines[2] != "spec: "+specs.Version {
		t.Fatalf("--version printed %q", out.String())
	}
}

func TestBadGlobalFlag(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"--log-format=xml", "list"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "log-format") {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
}

// TestErrorReporting runs the real binary (the test binary re-executed) on a
// bad bundle: exit 1, one error line on stderr, one JSON error line in --log.
func TestErrorReporting(t *testing.T) {
	if os.Getenv("RUNSC_MAIN_TEST") == "1" {
		for i, a := range os.Args {
			if a == "--" {
				os.Exit(run(os.Args[i+1:], os.Stdout, os.Stderr))
			}
		}
	}
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "rootfs"), 0o755)
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"ociVersion": "2.0.0", "root": {"path": "rootfs"}, "process": {"args": ["sh"], "cwd": "/"}}`), 0o644)
	logFile := filepath.Join(dir, "log.json")
	os.WriteFile(logFile, []byte("{\"level\":\"info\",\"msg\":\"earlier\",\"time\":\"2026-01-01T00:00:00Z\"}\n"), 0o644)
	cmd := exec.Command(os.Args[0], "-test.run=TestErrorReporting", "--", "--root", filepath.Join(dir, "state"), "--log", logFile, "--log-format", "json", "create", "--bundle", dir, "x")
	cmd.Env = append(os.Environ(), "RUNSC_MAIN_TEST=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v (stderr %q)", err, stderr.String())
	}
	if s := strings.TrimSpace(stderr.String()); strings.Count(s, "\n") != 0 || !strings.Contains(s, "ociVersion") {
		t.Errorf("stderr is not one line naming the problem: %q", s)
	}
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "earlier") {
		t.Fatalf("--log was not appended to: %q", data)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(lines[1]), &m); err != nil || m["level"] != "error" || !strings.Contains(m["msg"], "ociVersion") || m["time"] == "" {
		t.Errorf("log line %q: %v", lines[1], err)
	}
	if _, err := os.Stat(filepath.Join(dir, "state", "x")); !os.IsNotExist(err) {
		t.Errorf("state dir left behind: %v", err)
	}
}
