package gofer

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// hostileRoot builds a root full of symlinks that try to leave it, and a
// directory outside it with a canary file. It returns the root, its O_PATH
// descriptor and the outside directory.
func hostileRoot(t *testing.T) (string, int, string) {
	t.Helper()
	root := t.TempDir()
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "canary"), []byte("host"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"etc", "a/b", "proc-real", "sys"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range map[string]string{"etc/passwd": "root:x:0:0", "file": "f", "canary": "container"} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, target := range map[string]string{
		"abs":        "/etc",
		"escape":     "../../../../../../../../etc",
		"deepescape": "a/b/../../../../../../etc",
		"hostdir":    outside,
		"hostcanary": filepath.Join(outside, "canary"),
		"loop1":      "loop2",
		"loop2":      "loop1",
		"self":       "self",
		"dangling":   "/newdir/sub",
		"danglingf":  "/made/file",
		"relative":   "etc/../etc/passwd",
		"a/b/up":     "../../etc",
		"a/b/root":   "/",
		"proc":       "proc-real",
		"magic":      "/proc/self/root",
		"dotdotroot": "..",
	} {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	fd, err := openRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return root, fd, outside
}

// sameFile reports whether fd is the file at path.
func sameFile(t *testing.T, fd int, path string) bool {
	t.Helper()
	var a, b unix.Stat_t
	if err := unix.Fstat(fd, &a); err != nil {
		t.Fatal(err)
	}
	if err := unix.Lstat(path, &b); err != nil {
		return false
	}
	return a.Dev == b.Dev && a.Ino == b.Ino
}

func TestResolveInRootExisting(t *testing.T) {
	root, fd, _ := hostileRoot(t)
	for _, tc := range []struct {
		path, want string
	}{
		{"/etc/passwd", "/etc/passwd"},
		{"etc/passwd", "/etc/passwd"},
		{"/abs/passwd", "/etc/passwd"},
		{"/escape/passwd", "/etc/passwd"},
		{"/deepescape/passwd", "/etc/passwd"},
		{"/../../../etc/passwd", "/etc/passwd"},
		{"/etc/../../../../etc/passwd", "/etc/passwd"},
		{"/relative", "/etc/passwd"},
		{"/a/b/up/passwd", "/etc/passwd"},
		{"/a/b/root/etc/passwd", "/etc/passwd"},
		{"/a/b/root/../../canary", "/canary"},
		{"/dotdotroot/canary", "/canary"},
		{"/", "/"},
		{"/proc", "/proc-real"},
		{"/hostcanary", ""}, // resolved inside the root, where it does not exist
	} {
		r, err := resolveInRoot(fd, tc.path, noCreate)
		if tc.want == "" {
			if err == nil {
				unix.Close(r.fd)
				t.Errorf("resolveInRoot(%q) = %q, want an error", tc.path, r.path)
			} else if !errors.Is(err, unix.ENOENT) {
				t.Errorf("resolveInRoot(%q): %v, want ENOENT", tc.path, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("resolveInRoot(%q): %v", tc.path, err)
			continue
		}
		if r.path != tc.want {
			t.Errorf("resolveInRoot(%q).path = %q, want %q", tc.path, r.path, tc.want)
		}
		if !sameFile(t, r.fd, filepath.Join(root, tc.want)) {
			t.Errorf("resolveInRoot(%q) opened another file than %q", tc.path, filepath.Join(root, tc.want))
		}
		if r.created {
			t.Errorf("resolveInRoot(%q).created = true for an existing file", tc.path)
		}
		unix.Close(r.fd)
	}
}

func TestResolveInRootLoops(t *testing.T) {
	_, fd, _ := hostileRoot(t)
	for _, p := range []string{"/loop1", "/loop2/x", "/self", "/self/x/y"} {
		for _, kind := range []createKind{noCreate, createDir, createFile} {
			r, err := resolveInRoot(fd, p, kind)
			if err == nil {
				unix.Close(r.fd)
				t.Errorf("resolveInRoot(%q, %d) = %q, want ELOOP", p, kind, r.path)
			} else if !errors.Is(err, unix.ELOOP) {
				t.Errorf("resolveInRoot(%q, %d): %v, want ELOOP", p, kind, err)
			}
		}
	}
}

func TestResolveInRootCreateStaysInside(t *testing.T) {
	root, fd, outside := hostileRoot(t)
	for _, tc := range []struct {
		path string
		kind createKind
		want string
	}{
		// The symlink names a host directory: it is created in the root.
		{"/hostdir/x", createDir, filepath.Join(outside, "x")},
		{"/hostdir/y", createFile, filepath.Join(outside, "y")},
		{"/escape/new", createDir, "/etc/new"},
		{"/abs/newfile", createFile, "/etc/newfile"},
		{"/dangling", createDir, "/newdir/sub"},
		{"/danglingf", createFile, "/made/file"},
		{"/n1/n2/n3", createDir, "/n1/n2/n3"},
		{"/../../n4/../n5", createDir, "/n5"},
		{"/f1/f2", createFile, "/f1/f2"},
	} {
		r, err := resolveInRoot(fd, tc.path, tc.kind)
		if err != nil {
			t.Errorf("resolveInRoot(%q): %v", tc.path, err)
			continue
		}
		if r.path != tc.want {
			t.Errorf("resolveInRoot(%q).path = %q, want %q", tc.path, r.path, tc.want)
		}
		if !r.created {
			t.Errorf("resolveInRoot(%q).created = false", tc.path)
		}
		if !sameFile(t, r.fd, filepath.Join(root, tc.want)) {
			t.Errorf("resolveInRoot(%q) opened another file than %q", tc.path, filepath.Join(root, tc.want))
		}
		st, _ := fdStat(r.fd)
		if isDir := isDirMode(st.Mode); isDir != (tc.kind == createDir) {
			t.Errorf("resolveInRoot(%q, %d) made a directory: %v", tc.path, tc.kind, isDir)
		}
		unix.Close(r.fd)
		// Again: it exists now.
		r, err = resolveInRoot(fd, tc.path, tc.kind)
		if err != nil {
			t.Errorf("resolveInRoot(%q) again: %v", tc.path, err)
			continue
		}
		if r.created || r.path != tc.want {
			t.Errorf("resolveInRoot(%q) again = %q created %v", tc.path, r.path, r.created)
		}
		unix.Close(r.fd)
	}
	// Nothing was created outside the root.
	entries, err := os.ReadDir(outside)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "canary" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("the outside directory now holds %v", names)
	}
	if b, err := os.ReadFile(filepath.Join(outside, "canary")); err != nil || string(b) != "host" {
		t.Errorf("the outside canary changed: %q, %v", b, err)
	}
}

func TestResolveInRootNotDir(t *testing.T) {
	_, fd, _ := hostileRoot(t)
	for _, p := range []string{"/file/x", "/etc/passwd/y", "/relative/z"} {
		r, err := resolveInRoot(fd, p, createDir)
		if err == nil {
			unix.Close(r.fd)
			t.Errorf("resolveInRoot(%q) = %q, want ENOTDIR", p, r.path)
		} else if !errors.Is(err, unix.ENOTDIR) {
			t.Errorf("resolveInRoot(%q): %v, want ENOTDIR", p, err)
		}
	}
}

func TestResolveInRootMissing(t *testing.T) {
	root, fd, _ := hostileRoot(t)
	_, err := resolveInRoot(fd, "/does/not/exist", noCreate)
	if !errors.Is(err, unix.ENOENT) {
		t.Errorf("resolveInRoot of a missing path: %v, want ENOENT", err)
	}
	if _, err := os.Lstat(filepath.Join(root, "does")); !os.IsNotExist(err) {
		t.Errorf("noCreate created %q", filepath.Join(root, "does"))
	}
}

func TestOpenInRootStaysInside(t *testing.T) {
	_, fd, _ := hostileRoot(t)
	for _, p := range []string{"/hostcanary", "../../../../canary", "/a/b/root/canary", "/escape/../canary"} {
		f, err := openInRoot(fd, p, unix.O_RDONLY, 0, 0)
		if err != nil {
			if !errors.Is(err, unix.ENOENT) {
				t.Errorf("openInRoot(%q): %v", p, err)
			}
			continue
		}
		buf := make([]byte, 16)
		n, _ := unix.Read(f, buf)
		unix.Close(f)
		if string(buf[:n]) != "container" {
			t.Errorf("openInRoot(%q) read %q, want the root's canary", p, buf[:n])
		}
	}
	// A magic link is never followed.
	procFd, err := unix.Open("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(procFd)
	if f, err := openInRoot(procFd, "self/root/etc", unix.O_PATH, 0, 0); err == nil {
		unix.Close(f)
		t.Errorf("openInRoot followed the magic link /proc/self/root")
	} else if !errors.Is(err, unix.ELOOP) && !errors.Is(err, unix.EXDEV) {
		t.Errorf("openInRoot through a magic link: %v, want ELOOP", err)
	}
}

func TestRelInRoot(t *testing.T) {
	for in, want := range map[string]string{"/": ".", "": ".", "/a/b": "a/b", "//a": "a", "a": "a"} {
		if got := relInRoot(in); got != want {
			t.Errorf("relInRoot(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSplitPath(t *testing.T) {
	got := strings.Join(splitPath("//a/./b//../c/"), "|")
	if got != "a|b|..|c" {
		t.Errorf("splitPath = %q", got)
	}
}

func TestProcSysDest(t *testing.T) {
	root, fd, _ := hostileRoot(t)
	// /proc is a symlink (to a directory inside the root): refused.
	if f, err := procSysDest(fd, "/proc", "proc"); err == nil {
		unix.Close(f)
		t.Errorf("procSysDest accepted a symlink /proc")
	} else if !strings.Contains(err.Error(), "ordinary directory") {
		t.Errorf("procSysDest(symlink /proc): %v", err)
	}
	// A regular file: refused.
	if f, err := procSysDest(fd, "/file", "sysfs"); err == nil {
		unix.Close(f)
		t.Errorf("procSysDest accepted a file")
	} else if !strings.Contains(err.Error(), "ordinary directory") {
		t.Errorf("procSysDest(file): %v", err)
	}
	// Through a symlinked parent: refused, nothing created.
	if f, err := procSysDest(fd, "/abs/sys", "sysfs"); err == nil {
		unix.Close(f)
		t.Errorf("procSysDest accepted a path through a symlink")
	} else if !strings.Contains(err.Error(), "ordinary directory") {
		t.Errorf("procSysDest(through symlink): %v", err)
	}
	if _, err := os.Lstat(filepath.Join(root, "etc/sys")); err == nil {
		t.Errorf("procSysDest created a directory through a symlink")
	}
	// An existing directory, and a missing one (created).
	for _, p := range []string{"/sys", "/newproc/x"} {
		f, err := procSysDest(fd, p, "sysfs")
		if err != nil {
			t.Errorf("procSysDest(%q): %v", p, err)
			continue
		}
		if !sameFile(t, f, filepath.Join(root, p)) {
			t.Errorf("procSysDest(%q) opened another file", p)
		}
		unix.Close(f)
	}
	// Under /proc: refused.
	if f, err := procSysDest(fd, "/proc/sys", "proc"); err == nil {
		unix.Close(f)
		t.Errorf("procSysDest accepted proc on /proc/sys")
	}
}

// TestResolveNoSymlinksMatchesWalk checks that the fast path of
// resolveInRoot (no symlink on the path) gives what the component walk
// gives: the same cleaned path, file and created flag, for existing and
// new targets and paths with "..".
func TestResolveNoSymlinksMatchesWalk(t *testing.T) {
	for _, tc := range []struct {
		path    string
		kind    createKind
		want    string
		created bool
		exists  string // a directory made first
	}{
		{"/a/b", noCreate, "/a/b", false, ""},
		{"a/./b/../b", noCreate, "/a/b", false, ""},
		{"/../../etc/passwd", noCreate, "/etc/passwd", false, ""},
		{"/a/new", createDir, "/a/new", true, ""},
		{"/a/b/../newfile", createFile, "/a/newfile", true, ""},
		{"/a/new", createDir, "/a/new", false, "a/new"},
	} {
		_, fd, _ := hostileRoot(t)
		if tc.exists != "" {
			if err := unix.Mkdirat(fd, tc.exists, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		fast, ok := resolveNoSymlinks(fd, tc.path, tc.kind)
		if !ok {
			t.Fatalf("resolveNoSymlinks(%q) took the walk", tc.path)
		}
		if fast.path != tc.want || fast.created != tc.created {
			t.Errorf("resolveNoSymlinks(%q) = %q created %v, want %q created %v", tc.path, fast.path, fast.created, tc.want, tc.created)
		}
		var a, b unix.Stat_t
		unix.Fstat(fast.fd, &a)
		unix.Close(fast.fd)
		// The walk, on the same (now existing) target.
		walk, err := resolveInRoot(fd, tc.want, noCreate)
		if err != nil {
			t.Fatalf("walk of %q: %v", tc.want, err)
		}
		unix.Fstat(walk.fd, &b)
		unix.Close(walk.fd)
		if a.Ino != b.Ino || a.Dev != b.Dev {
			t.Errorf("%q: the fast path opened another file than the walk", tc.path)
		}
		if tc.kind == createFile && a.Mode&unix.S_IFMT != unix.S_IFREG || tc.kind == createDir && a.Mode&unix.S_IFMT != unix.S_IFDIR {
			t.Errorf("%q: made mode %o", tc.path, a.Mode)
		}
	}
	// A symlink anywhere on the path, last component included, is the walk's.
	_, fd, _ := hostileRoot(t)
	if err := unix.Symlinkat("a", fd, "lnk"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/lnk", "/lnk/b"} {
		if r, ok := resolveNoSymlinks(fd, p, noCreate); ok {
			unix.Close(r.fd)
			t.Errorf("resolveNoSymlinks(%q) went through a symlink", p)
		}
	}
}
