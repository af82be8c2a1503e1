package specutils

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/pkg/sysfile"
)

// capNames are the capabilities' names (capabilities(7)) by number,
// through CAP_CHECKPOINT_RESTORE (Linux 5.9). A capability the kernel has
// beyond these is dropped from every bounding set like the others, and
// has no name a config could ask for.
var capNames = [...]string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// CapabilityFromName maps "CAP_SYS_ADMIN" (any case) to its number;
// unknown names are an error (a config asking for a capability runsc
// cannot name must fail). A loop over 41 names, not a map: package state
// is built in every runsc process, and this runs once per name asked.
func CapabilityFromName(name string) (int, error) {
	for i, n := range capNames {
		if strings.EqualFold(n, name) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown capability %q", name)
}

// AllCapabilityNames returns every capability name known to this build.
func AllCapabilityNames() []string {
	return append([]string(nil), capNames[:]...)
}

// lastCap is /proc/sys/kernel/cap_last_cap, read on first use.
var lastCap = sync.OnceValue(func() int {
	if b, err := sysfile.ReadFile("/proc/sys/kernel/cap_last_cap"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n >= 0 {
			return n
		}
	}
	return len(capNames) - 1
})

// LastCap returns the highest capability number of the running kernel.
func LastCap() int { return lastCap() }

// errTooManyCaps: Caps holds 64 capabilities, and a kernel with more
// would keep those beyond in every bounding set.
var errTooManyCaps = errors.New("the kernel has more capabilities than runsc can drop")

// CheckLastCap fails if the kernel has capabilities Caps cannot hold.
func CheckLastCap() error {
	if LastCap() >= 64 {
		return fmt.Errorf("%w (%d)", errTooManyCaps, LastCap()+1)
	}
	return nil
}

// Caps are the five capability sets of a process, one bit per capability
// number.
type Caps struct {
	Bounding, Effective, Permitted, Inheritable, Ambient uint64
}

// CapsFromSpec returns the sets process.capabilities names; nil is none at
// all (every set empty).
func CapsFromSpec(c *specs.LinuxCapabilities) (Caps, error) {
	var caps Caps
	if c == nil {
		return caps, nil
	}
	for _, set := range []struct {
		bits  *uint64
		names []string
	}{
		{&caps.Bounding, c.Bounding}, {&caps.Effective, c.Effective},
		{&caps.Permitted, c.Permitted}, {&caps.Inheritable, c.Inheritable},
		{&caps.Ambient, c.Ambient},
	} {
		for _, n := range set.names {
			v, err := CapabilityFromName(n)
			if err != nil {
				return Caps{}, fmt.Errorf("process.capabilities: %w", err)
			}
			*set.bits |= 1 << uint(v)
		}
	}
	return caps, nil
}

// HaveCapability reports whether the calling thread has capability c
// effective.
func HaveCapability(c int) (bool, error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false, fmt.Errorf("capget: %w", err)
	}
	return data[c/32].Effective&(1<<uint(c%32)) != 0, nil
}

// DropBounding drops from the calling thread's bounding set every
// capability not in c.Bounding. Dropping needs CAP_SETPCAP: without it
// nothing is dropped, as runc's libcapability leaves it (a rootless
// container keeps the bounding set it was given). A capability the kernel
// does not know (EINVAL) is skipped.
func (c Caps) DropBounding() error {
	if err := CheckLastCap(); err != nil {
		return err
	}
	if ok, err := HaveCapability(unix.CAP_SETPCAP); err != nil || !ok {
		return err
	}
	for i := 0; i <= LastCap(); i++ {
		if c.Bounding&(1<<uint(i)) != 0 {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(i), 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("dropping %s from the bounding set: %w", capName(i), err)
		}
	}
	return nil
}

// Apply sets the calling thread's effective, permitted and inheritable
// sets to c's, then its ambient set to exactly c.Ambient (cleared in one
// call, then raised capability by capability; a raise the kernel refuses
// is skipped, as it would be for a capability not in both the permitted
// and inheritable sets).
func (c Caps) Apply() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := c.UserData()
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	// Errors are ignored here, as runc's libcapability ignores them: a
	// kernel without ambient capabilities (before 4.3) has none to clear.
	unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
	for i := 0; i <= LastCap() && c.Ambient != 0; i++ {
		if c.Ambient&(1<<uint(i)) != 0 {
			unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(i), 0, 0)
		}
	}
	return nil
}

// UserData returns the effective, permitted and inheritable sets as
// capset(2) takes them (version 3: two 32-bit words each).
func (c Caps) UserData() [2]unix.CapUserData {
	return [2]unix.CapUserData{
		{Effective: uint32(c.Effective), Permitted: uint32(c.Permitted), Inheritable: uint32(c.Inheritable)},
		{Effective: uint32(c.Effective >> 32), Permitted: uint32(c.Permitted >> 32), Inheritable: uint32(c.Inheritable >> 32)},
	}
}

// capName names capability i in errors.
func capName(i int) string {
	if i < len(capNames) {
		return capNames[i]
	}
	return "capability " + strconv.Itoa(i)
}
