package sysfile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestReadFileMatchesOS(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	// Past the first buffer and several doublings.
	want := bytes.Repeat([]byte("0123456789abcdef"), 10000)
	if err := os.WriteFile(big, want, 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o600)
	for _, p := range []string{big, empty, "/proc/self/stat", "/proc/self/mountinfo"} {
		got, err := ReadFile(p)
		if err != nil {
			t.Fatalf("ReadFile(%s): %v", p, err)
		}
		ref, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		// /proc/self/stat differs between two reads (times): compare
		// what is stable.
		if strings.HasPrefix(p, "/proc/self/stat") {
			got, ref = got[:bytes.IndexByte(got, ')')], ref[:bytes.IndexByte(ref, ')')]
		}
		if !bytes.Equal(got, ref) {
			t.Errorf("ReadFile(%s): %d bytes differ from os.ReadFile's %d", p, len(got), len(ref))
		}
	}
}

func TestErrorsAsOS(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	_, err := ReadFile(missing)
	var pe *fs.PathError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) || pe.Path != missing || pe.Op != "open" {
		t.Errorf("ReadFile of a missing file: %v, want a PathError for open %s that is fs.ErrNotExist", err, missing)
	}
	if _, err := ReadFile(dir); !errors.Is(err, unix.EISDIR) {
		t.Errorf("ReadFile of a directory: %v, want EISDIR", err)
	}
	if err := WriteFile(missing, []byte("x"), 0, 0); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("WriteFile without O_CREAT of a missing file: %v, want fs.ErrNotExist", err)
	}
	if err := WriteFile(filepath.Join(dir, "f"), []byte("x"), unix.O_CREAT|unix.O_EXCL, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(filepath.Join(dir, "f"), []byte("x"), unix.O_CREAT|unix.O_EXCL, 0o640); !errors.Is(err, fs.ErrExist) {
		t.Errorf("O_EXCL over an existing file: %v, want fs.ErrExist", err)
	}
}

func TestWriteFileAndOpen(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := WriteFile(p, []byte("hello world"), unix.O_CREAT, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("bye"), unix.O_TRUNC, 0); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "bye" || fi.Mode().Perm() != 0o640&^umask() {
		t.Errorf("after WriteFile: %q mode %v, want \"bye\" mode %v", b, fi.Mode().Perm(), os.FileMode(0o640&^umask()))
	}
	f, err := Open(p, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Not registered with the netpoller: the fd stays blocking.
	if fl, err := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0); err != nil || fl&unix.O_NONBLOCK != 0 {
		t.Errorf("Open's file is non-blocking (%#x, %v)", fl, err)
	}
	flags, err := unix.FcntlInt(f.Fd(), unix.F_GETFD, 0)
	if err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("Open's fd is not close-on-exec (%#x, %v)", flags, err)
	}
}

func umask() os.FileMode {
	m := unix.Umask(0)
	unix.Umask(m)
	return os.FileMode(m)
}
