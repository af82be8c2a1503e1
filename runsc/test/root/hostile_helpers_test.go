//go:build root

package root

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"runsc.dev/runsc/runsc/test/testutil"
)

// maxErrorLine bounds a one-line error: an error must not echo a huge
// input back whole.
const maxErrorLine = 8 << 10

// expectRefused runs runsc args and checks a clean refusal: exit 1, one
// line on stderr naming want, and nothing left: no state dir for id, no
// spec memfd in any process.
func expectRefused(t *testing.T, r *testutil.Runtime, id, want string, args ...string) {
	t.Helper()
	before := memfdSet(r.Root)
	res := r.Run(t, args...)
	if res.Code == 0 {
		r.Run(t, "delete", "--force", id)
	}
	checkRefusal(t, r, res, id, want)
	if m := newMemfds(r.Root, before); len(m) > 0 {
		t.Errorf("spec memfds left open: %v", m)
	}
}

// memfdSet is the set of spec memfds open on the host now (other
// containers' sandboxes legitimately hold theirs).
func memfdSet(root string) map[string]bool {
	set := map[string]bool{}
	for _, m := range specMemfds(root) {
		set[m] = true
	}
	return set
}

// newMemfds lists the spec memfds open now that were not in before.
func newMemfds(root string, before map[string]bool) []string {
	var out []string
	for _, m := range specMemfds(root) {
		if !before[m] {
			out = append(out, m)
		}
	}
	return out
}

// checkRefusal checks res is a clean refusal (see expectRefused).
func checkRefusal(t *testing.T, r *testutil.Runtime, res testutil.Result, id, want string) {
	t.Helper()
	msg := strings.TrimSpace(res.Stderr)
	if res.Code != 1 {
		t.Errorf("exit %d, want 1 (stderr %.300q)", res.Code, msg)
	}
	if !strings.Contains(msg, want) {
		t.Errorf("error %.300q does not mention %q", msg, want)
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("error spans several lines: %.500q", msg)
	}
	if len(msg) > maxErrorLine {
		t.Errorf("error is %d bytes long", len(msg))
	}
	if id != "" && !strings.ContainsAny(id, "/\x00") && id != "." && id != ".." {
		if _, err := os.Lstat(filepath.Join(r.Root, id)); err == nil {
			t.Errorf("state dir %q left behind", id)
			r.Run(t, "delete", "--force", id)
		}
	}
}

// rootEmpty checks that the state root holds nothing.
func rootEmpty(t *testing.T, r *testutil.Runtime) {
	t.Helper()
	if entries := mustReadDir(t, r.Root); len(entries) != 0 {
		t.Errorf("state root holds %v", entries)
	}
}
