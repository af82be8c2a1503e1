package gofer

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"runsc.dev/runsc/pkg/log"
	"runsc.dev/runsc/pkg/sysfile"
)

// hostCgroupRoot is where the host mounts its cgroups.
const hostCgroupRoot = "/sys/fs/cgroup"

// isCgroup2Unified reports whether the host uses the cgroup v2 unified
// hierarchy only (no v1 controllers).
func isCgroup2Unified() bool {
	var fs unix.Statfs_t
	return unix.Statfs(hostCgroupRoot, &fs) == nil && fs.Type == unix.CGROUP2_SUPER_MAGIC
}

// mountCgroup mounts the container's cgroups. The container is in a new
// cgroup namespace, so a cgroup filesystem mounted from inside it shows
// the container's own cgroup as its root. On a cgroup v2 host, that is a
// cgroup2 mount; on a v1 (or hybrid) host, a tmpfs holding one cgroup
// mount per v1 hierarchy the process is in (named after its controllers,
// with a symlink per controller for co-mounted ones, as Docker lays it
// out), made read-only afterwards if asked.
func (b *rootfsBuilder) mountCgroup(m *specs.Mount, o *mountOptions, dest string) error {
	if isCgroup2Unified() {
		m2 := *m
		m2.Type = "cgroup2"
		if m2.Source == "" || m2.Source == "cgroup" {
			m2.Source = "cgroup2"
		}
		return b.mountFS(&m2, o, dest)
	}
	f, err := sysfile.Open("/proc/self/cgroup", os.O_RDONLY, 0)
	if err != nil {
		return fmt.Errorf("reading the process's cgroups: %w", err)
	}
	hierarchies, err := parseCgroupHierarchies(f)
	f.Close()
	if err != nil {
		return err
	}
	return b.mountCgroupV1(o, dest, hierarchies)
}

// parseCgroupHierarchies returns the controller lists of the cgroup v1
// hierarchies listed in a /proc/<pid>/cgroup file ("cpu,cpuacct",
// "name=systemd"...), in order and without the v2 entry.
func parseCgroupHierarchies(r io.Reader) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("parsing /proc/self/cgroup: malformed line %q", line)
		}
		if parts[1] == "" || seen[parts[1]] {
			continue
		}
		seen[parts[1]] = true
		out = append(out, parts[1])
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("parsing /proc/self/cgroup: %w", err)
	}
	return out, nil
}

// cgroupDirName is the directory a v1 hierarchy is mounted on: its
// controllers, "name=" dropped ("systemd" for "name=systemd").
func cgroupDirName(controllers string) string {
	var parts []string
	for c := range strings.SplitSeq(controllers, ",") {
		parts = append(parts, strings.TrimPrefix(c, "name="))
	}
	return strings.Join(parts, ",")
}

// mountCgroupV1 lays out the v1 hierarchies under a tmpfs at dest. The
// tmpfs is new and only ours (no container process exists yet): its
// mount points are made and opened relative to its root, opened once,
// without a lookup from the container's root for each.
func (b *rootfsBuilder) mountCgroupV1(o *mountOptions, dest string, hierarchies []string) error {
	tmpfs := specs.Mount{Destination: dest, Type: "tmpfs", Source: "tmpfs"}
	tmpfsOpts := mountOptions{flags: defaultMountFlags, data: "mode=755", propagation: o.propagation}
	if err := b.mountFS(&tmpfs, &tmpfsOpts, dest); err != nil {
		return fmt.Errorf("mounting the cgroup tmpfs: %w", err)
	}
	dirFd, err := openInRoot(b.fd, dest, unix.O_PATH|unix.O_DIRECTORY, 0, 0)
	if err != nil {
		return fmt.Errorf("opening the cgroup tmpfs: %w", err)
	}
	defer unix.Close(dirFd)
	flags := o.flags&^(unix.MS_BIND|unix.MS_REC|unix.MS_REMOUNT) | defaultMountFlags
	for _, h := range hierarchies {
		name := cgroupDirName(h)
		sub := filepath.Join(dest, name)
		fd, err := cgroupMountPoint(dirFd, name)
		if err != nil {
			return fmt.Errorf("creating the mount point of cgroup %q: %w", h, err)
		}
		err = mountOnFd("cgroup", fd, "cgroup", flags, h)
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("mounting cgroup %q on %q: %w", h, sub, err)
		}
		if err := b.afterMount(sub, &mountOptions{propagation: o.propagation}, false); err != nil {
			return fmt.Errorf("cgroup %q: %w", h, err)
		}
		if strings.Contains(name, ",") {
			if err := cgroupSymlinks(dirFd, dest, name); err != nil {
				return err
			}
		}
	}
	if o.flags&unix.MS_RDONLY != 0 {
		// dirFd is the tmpfs's root: the remount is the tmpfs's.
		if err := bindRemount(dirFd, defaultMountFlags|unix.MS_RDONLY, 0); err != nil {
			return fmt.Errorf("remounting the cgroup tmpfs read-only: %w", err)
		}
	}
	return nil
}

// cgroupMountPoint makes the directory name (one component, as the kernel
// names a hierarchy) in the cgroup tmpfs dirFd and opens it O_PATH.
func cgroupMountPoint(dirFd int, name string) (int, error) {
	if name == "" || name == "." || name == ".." || strings.Contains(name, "/") {
		return -1, fmt.Errorf("bad hierarchy name %q", name)
	}
	if err := unix.Mkdirat(dirFd, name, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, fmt.Errorf("mkdir: %w", err)
	}
	fd, err := unix.Openat(dirFd, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("opening: %w", err)
	}
	return fd, nil
}

// cgroupSymlinks links each controller of a co-mounted hierarchy
// ("cpu" -> "cpu,cpuacct") in the cgroup tmpfs dirFd, at dest.
func cgroupSymlinks(dirFd int, dest, name string) error {
	for c := range strings.SplitSeq(name, ",") {
		if c == name {
			continue
		}
		if err := unix.Symlinkat(name, dirFd, c); err != nil {
			if errors.Is(err, unix.EEXIST) {
				log.Debugf("cgroup symlink %q in %q exists", c, dest)
				continue
			}
			return fmt.Errorf("linking %q to %q in %q: %w", c, name, dest, err)
		}
	}
	return nil
}
