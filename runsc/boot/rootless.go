package boot

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/syndtr/gocapability/capability"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/runsc/config"
	"runsc.dev/runsc/runsc/control"
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
				if err := LoopbackUp(); err != nil {
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
	return sealedSpec(&changed)
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

// sealedSpec writes spec into a sealed memfd.
func sealedSpec(spec *specs.Spec) (*os.File, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("encoding spec: %w", err)
	}
	fd, err := unix.MemfdCreate("runsc-spec", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("creating spec memfd: %w", err)
	}
	f := os.NewFile(uintptr(fd), "spec")
	if _, err := f.Write(b); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing spec memfd: %w", err)
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, unix.F_SEAL_SEAL|unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_WRITE); err != nil {
		f.Close()
		return nil, fmt.Errorf("sealing spec memfd: %w", err)
	}
	return f, nil
}

// LoopbackUp brings up the loopback interface of the calling thread's
// network namespace (runc does the same for a new network namespace).
func LoopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("loopback: socket: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback: reading flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback: bringing lo up: %w", err)
	}
	return nil
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
