// Package boot is what runs inside the sandbox process (runsc-sandbox): it
// spawns the gofer, and once the sandbox sits in its minimal chroot as
// nobody under a seccomp filter, it serves the container's control socket,
// relays requests to the gofer and exits with the container's status.
package boot

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/pkg/log"
	"runsc.dev/runsc/runsc/config"
	"runsc.dev/runsc/runsc/control"
	"runsc.dev/runsc/runsc/specutils"
)

// Indexes of the files in the boot message from `runsc create`.
const (
	BootSpec = iota
	BootListener
	BootStdin
	BootStdout
	BootStderr
	BootConsole // Present when Message.Terminal is set.
)

// StartGofer starts the gofer (runsc-gofer) from exe, in a new mount
// namespace and, when the spec asks for a new one, in the container's user
// namespace with its ID maps written by us, the parent. The gofer gets
// SIGKILL if the sandbox dies. boot.Files are the spec, stdio and console
// from create's boot message; they are sent on and stay owned by the
// caller.
//
// In rootless mode the sandbox was born in the container's user namespace
// (and in its network namespace, when the spec asks for a new one; see
// runsc/sandbox/rootless.go): the gofer and init stay in them, and the
// sandbox brings the loopback interface up. With RootfsOverlayAnnotation,
// the gofer is given a writable overlay of root.path built here.
func StartGofer(conf *config.Config, exe string, spec *specs.Spec, boot *control.Message) (*exec.Cmd, *control.Conn, error) {
	conn, peer, err := control.Pair()
	if err != nil {
		return nil, nil, err
	}
	defer peer.Close()
	attr := &syscall.SysProcAttr{
		Cloneflags: unix.CLONE_NEWNS,
		Pdeathsig:  syscall.SIGKILL,
	}
	specFile, err := goferSpec(conf, spec, boot)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	if specFile != boot.Files[BootSpec] {
		defer specFile.Close()
	}
	if path, ok := specutils.HasNamespace(spec, specs.UserNamespace); ok && !conf.Rootless {
		if path != "" {
			conn.Close()
			return nil, nil, fmt.Errorf("linux.namespaces: joining a user namespace by path is not supported")
		}
		attr.Cloneflags |= unix.CLONE_NEWUSER
		for _, m := range spec.Linux.UIDMappings {
			attr.UidMappings = append(attr.UidMappings, syscall.SysProcIDMap{ContainerID: int(m.ContainerID), HostID: int(m.HostID), Size: int(m.Size)})
		}
		for _, m := range spec.Linux.GIDMappings {
			attr.GidMappings = append(attr.GidMappings, syscall.SysProcIDMap{ContainerID: int(m.ContainerID), HostID: int(m.HostID), Size: int(m.Size)})
		}
		// We are privileged in the parent namespace, so setgroups stays
		// allowed: the container may set its additional groups.
		attr.GidMappingsEnableSetgroups = true
		// Become the namespace's root: our host uid 0 is (usually) not
		// mapped in it, and execve would drop every capability of a
		// process whose uid is not the namespace's root.
		attr.Credential = &syscall.Credential{Uid: 0, Gid: 0}
	}
	cmd := exec.Command(exe, append(conf.ToFlags(), "gofer", boot.ID)...)
	cmd.Args[0] = "runsc-gofer"
	// Our own stdio (create's /dev/null), not nil: Go would open
	// /dev/null here, inside the container's device cgroup.
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{peer}
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("starting gofer: %w", err)
	}
	msg := &control.Message{Type: control.Boot, ID: boot.ID, Bundle: boot.Bundle, Terminal: boot.Terminal}
	msg.Files = append(msg.Files, specFile, boot.Files[BootStdin], boot.Files[BootStdout], boot.Files[BootStderr])
	if boot.Terminal {
		msg.Files = append(msg.Files, boot.Files[BootConsole])
	}
	if attr.Cloneflags&unix.CLONE_NEWUSER != 0 {
		if tree := idmappedRootfs(spec, cmd.Process.Pid); tree != nil {
			defer tree.Close()
			msg.Files = append(msg.Files, tree)
		}
	}
	if err := conn.Send(msg); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		conn.Close()
		return nil, nil, fmt.Errorf("sending boot message to gofer: %w", err)
	}
	return cmd, conn, nil
}

// IdmappedRootfsFile names (in Message.FileNames) the detached, idmapped
// clone of the rootfs that a boot message may carry, sandbox -> gofer ->
// init; the gofer package has the same constant.
const IdmappedRootfsFile = "idmapped-rootfs"

// idmappedRootfs returns a detached clone of the rootfs tree (open_tree
// with OPEN_TREE_CLONE|AT_RECURSIVE) idmapped with the user namespace of
// the gofer (pid), so that an image owned by host root appears owned by
// the container's root without a chown; init attaches it with move_mount
// in place of its bind of root.path onto itself. It has to be made here:
// only a process privileged over the filesystem's user namespace (the
// initial one's root) may set MOUNT_ATTR_IDMAP, and init lives in the
// container's user namespace.
//
// It returns nil (and init binds root.path as before) when the rootfs's
// owner is already mapped in the container (an image chowned for it), for
// a rootfs overlay, or when the kernel or the filesystem refuses: those
// cases are logged at debug level.
func idmappedRootfs(spec *specs.Spec, pid int) *os.File {
	if spec.Root == nil || spec.Linux == nil || !filepath.IsAbs(spec.Root.Path) {
		return nil
	}
	if _, ok := spec.Annotations[RootfsOverlayAnnotation]; ok {
		return nil
	}
	root := filepath.Clean(spec.Root.Path)
	var st unix.Stat_t
	if err := unix.Stat(root, &st); err != nil {
		log.Debugf("idmapped rootfs: %v", err)
		return nil
	}
	if hostIDMapped(spec.Linux.UIDMappings, st.Uid) && hostIDMapped(spec.Linux.GIDMappings, st.Gid) {
		log.Debugf("idmapped rootfs: %q is owned by %d:%d, mapped in the container: not idmapping", root, st.Uid, st.Gid)
		return nil
	}
	userns, err := unix.Open(fmt.Sprintf("/proc/%d/ns/user", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		log.Debugf("idmapped rootfs: opening the gofer's user namespace: %v", err)
		return nil
	}
	defer unix.Close(userns)
	tree, err := unix.OpenTree(unix.AT_FDCWD, root, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE|unix.AT_SYMLINK_NOFOLLOW)
	if err != nil {
		log.Debugf("idmapped rootfs: open_tree(%q): %v", root, err)
		return nil
	}
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns)}
	if err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
		// EINVAL: the filesystem (or one mounted under the rootfs) does
		// not support idmapped mounts.
		unix.Close(tree)
		log.Debugf("idmapped rootfs: mount_setattr(MOUNT_ATTR_IDMAP) on %q: %v; binding it unmapped", root, err)
		return nil
	}
	log.Debugf("idmapped rootfs: %q (owned by %d:%d) idmapped into the gofer's user namespace", root, st.Uid, st.Gid)
	return os.NewFile(uintptr(tree), IdmappedRootfsFile)
}

// hostIDMapped reports whether host id is in one of maps' host ranges.
func hostIDMapped(maps []specs.LinuxIDMapping, id uint32) bool {
	for _, m := range maps {
		if id >= m.HostID && uint64(id) < uint64(m.HostID)+uint64(m.Size) {
			return true
		}
	}
	return false
}
