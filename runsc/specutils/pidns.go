package specutils

import (
	"errors"
	"fmt"
	"os"
	"strconv"
)

// ErrHostPIDNamespace is returned when asked for the processes of a pid
// namespace that is runsc's own: that would be every process of the host.
var ErrHostPIDNamespace = errors.New("process is in runsc's own pid namespace")

// ProcsInPIDNamespaceOf returns every host process in the same PID
// namespace as pid (pid included), found by comparing /proc/<n>/ns/pid. It
// refuses runsc's own pid namespace: a container's init is never there,
// and a state file naming such a process must not make runsc signal the
// whole host.
func ProcsInPIDNamespaceOf(pid int) ([]Proc, error) {
	want, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if err != nil {
		return nil, fmt.Errorf("reading pid namespace of %d: %w", pid, err)
	}
	if self, err := os.Readlink("/proc/self/ns/pid"); err != nil || self == want {
		return nil, fmt.Errorf("listing processes of pid %d: %w", pid, ErrHostPIDNamespace)
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("listing /proc: %w", err)
	}
	var procs []Proc
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", n)); err != nil || ns != want {
			continue
		}
		if p, err := NewProc(n); err == nil {
			procs = append(procs, p)
		}
	}
	return procs, nil
}
