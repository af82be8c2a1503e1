package gofer

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/pkg/log"
	"runsc.dev/runsc/pkg/mountinfo"
	"runsc.dev/runsc/runsc/specutils"
)

// prepareOverlay builds what specutils.RootfsOverlayAnnotation (value v)
// asks for from spec's root.path, in the gofer's own mount namespace, under
// dir, and returns a sealed memfd of the spec whose root.path is the result:
// the spec that init and exec'd processes get.
func prepareOverlay(spec *specs.Spec, v, dir string) (*os.File, error) {
	if spec.Root == nil {
		return nil, fmt.Errorf("annotation %s: the spec has no root", specutils.RootfsOverlayAnnotation)
	}
	var merged string
	var err error
	switch v {
	case "tmpfs":
		var split []string
		if spec.Process != nil && spec.Process.Cwd != "/" {
			split = append(split, spec.Process.Cwd)
		}
		merged, err = BuildOverlayRoot(spec.Root.Path, dir, overlaySkips(spec), split)
	case "none":
		merged, err = BuildReadonlyRoot(spec.Root.Path, dir)
	default:
		err = fmt.Errorf("annotation %s: unsupported value %q (want tmpfs or none)", specutils.RootfsOverlayAnnotation, v)
	}
	if err != nil {
		return nil, err
	}
	changed := *spec
	changed.Root = &specs.Root{Path: merged, Readonly: spec.Root.Readonly}
	return specutils.SealedSpecFile(&changed)
}

// overlaySkips are the destinations the spec mounts a filesystem (not a
// bind) on: the overlay need not reproduce what lies under them.
func overlaySkips(spec *specs.Spec) []string {
	var out []string
	for _, m := range spec.Mounts {
		bind := m.Type == "bind"
		for _, o := range m.Options {
			if o == "bind" || o == "rbind" {
				bind = true
			}
		}
		if !bind {
			out = append(out, filepath.Clean(m.Destination))
		}
	}
	return out
}

// BuildReadonlyRoot mounts a tmpfs on dir and binds lower recursively and
// read-only (every submount too) at dir/merged, which it returns.
func BuildReadonlyRoot(lower, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating root directory: %w", err)
	}
	if err := unix.Mount("runsc-root", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
		return "", fmt.Errorf("mounting a tmpfs on %q: %w", dir, err)
	}
	merged := filepath.Join(dir, "merged")
	if err := os.Mkdir(merged, 0o755); err != nil {
		return "", err
	}
	if err := unix.Mount(lower, merged, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return "", fmt.Errorf("binding %q: %w", lower, err)
	}
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	if err := unix.MountSetattr(unix.AT_FDCWD, merged, unix.AT_RECURSIVE, attr); err != nil {
		return "", fmt.Errorf("making %q read-only: %w", merged, err)
	}
	return merged, nil
}

// overlayDirName is the directory, inside the container's state directory,
// on which the gofer mounts the overlay's tmpfs (in its namespace only).
const overlayDirName = "rootfs"

// BuildOverlayRoot mounts a tmpfs on dir and builds in it, at dir/merged,
// a writable view of lower: every directory of lower that has no mount
// below it becomes an overlay (lowerdir the host directory, upper and work
// directories in the tmpfs); a directory with mounts below it is recreated
// in the tmpfs and walked. One overlay of the whole tree would not do:
// overlayfs does not cross mounts, and in a user namespace it refuses a
// lower layer with locked mounts below it. Symlinks are copied and other
// files bound read-only. Paths in skip (relative to lower, e.g. "/proc")
// are left as empty directories: the spec mounts something else there.
// Paths in split (relative to lower) get an overlay of their own, as if
// they were mount points: in a user namespace, overlayfs cannot copy up a
// directory whose owner is not mapped, so the caller's working directory
// is made the root of its own layer, where its parents need no copy-up.
// It returns the merged directory.
func BuildOverlayRoot(lower, dir string, skip, split []string) (string, error) {
	lower = filepath.Clean(lower)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating overlay directory: %w", err)
	}
	if err := unix.Mount("runsc-overlay", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
		return "", fmt.Errorf("mounting the overlay tmpfs on %q: %w", dir, err)
	}
	mounts, err := mountPoints()
	if err != nil {
		return "", err
	}
	b := &overlayBuilder{
		lower:  lower,
		layers: filepath.Join(dir, "layers"),
		mounts: mounts,
		skip:   map[string]bool{filepath.Clean(dir): true},
	}
	for _, s := range skip {
		b.skip[filepath.Join(lower, s)] = true
	}
	for _, s := range split {
		b.mounts = append(b.mounts, filepath.Join(lower, s))
	}
	merged := filepath.Join(dir, "merged")
	for _, d := range []string{b.layers, merged} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return "", fmt.Errorf("creating %q: %w", d, err)
		}
	}
	if err := b.build(lower, merged); err != nil {
		return "", fmt.Errorf("building the overlay of %q: %w", lower, err)
	}
	log.Debugf("overlay of %q at %q: %d overlay mounts", lower, merged, b.n)
	return merged, nil
}

type overlayBuilder struct {
	lower  string
	layers string
	mounts []string
	skip   map[string]bool
	n      int
}

// hasMountBelow reports whether some mount point lies strictly under p.
func (b *overlayBuilder) hasMountBelow(p string) bool {
	prefix := p + "/"
	if p == "/" {
		prefix = "/"
	}
	for _, m := range b.mounts {
		if m != p && strings.HasPrefix(m, prefix) {
			return true
		}
	}
	return false
}

// build makes dst (an existing directory in the tmpfs) a writable view of
// the host directory src.
func (b *overlayBuilder) build(src, dst string) error {
	if b.skip[src] {
		return nil
	}
	if !b.hasMountBelow(src) {
		return b.overlay(src, dst)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("reading %q: %w", src, err)
	}
	for _, e := range entries {
		s, d := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		fi, err := os.Lstat(s)
		if err != nil {
			continue // Gone meanwhile.
		}
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(s)
			if err != nil {
				return err
			}
			if err := os.Symlink(target, d); err != nil {
				return err
			}
		case fi.IsDir():
			if err := mkdirLike(d, fi); err != nil {
				return err
			}
			if err := b.build(s, d); err != nil {
				return err
			}
		default:
			if err := bindFileReadonly(s, d); err != nil {
				log.Debugf("overlay: skipping %q: %v", s, err)
			}
		}
	}
	return nil
}

// overlay mounts an overlay of src (no mounts below it) on dst.
func (b *overlayBuilder) overlay(src, dst string) error {
	b.n++
	layer := filepath.Join(b.layers, strconv.Itoa(b.n))
	upper, work := filepath.Join(layer, "upper"), filepath.Join(layer, "work")
	for _, d := range []string{layer, upper, work} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return err
		}
	}
	// The upper directory takes the lower one's mode and owner, as the
	// root of an overlay shows the upper's.
	var st unix.Stat_t
	if err := unix.Stat(src, &st); err == nil {
		os.Chmod(upper, os.FileMode(st.Mode&0o7777))
		os.Lchown(upper, int(st.Uid), int(st.Gid))
	}
	opts := "lowerdir=" + escapeOverlayPath(src) + ",upperdir=" + escapeOverlayPath(upper) + ",workdir=" + escapeOverlayPath(work)
	if err := unix.Mount("overlay", dst, "overlay", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		return fmt.Errorf("mounting an overlay of %q: %w", src, err)
	}
	return nil
}

// mkdirLike makes the directory d with fi's mode (sticky, setgid and
// setuid bits too) and, where the ids are mapped, owner.
func mkdirLike(d string, fi os.FileInfo) error {
	if err := os.Mkdir(d, 0o700); err != nil {
		return err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		os.Lchown(d, int(st.Uid), int(st.Gid)) // Fails for unmapped ids (rootless).
		return unix.Chmod(d, st.Mode&0o7777)
	}
	return os.Chmod(d, fi.Mode().Perm())
}

// bindFileReadonly binds the file src read-only on a new file dst.
func bindFileReadonly(src, dst string) error {
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return err
	}
	f.Close()
	if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
		return err
	}
	return unix.Mount("", dst, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, "")
}

// escapeOverlayPath escapes the characters overlayfs's option parser
// treats specially.
func escapeOverlayPath(p string) string {
	return strings.NewReplacer(`\`, `\\`, `,`, `\,`, `:`, `\:`).Replace(p)
}

// mountPoints lists the mount points of this mount namespace.
func mountPoints() ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("reading mount table: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		out = append(out, mountinfo.Unescape(fields[4]))
	}
	return out, sc.Err()
}
