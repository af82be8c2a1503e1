package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/pkg/log"
	"runsc.dev/runsc/runsc/config"
	"runsc.dev/runsc/runsc/control"
	"runsc.dev/runsc/runsc/specutils"
)

// Indexes of the files in the boot message that Start takes from create.
const (
	BootSpec = iota
	BootListener
	BootStdin
	BootStdout
	BootStderr
	BootConsole // Present when Message.Terminal is set.
)

// goferAttr returns how the gofer (runsc-gofer) is cloned: in a new mount
// namespace and, when the spec asks for a user namespace, in a new one
// with the spec's ID maps, written by us, the parent; rootless, always in
// a new user namespace that maps the caller (the container's user
// namespace: see rootless.go). It has no pdeathsig: its parent is `runsc
// create`, which exits; the gofer watches the sandbox instead (EOF on
// its socket), and init dies with the gofer.
func goferAttr(conf *config.Config, spec *specs.Spec) (*syscall.SysProcAttr, error) {
	attr := &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNS}
	path, ok := specutils.HasNamespace(spec, specs.UserNamespace)
	if ok && path != "" {
		return nil, fmt.Errorf("linux.namespaces: joining a user namespace by path is not supported")
	}
	if conf.Rootless {
		uids, gids, err := rootlessMaps(spec, os.Getuid(), os.Getgid())
		if err != nil {
			return nil, err
		}
		attr.Cloneflags |= unix.CLONE_NEWUSER
		attr.UidMappings, attr.GidMappings = uids, gids
		return attr, nil
	}
	if !ok {
		return attr, nil
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
	// Become the namespace's root: our host uid 0 is (usually) not mapped
	// in it, and execve would drop every capability of a process whose uid
	// is not the namespace's root.
	attr.Credential = &syscall.Credential{Uid: 0, Gid: 0}
	return attr, nil
}

// goferBoot is the gofer's boot message: the spec, stdio and console from
// create's boot message, what the gofer needs of the spec to start init,
// and, in a user namespace made by a privileged runsc, the idmapped mounts
// (see idmappedTrees) for the gofer pid. The files stay owned by boot, but
// for the idmapped trees, returned to close once the message is sent.
func goferBoot(conf *config.Config, spec *specs.Spec, boot *control.Message, pid int, userns bool) (*control.Message, []*os.File) {
	msg := &control.Message{Type: control.Boot, ID: boot.ID, Bundle: boot.Bundle, Terminal: boot.Terminal}
	msg.Gofer = &control.GoferBoot{RootfsOverlay: spec.Annotations[specutils.RootfsOverlayAnnotation], TimerSlack: callerTimerSlack()}
	if spec.Linux != nil {
		msg.Gofer.Namespaces = spec.Linux.Namespaces
	}
	msg.Files = append(msg.Files, boot.Files[BootSpec], boot.Files[BootStdin], boot.Files[BootStdout], boot.Files[BootStderr])
	if boot.Terminal {
		msg.Files = append(msg.Files, boot.Files[BootConsole])
	}
	var trees []*os.File
	if userns && !conf.Rootless {
		trees = idmappedTrees(spec, pid)
		msg.Files = append(msg.Files, trees...)
	}
	return msg, trees
}

// IdmappedRootfsFile names (in Message.FileNames) the detached, idmapped
// clone of the rootfs that a boot message may carry, create -> gofer ->
// init; IdmappedMountFile followed by an index in spec.mounts names that
// of a bind mount with the idmap or ridmap option. The gofer package has
// the same constants.
const (
	IdmappedRootfsFile = "idmapped-rootfs"
	IdmappedMountFile  = "idmapped-mount-"
)

// maxIdmappedMounts bounds the idmapped bind mounts made here (a control
// message carries at most 32 files); init tries the others itself.
const maxIdmappedMounts = 8

// idmappedTrees returns detached clones (open_tree with OPEN_TREE_CLONE),
// idmapped (mount_setattr MOUNT_ATTR_IDMAP) with the user namespace of the
// gofer (pid), of the rootfs (see idmappedRootfs) and of the sources of
// bind mounts asking for idmap or ridmap without mappings of their own:
// init attaches them with move_mount. They are made here because only a
// process privileged over a filesystem's user namespace (the initial
// one's root, for a host filesystem) may idmap its mounts, and init lives
// in the container's user namespace. What cannot be made is logged at
// debug level and left to init: the rootfs is then bound unmapped, and an
// idmapped bind mount fails create with the kernel's error.
func idmappedTrees(spec *specs.Spec, pid int) []*os.File {
	if spec.Linux == nil {
		return nil
	}
	userns, err := unix.Open(fmt.Sprintf("/proc/%d/ns/user", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		log.Debugf("idmapped mounts: opening the gofer's user namespace: %v", err)
		return nil
	}
	defer unix.Close(userns)
	var trees []*os.File
	if tree := idmappedRootfs(spec, userns); tree != nil {
		trees = append(trees, tree)
	}
	for i, m := range spec.Mounts {
		bind, recursive, idmap, ridmap := m.Type == "bind", false, false, false
		for _, o := range m.Options {
			switch o {
			case "bind":
				bind = true
			case "rbind":
				bind, recursive = true, true
			case "idmap":
				idmap, ridmap = true, false
			case "ridmap":
				idmap, ridmap = true, true
			}
		}
		if !bind || !idmap || len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0 {
			continue
		}
		if len(trees) >= maxIdmappedMounts {
			log.Debugf("idmapped mounts: more than %d, leaving %q to init", maxIdmappedMounts, m.Destination)
			break
		}
		src, err := filepath.Abs(m.Source)
		if err != nil {
			continue
		}
		fd, err := idmapTree(src, userns, recursive, ridmap)
		if err != nil {
			log.Debugf("idmapped mounts: %q on %q: %v; leaving it to init", src, m.Destination, err)
			continue
		}
		trees = append(trees, os.NewFile(uintptr(fd), IdmappedMountFile+strconv.Itoa(i)))
	}
	return trees
}

// idmappedRootfs returns the idmapped clone of the rootfs tree (with its
// submounts), so that an image owned by host root appears owned by the
// container's root without a chown; init attaches it in place of its bind
// of root.path onto itself. It returns nil when the rootfs's owner is
// already mapped in the container (an image chowned for it), for a rootfs
// overlay, or when the kernel or the filesystem refuses.
func idmappedRootfs(spec *specs.Spec, userns int) *os.File {
	if spec.Root == nil || !filepath.IsAbs(spec.Root.Path) {
		return nil
	}
	if _, ok := spec.Annotations[specutils.RootfsOverlayAnnotation]; ok {
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
	fd, err := idmapTree(root, userns, true, true)
	if err != nil {
		log.Debugf("idmapped rootfs: %q: %v; binding it unmapped", root, err)
		return nil
	}
	log.Debugf("idmapped rootfs: %q (owned by %d:%d) idmapped into the gofer's user namespace", root, st.Uid, st.Gid)
	return os.NewFile(uintptr(fd), IdmappedRootfsFile)
}

// idmapTree clones the mount tree at path (with its submounts when
// recursive) and idmaps it (and its submounts when recursiveIdmap) with
// userns; it returns the detached mount's descriptor.
func idmapTree(path string, userns int, recursive, recursiveIdmap bool) (int, error) {
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
	if recursive {
		flags |= unix.AT_RECURSIVE
	}
	tree, err := unix.OpenTree(unix.AT_FDCWD, path, flags)
	if err != nil {
		return -1, fmt.Errorf("open_tree: %w", err)
	}
	attrFlags := uint(unix.AT_EMPTY_PATH)
	if recursiveIdmap {
		attrFlags |= unix.AT_RECURSIVE
	}
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns)}
	if err := unix.MountSetattr(tree, "", attrFlags, &attr); err != nil {
		// EINVAL: the filesystem (or one mounted under path) does not
		// support idmapped mounts.
		unix.Close(tree)
		return -1, fmt.Errorf("mount_setattr(MOUNT_ATTR_IDMAP): %w", err)
	}
	return tree, nil
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
