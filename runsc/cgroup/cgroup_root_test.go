//go:build root

package cgroup

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// These tests use the real cgroup hierarchies of the host. Run them as root
// with: go test -tags root ./runsc/cgroup/

func rootHost(t *testing.T) *Host {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	h, err := DetectHost(HostConfig{})
	if err != nil {
		t.Skipf("no usable cgroups: %v", err)
	}
	return h
}

// testPath returns an absolute cgroup path unique to the test.
func testPath(t *testing.T) (string, string) {
	id := fmt.Sprintf("ctr-%d", os.Getpid())
	name := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	return fmt.Sprintf("/runsc-roottest-%s-%d/%s", name, os.Getpid(), id), id
}

// startSleeper starts a process that the test owns and kills at the end.
func startSleeper(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "300")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

func stopSleeper(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	cmd.Process.Kill()
	cmd.Wait()
}

// newRootCgroup makes a Cgroup whose directories are removed at the end,
// and checks that nothing of it is left behind.
func newRootCgroup(t *testing.T, h *Host, res *specs.LinuxResources) *Cgroup {
	t.Helper()
	path, id := testPath(t)
	c, err := NewOnHost(h, res, path, id, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Rollback(); err != nil {
			t.Errorf("cleanup Rollback: %v", err)
		}
		for _, d := range c.dirs() {
			// Neither the cgroup nor the test's parent may be left.
			if isDir(d) || isDir(filepath.Dir(d)) {
				t.Errorf("%s or its parent left behind", d)
			}
		}
	})
	return c
}

func readBack(t *testing.T, dir, file string) string {
	t.Helper()
	s, err := readTrimmed(dir, file)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func procState(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "State:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func TestRootLifecycle(t *testing.T) {
	h := rootHost(t)
	t.Logf("mode %s; v1 controllers %v; cgroup2 controllers %v", h.Mode, sortedKeys(h.V1), h.V2Controllers)
	res := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptr(int64(256 << 20))},
		Pids:   &specs.LinuxPids{Limit: ptr(int64(64))},
		CPU:    &specs.LinuxCPU{Shares: ptr(uint64(512)), Quota: ptr(int64(50000)), Period: ptr(uint64(100000)), Cpus: "0", Mems: "0"},
	}
	c := newRootCgroup(t, h, res)
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	cmd := startSleeper(t)
	pid := cmd.Process.Pid
	if err := c.Join(pid); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(res); err != nil {
		t.Fatal(err)
	}

	// Read the limits back from the kernel.
	mem, memV2, _ := c.route("memory", "memory")
	cpu, cpuV2, _ := c.route("cpu", "cpu")
	pids, _, _ := c.route("pids", "pids")
	cpuset, _, _ := c.route("cpuset", "cpuset")
	want := map[string]string{filepath.Join(pids, "pids.max"): "64", filepath.Join(cpuset, "cpuset.cpus"): "0"}
	if memV2 {
		want[filepath.Join(mem, "memory.max")] = "268435456"
	} else {
		want[filepath.Join(mem, "memory.limit_in_bytes")] = "268435456"
	}
	if cpuV2 {
		want[filepath.Join(cpu, "cpu.weight")] = "20"
		want[filepath.Join(cpu, "cpu.max")] = "50000 100000"
	} else {
		want[filepath.Join(cpu, "cpu.shares")] = "512"
		want[filepath.Join(cpu, "cpu.cfs_quota_us")] = "50000"
		want[filepath.Join(cpu, "cpu.cfs_period_us")] = "100000"
	}
	for p, v := range want {
		if got := readBack(t, filepath.Dir(p), filepath.Base(p)); got != v {
			t.Errorf("%s = %q, want %q", p, got, v)
		}
	}

	// The process is in the cgroup in every hierarchy, including the
	// cgroup2 tree of a hybrid host.
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	pc, err := ParseProcCgroup(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	for ctrl := range c.Paths {
		if !strings.HasSuffix(pc[ctrl], c.CgroupsPath) {
			t.Errorf("%s: process in %q, want %q", ctrl, pc[ctrl], c.CgroupsPath)
		}
	}
	if c.Unified != "" && pc[""] != c.CgroupsPath {
		t.Errorf("cgroup2: process in %q, want %q", pc[""], c.CgroupsPath)
	}
	if procs, err := c.Procs(); err != nil || len(procs) != 1 || procs[0] != pid {
		t.Errorf("Procs = %v, %v; want [%d]", procs, err, pid)
	}

	s, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Pids.Current != 1 || s.Pids.Limit != 64 || s.Memory.Usage.Limit != 256<<20 {
		t.Errorf("stats: pids %+v, memory %+v", s.Pids, s.Memory.Usage)
	}
	js, _ := json.Marshal(Event{Type: "stats", ID: c.ID, Data: s})
	t.Logf("events --stats: %.400s...", js)

	// Freeze and thaw.
	if err := c.Freeze(); err != nil {
		t.Fatal(err)
	}
	state, err := c.FreezerState()
	if err != nil || state != Frozen || !c.Paused() {
		t.Errorf("after Freeze: %v %v paused=%v", state, err, c.Paused())
	}
	t.Logf("frozen: /proc/%d/status State: %s", pid, procState(pid))
	if _, v1 := c.Paths["freezer"]; v1 && !strings.HasPrefix(procState(pid), "D") {
		t.Errorf("frozen v1 task in state %q, want D", procState(pid))
	}
	if err := c.Thaw(); err != nil {
		t.Fatal(err)
	}
	if c.Paused() {
		t.Error("paused after Thaw")
	}
	t.Logf("thawed: /proc/%d/status State: %s", pid, procState(pid))

	// An update is validated first: a bad value changes nothing.
	if err := c.Set(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(32))}, CPU: &specs.LinuxCPU{Shares: ptr(uint64(1))}}); err == nil {
		t.Error("shares=1 accepted")
	}
	if got := readBack(t, pids, "pids.max"); got != "64" {
		t.Errorf("refused update changed pids.max to %s", got)
	}
	if err := c.Set(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(32))}}); err != nil {
		t.Fatal(err)
	}
	// Block I/O: the weight goes to whichever weight file the kernel has
	// (BFQ's blkio.bfq.weight here), throttles to the throttle layer.
	var st unix.Stat_t
	if err := unix.Stat("/", &st); err == nil {
		maj, mnr := int64(unix.Major(uint64(st.Dev))), int64(unix.Minor(uint64(st.Dev)))
		io := &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{
			Weight:                ptr(uint16(500)),
			ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: maj, Minor: mnr}, Rate: 1 << 20}},
		}}
		if err := c.Set(io); err != nil {
			t.Logf("block I/O settings not supported here: %v", err)
		} else if dir, v2, _ := c.route("blkio", "io"); !v2 {
			got, _ := readTrimmed(dir, "blkio.throttle.read_bps_device")
			if want := fmt.Sprintf("%d:%d 1048576", maj, mnr); got != want {
				t.Errorf("blkio.throttle.read_bps_device = %q, want %q", got, want)
			}
			w, _ := readTrimmed(dir, "blkio.bfq.weight")
			t.Logf("blkio.bfq.weight: %q", w)
		}
	}
	if got := readBack(t, pids, "pids.max"); got != "32" {
		t.Errorf("pids.max = %s after update", got)
	}

	stopSleeper(t, cmd)
	if err := c.Destroy(); err != nil {
		t.Fatal(err)
	}
	if err := c.Destroy(); err != nil {
		t.Errorf("second Destroy: %v", err)
	}
}

func TestRootCreateRefusesBusyAndFrozen(t *testing.T) {
	h := rootHost(t)
	c := newRootCgroup(t, h, nil)
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	cmd := startSleeper(t)
	if err := c.Join(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	again, err := NewOnHost(h, nil, c.CgroupsPath, c.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := again.Create(); err == nil || !strings.Contains(err.Error(), "has processes") {
		t.Errorf("busy cgroup: %v", err)
	}
	stopSleeper(t, cmd)
	if err := c.Freeze(); err != nil {
		t.Fatal(err)
	}
	if err := again.Create(); err == nil || !strings.Contains(err.Error(), "frozen") {
		t.Errorf("frozen cgroup: %v", err)
	}
	if err := c.Thaw(); err != nil {
		t.Fatal(err)
	}
	if err := again.Create(); err != nil {
		t.Errorf("empty thawed cgroup: %v", err)
	}
}

func TestRootDestroyWaitsForExit(t *testing.T) {
	h := rootHost(t)
	c := newRootCgroup(t, h, nil)
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	cmd := startSleeper(t)
	if err := c.Join(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
	}()
	start := time.Now()
	if err := c.Destroy(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("Destroy finished after %v, while the process was alive", d)
	}
}

// TestRootRemoveIfEmpty checks that RemoveIfEmpty leaves a cgroup that
// holds a process (in every hierarchy: a live task blocks rmdir) and
// removes it, in every hierarchy, once the process is gone (a zombie does
// not hold it).
func TestRootRemoveIfEmpty(t *testing.T) {
	h := rootHost(t)
	c := newRootCgroup(t, h, nil)
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	cmd := startSleeper(t)
	if err := c.Join(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if c.RemoveIfEmpty() {
		t.Fatal("RemoveIfEmpty removed a cgroup holding a live process")
	}
	for _, d := range c.dirs() {
		if !isDir(d) {
			t.Errorf("%s removed while it held a live process", d)
		}
	}
	cmd.Process.Kill()
	// Dead but not reaped: a zombie has left its cgroups.
	for procState(cmd.Process.Pid)[0] != 'Z' {
		time.Sleep(time.Millisecond)
	}
	if !c.RemoveIfEmpty() {
		t.Error("RemoveIfEmpty kept a cgroup whose one process is a zombie")
	}
	cmd.Wait()
	for _, d := range c.dirs() {
		if isDir(d) {
			t.Errorf("%s left behind", d)
		}
	}
	if !c.RemoveIfEmpty() {
		t.Error("RemoveIfEmpty of a removed cgroup reported it there")
	}
}

// runProbe starts a shell in the cgroup that, once released, tries to
// write and read /dev/null and open /dev/full, and reports the results.
func runProbe(t *testing.T, c *Cgroup) string {
	t.Helper()
	// No 2>/dev/null: that would open /dev/null for writing. The shell's
	// stderr is a /dev/null opened before it joined the cgroup.
	cmd := exec.Command("sh", "-c", `read go
(echo x > /dev/null) && echo null-write-ok || echo null-write-denied
(cat /dev/null) && echo null-read-ok || echo null-read-denied
(: < /dev/full) && echo full-ok || echo full-denied`)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	if err := c.Join(cmd.Process.Pid); err != nil {
		cmd.Process.Kill()
		t.Fatal(err)
	}
	io.WriteString(stdin, "go\n")
	stdin.Close()
	var out []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return strings.Join(out, " ")
}

func TestRootDevicesV1(t *testing.T) {
	h := rootHost(t)
	if _, ok := h.V1["devices"]; !ok {
		t.Skip("no v1 devices hierarchy")
	}
	res := &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(3)), Access: "rwm"},
		{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(5)), Access: "r"},
	}}
	c := newRootCgroup(t, h, res)
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(res); err != nil {
		t.Fatal(err)
	}
	if got := readBack(t, c.Paths["devices"], "devices.list"); got != "c 1:3 rwm\nc 1:5 r" {
		t.Errorf("devices.list = %q", got)
	}
	if got := runProbe(t, c); got != "null-write-ok null-read-ok full-denied" {
		t.Errorf("probe: %s", got)
	}
}

// TestRootDevicesEBPF attaches the generated eBPF device filter to the
// container's cgroup2 directory (on a hybrid host, by routing devices away
// from the v1 hierarchy) and checks what a process in it may open.
func TestRootDevicesEBPF(t *testing.T) {
	h := rootHost(t)
	if h.V2 == nil {
		t.Skip("no cgroup2 hierarchy")
	}
	c := newRootCgroup(t, h, nil)
	delete(c.Paths, "devices") // use the cgroup2 eBPF filter
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	denyNullWrite := &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
		{Allow: true, Access: "rwm"},
		{Allow: false, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(3)), Access: "w"},
		{Allow: false, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(7)), Access: "rwm"},
	}}
	if err := c.Set(denyNullWrite); err != nil {
		t.Fatal(err)
	}
	if got := runProbe(t, c); got != "null-write-denied null-read-ok full-denied" {
		t.Errorf("deny list probe: %s", got)
	}
	allowList := &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(3)), Access: "rw"},
	}}
	if err := c.Set(allowList); err != nil {
		t.Fatal(err)
	}
	if got := runProbe(t, c); got != "null-write-ok null-read-ok full-denied" {
		t.Errorf("allow list probe: %s", got)
	}
	// Updates replace the program instead of stacking them.
	fd, err := unix.Open(c.Unified, unix.O_DIRECTORY|unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	ids, err := queryDevicePrograms(fd)
	if err != nil || len(ids) != 1 {
		t.Errorf("attached programs %v, %v; want one", ids, err)
	}
}

func TestRootHugetlbInUnifiedTree(t *testing.T) {
	h := rootHost(t)
	if _, ok := h.V1["hugetlb"]; ok || h.V2 == nil || !h.hasV2Controller("hugetlb") {
		t.Skip("hugetlb is not a cgroup2 controller here")
	}
	rootCtl := filepath.Join(h.V2.Mountpoint, "cgroup.subtree_control")
	before, _ := os.ReadFile(rootCtl)
	t.Cleanup(func() {
		if !strings.Contains(string(before), "hugetlb") {
			os.WriteFile(rootCtl, []byte("-hugetlb"), 0)
		}
	})
	res := &specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}}}
	c := newRootCgroup(t, h, res)
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(res); err != nil {
		t.Fatal(err)
	}
	if got := readBack(t, c.Unified, "hugetlb.2MB.max"); got != "4194304" {
		t.Errorf("hugetlb.2MB.max = %s", got)
	}
	s, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Hugetlb["2MB"]; !ok {
		t.Errorf("no 2MB hugetlb stats: %+v", s.Hugetlb)
	}
}

func TestRootSystemdPath(t *testing.T) {
	h := rootHost(t)
	name := fmt.Sprintf("runsc-roottest-%d.slice:test:ctr", os.Getpid())
	c, err := NewOnHost(h, nil, name, "ctr", true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Rollback() })
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	for _, d := range c.dirs() {
		if !strings.HasSuffix(d, fmt.Sprintf("/runsc.slice/runsc-roottest.slice/runsc-roottest-%d.slice/test-ctr.scope", os.Getpid())) {
			t.Errorf("systemd path %s", d)
		}
	}
	// Rollback: the slices Create made go too.
	if err := c.Rollback(); err != nil {
		t.Fatal(err)
	}
	for _, d := range c.Created {
		t.Errorf("%s still recorded", d)
	}
	for _, d := range c.dirs() {
		if top := d[:strings.Index(d, "/runsc.slice")+len("/runsc.slice")]; isDir(top) {
			t.Errorf("slice parent %s left behind", top)
		}
	}
}

// TestRootSpawnBornInCgroup checks that Spawn's children are in the
// container's cgroup in every hierarchy from birth (the cgroup2 one of a
// hybrid host included), and that no thread of the caller stays behind in
// it: whichever thread the spawn ran on, the main one included, has left
// the cgroup once Spawn has returned and that thread has exited.
func TestRootSpawnBornInCgroup(t *testing.T) {
	t.Run("by path", func(t *testing.T) { testSpawnBornInCgroup(t, false) })
	t.Run("with ThreadFiles", func(t *testing.T) { testSpawnBornInCgroup(t, true) })
}

func testSpawnBornInCgroup(t *testing.T, withFiles bool) {
	h := rootHost(t)
	c := newRootCgroup(t, h, &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(32))}})
	if err := c.Prepare(); err != nil {
		t.Fatal(err)
	}
	var files []*os.File
	if withFiles {
		var err error
		if files, err = c.ThreadFiles(); err != nil {
			t.Fatal(err)
		}
		defer func() {
			for _, f := range files {
				f.Close()
			}
		}()
	}
	for round := 0; round < 20; round++ {
		var cmd *exec.Cmd
		err := c.SpawnWith(files, func(cgroupFD int) ([]int, error) {
			if withFiles && c.Unified != "" && cgroupFD < 0 {
				return nil, errors.New("no cgroup2 fd from the ThreadFiles")
			}
			cmd = exec.Command("sleep", "300")
			if cgroupFD >= 0 {
				cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: cgroupFD}
			}
			if err := cmd.Start(); err != nil {
				return nil, err
			}
			return []int{cmd.Process.Pid}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		pid := cmd.Process.Pid
		got, err := readProcCgroup(fmt.Sprintf("/proc/%d/cgroup", pid))
		if err != nil {
			t.Fatal(err)
		}
		for ctrl, dir := range c.Paths {
			if want := strings.TrimPrefix(dir, c.Mounts[ctrl]); got[ctrl] != want {
				t.Errorf("child's %s cgroup is %q, want %q", ctrl, got[ctrl], want)
			}
		}
		if c.Unified != "" {
			if want := strings.TrimPrefix(c.Unified, c.UnifiedMount); got[""] != want {
				t.Errorf("child's cgroup2 cgroup is %q, want %q", got[""], want)
			}
		}
		// Only the child's threads are left in the cgroup.
		deadline := time.Now().Add(2 * time.Second)
		for {
			procs, err := c.Procs()
			if err != nil {
				t.Fatal(err)
			}
			if len(procs) == 1 && procs[0] == pid {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: cgroup holds %v, want only the child %d (test pid %d)", round, procs, pid, os.Getpid())
			}
			time.Sleep(time.Millisecond)
		}
		cmd.Process.Kill()
		cmd.Wait()
	}
}

// TestRootCpusetCloneChildren checks that a container under runsc's own
// parent (named as DefaultParent) has a usable v1 cpuset, that the parent
// then has cgroup.clone_children set (so the kernel fills the next
// container's cpuset), that the next one is usable too, and that a parent
// of another name is left alone.
func TestRootCpusetCloneChildren(t *testing.T) {
	h := rootHost(t)
	m, ok := h.V1["cpuset"]
	if !ok {
		t.Skip("no v1 cpuset hierarchy")
	}
	top := fmt.Sprintf("/runsc-roottest-cpuset-%d", os.Getpid())
	want := readBack(t, m.Mountpoint, "cpuset.cpus")
	make := func(parent, id string) *Cgroup {
		c, err := NewOnHost(h, nil, filepath.Join(top, parent, id), id, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Create(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := c.Rollback(); err != nil {
				t.Errorf("cleanup Rollback: %v", err)
			}
		})
		d := c.Path("cpuset")
		if got := readBack(t, d, "cpuset.cpus"); got != want {
			t.Errorf("%s: cpuset.cpus %q, want the root's %q", d, got, want)
		}
		if got := readBack(t, d, "cpuset.mems"); got == "" {
			t.Errorf("%s: cpuset.mems empty", d)
		}
		return c
	}
	base := filepath.Base(DefaultParent)
	a := make(base, "a")
	parent := filepath.Dir(a.Path("cpuset"))
	if got := readBack(t, parent, "cgroup.clone_children"); got != "1" {
		t.Errorf("%s: cgroup.clone_children %q after a container, want 1", parent, got)
	}
	make(base, "b")
	other := make("elsewhere", "c")
	if got := readBack(t, filepath.Dir(other.Path("cpuset")), "cgroup.clone_children"); got != "0" {
		t.Errorf("a parent runsc does not own got cgroup.clone_children %q, want 0", got)
	}
}
