package container

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzValidateID checks that an id ValidateID accepts is safe to use as a
// state directory name: one path element under the root, printable, and
// that every refusal is a one-line ErrInvalidID error.
func FuzzValidateID(f *testing.F) {
	for _, seed := range []string{"", ".", "..", "../x", "a/b", "a b", "a\x00b", "ok", "a.b-c_d+e", "...", strings.Repeat("x", 1025)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, id string) {
		err := ValidateID(id)
		if err != nil {
			if !errors.Is(err, ErrInvalidID) {
				t.Fatalf("ValidateID(%q) = %v, not ErrInvalidID", id, err)
			}
			if strings.ContainsAny(err.Error(), "\n\r\x00") || len(err.Error()) > 512 {
				t.Fatalf("ValidateID(%q): error is not one short line: %q", id, err)
			}
			return
		}
		if id == "" || id == "." || id == ".." || len(id) > maxIDLength {
			t.Fatalf("ValidateID accepted %q", id)
		}
		for _, r := range id {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_+.-", r)) {
				t.Fatalf("ValidateID accepted %q with %q", id, r)
			}
		}
		root := "/run/runsc"
		dir := stateDir(root, id)
		if filepath.Dir(dir) != root || filepath.Base(dir) != id {
			t.Fatalf("id %q gives state dir %q, not one element under %q", id, dir, root)
		}
	})
}
