package sandbox

import (
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/pkg/osthread"
	"runsc.dev/runsc/runsc/config"
	"runsc.dev/runsc/runsc/control"
	"runsc.dev/runsc/runsc/specutils"
)

// netNSResult is newNetNS's outcome.
type netNSResult struct {
	f   *os.File
	err error
}

// wantNetNS reports whether create makes the container's new network
// namespace itself. Creating a network namespace is the costliest part of
// init's clone (0.9 ms here, against 0.2 ms for ipc, uts and cgroup
// together); made by create while the gofer starts, it is off the path to
// "created". Only as root and without a user namespace: a user-namespaced
// container's network namespace must be owned by its user namespace, which
// only the gofer's children are born in.
func wantNetNS(conf *config.Config, spec *specs.Spec, userns bool) bool {
	if conf.Rootless || userns {
		return false
	}
	path, ok := specutils.HasNamespace(spec, specs.NetworkNamespace)
	return ok && path == ""
}

// newNetNS creates a network namespace on a throw-away thread and returns
// it open. Its loopback interface is brought up by init, as for one it
// clones.
func newNetNS() netNSResult {
	var r netNSResult
	osthread.Throwaway(func() {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			r.err = fmt.Errorf("creating network namespace: %w", err)
			return
		}
		fd, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			r.err = fmt.Errorf("opening network namespace: %w", err)
			return
		}
		r.f = os.NewFile(uintptr(fd), control.NetNS)
	})
	return r
}
