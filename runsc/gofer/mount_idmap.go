package gofer

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/runsc/control"
)

// idmapMount makes an idmapped bind mount of srcFd on dstFd: the source
// tree is cloned with open_tree(OPEN_TREE_CLONE), given the user
// namespace's id mapping with mount_setattr(MOUNT_ATTR_IDMAP) and attached
// with move_mount, all by descriptor.
//
// When the sandbox made the idmapped clone (premadeIdmaps), it is attached
// instead: the kernel lets only a process privileged over the source's
// filesystem idmap it, and a host filesystem belongs to the initial user
// namespace, which init, in the container's, is not privileged over.
func idmapMount(m *specs.Mount, o *mountOptions, srcFd, dstFd int) error {
	if tree, ok := premadeIdmaps[m]; ok {
		if err := unix.MoveMount(tree, "", dstFd, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
			return fmt.Errorf("attaching the idmapped mount made by the sandbox: move_mount: %w", err)
		}
		return nil
	}
	usernsFd, err := idmapUserns(m)
	if err != nil {
		return err
	}
	defer unix.Close(usernsFd)

	treeFlags := uint(unix.OPEN_TREE_CLONE | unix.O_CLOEXEC | unix.AT_EMPTY_PATH)
	if o.flags&unix.MS_REC != 0 {
		treeFlags |= unix.AT_RECURSIVE
	}
	tree, err := unix.OpenTree(srcFd, "", treeFlags)
	if err != nil {
		return fmt.Errorf("cloning the bind source: open_tree: %w", err)
	}
	defer unix.Close(tree)

	attrFlags := uint(unix.AT_EMPTY_PATH)
	if o.recursiveIdmap {
		attrFlags |= unix.AT_RECURSIVE
	}
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(usernsFd)}
	if err := unix.MountSetattr(tree, "", attrFlags, &attr); err != nil {
		// EINVAL: the filesystem does not support idmapped mounts, or the
		// namespace is the initial one (an idmap without mappings needs
		// the container to have a user namespace). EPERM: this process
		// lacks CAP_SYS_ADMIN in the user namespace owning the source's
		// filesystem (a host filesystem seen from the container's user
		// namespace).
		return fmt.Errorf("idmapping the mount: mount_setattr(MOUNT_ATTR_IDMAP): %w", err)
	}
	if err := unix.MoveMount(tree, "", dstFd, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("attaching the idmapped mount: move_mount: %w", err)
	}
	return nil
}

// idmapTrees are the idmapped mounts the sandbox made for init: detached
// mount descriptors, of the rootfs (root, -1 if none) and of the sources of
// idmapped bind mounts by index in spec.mounts.
type idmapTrees struct {
	root   int
	mounts map[int]int
	files  []*os.File
}

// receivedIdmapTrees finds the idmapped mounts in init's boot message.
func receivedIdmapTrees(msg *control.Message) idmapTrees {
	t := idmapTrees{root: -1, mounts: map[int]int{}}
	if len(msg.FileNames) != len(msg.Files) {
		return t
	}
	for i, name := range msg.FileNames {
		f := msg.Files[i]
		if name == IdmappedRootfsFile {
			t.root = int(f.Fd())
		} else if v, ok := strings.CutPrefix(name, IdmappedMountFile); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				continue
			}
			t.mounts[n] = int(f.Fd())
		} else {
			continue
		}
		t.files = append(t.files, f)
	}
	return t
}

// close closes the descriptors (attached mounts stay).
func (t idmapTrees) close() {
	for _, f := range t.files {
		f.Close()
	}
}

// premadeIdmaps are the sandbox's idmapped clones of bind sources, by
// mount, during the one prepareRootfs call of init.
var premadeIdmaps map[*specs.Mount]int

// idmapUserns returns a descriptor of the user namespace whose mapping an
// idmapped mount uses: a new one with the mount's uidMappings and
// gidMappings, or the container's (this process's) when it has none.
func idmapUserns(m *specs.Mount) (int, error) {
	if len(m.UIDMappings) == 0 && len(m.GIDMappings) == 0 {
		fd, err := unix.Open("/proc/self/ns/user", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, fmt.Errorf("opening the container's user namespace: %w", err)
		}
		return fd, nil
	}
	if len(m.UIDMappings) == 0 || len(m.GIDMappings) == 0 {
		return -1, errors.New("an idmapped mount needs both uidMappings and gidMappings")
	}
	return newUserns(m.UIDMappings, m.GIDMappings)
}

// newUserns creates a user namespace with the given mappings and returns
// a descriptor of it. A child is started in a new user namespace and kept
// stopped (it is ptraced, so it stops at its execve before running
// anything); its mappings are written, its namespace opened, and it is
// killed. The child is named by a pidfd and found in /proc through the
// pidfd's fdinfo, because /proc may belong to another pid namespace than
// this process's (before pivot_root it is the host's).
func newUserns(uidMaps, gidMaps []specs.LinuxIDMapping) (int, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	pidfd := -1
	attr := &os.ProcAttr{Sys: &syscall.SysProcAttr{
		Cloneflags: unix.CLONE_NEWUSER,
		Ptrace:     true,
		Pdeathsig:  syscall.SIGKILL,
		PidFD:      &pidfd,
	}}
	p, err := os.StartProcess("/proc/self/exe", []string{"runsc-userns"}, attr)
	if err != nil {
		return -1, fmt.Errorf("starting a process in a new user namespace: %w", err)
	}
	defer func() {
		_ = p.Kill()
		_, _ = p.Wait()
		if pidfd >= 0 {
			unix.Close(pidfd)
		}
	}()
	if pidfd < 0 {
		return -1, errors.New("starting a process in a new user namespace: no pidfd")
	}
	pid, err := pidfdPid(pidfd)
	if err != nil {
		return -1, err
	}
	dir := "/proc/" + strconv.Itoa(pid)
	dirFd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("opening %s: %w", dir, err)
	}
	defer unix.Close(dirFd)
	// The child is not reaped yet, so its pid cannot have been reused:
	// still, check the pidfd names a live process before writing.
	if err := unix.PidfdSendSignal(pidfd, 0, nil, 0); err != nil {
		return -1, fmt.Errorf("checking the user namespace process: %w", err)
	}
	for _, w := range []struct {
		file string
		maps []specs.LinuxIDMapping
	}{{"uid_map", uidMaps}, {"gid_map", gidMaps}} {
		if err := writeAt(dirFd, w.file, formatIDMap(w.maps)); err != nil {
			return -1, fmt.Errorf("writing %s/%s: %w", dir, w.file, err)
		}
	}
	fd, err := unix.Openat(dirFd, "ns/user", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("opening %s/ns/user: %w", dir, err)
	}
	return fd, nil
}

// pidfdPid reads the pid a pidfd names, as seen by the pid namespace of
// /proc, from /proc/self/fdinfo.
func pidfdPid(pidfd int) (int, error) {
	path := "/proc/self/fdinfo/" + strconv.Itoa(pidfd)
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Pid:"); ok {
			pid, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || pid <= 0 {
				return 0, fmt.Errorf("reading %s: bad pid %q", path, v)
			}
			return pid, nil
		}
	}
	return 0, fmt.Errorf("reading %s: no pid", path)
}

// formatIDMap renders mappings in the /proc/<pid>/uid_map format.
func formatIDMap(maps []specs.LinuxIDMapping) string {
	var b strings.Builder
	for _, m := range maps {
		fmt.Fprintf(&b, "%d %d %d\n", m.ContainerID, m.HostID, m.Size)
	}
	return b.String()
}

// writeAt writes s in one write(2) to the file name under dirFd.
func writeAt(dirFd int, name, s string) error {
	fd, err := unix.Openat(dirFd, name, unix.O_WRONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	n, err := unix.Write(fd, []byte(s))
	if err != nil {
		return err
	}
	if n != len(s) {
		return unix.EIO
	}
	return nil
}
