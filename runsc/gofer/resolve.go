package gofer

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Path resolution inside the container's root.
//
// Every path that comes from the spec or the image is resolved relative to
// an O_PATH descriptor of the root with openat2(RESOLVE_IN_ROOT), so that
// symlinks (absolute or full of "..") are interpreted as if the root were
// "/" and can never lead out of it. Mounts are then made onto
// /proc/self/fd/<N> of the resolved descriptor, never onto a path that
// could be swapped for a symlink between the check and the mount
// (CVE-2021-30465, CVE-2024-45310).

// maxSymlinks bounds the symlinks followed by one resolution, as the
// kernel's MAXSYMLINKS does.
const maxSymlinks = 40

// inRoot is the resolution used for every lookup inside the root.
const inRoot = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

// createKind says what resolveInRoot creates when the path does not exist.
type createKind int

const (
	// noCreate fails with ENOENT on a missing component.
	noCreate createKind = iota
	// createDir creates every missing component as a directory.
	createDir
	// createFile creates missing parents as directories and the last
	// component as an empty regular file.
	createFile
)

// procFdPath is the magic link of fd in this process: mounting onto it
// mounts onto the exact file the descriptor refers to.
func procFdPath(fd int) string {
	return "/proc/self/fd/" + strconv.Itoa(fd)
}

// relInRoot turns an absolute container path into one openat2 accepts
// relative to the root's descriptor.
func relInRoot(path string) string {
	p := strings.TrimLeft(path, "/")
	if p == "" {
		return "."
	}
	return p
}

// openInRoot opens path inside the root rootFd with openat2
// (RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS plus extra). O_CLOEXEC is always
// added; mode is used only with O_CREAT.
func openInRoot(rootFd int, path string, flags int, mode uint32, extra uint64) (int, error) {
	how := unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Resolve: inRoot | extra}
	if flags&unix.O_CREAT != 0 {
		how.Mode = uint64(mode)
	}
	var err error
	// openat2 returns EAGAIN when a concurrent rename or mount raced with
	// a RESOLVE_IN_ROOT lookup: retry a bounded number of times.
	for range 32 {
		var fd int
		fd, err = unix.Openat2(rootFd, relInRoot(path), &how)
		if err == nil {
			return fd, nil
		}
		if !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EINTR) {
			break
		}
	}
	return -1, err
}

// splitPath splits p into its components, dropping empty ones and ".".
func splitPath(p string) []string {
	var out []string
	for c := range strings.SplitSeq(p, "/") {
		if c != "" && c != "." {
			out = append(out, c)
		}
	}
	return out
}

// resolved is the result of resolveInRoot.
type resolved struct {
	// fd is an O_PATH descriptor of the target; the caller closes it.
	fd int
	// path is the target's absolute path inside the root with every
	// symlink resolved.
	path string
	// created is set when the target itself did not exist and was made.
	created bool
}

// resolveInRoot resolves path inside the root rootFd as if the root were
// "/", following symlinks (absolute ones restart at the root, ".." stops
// at it) and, unless kind is noCreate, creating missing components one by
// one with mkdirat/openat(O_CREAT) relative to their parent's descriptor,
// itself resolved inside the root. A dangling symlink is followed and its
// target created, as filepath-securejoin does for runc. The final
// descriptor is opened with RESOLVE_NO_SYMLINKS on the symlink-free path,
// so a symlink swapped in meanwhile makes the call fail instead of
// redirecting it.
func resolveInRoot(rootFd int, path string, kind createKind) (resolved, error) {
	if r, ok := resolveNoSymlinks(rootFd, path, kind); ok {
		return r, nil
	}
	remaining := splitPath(path)
	current := "/"
	links := 0
	created := false
	for len(remaining) > 0 {
		comp := remaining[0]
		remaining = remaining[1:]
		if comp == ".." {
			current = filepath.Dir(current)
			created = false
			continue
		}
		next := filepath.Join(current, comp)
		fd, err := openInRoot(rootFd, next, unix.O_PATH|unix.O_NOFOLLOW, 0, 0)
		if errors.Is(err, unix.ENOENT) && kind != noCreate {
			if err := createIn(rootFd, current, comp, kind == createFile && len(remaining) == 0); err != nil {
				return resolved{}, err
			}
			created = true
			// Look the new component up again: whatever is there now
			// (ours, or a racing creator's) goes through the same checks.
			remaining = append([]string{comp}, remaining...)
			continue
		}
		if err != nil {
			return resolved{}, fmt.Errorf("resolving %q in the root: %q: %w", path, next, err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return resolved{}, fmt.Errorf("resolving %q in the root: stat %q: %w", path, next, err)
		}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			target, err := readlinkAt(fd, "")
			unix.Close(fd)
			if err != nil {
				return resolved{}, fmt.Errorf("resolving %q in the root: readlink %q: %w", path, next, err)
			}
			links++
			if links > maxSymlinks {
				return resolved{}, fmt.Errorf("resolving %q in the root: %w", path, unix.ELOOP)
			}
			if strings.HasPrefix(target, "/") {
				current = "/"
			}
			remaining = append(splitPath(target), remaining...)
			created = false
			continue
		}
		unix.Close(fd)
		if len(remaining) > 0 && st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return resolved{}, fmt.Errorf("resolving %q in the root: %q: %w", path, next, unix.ENOTDIR)
		}
		current = next
		if len(remaining) > 0 {
			created = false
		}
	}
	fd, err := openInRoot(rootFd, current, unix.O_PATH|unix.O_NOFOLLOW, 0, unix.RESOLVE_NO_SYMLINKS)
	if err != nil {
		return resolved{}, fmt.Errorf("opening %q (resolved from %q) in the root: %w", current, path, err)
	}
	return resolved{fd: fd, path: current, created: created}, nil
}

// resolveNoSymlinks is resolveInRoot's fast path, for the usual path
// with no symlink on it: the whole path in one openat2 with
// RESOLVE_NO_SYMLINKS (the walk's own final check), or, when only the
// last component is missing, its parent, then the component created in it
// and the path opened again. A walk would reach the same file: with no
// symlink, ".." is lexical inside the root. Anything else (a symlink, a
// missing parent, an error) reports !ok, and the walk runs.
func resolveNoSymlinks(rootFd int, path string, kind createKind) (resolved, bool) {
	clean := filepath.Clean("/" + path)
	if clean == "/" {
		return resolved{}, false
	}
	fd, err := openNoSymlink(rootFd, clean)
	if err == nil {
		return resolved{fd: fd, path: clean}, true
	}
	if !errors.Is(err, unix.ENOENT) || kind == noCreate {
		return resolved{}, false
	}
	dir, name := filepath.Split(clean)
	dirFd, err := openInRoot(rootFd, dir, unix.O_PATH|unix.O_DIRECTORY, 0, unix.RESOLVE_NO_SYMLINKS)
	if err != nil {
		return resolved{}, false
	}
	if kind == createFile {
		f, err := unix.Openat(dirFd, name, unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_RDONLY|unix.O_CLOEXEC, 0o644)
		if err == nil {
			unix.Close(f)
		}
	} else {
		unix.Mkdirat(dirFd, name, 0o755)
	}
	unix.Close(dirFd)
	// Whatever is there now (ours, or a racing creator's) is looked up
	// like any path: a symlink sends this to the walk.
	if fd, err = openNoSymlink(rootFd, clean); err != nil {
		return resolved{}, false
	}
	return resolved{fd: fd, path: clean, created: true}, true
}

// openNoSymlink opens path inside the root O_PATH with no symlink on the
// way, itself included: RESOLVE_NO_SYMLINKS with O_NOFOLLOW returns a
// trailing symlink instead of failing, and the fstat catches that.
func openNoSymlink(rootFd int, path string) (int, error) {
	fd, err := openInRoot(rootFd, path, unix.O_PATH|unix.O_NOFOLLOW, 0, unix.RESOLVE_NO_SYMLINKS)
	if err != nil {
		return -1, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT == unix.S_IFLNK {
		unix.Close(fd)
		return -1, unix.ELOOP
	}
	return fd, nil
}

// createIn creates name in the directory dir (a resolved path inside the
// root): an empty regular file when file is set, a directory otherwise.
// An existing entry is not an error: the caller looks it up again.
func createIn(rootFd int, dir, name string, file bool) error {
	dirFd, err := openInRoot(rootFd, dir, unix.O_PATH|unix.O_DIRECTORY, 0, unix.RESOLVE_NO_SYMLINKS)
	if err != nil {
		return fmt.Errorf("opening %q in the root: %w", dir, err)
	}
	defer unix.Close(dirFd)
	if file {
		fd, err := unix.Openat(dirFd, name, unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_RDONLY|unix.O_CLOEXEC, 0o644)
		if err == nil {
			unix.Close(fd)
			return nil
		}
		if errors.Is(err, unix.EEXIST) {
			return nil
		}
		return fmt.Errorf("creating file %q in the root: %w", filepath.Join(dir, name), err)
	}
	if err := unix.Mkdirat(dirFd, name, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("creating directory %q in the root: %w", filepath.Join(dir, name), err)
	}
	return nil
}

// openRoot opens an O_PATH descriptor of dir to resolve paths against.
func openRoot(dir string) (int, error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("opening root %q: %w", dir, err)
	}
	return fd, nil
}

// fdStat returns fstat(fd).
func fdStat(fd int) (unix.Stat_t, error) {
	var st unix.Stat_t
	err := unix.Fstat(fd, &st)
	return st, err
}

// isDirMode reports whether a stat mode is a directory's.
func isDirMode(mode uint32) bool {
	return mode&unix.S_IFMT == unix.S_IFDIR
}
