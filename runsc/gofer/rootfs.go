package gofer

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"runsc.dev/runsc/pkg/log"
)

// rootfsBuilder holds the state of one PrepareRootfs call.
type rootfsBuilder struct {
	// path is the rootfs's path in the host's view.
	path string
	// fd is an O_PATH descriptor of the rootfs's self-bind: every path
	// inside the container is resolved against it.
	fd int
	// uid and gid own what the builder creates (its effective ids).
	uid, gid int
}

// newRootfsBuilder returns the builder of rootfs, whose self-bind is fd.
func newRootfsBuilder(rootfs string, fd int) *rootfsBuilder {
	return &rootfsBuilder{path: rootfs, fd: fd, uid: unix.Geteuid(), gid: unix.Getegid()}
}

// PrepareRootfs builds spec.Root.Path into the container's root and pivots
// into it. It is called by the container's init, in its own (private)
// mount namespace, before anything of the container runs:
//
//   - "/" is made recursively slave (or given linux.rootfsPropagation) so
//     nothing done here propagates to the host, and the rootfs's parent
//     mount made private if it is shared (pivot_root needs it);
//   - the rootfs is bind-mounted onto itself (recursively) so it is a
//     mount point;
//   - every spec mount is made, in order, on a destination resolved and
//     created inside the rootfs (see resolveInRoot), through the
//     destination's /proc/self/fd magic link;
//   - unless /dev is bound from the host: linux.devices and the default
//     devices (null, zero, full, random, urandom, tty) are created, and
//     the /dev/ptmx, /dev/fd, /dev/std{in,out,err} and /dev/core links;
//   - pivot_root(".", ".") switches to the rootfs, and the old root is
//     made slave and detached;
//   - linux.rootfsPropagation, if set, is applied to the new "/".
//
// Read-only settings are applied later, by FinalizeRootfs.
func PrepareRootfs(spec *specs.Spec) error {
	return prepareRootfs(spec, idmapTrees{root: -1})
}

// prepareRootfs is PrepareRootfs with the idmapped mounts the sandbox made
// (see boot.IdmappedRootfsFile): with trees.root >= 0 the rootfs is that
// tree, attached with move_mount onto root.path, instead of a bind of
// root.path onto itself; idmapped bind mounts use trees.mounts.
func prepareRootfs(spec *specs.Spec, trees idmapTrees) error {
	if spec == nil || spec.Root == nil || !filepath.IsAbs(spec.Root.Path) {
		return errors.New("preparing the rootfs: root.path must be an absolute path")
	}
	rootfs := filepath.Clean(spec.Root.Path)
	var propagation uintptr
	if spec.Linux != nil && spec.Linux.RootfsPropagation != "" {
		p, err := parsePropagation(spec.Linux.RootfsPropagation)
		if err != nil {
			return fmt.Errorf("preparing the rootfs: linux.rootfsPropagation: %w", err)
		}
		propagation = p
	}
	if err := prepareRoot(rootfs, propagation, trees.root); err != nil {
		return fmt.Errorf("preparing the rootfs %q: %w", rootfs, err)
	}
	fd, err := openRoot(rootfs)
	if err != nil {
		return err
	}
	b := newRootfsBuilder(rootfs, fd)
	defer unix.Close(b.fd)

	premadeIdmaps = map[*specs.Mount]int{}
	defer func() { premadeIdmaps = nil }()
	for i, fd := range trees.mounts {
		if i < len(spec.Mounts) {
			premadeIdmaps[&spec.Mounts[i]] = fd
		}
	}
	for i := range spec.Mounts {
		if err := b.mount(&spec.Mounts[i]); err != nil {
			return err
		}
	}
	setupDev := needsDevSetup(spec)
	if setupDev {
		if err := b.setupDev(spec); err != nil {
			return fmt.Errorf("setting up /dev: %w", err)
		}
	}
	if err := pivotRoot(rootfs); err != nil {
		return fmt.Errorf("pivoting to the rootfs %q: %w", rootfs, err)
	}
	if setupDev {
		if err := reopenDevNull(); err != nil {
			return fmt.Errorf("reopening /dev/null inside the container: %w", err)
		}
	}
	if propagation != 0 {
		if err := unix.Mount("", "/", "", propagation, ""); err != nil {
			return fmt.Errorf("applying rootfs propagation %q to /: %w", spec.Linux.RootfsPropagation, err)
		}
	}
	return nil
}

// prepareRoot makes "/" slave (or rootPropagation) recursively, makes the
// rootfs's parent mount private if it is shared, and binds the rootfs
// onto itself, or attaches tree (when >= 0) on it.
func prepareRoot(rootfs string, rootPropagation uintptr, tree int) error {
	flags := uintptr(unix.MS_SLAVE | unix.MS_REC)
	if rootPropagation != 0 {
		flags = rootPropagation
	}
	if err := unix.Mount("", "/", "", flags, ""); err != nil {
		return fmt.Errorf("setting the propagation of / to %#x: %w", flags, err)
	}
	// Recursively slave or private, no mount is shared any more: only a
	// shared propagation asks for the mount table (about 0.1 ms).
	if flags&unix.MS_SHARED != 0 || flags&unix.MS_REC == 0 {
		mounts, err := readMountInfo()
		if err != nil {
			return err
		}
		if parent, ok := parentMount(mounts, rootfs); ok && parent.isShared() {
			// pivot_root fails when the new root's parent mount is shared,
			// and the bind below must not propagate to other namespaces.
			if err := unix.Mount("", parent.mountpoint, "", unix.MS_PRIVATE, ""); err != nil {
				return fmt.Errorf("making the parent mount %q private: %w", parent.mountpoint, err)
			}
		}
	}
	if tree >= 0 {
		if err := unix.MoveMount(tree, "", unix.AT_FDCWD, rootfs, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return fmt.Errorf("attaching the idmapped rootfs: move_mount: %w", err)
		}
		return nil
	}
	if err := unix.Mount(rootfs, rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("binding the rootfs onto itself: %w", err)
	}
	return nil
}

// pivotRoot makes rootfs the root, the way runc does: pivot_root(".", ".")
// from inside it stacks the old root on top of the new one, and the old
// root, made slave so the unmount does not propagate to the host, is then
// detached.
func pivotRoot(rootfs string) error {
	oldroot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening the old root: %w", err)
	}
	defer unix.Close(oldroot)
	newroot, err := unix.Open(rootfs, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening the new root: %w", err)
	}
	defer unix.Close(newroot)
	if err := unix.Fchdir(newroot); err != nil {
		return fmt.Errorf("changing to the new root: %w", err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Fchdir(oldroot); err != nil {
		return fmt.Errorf("changing to the old root: %w", err)
	}
	if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("making the old root slave: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detaching the old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("changing to /: %w", err)
	}
	return nil
}

// reopenDevNull points those of stdin, stdout and stderr that are the
// host's /dev/null at the container's, as runc does, so that no
// descriptor keeps a host /dev mount referenced.
func reopenDevNull() error {
	rootFd, err := openRoot("/")
	if err != nil {
		return err
	}
	defer unix.Close(rootFd)
	// Check by O_PATH descriptor before opening: opening some other
	// device could have side effects.
	pathFd, err := openDevNull(rootFd)
	if err != nil {
		// The image kept its own /dev/null: leave stdio alone.
		log.Warningf("not reopening stdio on the container's /dev/null: %v", err)
		return nil
	}
	unix.Close(pathFd)
	null, err := openInRoot(rootFd, "/dev/null", unix.O_RDWR|unix.O_NOFOLLOW, 0, unix.RESOLVE_NO_SYMLINKS)
	if err != nil {
		return fmt.Errorf("opening /dev/null: %w", err)
	}
	defer unix.Close(null)
	if err := verifyDevNull(null); err != nil {
		return err
	}
	nullSt, err := fdStat(null)
	if err != nil {
		return err
	}
	for fd := 0; fd < 3; fd++ {
		st, err := fdStat(fd)
		if err != nil {
			continue
		}
		if st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == nullSt.Rdev && st.Dev != nullSt.Dev {
			if err := unix.Dup3(null, fd, 0); err != nil {
				return fmt.Errorf("dup3 onto fd %d: %w", fd, err)
			}
		}
	}
	return nil
}

// FinalizeRootfs applies the read-only settings once the container's root
// is "/" (after PrepareRootfs, and after MountConsole if there is a
// terminal), in runc's order:
//
//   - spec tmpfs mounts and /dev asking for "ro" are remounted read-only
//     (they were left writable for the mounts and devices made inside);
//   - root.readonly: "/" is remounted read-only, keeping its nosuid,
//     nodev and noexec flags;
//   - linux.readonlyPaths are bound onto themselves and remounted
//     read-only (MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC as the mount
//     already had);
//   - linux.maskedPaths: a file is covered by a bind of /dev/null, after
//     checking by descriptor that it is the 1:3 character device
//     (CVE-2025-31133), a directory by a read-only tmpfs.
//
// A readonly or masked path that does not exist is skipped. Paths are
// resolved inside "/" without following magic links, and mounts are made
// through /proc/self/fd, so the container's procfs must be on /proc.
func FinalizeRootfs(spec *specs.Spec) error {
	if spec == nil {
		return errors.New("finalizing the rootfs: no spec")
	}
	rootFd, err := openRoot("/")
	if err != nil {
		return fmt.Errorf("finalizing the rootfs: %w", err)
	}
	defer unix.Close(rootFd)
	return finalizeRootfs(spec, rootFd, "/", nil)
}

// finalizeRootfs is FinalizeRootfs for the root at root (rootFd, an
// O_PATH descriptor of it), before or after the pivot; it leaves the
// readonly and masked paths for which skip returns true to the caller.
func finalizeRootfs(spec *specs.Spec, rootFd int, root string, skip func(path string) bool) error {
	procChecked := false
	needProc := func() error {
		if procChecked {
			return nil
		}
		if err := checkProcSelfFd(); err != nil {
			return fmt.Errorf("finalizing the rootfs: %w", err)
		}
		procChecked = true
		return nil
	}

	for i := range spec.Mounts {
		m := &spec.Mounts[i]
		o := parseMountOptions(m.Options)
		if o.flags&unix.MS_RDONLY == 0 || o.isBind() || m.Type == "bind" {
			continue
		}
		if m.Type != "tmpfs" && !isDevDest(m.Destination) {
			continue
		}
		if err := needProc(); err != nil {
			return err
		}
		if err := remountReadonly(rootFd, m.Destination, o.flags); err != nil {
			return fmt.Errorf("remounting %q read-only: %w", m.Destination, err)
		}
	}
	if spec.Root != nil && spec.Root.Readonly {
		if err := setRootReadonly(root); err != nil {
			return fmt.Errorf("remounting / read-only: %w", err)
		}
	}
	if spec.Linux == nil {
		return nil
	}
	for _, p := range spec.Linux.ReadonlyPaths {
		if skip != nil && skip(p) {
			continue
		}
		if err := needProc(); err != nil {
			return err
		}
		if err := readonlyPath(rootFd, p); err != nil {
			return fmt.Errorf("making %q read-only: %w", p, err)
		}
	}
	devNull := -1
	defer func() {
		if devNull >= 0 {
			unix.Close(devNull)
		}
	}()
	for _, p := range spec.Linux.MaskedPaths {
		if skip != nil && skip(p) {
			continue
		}
		if err := needProc(); err != nil {
			return err
		}
		if err := maskPath(rootFd, p, &devNull); err != nil {
			return fmt.Errorf("masking %q: %w", p, err)
		}
	}
	return nil
}

// checkProcSelfFd checks that /proc/self/fd is procfs's, so that mounts
// made through it land on the descriptors' files.
func checkProcSelfFd() error {
	var fs unix.Statfs_t
	if err := unix.Statfs("/proc/self/fd", &fs); err != nil {
		return fmt.Errorf("no procfs on /proc: %w", err)
	}
	if fs.Type != unix.PROC_SUPER_MAGIC {
		return fmt.Errorf("/proc/self/fd is not on a procfs (filesystem type %#x)", fs.Type)
	}
	return nil
}

// remountReadonly remounts the mount at dest read-only, keeping flags
// (retrying a few times on EBUSY, as runc does).
func remountReadonly(rootFd int, dest string, flags uintptr) error {
	fd, err := openInRoot(rootFd, dest, unix.O_PATH|unix.O_DIRECTORY, 0, 0)
	if err != nil {
		return fmt.Errorf("opening %q: %w", dest, err)
	}
	defer unix.Close(fd)
	flags &^= unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT
	for range 5 {
		err = bindRemount(fd, flags|unix.MS_RDONLY, 0)
		if !errors.Is(err, unix.EBUSY) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// setRootReadonly remounts the root mount at root ("/" once pivoted)
// read-only, keeping its nosuid, nodev and noexec flags, and its other
// locked flags if the kernel insists.
func setRootReadonly(root string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(root, &st); err != nil {
		return fmt.Errorf("statfs: %w", err)
	}
	cur := statfsToMountFlags(&st)
	flags := uintptr(unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY) | cur&(unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC)
	err := unix.Mount("", root, "", flags, "")
	if errors.Is(err, unix.EPERM) {
		err = unix.Mount("", root, "", flags|cur&mntLockFlags, "")
	}
	return err
}

// readonlyPath binds path onto itself and remounts the bind read-only.
func readonlyPath(rootFd int, path string) error {
	fd, err := openInRoot(rootFd, path, unix.O_PATH, 0, 0)
	if errors.Is(err, unix.ENOENT) {
		log.Debugf("readonly path %q does not exist, skipping", path)
		return nil
	}
	if err != nil {
		return fmt.Errorf("opening: %w", err)
	}
	defer unix.Close(fd)
	if err := mountOnFd(procFdPath(fd), fd, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("binding onto itself: %w", err)
	}
	// Reopen to reach the new bind rather than the file under it.
	fd3, err := openInRoot(rootFd, path, unix.O_PATH, 0, 0)
	if err != nil {
		return fmt.Errorf("reopening: %w", err)
	}
	defer unix.Close(fd3)
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd3, &st); err != nil {
		return fmt.Errorf("statfs: %w", err)
	}
	flags := statfsToMountFlags(&st) & (unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
	if err := bindRemount(fd3, flags|unix.MS_RDONLY, 0); err != nil {
		return fmt.Errorf("remounting read-only: %w", err)
	}
	return nil
}

// maskPath hides path: a directory under a read-only tmpfs, anything else
// under a bind of the container's /dev/null (opened once into *devNull,
// and verified to be the null device).
func maskPath(rootFd int, path string, devNull *int) error {
	fd, err := openInRoot(rootFd, path, unix.O_PATH, 0, 0)
	if errors.Is(err, unix.ENOENT) {
		log.Debugf("masked path %q does not exist, skipping", path)
		return nil
	}
	if err != nil {
		return fmt.Errorf("opening: %w", err)
	}
	defer unix.Close(fd)
	st, err := fdStat(fd)
	if err != nil {
		return fmt.Errorf("stat: %w", err)
	}
	if isDirMode(st.Mode) {
		if err := mountOnFd("tmpfs", fd, "tmpfs", unix.MS_RDONLY|defaultMountFlags, ""); err != nil {
			return fmt.Errorf("mounting a read-only tmpfs: %w", err)
		}
		return nil
	}
	if *devNull < 0 {
		n, err := openDevNull(rootFd)
		if err != nil {
			return err
		}
		*devNull = n
	}
	if err := mountOnFd(procFdPath(*devNull), fd, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("binding /dev/null: %w", err)
	}
	return nil
}

// openDevNull opens the container's /dev/null by descriptor and checks it
// is the 1:3 character device: binding anything else over masked paths
// (a file or symlink planted by the image) would unmask them or worse
// (CVE-2025-31133).
func openDevNull(rootFd int) (int, error) {
	fd, err := openInRoot(rootFd, "/dev/null", unix.O_PATH|unix.O_NOFOLLOW, 0, unix.RESOLVE_NO_SYMLINKS)
	if err != nil {
		return -1, fmt.Errorf("opening /dev/null: %w", err)
	}
	if err := verifyDevNull(fd); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// verifyDevNull checks that fd is the null character device (1:3).
func verifyDevNull(fd int) error {
	st, err := fdStat(fd)
	if err != nil {
		return fmt.Errorf("stat of /dev/null: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != 1 || unix.Minor(st.Rdev) != 3 {
		return fmt.Errorf("/dev/null is not the null device (mode %#o, device %d:%d)", st.Mode, unix.Major(st.Rdev), unix.Minor(st.Rdev))
	}
	return nil
}
