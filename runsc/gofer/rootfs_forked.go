package gofer

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// forkedRootfs is what is left of the rootfs for a forked init (fork.go)
// to make: the filesystems that take the pid or cgroup namespace of their
// mounter, and the readonly and masked paths under them.
type forkedRootfs struct {
	mounts   []forkedMount
	readonly []string
	masked   []string
}

// forkedMount is a new filesystem of type fstype, with MOUNT_ATTR_*
// attrs, for init to mount on fd (an O_PATH descriptor of its resolved
// destination dest).
type forkedMount struct {
	fstype string
	attrs  uintptr
	fd     int
	dest   string
}

func (f *forkedRootfs) close() {
	for _, m := range f.mounts {
		unix.Close(m.fd)
	}
}

// under reports whether path is the destination of one of f's mounts, or
// inside it.
func (f *forkedRootfs) under(path string) bool {
	path = filepath.Clean("/" + path)
	for _, m := range f.mounts {
		if path == m.dest || strings.HasPrefix(path, m.dest+"/") {
			return true
		}
	}
	return false
}

// forkedMountType returns the filesystem a forked init must mount itself
// for m ("" if the gofer can): a procfs shows its mounter's pid
// namespace, a cgroup2 its mounter's cgroup namespace root (a v1 cgroup
// mount shows the cgroups of the mounting thread, which the gofer's enters
// first; see mountCgroup).
func forkedMountType(m *specs.Mount) string {
	switch m.Type {
	case "proc":
		return "proc"
	case "cgroup2":
		return "cgroup2"
	case "cgroup":
		if isCgroup2Unified() {
			return "cgroup2"
		}
	}
	return ""
}

// forkedMountAttrs translates the options of a mount a forked init makes
// into MOUNT_ATTR_* flags for fsmount; ok is false for anything those
// cannot say (filesystem data, propagation, recursive attributes).
func forkedMountAttrs(m *specs.Mount) (attrs uintptr, ok bool) {
	o := parseMountOptions(m.Options)
	if o.data != "" || len(o.propagation) > 0 || o.recSet != 0 || o.recClr != 0 || o.idmap || o.copyUp || o.isBind() {
		return 0, false
	}
	for _, f := range []struct {
		ms   uintptr
		attr uintptr
	}{
		{unix.MS_RDONLY, unix.MOUNT_ATTR_RDONLY},
		{unix.MS_NOSUID, unix.MOUNT_ATTR_NOSUID},
		{unix.MS_NODEV, unix.MOUNT_ATTR_NODEV},
		{unix.MS_NOEXEC, unix.MOUNT_ATTR_NOEXEC},
		{unix.MS_NOATIME, unix.MOUNT_ATTR_NOATIME},
		{unix.MS_STRICTATIME, unix.MOUNT_ATTR_STRICTATIME},
		{unix.MS_NODIRATIME, unix.MOUNT_ATTR_NODIRATIME},
	} {
		if o.flags&f.ms != 0 {
			attrs |= f.attr
			o.flags &^= f.ms
		}
	}
	// relatime is fsmount's default.
	o.flags &^= unix.MS_RELATIME
	return attrs, o.flags == 0
}

// forkedRootfsUnsupported says why spec's rootfs cannot be split between
// the gofer and a forked init ("" if it can): a filesystem init must
// mount whose options fsmount cannot express, two on one destination, or
// another mount inside one (it would be made before it).
func forkedRootfsUnsupported(spec *specs.Spec) string {
	var dests []string
	for i := range spec.Mounts {
		m := &spec.Mounts[i]
		if forkedMountType(m) == "" {
			continue
		}
		if _, ok := forkedMountAttrs(m); !ok {
			return fmt.Sprintf("options %q of the %s mount on %q", m.Options, m.Type, m.Destination)
		}
		dests = append(dests, filepath.Clean("/"+m.Destination))
	}
	for i := range spec.Mounts {
		m := &spec.Mounts[i]
		d := filepath.Clean("/" + m.Destination)
		for _, f := range dests {
			if d == f && forkedMountType(m) == "" || d != f && strings.HasPrefix(d, f+"/") {
				return fmt.Sprintf("mount on %q over or inside %q", m.Destination, f)
			}
		}
	}
	for i, a := range dests {
		for _, b := range dests[i+1:] {
			if a == b || strings.HasPrefix(a, b+"/") || strings.HasPrefix(b, a+"/") {
				return fmt.Sprintf("mounts on %q and %q", a, b)
			}
		}
	}
	return ""
}

// prepareRootfsForked is prepareRootfs and FinalizeRootfs done by the
// gofer, on its locked thread that has entered the container's
// namespaces but its pid one (and calls enterCgroup before a v1 cgroup
// mount, which shows the cgroups of its mounter), for a forked init to
// finish
// (forkedRootfs): every mount but procfs and cgroup2 ones, whose
// destinations it resolves and opens; /dev; linux.sysctl (through the
// host's procfs, which a thread in the container's network and ipc
// namespaces sees as the container's for those); the read-only settings
// but under init's mounts; then the pivot, which moves the whole gofer,
// as init's pivot did. Paths under the root are resolved as in
// prepareRootfs, before the pivot through the host's /proc/self/fd.
func prepareRootfsForked(spec *specs.Spec, enterCgroup func() error) (_ *forkedRootfs, retErr error) {
	if spec == nil || spec.Root == nil || !filepath.IsAbs(spec.Root.Path) {
		return nil, errors.New("preparing the rootfs: root.path must be an absolute path")
	}
	rootfs := filepath.Clean(spec.Root.Path)
	var propagation uintptr
	if spec.Linux != nil && spec.Linux.RootfsPropagation != "" {
		p, err := parsePropagation(spec.Linux.RootfsPropagation)
		if err != nil {
			return nil, fmt.Errorf("preparing the rootfs: linux.rootfsPropagation: %w", err)
		}
		propagation = p
	}
	if err := prepareRoot(rootfs, propagation, -1); err != nil {
		return nil, fmt.Errorf("preparing the rootfs %q: %w", rootfs, err)
	}
	fd, err := openRoot(rootfs)
	if err != nil {
		return nil, err
	}
	b := newRootfsBuilder(rootfs, fd)
	defer unix.Close(b.fd)
	f := &forkedRootfs{}
	defer func() {
		if retErr != nil {
			f.close()
		}
	}()
	for i := range spec.Mounts {
		m := &spec.Mounts[i]
		fstype := forkedMountType(m)
		if fstype == "" {
			if m.Type == "cgroup" {
				if err := enterCgroup(); err != nil {
					return nil, err
				}
			}
			if err := b.mount(m); err != nil {
				return nil, err
			}
			continue
		}
		dest := filepath.Clean("/" + m.Destination)
		var dfd int
		if fstype == "proc" {
			dfd, err = procSysDest(b.fd, dest, fstype)
		} else if err = checkProcMount(dest, fstype, false, -1); err == nil {
			var r resolved
			if r, err = resolveInRoot(b.fd, dest, createDir); err == nil {
				dfd = r.fd
				if err = checkProcMount(r.path, fstype, false, -1); err != nil {
					unix.Close(dfd)
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("mounting %q on %q: %w", mountName(m), m.Destination, err)
		}
		attrs, _ := forkedMountAttrs(m)
		f.mounts = append(f.mounts, forkedMount{fstype: fstype, attrs: attrs, fd: dfd, dest: dest})
	}
	if needsDevSetup(spec) {
		if err := b.setupDev(spec); err != nil {
			return nil, fmt.Errorf("setting up /dev: %w", err)
		}
	}
	if spec.Linux != nil {
		if err := writeSysctls(spec.Linux.Sysctl); err != nil {
			return nil, err
		}
		for _, p := range spec.Linux.ReadonlyPaths {
			if f.under(p) {
				f.readonly = append(f.readonly, p)
			}
		}
		for _, p := range spec.Linux.MaskedPaths {
			if f.under(p) {
				f.masked = append(f.masked, p)
			}
		}
	}
	if err := finalizeRootfs(spec, b.fd, rootfs, f.under); err != nil {
		return nil, err
	}
	if err := pivotRoot(rootfs); err != nil {
		return nil, fmt.Errorf("pivoting to the rootfs %q: %w", rootfs, err)
	}
	if propagation != 0 {
		if err := unix.Mount("", "/", "", propagation, ""); err != nil {
			return nil, fmt.Errorf("applying rootfs propagation %q to /: %w", spec.Linux.RootfsPropagation, err)
		}
	}
	return f, nil
}
