package specutils

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestRunHooks(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	state := specs.State{Version: specs.Version, ID: "c1", Status: specs.StateCreated, Pid: 42, Bundle: "/b"}
	ok := specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "cat > " + out + "; echo >> " + out + "; echo $FOO >> " + out}, Env: []string{"FOO=bar"}}
	if err := RunHooks("createRuntime", []specs.Hook{ok}, state); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(data), "\n", 2)
	var got specs.State
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil || got.ID != "c1" || got.Pid != 42 {
		t.Fatalf("hook stdin %q: %v", lines[0], err)
	}
	if strings.TrimSpace(lines[1]) != "bar" {
		t.Fatalf("hook env: %q", lines[1])
	}

	fail := specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "echo broken >&2; exit 3"}}
	err = RunHooks("poststart", []specs.Hook{fail, ok}, state)
	if err == nil || !strings.Contains(err.Error(), "hooks.poststart[0]") || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("failing hook: %v", err)
	}

	one := 1
	hang := specs.Hook{Path: "/bin/sleep", Args: []string{"sleep", "30"}, Timeout: &one}
	if err := RunHooks("prestart", []specs.Hook{hang}, state); err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("hanging hook: %v", err)
	}
	zero := 0
	if err := RunHooks("prestart", []specs.Hook{{Path: "/bin/true", Timeout: &zero}}, state); err == nil {
		t.Fatal("zero timeout accepted")
	}
	if err := RunHooks("prestart", []specs.Hook{{Path: "/no/such/hook"}}, state); err == nil {
		t.Fatal("missing hook binary accepted")
	}
}
