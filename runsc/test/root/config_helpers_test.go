//go:build root

package root

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"runsc.dev/runsc/runsc/test/testutil"
)

// configCase is one config.json case of the config tests: edit changes
// the spec of a bundle running script (sh -c), and check asserts on what
// the container printed.
type configCase struct {
	name   string
	script string
	edit   func(b *testutil.Bundle)
	check  func(t *testing.T, out string)
	// inspect copies the inspect program to /bin/inspect.
	inspect bool
}

// runConfigCases runs each case as its own container (run: create, start,
// wait, delete), failing it unless the container exits 0.
func runConfigCases(t *testing.T, prefix string, cases []configCase) {
	t.Helper()
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := testutil.NewBundle(t, "sh", "-c", tc.script)
			if tc.inspect {
				withInspect(t, b)
			}
			if tc.edit != nil {
				tc.edit(b)
			}
			b.Save(t)
			res := r.Run(t, "run", "--bundle", b.Dir, prefix+"-"+strconv.Itoa(i))
			if res.Code != 0 {
				t.Fatalf("run: exit %d\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
			}
			tc.check(t, res.Stdout)
		})
	}
}

// runScript runs script in a container made from b (after edit) and
// returns its outcome; the container is deleted by run.
func runScript(t *testing.T, r *testutil.Runtime, id, script string, edit func(b *testutil.Bundle)) (testutil.Result, *testutil.Bundle) {
	t.Helper()
	b := testutil.NewBundle(t, "sh", "-c", script)
	if edit != nil {
		edit(b)
	}
	b.Save(t)
	return r.Run(t, "run", "--bundle", b.Dir, id), b
}

// lines splits out into its lines, without the trailing empty one.
func lines(out string) []string {
	return strings.Split(strings.TrimRight(out, "\n"), "\n")
}

// statusFields returns the named fields of a /proc/<pid>/status text, with
// runs of whitespace in their values collapsed to one space.
func statusFields(status string, keys ...string) map[string]string {
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
	}
	got := map[string]string{}
	for _, l := range strings.Split(status, "\n") {
		k, v, ok := strings.Cut(l, ":")
		if ok && want[k] {
			got[k] = strings.Join(strings.Fields(v), " ")
		}
	}
	return got
}

// checkFields fails t unless fields has exactly the values of want.
func checkFields(t *testing.T, what string, fields, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if fields[k] != v {
			t.Errorf("%s: %s = %q, want %q", what, k, fields[k], v)
		}
	}
}

// capMask is the /proc/<pid>/status hex mask (16 digits) of caps.
func capMask(t *testing.T, caps ...string) string {
	t.Helper()
	var m uint64
	for _, c := range caps {
		n, ok := capNumbers[c]
		if !ok {
			t.Fatalf("unknown capability %q in the test", c)
		}
		m |= 1 << n
	}
	return strings.Repeat("0", 16-len(strconv.FormatUint(m, 16))) + strconv.FormatUint(m, 16)
}

// capNumbers are the capabilities the tests use.
var capNumbers = map[string]uint{
	"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_FOWNER": 3, "CAP_KILL": 5,
	"CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_NET_BIND_SERVICE": 10,
	"CAP_NET_RAW": 13, "CAP_SYS_CHROOT": 18, "CAP_MKNOD": 27, "CAP_AUDIT_WRITE": 29,
}

// idMapFields normalises a /proc/<pid>/uid_map text to "a b c" lines.
func idMapFields(s string) []string {
	var out []string
	for _, l := range lines(s) {
		if f := strings.Fields(l); len(f) > 0 {
			out = append(out, strings.Join(f, " "))
		}
	}
	return out
}

// readHookMarker reads the state JSON a hook wrote to path.
func readHookMarker(t *testing.T, path string) (specs.State, bool) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		return specs.State{}, false
	}
	var st specs.State
	if err := json.Unmarshal(data, &st); err != nil {
		t.Errorf("%s: %v in %q", filepath.Base(path), err, data)
	}
	return st, true
}

// usernsMaps gives b a new user namespace with the given uid and gid
// mappings.
func usernsMaps(b *testutil.Bundle, uids, gids []specs.LinuxIDMapping) {
	b.Spec.Linux.Namespaces = append(b.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	b.Spec.Linux.UIDMappings = uids
	b.Spec.Linux.GIDMappings = gids
}

// inspectBinary returns the static test program runsc/test/cmd/inspect:
// $INSPECT_BINARY, else one built with CGO_ENABLED=0 into a temp dir of
// t (Go's build cache makes the rebuilds cheap); t is skipped when there
// is no go tool to build it with.
func inspectBinary(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("INSPECT_BINARY"); b != "" {
		abs, err := filepath.Abs(b)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go tool to build the inspect program: %v", err)
	}
	_, file, _, _ := runtime.Caller(0)
	bin := filepath.Join(t.TempDir(), "inspect")
	cmd := exec.Command(goTool, "build", "-o", bin, "./runsc/test/cmd/inspect")
	cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..", "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building inspect: %v\n%s", err, out)
	}
	return bin
}

// withInspect copies the inspect program to /bin/inspect in b's rootfs.
func withInspect(t *testing.T, b *testutil.Bundle) {
	t.Helper()
	data, err := os.ReadFile(inspectBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.Rootfs(), "bin", "inspect"), data, 0o755); err != nil {
		t.Fatal(err)
	}
}

// inspectReport is the JSON the inspect program prints.
type inspectReport struct {
	UID, EUID, GID, EGID int
	Groups               []int
	Umask                int
	Cwd                  string
	Hostname, Domainname string
	IOPrio               int
	Personality          int
	Env                  []string
	Status, Limits       string
	Mountinfo            string
	UIDMap               string `json:"uidMap"`
	GIDMap               string `json:"gidMap"`
}

// parseInspect decodes the first line of out that holds inspect's JSON.
func parseInspect(t *testing.T, out string) inspectReport {
	t.Helper()
	for _, l := range lines(out) {
		if strings.HasPrefix(l, "{") {
			var r inspectReport
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatalf("inspect output %q: %v", l, err)
			}
			return r
		}
	}
	t.Fatalf("no inspect report in %q", out)
	return inspectReport{}
}
