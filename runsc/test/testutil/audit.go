package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"runsc.dev/runsc/runsc/cgroup"
)

// Snapshot is host state that a test must leave as it found it: runsc
// processes, mounts and the fds of the test process.
type Snapshot struct {
	Procs  map[string]bool // "pid comm"
	Mounts map[string]bool // mount point + fs type
	// Cgroups are container cgroup directories under cgroup.DefaultParent.
	Cgroups map[string]bool
	FDs     int
}

var (
	rootsMu sync.Mutex
	// roots are the --root directories of this test binary's runtimes:
	// only their runsc processes are audited, not other tests' on the host.
	roots []string
)

func registerRoot(root string) {
	rootsMu.Lock()
	roots = append(roots, root)
	rootsMu.Unlock()
}

// ours reports whether a runsc command line belongs to this test binary.
func ours(cmdline string) bool {
	rootsMu.Lock()
	defer rootsMu.Unlock()
	for _, r := range roots {
		if strings.Contains(cmdline, "--root="+r+"\x00") || strings.Contains(cmdline, "--root\x00"+r+"\x00") {
			return true
		}
	}
	return false
}

// TakeSnapshot records this test binary's runsc processes, the mounts
// under t.TempDir() trees (where tests make rootfs trees), the container
// cgroups under the default parent of every hierarchy, and our fds.
func TakeSnapshot() Snapshot {
	s := Snapshot{Procs: map[string]bool{}, Mounts: map[string]bool{}, Cgroups: map[string]bool{}}
	// Root tests run one at a time: a container cgroup that appears during
	// a test is that test's.
	v1, _ := filepath.Glob("/sys/fs/cgroup/*" + cgroup.DefaultParent + "/*")
	v2, _ := filepath.Glob("/sys/fs/cgroup" + cgroup.DefaultParent + "/*")
	for _, d := range append(v1, v2...) {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			s.Cgroups[d] = true
		}
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		comm, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if c := strings.SplitN(string(comm), "\x00", 2)[0]; strings.HasPrefix(c, "runsc-") && ours(string(comm)+"\x00") {
			s.Procs[e.Name()+" "+c] = true
		}
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	for _, l := range strings.Split(string(mi), "\n") {
		f := strings.Fields(l)
		// t.TempDir() trees (rootfs, bundles) of this test binary; other
		// suites' mounts (a dockerd's overlays) are not ours to audit.
		if len(f) > 4 && strings.HasPrefix(f[4], os.TempDir()+"/Test") {
			s.Mounts[f[4]] = true
		}
	}
	fds, _ := os.ReadDir("/proc/self/fd")
	s.FDs = len(fds)
	return s
}

// Leftovers lists what after has that s had not.
func (s Snapshot) Leftovers(after Snapshot) []string {
	var out []string
	for p := range after.Procs {
		if !s.Procs[p] {
			out = append(out, "process "+p)
		}
	}
	for m := range after.Mounts {
		if !s.Mounts[m] {
			out = append(out, "mount "+m)
		}
	}
	for c := range after.Cgroups {
		if !s.Cgroups[c] {
			out = append(out, "cgroup "+c)
		}
	}
	if after.FDs > s.FDs+2 { // The Go runtime may open a pipe or two.
		out = append(out, fmt.Sprintf("fds %d -> %d", s.FDs, after.FDs))
	}
	sort.Strings(out)
	return out
}

// Audit fails t if the test leaves runsc processes, mounts or container
// cgroups behind.
func Audit(t *testing.T) {
	before := TakeSnapshot()
	t.Cleanup(func() {
		if left := before.Leftovers(TakeSnapshot()); len(left) > 0 {
			t.Errorf("left behind: %s", strings.Join(left, "; "))
		}
	})
}
