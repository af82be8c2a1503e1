package cgroup

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestValidateRefusesBadValuesWithoutWriting(t *testing.T) {
	f := newFakeHost(t, Legacy, nil)
	c := f.newCgroup("/v", "v")
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	initial := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(100 << 20))}, Pids: &specs.LinuxPids{Limit: ptr(int64(10))}}
	if err := c.Set(initial); err != nil {
		t.Fatal(err)
	}
	f.set(f.path("memory/v/memory.usage_in_bytes"), "52428800")
	os.Remove(f.path("blkio/v/blkio.weight")) // no CFQ/BFQ on this "kernel"
	for _, tc := range []struct {
		res   *specs.LinuxResources
		field string
	}{
		{&specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr(uint64(1))}}, "linux.resources.cpu.shares"},
		{&specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr(int64(500))}}, "linux.resources.cpu.quota"},
		{&specs.LinuxResources{CPU: &specs.LinuxCPU{Period: ptr(uint64(2000000))}}, "linux.resources.cpu.period"},
		{&specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr(int64(5000)), Burst: ptr(uint64(6000))}}, "linux.resources.cpu.burst"},
		{&specs.LinuxResources{CPU: &specs.LinuxCPU{Idle: ptr(int64(2))}}, "linux.resources.cpu.idle"},
		{&specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "3-1"}}, "linux.resources.cpu.cpus"},
		{&specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: ptr(int64(2000)), RealtimePeriod: ptr(uint64(1000))}}, "linux.resources.cpu.realtimeRuntime"},
		{&specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: ptr(uint64(101))}}, "linux.resources.memory.swappiness"},
		{&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(-5))}}, "linux.resources.memory.limit"},
		{&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(200)), Swap: ptr(int64(100))}}, "linux.resources.memory.swap"},
		{&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(40 << 20)), CheckBeforeUpdate: ptr(true)}}, "linux.resources.memory.limit"},
		{&specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptr(uint16(5))}}, "linux.resources.blockIO.weight"},
		{&specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptr(uint16(500))}}, "linux.resources.blockIO.weight"},
		{&specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: -1}}}}}, "linux.resources.blockIO.throttleReadBpsDevice[0]"},
		{&specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "3MB", Limit: 1}}}, "linux.resources.hugepageLimits[0]"},
		{&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "z"}}}, "linux.resources.devices[0].type"},
		{&specs.LinuxResources{Unified: map[string]string{"cgroup.procs/../x": "1"}}, "linux.resources.unified"},
		{&specs.LinuxResources{Network: &specs.LinuxNetwork{Priorities: []specs.LinuxInterfacePriority{{Name: "bad name"}}}}, "linux.resources.network.priorities[0].name"},
	} {
		// Each bad setting is combined with a good one: nothing is written.
		tc.res.Pids = &specs.LinuxPids{Limit: ptr(int64(20))}
		f.takeWrites()
		if err := c.Validate(tc.res); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("Validate: want error naming %s, got %v", tc.field, err)
		}
		if err := c.Set(tc.res); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("Set: want error naming %s, got %v", tc.field, err)
		}
		if w := f.takeWrites(); len(w) != 0 {
			t.Errorf("%s: refused update wrote %v", tc.field, w)
		}
		if got := f.get(f.path("pids/v/pids.max")); got != "10" {
			t.Errorf("%s: pids.max changed to %q", tc.field, got)
		}
	}
	if got := c.Resources.Pids.Limit; *got != 10 {
		t.Errorf("recorded pids limit %d", *got)
	}
}

func TestCreateRefusesBusyOrFrozen(t *testing.T) {
	f := newFakeHost(t, Legacy, nil)
	c := f.newCgroup("/busy", "busy")
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	f.set(f.path("memory/busy/cgroup.procs"), "123\n")
	c2 := f.newCgroup("/busy", "busy")
	if err := c2.Create(); err == nil || !strings.Contains(err.Error(), "has processes") {
		t.Errorf("busy cgroup: %v", err)
	}
	// Processes in a sub-cgroup count too.
	f.set(f.path("memory/busy/cgroup.procs"), "")
	if err := f.mkdir(f.path("memory/busy/sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	f.set(f.path("memory/busy/sub/cgroup.procs"), "7\n")
	if err := c2.Create(); err == nil || !strings.Contains(err.Error(), "has processes") {
		t.Errorf("busy sub-cgroup: %v", err)
	}
	f.set(f.path("memory/busy/sub/cgroup.procs"), "")
	f.set(f.path("freezer/busy/freezer.state"), "FROZEN\n")
	if err := c2.Create(); err == nil || !strings.Contains(err.Error(), "frozen") {
		t.Errorf("frozen cgroup: %v", err)
	}
	// An empty, thawed cgroup is reused but not recorded as created.
	f.set(f.path("freezer/busy/freezer.state"), "THAWED\n")
	if err := c2.Create(); err != nil {
		t.Fatal(err)
	}
	if len(c2.Created) != 0 {
		t.Errorf("reused cgroup recorded as created: %v", c2.Created)
	}
}

func TestDestroy(t *testing.T) {
	f := newFakeHost(t, Hybrid, nil)
	before := f.listDirs()
	c := f.newCgroup("/p1/p2/ctr", "ctr")
	sib := f.newCgroup("/p1/sib", "sib")
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	if err := sib.Create(); err != nil {
		t.Fatal(err)
	}
	// A sub-cgroup made inside the container is removed too.
	if err := f.mkdir(f.path("memory/p1/p2/ctr/inner"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := sib.Destroy(); err != nil {
		t.Fatal(err)
	}
	if !isDir(f.path("memory/p1/p2/ctr")) {
		t.Error("destroying the sibling removed the container")
	}
	if err := c.Destroy(); err != nil {
		t.Fatal(err)
	}
	if err := c.Destroy(); err != nil {
		t.Errorf("second Destroy: %v", err)
	}
	// Destroy removes the container's own cgroup and keeps the parents,
	// as runc does.
	if isDir(f.path("memory/p1/p2/ctr")) || !isDir(f.path("memory/p1/p2")) {
		t.Error("Destroy: want the leaf gone and its parents kept")
	}
	// Rollback (a failed create) also removes the parents Create made.
	if err := c.Rollback(); err != nil {
		t.Fatal(err)
	}
	if after := f.listDirs(); !reflect.DeepEqual(after, before) {
		t.Errorf("left behind: %v\nbefore: %v", after, before)
	}
	// A parent that Create made is kept while another cgroup uses it.
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	if err := sib.Create(); err != nil {
		t.Fatal(err)
	}
	if err := c.Rollback(); err != nil {
		t.Fatal(err)
	}
	if !isDir(f.path("memory/p1/sib")) || isDir(f.path("memory/p1/p2")) {
		t.Error("wrong directories removed")
	}
}

func TestDestroyWaitsForProcesses(t *testing.T) {
	f := newFakeHost(t, Unified, nil)
	c := f.newCgroup("/w", "w")
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	procs := f.path("w/cgroup.procs")
	f.set(procs, "77\n")
	go func() {
		time.Sleep(100 * time.Millisecond)
		os.WriteFile(procs, nil, 0o644) // the process exited
	}()
	start := time.Now()
	if err := c.Destroy(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("Destroy returned after %v, before the process left", d)
	}
	if isDir(f.path("w")) {
		t.Error("cgroup not removed")
	}
	// A process that never leaves: an error after the timeout, nothing
	// killed, the cgroup still there.
	old := DestroyTimeout
	DestroyTimeout = 100 * time.Millisecond
	defer func() { DestroyTimeout = old }()
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	f.set(procs, "78\n")
	err := c.Destroy()
	if err == nil || !strings.Contains(err.Error(), "device or resource busy") {
		t.Errorf("busy Destroy: %v", err)
	}
	if !isDir(f.path("w")) || f.get(procs) != "78\n" {
		t.Error("busy cgroup changed")
	}
	f.set(procs, "")
	if err := c.Destroy(); err != nil {
		t.Error(err)
	}
}

func TestJoinAndProcs(t *testing.T) {
	f := newFakeHost(t, Legacy, nil)
	c := f.newCgroup("/j", "j")
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	f.takeWrites()
	if err := c.Join(1234); err != nil {
		t.Fatal(err)
	}
	ws := f.takeWrites()
	if len(ws) != len(c.dirs()) || len(ws) != 11 {
		t.Errorf("joined %d hierarchies: %v", len(ws), ws)
	}
	f.set(f.path("memory/j/cgroup.procs"), "1234\n99\n")
	if err := f.mkdir(f.path("pids/j/sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	f.set(f.path("pids/j/sub/cgroup.procs"), "5\n")
	got, err := c.Procs()
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{5, 99, 1234}; !reflect.DeepEqual(got, want) {
		t.Errorf("Procs = %v, want %v", got, want)
	}
}

func TestFreezeV1(t *testing.T) {
	f := newFakeHost(t, Legacy, nil)
	c := f.newCgroup("/f", "f")
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	if c.Paused() {
		t.Error("paused after create")
	}
	if err := c.Freeze(); err != nil {
		t.Fatal(err)
	}
	if got := f.get(f.path("freezer/f/freezer.state")); got != "FROZEN" || !c.Paused() {
		t.Errorf("state %q, paused %v", got, c.Paused())
	}
	if err := c.Thaw(); err != nil {
		t.Fatal(err)
	}
	if got := f.get(f.path("freezer/f/freezer.state")); got != "THAWED" || c.Paused() {
		t.Errorf("state %q, paused %v", got, c.Paused())
	}
}

func TestFreezeV2(t *testing.T) {
	f := newFakeHost(t, Unified, nil)
	c := f.newCgroup("/f", "f")
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	events := f.path("f/cgroup.events")
	f.fail = func(path, value string) error {
		if strings.HasSuffix(path, "cgroup.freeze") {
			// The kernel reports the new state asynchronously.
			go func() {
				time.Sleep(20 * time.Millisecond)
				os.WriteFile(events, []byte("populated 1\nfrozen "+value+"\n"), 0o644)
			}()
		}
		return nil
	}
	start := time.Now()
	if err := c.Freeze(); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 20*time.Millisecond {
		t.Error("Freeze did not wait for cgroup.events")
	}
	if s, err := c.FreezerState(); err != nil || s != Frozen || !c.Paused() {
		t.Errorf("state %v %v", s, err)
	}
	if err := c.Thaw(); err != nil {
		t.Fatal(err)
	}
	if s, err := c.FreezerState(); err != nil || s != Thawed {
		t.Errorf("state %v %v", s, err)
	}
	// A cgroup that never reports frozen is thawed again.
	f.fail = nil
	old := FreezeTimeout
	FreezeTimeout = 50 * time.Millisecond
	defer func() { FreezeTimeout = old }()
	if err := c.Freeze(); err == nil {
		t.Error("Freeze succeeded without the kernel reporting frozen")
	}
	if got := f.get(f.path("f/cgroup.freeze")); got != "0" {
		t.Errorf("cgroup.freeze left at %q", got)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	f := newFakeHost(t, Hybrid, nil)
	res := &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(5))}}
	c, err := NewOnHost(f.host, res, "/rt", "rt", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Apply(4321); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back Cgroup
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, c) {
		t.Errorf("round trip:\n%+v\n%+v", back, *c)
	}
	// The reloaded cgroup works: update, then destroy everything.
	if err := back.Set(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(-1))}}); err != nil {
		t.Fatal(err)
	}
	if got := f.get(f.path("pids/rt/pids.max")); got != "max" {
		t.Errorf("pids.max %q", got)
	}
	for _, d := range back.dirs() {
		f.set(d+"/cgroup.procs", "")
	}
	if err := back.Destroy(); err != nil {
		t.Fatal(err)
	}
	if isDir(f.path("unified/rt")) || isDir(f.path("memory/rt")) {
		t.Error("not destroyed")
	}
}

func TestApplyRollsBack(t *testing.T) {
	f := newFakeHost(t, Legacy, nil)
	res := &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(5))}}
	c, err := NewOnHost(f.host, res, "/a/b", "b", false)
	if err != nil {
		t.Fatal(err)
	}
	before := f.listDirs()
	f.fail = func(path, _ string) error {
		if strings.HasSuffix(path, "pids.max") {
			return unix.EIO
		}
		return nil
	}
	if err := c.Apply(1); err == nil || !strings.Contains(err.Error(), "linux.resources.pids.limit") {
		t.Fatalf("Apply: %v", err)
	}
	if after := f.listDirs(); !reflect.DeepEqual(after, before) {
		t.Errorf("failed Apply left %v", after)
	}
}

func TestMergeResources(t *testing.T) {
	cur := &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{Limit: ptr(int64(100)), Swap: ptr(int64(200))},
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
	}
	upd := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(150))}, Pids: &specs.LinuxPids{Limit: ptr(int64(3))}}
	got, err := mergeResources(cur, upd)
	if err != nil {
		t.Fatal(err)
	}
	if *got.Memory.Limit != 150 || *got.Memory.Swap != 200 || *got.Pids.Limit != 3 || len(got.Devices) != 1 {
		t.Errorf("merged %+v", got)
	}
}
