package specutils

import (
	"fmt"
	"os"
	"strconv"
)

// ProcsInPIDNamespaceOf returns every host process in the same PID
// namespace as pid (pid included), found by comparing /proc/<n>/ns/pid.
func ProcsInPIDNamespaceOf(pid int) ([]Proc, error) {
	want, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if err != nil {
		return nil, fmt.Errorf("reading pid namespace of %d: %w", pid, err)
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
