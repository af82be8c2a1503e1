package container

import (
	"os"
	"path/filepath"
	"testing"

	"runsc.dev/runsc/runsc/sandbox"
)

// TestOwnsDir checks when delete may trust the in-memory container of the
// process that created it instead of reloading: only while its state
// directory is the one Create made.
func TestOwnsDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "c")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	id, err := dirID(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := &Container{dir: dir, dirID: id}
	if c.ownsDir() {
		t.Error("a container this process did not start owns its directory")
	}
	c.sandboxCmd = &sandbox.Sandbox{}
	if !c.ownsDir() {
		t.Error("the creating process does not own the directory it made")
	}
	// Deleted and created again (another delete and create of the id).
	// A file keeps the old inode from being reused at once.
	keep := filepath.Join(t.TempDir(), "keep")
	if err := os.Rename(dir, keep); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if c.ownsDir() {
		t.Error("a re-created directory is owned")
	}
	os.Remove(dir)
	if c.ownsDir() {
		t.Error("a removed directory is owned")
	}
}
