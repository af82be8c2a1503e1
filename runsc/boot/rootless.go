package boot

import (
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/syndtr/gocapability/capability"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/runsc/config"
	"runsc.dev/runsc/runsc/control"
	"runsc.dev/runsc/runsc/specutils"
)

// goferSpec returns the spec file for the gofer and init: the one create
// sent, or, when the sandbox changes what they must do, a sealed memfd of
// the changed spec (owned by the caller):
//   - RootfsOverlayAnnotation: root.path becomes the overlay built here;
//   - rootless: the user namespace, and a new network namespace, are the
//     sandbox's own (it was born in them), so they leave the spec and the
//     loopback interface is brought up here.
func goferSpec(conf *config.Config, spec *specs.Spec, boot *control.Message) (*os.File, error) {
	orig := boot.Files[BootSpec]
	changed := *spec
	dirty := false
	if v, ok := spec.Annotations[RootfsOverlayAnnotation]; ok {
		if spec.Root == nil {
			return nil, fmt.Errorf("annotation %s: the spec has no root", RootfsOverlayAnnotation)
		}
		dir := filepath.Join(conf.RootDir, boot.ID, overlayDirName)
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
			err = fmt.Errorf("annotation %s: unsupported value %q (want tmpfs or none)", RootfsOverlayAnnotation, v)
		}
		if err != nil {
			return nil, err
		}
		changed.Root = &specs.Root{Path: merged, Readonly: spec.Root.Readonly}
		dirty = true
	}
	if conf.Rootless && spec.Linux != nil {
		linux := *spec.Linux
		linux.Namespaces = nil
		for _, ns := range spec.Linux.Namespaces {
			switch {
			case ns.Type == specs.UserNamespace:
				continue
			case ns.Type == specs.NetworkNamespace && ns.Path == "":
				if err := specutils.LoopbackUp(); err != nil {
					return nil, err
				}
				continue
			}
			linux.Namespaces = append(linux.Namespaces, ns)
		}
		linux.UIDMappings, linux.GIDMappings = nil, nil
		changed.Linux = &linux
		dirty = true
	}
	if !dirty {
		return orig, nil
	}
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

// Securebits (linux/securebits.h).
const (
	secbitNoroot             = 1 << 0
	secbitNorootLocked       = 1 << 1
	secbitNoSetuidFixup      = 1 << 2
	secbitNoSetuidFixupLock  = 1 << 3
	secbitKeepCapsLocked     = 1 << 5
	secbitNoCapAmbientRaise  = 1 << 6
	secbitNoCapAmbientLocked = 1 << 7
)

// CallSelfWithoutCaps is the rootless sandbox's replacement for becoming
// nobody: in a user namespace that maps only the caller (to root), there
// is no other id to become. It sets the securebits that stop uid 0 from
// regaining capabilities on execve (NOROOT, NO_SETUID_FIXUP, no ambient
// raise, all locked), empties every capability set including the bounding
// set, and re-executes /runsc (the read-only bind inside the chroot) with
// args. The sandbox then serves as a capability-less root of its user
// namespace, with no_new_privs and its seccomp filter. It does not return
// on success.
func CallSelfWithoutCaps(args []string) error {
	bits := secbitNoroot | secbitNorootLocked | secbitNoSetuidFixup | secbitNoSetuidFixupLock |
		secbitKeepCapsLocked | secbitNoCapAmbientRaise | secbitNoCapAmbientLocked
	if err := unix.Prctl(unix.PR_SET_SECUREBITS, uintptr(bits), 0, 0, 0); err != nil {
		return fmt.Errorf("setting securebits: %w", err)
	}
	caps, err := capability.NewPid2(0)
	if err != nil {
		return fmt.Errorf("capabilities: %w", err)
	}
	caps.Clear(capability.CAPS | capability.BOUNDS | capability.AMBS)
	if err := caps.Apply(capability.BOUNDS | capability.AMBS | capability.CAPS); err != nil {
		return fmt.Errorf("dropping capabilities: %w", err)
	}
	return unix.Exec("/runsc", append([]string{"runsc-sandbox"}, args...), os.Environ())
}
