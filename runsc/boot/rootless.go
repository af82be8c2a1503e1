package boot

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
	"runsc.dev/runsc/runsc/specutils"
)

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
	var none specutils.Caps
	if err := none.DropBounding(); err != nil {
		return fmt.Errorf("dropping capabilities: %w", err)
	}
	if err := none.Apply(); err != nil {
		return fmt.Errorf("dropping capabilities: %w", err)
	}
	return unix.Exec("/runsc", append([]string{"runsc-sandbox"}, args...), os.Environ())
}
