package sandbox

import (
	"fmt"
	"os"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/runsc/specutils"
)

// Rootless mode (runsc --rootless, the default when not root).
//
// The gofer is started in a new user namespace together with its new
// mount namespace: the container's user namespace, in which init is born
// with the container's other new namespaces. Its ID maps are the spec's
// linux.uidMappings/gidMappings when the spec asks for a user namespace
// (as `runsc spec --rootless` writes: the caller mapped to 0), else the
// caller's uid and gid mapped to 0. An unprivileged process may write a
// single mapping of its own ids, with setgroups denied; anything else
// needs newuidmap/newgidmap, which runsc does not use yet (see
// rootlessMaps).
//
// The sandbox is started in a user namespace of its own, mapping the
// caller to root, with its new mount namespace: it is root there, with
// every capability over what it owns, which is all the minimal chroot
// needs. Once set up it cannot become nobody (no other id is mapped): it
// drops every capability, bounding set included, locks the securebits
// that would give them back to uid 0 on execve, re-executes itself and
// serves with no_new_privs and its seccomp filter, like the privileged one
// (runsc/boot.CallSelfWithoutCaps). Supplementary groups cannot be dropped
// when setgroups is denied: the sandbox keeps the caller's, seen as the
// overflow gid.
//
// cgroups are not used (linux.resources is ignored with a warning by
// `runsc do`); the network is the host's or a new loopback-only one.

// rootlessAttr returns the SysProcAttr that starts a rootless sandbox.
func rootlessAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		Cloneflags:                 unix.CLONE_NEWUSER | unix.CLONE_NEWNS,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		GidMappingsEnableSetgroups: false,
	}
}

// rootlessMaps returns the sandbox's ID maps: the spec's, or uid and gid
// mapped to 0. It refuses maps an unprivileged process cannot write.
func rootlessMaps(spec *specs.Spec, uid, gid int) (uids, gids []syscall.SysProcIDMap, err error) {
	uids = []syscall.SysProcIDMap{{ContainerID: 0, HostID: uid, Size: 1}}
	gids = []syscall.SysProcIDMap{{ContainerID: 0, HostID: gid, Size: 1}}
	path, ok := specutils.HasNamespace(spec, specs.UserNamespace)
	if !ok {
		return uids, gids, nil
	}
	if path != "" {
		return nil, nil, fmt.Errorf("rootless: joining a user namespace by path is not supported")
	}
	if len(spec.Linux.UIDMappings) == 0 && len(spec.Linux.GIDMappings) == 0 {
		return uids, gids, nil
	}
	conv := func(what string, ms []specs.LinuxIDMapping, own int) ([]syscall.SysProcIDMap, error) {
		if len(ms) != 1 || ms[0].Size != 1 || int(ms[0].HostID) != own {
			return nil, fmt.Errorf("rootless: linux.%s must map exactly the caller's id %d (size 1): other ranges need newuidmap/newgidmap, which runsc does not support yet", what, own)
		}
		return []syscall.SysProcIDMap{{ContainerID: int(ms[0].ContainerID), HostID: own, Size: 1}}, nil
	}
	if uids, err = conv("uidMappings", spec.Linux.UIDMappings, uid); err != nil {
		return nil, nil, err
	}
	if gids, err = conv("gidMappings", spec.Linux.GIDMappings, gid); err != nil {
		return nil, nil, err
	}
	return uids, gids, nil
}
