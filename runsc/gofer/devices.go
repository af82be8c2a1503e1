package gofer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"runsc.dev/runsc/pkg/log"
)

// defaultDevices are created in every container whose /dev is not bound
// from the host, as runc does.
var defaultDevices = []specs.LinuxDevice{
	{Path: "/dev/null", Type: "c", Major: 1, Minor: 3},
	{Path: "/dev/zero", Type: "c", Major: 1, Minor: 5},
	{Path: "/dev/full", Type: "c", Major: 1, Minor: 7},
	{Path: "/dev/random", Type: "c", Major: 1, Minor: 8},
	{Path: "/dev/urandom", Type: "c", Major: 1, Minor: 9},
	{Path: "/dev/tty", Type: "c", Major: 5, Minor: 0},
}

// devSymlinks are the /dev symlinks every such container gets.
var devSymlinks = [][2]string{
	{"/proc/self/fd", "fd"},
	{"/proc/self/fd/0", "stdin"},
	{"/proc/self/fd/1", "stdout"},
	{"/proc/self/fd/2", "stderr"},
}

// needsDevSetup reports whether /dev must be populated: unless a spec
// mount binds it from the host.
func needsDevSetup(spec *specs.Spec) bool {
	for _, m := range spec.Mounts {
		if !isDevDest(m.Destination) {
			continue
		}
		o := parseMountOptions(m.Options)
		if m.Type == "bind" || o.isBind() {
			return false
		}
	}
	return true
}

// deviceMode returns the mknod mode of a spec device.
func deviceMode(d *specs.LinuxDevice) (uint32, error) {
	perm := uint32(0o666)
	if d.FileMode != nil {
		perm = uint32(d.FileMode.Perm())
	}
	switch d.Type {
	case "c", "u":
		return perm | unix.S_IFCHR, nil
	case "b":
		return perm | unix.S_IFBLK, nil
	case "p":
		return perm | unix.S_IFIFO, nil
	}
	return 0, fmt.Errorf("unknown device type %q", d.Type)
}

// setupDev creates linux.devices and the default devices (a device listed
// in the spec wins over a default one of the same path), /dev/ptmx and the
// standard /dev symlinks.
func (b *rootfsBuilder) setupDev(spec *specs.Spec) error {
	var devices []specs.LinuxDevice
	if spec.Linux != nil {
		devices = append(devices, spec.Linux.Devices...)
	}
	devices = append(devices, defaultDevices...)
	old := unix.Umask(0)
	defer unix.Umask(old)
	// The directories the nodes go in (/dev, nearly always), each resolved
	// once: nothing of the container runs yet to change them in between.
	dirs := map[string]devDir{}
	defer func() {
		for _, d := range dirs {
			unix.Close(d.fd)
		}
	}()
	seen := map[string]bool{}
	for i := range devices {
		d := &devices[i]
		p := filepath.Clean(d.Path)
		// /dev/ptmx is the devpts instance's, linked below.
		if d.Path == "" || p == "/dev/ptmx" || seen[p] {
			continue
		}
		seen[p] = true
		if err := b.createDevice(d, dirs); err != nil {
			return fmt.Errorf("creating device %q: %w", d.Path, err)
		}
	}
	if err := b.devLinks(dirs); err != nil {
		return err
	}
	return nil
}

// devDir is a directory device nodes are made in.
type devDir struct {
	fd int
	// setgid: its new entries take its group, not their creator's.
	setgid bool
}

// devDir returns dir, resolved (and made) in the root, from dirs or
// opened and added to it.
func (b *rootfsBuilder) devDir(dirs map[string]devDir, dir string) (devDir, error) {
	dir = filepath.Clean("/" + dir)
	if d, ok := dirs[dir]; ok {
		return d, nil
	}
	r, err := resolveInRoot(b.fd, dir, createDir)
	if err != nil {
		return devDir{}, err
	}
	st, err := fdStat(r.fd)
	if err != nil {
		unix.Close(r.fd)
		return devDir{}, fmt.Errorf("stat of %q: %w", dir, err)
	}
	d := devDir{fd: r.fd, setgid: st.Mode&unix.S_ISGID != 0}
	dirs[dir] = d
	return d, nil
}

// createDevice makes one device node inside the root with mknod, or, when
// mknod is not permitted (in a user namespace), by bind-mounting the
// host's device of the same path onto an empty file, as runc does. An
// existing entry is kept. dirs caches the directories' descriptors
// (devDir).
func (b *rootfsBuilder) createDevice(d *specs.LinuxDevice, dirs map[string]devDir) error {
	mode, err := deviceMode(d)
	if err != nil {
		return err
	}
	dir, name := filepath.Split(filepath.Clean(d.Path))
	if name == "" || name == ".." {
		return fmt.Errorf("bad device path %q", d.Path)
	}
	dd, err := b.devDir(dirs, dir)
	if err != nil {
		return err
	}
	dirFd := dd.fd
	dev := int(unix.Mkdev(uint32(d.Major), uint32(d.Minor)))
	if mode&unix.S_IFMT == unix.S_IFIFO {
		dev = 0
	}
	err = unix.Mknodat(dirFd, name, mode, dev)
	switch {
	case errors.Is(err, unix.EEXIST):
		log.Debugf("device %q exists, keeping it", d.Path)
		return nil
	case errors.Is(err, unix.EPERM):
		if mode&unix.S_IFMT == unix.S_IFIFO {
			return fmt.Errorf("mknod: %w", err)
		}
		return bindDevice(dirFd, name, d, mode)
	case err != nil:
		return fmt.Errorf("mknod: %w", err)
	}
	uid, gid := 0, 0
	if d.UID != nil {
		uid = int(*d.UID)
	}
	if d.GID != nil {
		gid = int(*d.GID)
	}
	// mknod made it ours, with our fsuid and fsgid (the builder's
	// effective ids, which it does not change), unless the directory is
	// setgid: a chown to those would change nothing.
	if uid == b.uid && gid == b.gid && !dd.setgid {
		return nil
	}
	if err := unix.Fchownat(dirFd, name, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	return nil
}

// bindDevice bind-mounts the host device d.Path onto an empty regular
// file name created in the directory dirFd. The host file must be the
// device the spec names.
func bindDevice(dirFd int, name string, d *specs.LinuxDevice, mode uint32) error {
	src, err := unix.Open(d.Path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening host device %q to bind it: %w", d.Path, err)
	}
	defer unix.Close(src)
	st, err := fdStat(src)
	if err != nil {
		return fmt.Errorf("stat of host device %q: %w", d.Path, err)
	}
	if st.Mode&unix.S_IFMT != mode&unix.S_IFMT || unix.Major(st.Rdev) != uint32(d.Major) || unix.Minor(st.Rdev) != uint32(d.Minor) {
		return fmt.Errorf("host file %q is not device %s %d:%d", d.Path, d.Type, d.Major, d.Minor)
	}
	fd, err := unix.Openat(dirFd, name, unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_RDONLY|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return fmt.Errorf("creating the bind target: %w", err)
	}
	unix.Close(fd)
	dst, err := unix.Openat(dirFd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening the bind target: %w", err)
	}
	defer unix.Close(dst)
	if err := mountOnFd(procFdPath(src), dst, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("binding host device %q: %w", d.Path, err)
	}
	return nil
}

// devLinks makes /dev/ptmx a symlink to the devpts instance's ptmx and
// creates /dev/fd, /dev/stdin, /dev/stdout, /dev/stderr and (when the
// kernel has it) /dev/core. Existing links are kept.
func (b *rootfsBuilder) devLinks(dirs map[string]devDir) error {
	dd, err := b.devDir(dirs, "/dev")
	if err != nil {
		return fmt.Errorf("opening /dev: %w", err)
	}
	dirFd := dd.fd
	if err := unix.Unlinkat(dirFd, "ptmx", 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("removing /dev/ptmx: %w", err)
	}
	if err := unix.Symlinkat("pts/ptmx", dirFd, "ptmx"); err != nil {
		return fmt.Errorf("linking /dev/ptmx: %w", err)
	}
	links := devSymlinks
	if _, err := os.Stat("/proc/kcore"); err == nil {
		links = append(links[:len(links):len(links)], [2]string{"/proc/kcore", "core"})
	}
	for _, l := range links {
		if err := unix.Symlinkat(l[0], dirFd, l[1]); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("linking /dev/%s to %s: %w", l[1], l[0], err)
		}
	}
	return nil
}
