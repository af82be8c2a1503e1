package gofer

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"runsc.dev/runsc/pkg/log"
)

// procRootIno is the inode number of every procfs root.
const procRootIno = 1

// allowedProcMounts are the only paths under /proc a spec mount may cover:
// the files lxcfs emulates (as runc allows).
var allowedProcMounts = []string{
	"/proc/cpuinfo",
	"/proc/diskstats",
	"/proc/meminfo",
	"/proc/stat",
	"/proc/swaps",
	"/proc/uptime",
	"/proc/loadavg",
	"/proc/slabinfo",
	"/proc/net/dev",
	"/proc/sys/kernel/ns_last_pid",
	"/proc/sys/crypto/fips_enabled",
}

// checkProcMount refuses a mount whose destination (a path inside the
// container, symlinks resolved) is /proc or under it, except a procfs on
// /proc itself (a new one, or a bind of the root of a procfs, srcFd) and
// the lxcfs-emulated files (CVE-2019-16884, CVE-2023-27561).
func checkProcMount(dest, fstype string, bind bool, srcFd int) error {
	dest = filepath.Clean("/" + dest)
	if dest != "/proc" && !strings.HasPrefix(dest, "/proc/") {
		return nil
	}
	if dest == "/proc" {
		if !bind {
			if fstype == "proc" {
				return nil
			}
			return fmt.Errorf("%q cannot be mounted on /proc: it is not of type proc", fstype)
		}
		var fs unix.Statfs_t
		if err := unix.Fstatfs(srcFd, &fs); err != nil {
			return fmt.Errorf("statfs of the bind source: %w", err)
		}
		st, err := fdStat(srcFd)
		if err != nil {
			return fmt.Errorf("stat of the bind source: %w", err)
		}
		if fs.Type == unix.PROC_SUPER_MAGIC && st.Ino == procRootIno {
			return nil
		}
		return errors.New("only the root of a procfs can be bind-mounted on /proc")
	}
	for _, p := range allowedProcMounts {
		if dest == p {
			return nil
		}
	}
	return fmt.Errorf("%q cannot be mounted because it is inside /proc", dest)
}

// mountOnFd mounts onto the file dstFd refers to, through its
// /proc/self/fd magic link.
func mountOnFd(source string, dstFd int, fstype string, flags uintptr, data string) error {
	return unix.Mount(source, procFdPath(dstFd), fstype, flags, data)
}

// mountName names a spec mount in errors: its source, or its type.
func mountName(m *specs.Mount) string {
	if m.Source != "" {
		return m.Source
	}
	return m.Type
}

// isDevDest reports whether a mount destination is /dev.
func isDevDest(dest string) bool {
	return filepath.Clean(dest) == "/dev"
}

// mount makes one spec mount inside the root.
func (b *rootfsBuilder) mount(m *specs.Mount) error {
	if err := b.doMount(m); err != nil {
		return fmt.Errorf("mounting %q on %q: %w", mountName(m), m.Destination, err)
	}
	return nil
}

func (b *rootfsBuilder) doMount(m *specs.Mount) error {
	o := parseMountOptions(m.Options)
	if m.Type == "bind" {
		o.flags |= unix.MS_BIND
	}
	if len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0 {
		o.idmap = true
	}
	if o.idmap && !o.isBind() {
		return errors.New("idmapped mounts are only supported for bind mounts")
	}
	if o.copyUp && m.Type != "tmpfs" {
		return errors.New("tmpcopyup is only supported for tmpfs")
	}
	dest := filepath.Clean(m.Destination)
	log.Debugf("mounting %q (type %q, options %q) on %q", m.Source, m.Type, m.Options, dest)
	switch {
	case o.isBind():
		return b.mountBind(m, &o, dest)
	case m.Type == "proc" || m.Type == "sysfs":
		return b.mountProcSys(m, &o, dest)
	case m.Type == "cgroup":
		return b.mountCgroup(m, &o, dest)
	default:
		return b.mountFS(m, &o, dest)
	}
}

// mountFS mounts a new filesystem instance (tmpfs, devpts, mqueue,
// cgroup2, overlay...) on a directory created inside the root.
func (b *rootfsBuilder) mountFS(m *specs.Mount, o *mountOptions, dest string) error {
	if err := checkProcMount(dest, m.Type, false, -1); err != nil {
		return err
	}
	r, err := resolveInRoot(b.fd, dest, createDir)
	if err != nil {
		return err
	}
	defer unix.Close(r.fd)
	if err := checkProcMount(r.path, m.Type, false, -1); err != nil {
		return err
	}
	flags, data := o.flags, o.data
	if m.Type == "tmpfs" {
		// A tmpfs over an existing directory keeps its permissions, unless
		// the options say otherwise (the later mode= wins).
		if !r.created {
			st, err := fdStat(r.fd)
			if err != nil {
				return fmt.Errorf("stat of the destination: %w", err)
			}
			data = joinData(fmt.Sprintf("mode=%04o", st.Mode&0o7777), data)
		}
		// Read-only tmpfs are made read-only by FinalizeRootfs, once what
		// is mounted or created inside them is there.
		flags &^= unix.MS_RDONLY
	}
	if isDevDest(dest) {
		flags &^= unix.MS_RDONLY
	}
	source := m.Source
	if source == "" {
		source = m.Type
	}
	if o.copyUp {
		err = b.tmpfsCopyUp(source, r.path, r.fd, flags, data)
	} else {
		err = mountOnFd(source, r.fd, m.Type, flags, data)
	}
	if err != nil {
		return err
	}
	return b.afterMount(r.path, o, false)
}

// joinData joins comma-separated mount data.
func joinData(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "," + b
}

// mountProcSys mounts a procfs or sysfs. Its destination must be an
// ordinary directory reached without any symlink: mounting one through a
// symlink planted in the image has been used to escape (CVE-2019-16884).
func (b *rootfsBuilder) mountProcSys(m *specs.Mount, o *mountOptions, dest string) error {
	fd, err := procSysDest(b.fd, dest, m.Type)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	source := m.Source
	if source == "" {
		source = m.Type
	}
	if err := mountOnFd(source, fd, m.Type, o.flags, o.data); err != nil {
		return err
	}
	return b.afterMount(dest, o, false)
}

// procSysDest checks, creating it if missing, the destination of a procfs
// or sysfs mount: an ordinary directory reached without any symlink, and
// not under /proc. It returns an O_PATH descriptor of it.
func procSysDest(rootFd int, dest, fstype string) (int, error) {
	if err := checkProcMount(dest, fstype, false, -1); err != nil {
		return -1, err
	}
	fd, err := openInRoot(rootFd, dest, unix.O_PATH|unix.O_NOFOLLOW, 0, unix.RESOLVE_NO_SYMLINKS)
	if errors.Is(err, unix.ENOENT) {
		if err := mkdirAllNoSymlinks(rootFd, dest); err != nil {
			if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
				return -1, fmt.Errorf("%s must be mounted on an ordinary directory: %w", fstype, err)
			}
			return -1, err
		}
		fd, err = openInRoot(rootFd, dest, unix.O_PATH|unix.O_NOFOLLOW, 0, unix.RESOLVE_NO_SYMLINKS)
	}
	if errors.Is(err, unix.ELOOP) {
		return -1, fmt.Errorf("%s must be mounted on an ordinary directory, and %q goes through a symlink", fstype, dest)
	}
	if err != nil {
		return -1, fmt.Errorf("opening the destination: %w", err)
	}
	st, err := fdStat(fd)
	if err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("stat of the destination: %w", err)
	}
	if !isDirMode(st.Mode) {
		unix.Close(fd)
		return -1, fmt.Errorf("%s must be mounted on an ordinary directory, and %q is not one (it is a symlink or a file)", fstype, dest)
	}
	return fd, nil
}

// mkdirAllNoSymlinks creates the directory path inside the root, refusing
// any symlink on the way.
func mkdirAllNoSymlinks(rootFd int, path string) error {
	current := "/"
	for _, comp := range splitPath(path) {
		if comp == ".." {
			return fmt.Errorf("%q: %w", path, unix.EINVAL)
		}
		next := filepath.Join(current, comp)
		fd, err := openInRoot(rootFd, next, unix.O_PATH|unix.O_NOFOLLOW, 0, unix.RESOLVE_NO_SYMLINKS)
		if errors.Is(err, unix.ENOENT) {
			if err := createIn(rootFd, current, comp, false); err != nil {
				return err
			}
			fd, err = openInRoot(rootFd, next, unix.O_PATH|unix.O_NOFOLLOW, 0, unix.RESOLVE_NO_SYMLINKS)
		}
		if err != nil {
			return fmt.Errorf("opening %q in the root: %w", next, err)
		}
		st, err := fdStat(fd)
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("stat of %q in the root: %w", next, err)
		}
		if !isDirMode(st.Mode) {
			return fmt.Errorf("%q is not a directory: %w", next, unix.ENOTDIR)
		}
		current = next
	}
	return nil
}

// mountBind bind-mounts a host file or directory, then remounts it with
// the flags asked for.
func (b *rootfsBuilder) mountBind(m *specs.Mount, o *mountOptions, dest string) error {
	src := m.Source
	if !filepath.IsAbs(src) {
		abs, err := filepath.Abs(src)
		if err != nil {
			return fmt.Errorf("resolving bind source %q: %w", src, err)
		}
		src = abs
	}
	srcFd, err := unix.Open(src, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening bind source %q: %w", src, err)
	}
	defer unix.Close(srcFd)
	st, err := fdStat(srcFd)
	if err != nil {
		return fmt.Errorf("stat of bind source %q: %w", src, err)
	}
	kind := createDir
	if !isDirMode(st.Mode) {
		kind = createFile
	}
	if err := checkProcMount(dest, "bind", true, srcFd); err != nil {
		return err
	}
	r, err := resolveInRoot(b.fd, dest, kind)
	if err != nil {
		return err
	}
	defer unix.Close(r.fd)
	if err := checkProcMount(r.path, "bind", true, srcFd); err != nil {
		return err
	}
	if o.idmap {
		err = idmapMount(m, o, srcFd, r.fd)
	} else {
		err = mountOnFd(procFdPath(srcFd), r.fd, "", unix.MS_BIND|(o.flags&unix.MS_REC), "")
	}
	if err != nil {
		return err
	}
	return b.afterMount(r.path, o, true)
}

// afterMount applies, to the mount now on path, the propagation options,
// then (for bind mounts) the mount flags by a bind remount, then the
// recursive attributes.
func (b *rootfsBuilder) afterMount(path string, o *mountOptions, bind bool) error {
	remount := bind && (o.flags&^(unix.MS_BIND|unix.MS_REC|unix.MS_REMOUNT) != 0 || o.cleared != 0)
	if len(o.propagation) == 0 && !remount && o.recSet == 0 && o.recClr == 0 {
		return nil
	}
	// The descriptor used for the mount refers to the directory under it:
	// open the path again to reach the new mount.
	fd, err := openInRoot(b.fd, path, unix.O_PATH|unix.O_NOFOLLOW, 0, unix.RESOLVE_NO_SYMLINKS)
	if err != nil {
		return fmt.Errorf("reopening %q after mounting: %w", path, err)
	}
	defer unix.Close(fd)
	for _, p := range o.propagation {
		if err := mountOnFd("", fd, "", p, ""); err != nil {
			return fmt.Errorf("setting mount propagation %#x: %w", p, err)
		}
	}
	if remount {
		if err := bindRemount(fd, o.flags, o.cleared); err != nil {
			return fmt.Errorf("remounting with the mount options: %w", err)
		}
	}
	if o.recSet != 0 || o.recClr != 0 {
		attr := unix.MountAttr{Attr_set: o.recSet, Attr_clr: o.recClr}
		if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
			return fmt.Errorf("applying recursive mount attributes: mount_setattr: %w", err)
		}
	}
	return nil
}

// bindRemount applies flags to the bind mount fd refers to. It first
// sets exactly the flags asked for ("mount --bind -o ..."); if the kernel
// refuses because the mount has locked flags (inherited from a more
// privileged user namespace), it retries keeping those, unless the caller
// explicitly cleared one, as runc does.
func bindRemount(fd int, flags, cleared uintptr) error {
	flags |= unix.MS_BIND | unix.MS_REMOUNT
	err := mountOnFd("", fd, "", flags, "")
	if err == nil {
		return nil
	}
	var st unix.Statfs_t
	if serr := unix.Fstatfs(fd, &st); serr != nil {
		return err
	}
	cur := statfsToMountFlags(&st)
	if cur&cleared&mntLockFlags != 0 {
		return err
	}
	// An atime mode asked for must be the one locked in: the kernel would
	// otherwise silently keep the old one.
	if flags&mntAtimeFlags != 0 && flags&mntAtimeFlags != cur&mntAtimeFlags {
		return err
	}
	flags |= cur & mntLockFlags
	if err2 := mountOnFd("", fd, "", flags, ""); err2 != nil {
		log.Debugf("bind remount retry with locked flags %#x: %v", cur&mntLockFlags, err2)
		return err2
	}
	return nil
}
