package cgroup

import (
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestConvertCPUSharesToWeight(t *testing.T) {
	for shares, want := range map[uint64]uint64{0: 0, 2: 1, 512: 20, 1024: 39, 2048: 79, 262144: 10000} {
		if got := ConvertCPUSharesToWeight(shares); got != want {
			t.Errorf("shares %d: weight %d, want %d", shares, got, want)
		}
	}
}

func TestConvertBlkioWeightToIOWeight(t *testing.T) {
	for w, want := range map[uint16]uint64{0: 0, 10: 1, 500: 4950, 1000: 10000} {
		if got := ConvertBlkioWeightToIOWeight(w); got != want {
			t.Errorf("weight %d: io.weight %d, want %d", w, got, want)
		}
	}
}

func TestConvertMemorySwapToV2(t *testing.T) {
	for _, tc := range []struct {
		swap, limit, want int64
		err               bool
	}{
		{0, 0, 0, false},
		{0, -1, -1, false},
		{-1, 100, -1, false},
		{200, 100, 100, false},
		{100, 100, 0, false},
		{100, 0, 0, true},
		{100, -1, 0, true},
		{50, 100, 0, true},
	} {
		got, err := ConvertMemorySwapToV2(tc.swap, tc.limit)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("swap %d limit %d: %d, %v; want %d (error %v)", tc.swap, tc.limit, got, err, tc.want, tc.err)
		}
	}
}

// setWrites applies res to a fresh cgroup and returns the writes, without
// those to cgroup.subtree_control.
func setWrites(t *testing.T, f *fakeHost, c *Cgroup, res *specs.LinuxResources) []string {
	t.Helper()
	f.takeWrites()
	if err := c.Set(res); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, w := range f.takeWrites() {
		if !strings.HasSuffix(w.path, "cgroup.subtree_control") {
			out = append(out, w.String())
		}
	}
	return out
}

func TestSetV2AllResources(t *testing.T) {
	f := newFakeHost(t, Unified, nil)
	c := f.newCgroup("/pod/ctr", "ctr")
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	// Create enabled every root controller in the root and in /pod.
	sub := byFile(f.takeWrites())
	for _, d := range []string{"cgroup/cgroup.subtree_control", "cgroup/pod/cgroup.subtree_control"} {
		if want := []string{"+cpuset", "+cpu", "+io", "+memory", "+hugetlb", "+pids", "+rdma", "+misc"}; !reflect.DeepEqual(sub[d], want) {
			t.Errorf("%s writes %v, want %v", d, sub[d], want)
		}
	}
	res := representative()
	res.Network = nil
	res.Devices = nil
	res.CPU.RealtimePeriod, res.CPU.RealtimeRuntime = nil, nil
	res.CPU.Shares = ptr(uint64(1024))
	res.Pids.Limit = ptr(int64(0))
	res.BlockIO.Weight = ptr(uint16(500))
	res.Unified = map[string]string{"pids.max": "100", "memory.high": "300000000"}
	res.HugepageLimits = res.HugepageLimits[:1] // the fake v2 kernel has 2MB pages only
	got := setWrites(t, f, c, res)
	want := []string{
		"cgroup/pod/ctr/cpuset.cpus=0-1",
		"cgroup/pod/ctr/cpuset.mems=0",
		"cgroup/pod/ctr/cpu.idle=1",
		"cgroup/pod/ctr/cpu.weight=39",
		"cgroup/pod/ctr/cpu.max.burst=10000",
		"cgroup/pod/ctr/cpu.max=50000 100000",
		"cgroup/pod/ctr/pids.max=max",
		"cgroup/pod/ctr/memory.swap.max=268435456",
		"cgroup/pod/ctr/memory.max=268435456",
		"cgroup/pod/ctr/memory.low=134217728",
		"cgroup/pod/ctr/io.weight=4950",
		"cgroup/pod/ctr/io.weight=8:0 3940",
		"cgroup/pod/ctr/io.max=8:0 rbps=1048576",
		"cgroup/pod/ctr/io.max=8:0 wbps=2097152",
		"cgroup/pod/ctr/io.max=8:16 riops=100",
		"cgroup/pod/ctr/io.max=8:16 wiops=max",
		"cgroup/pod/ctr/hugetlb.2MB.max=8388608",
		"cgroup/pod/ctr/hugetlb.2MB.rsvd.max=8388608",
		"cgroup/pod/ctr/rdma.max=mlx4_0 hca_handle=2 hca_object=100",
		"cgroup/pod/ctr/rdma.max=mlx5_1 hca_handle=3",
		"cgroup/pod/ctr/memory.high=300000000",
		"cgroup/pod/ctr/pids.max=100",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("writes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestV2BFQWeights(t *testing.T) {
	f := newFakeHost(t, Unified, nil)
	c := f.newCgroup("/b", "b")
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	f.set(f.path("b/io.bfq.weight"), "default 100\n")
	res := &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{
		Weight:       ptr(uint16(500)),
		WeightDevice: []specs.LinuxWeightDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Weight: ptr(uint16(1000))}},
	}}
	got := setWrites(t, f, c, res)
	want := []string{"cgroup/b/io.bfq.weight=500", "cgroup/b/io.bfq.weight=8:0 1000"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("writes %v, want %v", got, want)
	}
}

func TestV2CPUMaxKeepsOtherHalf(t *testing.T) {
	f := newFakeHost(t, Unified, nil)
	c := f.newCgroup("/q", "q")
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	f.set(f.path("q/cpu.max"), "20000 100000\n")
	if got := setWrites(t, f, c, &specs.LinuxResources{CPU: &specs.LinuxCPU{Period: ptr(uint64(50000))}}); !reflect.DeepEqual(got, []string{"cgroup/q/cpu.max=20000 50000"}) {
		t.Errorf("period only: %v", got)
	}
	if got := setWrites(t, f, c, &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr(int64(-1))}}); !reflect.DeepEqual(got, []string{"cgroup/q/cpu.max=max 50000"}) {
		t.Errorf("quota only: %v", got)
	}
}

func TestV2Refusals(t *testing.T) {
	f := newFakeHost(t, Unified, nil)
	c := f.newCgroup("/r", "r")
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	f.set(f.path("r/memory.current"), "1000000")
	for _, tc := range []struct {
		res   *specs.LinuxResources
		field string
	}{
		{&specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: ptr(int64(1000))}}, "linux.resources.cpu.realtime"},
		{&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(500000)), CheckBeforeUpdate: ptr(true)}}, "linux.resources.memory.limit"},
		{&specs.LinuxResources{Memory: &specs.LinuxMemory{Swap: ptr(int64(500000))}}, "linux.resources.memory.swap"},
		{&specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "1GB", Limit: 1}}}, "linux.resources.hugepageLimits[0]"},
		{&specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2M", Limit: 1}}}, "linux.resources.hugepageLimits[0].pageSize"},
		{&specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: ptr(uint32(1))}}, "linux.resources.network.classID"},
		{&specs.LinuxResources{Unified: map[string]string{"../x": "1"}}, "linux.resources.unified"},
		{&specs.LinuxResources{Unified: map[string]string{"nosuch.file": "1"}}, `linux.resources.unified["nosuch.file"]`},
	} {
		f.takeWrites()
		err := c.Set(tc.res)
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("want error naming %s, got %v", tc.field, err)
		}
		for _, w := range f.takeWrites() {
			if !strings.HasSuffix(w.path, "cgroup.subtree_control") {
				t.Errorf("refused %s but wrote %v", tc.field, w)
			}
		}
	}
	// The same memory limit passes without checkBeforeUpdate.
	if err := c.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(500000))}}); err != nil {
		t.Error(err)
	}
}

func TestV2DevicesUseEBPF(t *testing.T) {
	f := newFakeHost(t, Unified, nil)
	c := f.newCgroup("/d", "d")
	ops, err := c.plan(&specs.LinuxResources{Devices: representative().Devices})
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 1 || ops[0].action == nil || !strings.Contains(ops[0].desc, "eBPF") || ops[0].dir != f.path("d") {
		t.Errorf("plan %v", ops)
	}
}

func TestHybridUsesUnifiedTree(t *testing.T) {
	f := newFakeHost(t, Hybrid, nil)
	c := f.newCgroup("/h", "h")
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	// Join writes to every v1 hierarchy and to the unified tree.
	f.takeWrites()
	if err := c.Join(42); err != nil {
		t.Fatal(err)
	}
	joined := byFile(f.takeWrites())
	for _, h := range []string{"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "systemd", "unified"} {
		if v := joined["cgroup/"+h+"/h/cgroup.procs"]; !reflect.DeepEqual(v, []string{"42"}) {
			t.Errorf("%s: joined %v", h, v)
		}
	}
	// hugetlb has no v1 hierarchy: it is set in the unified tree after
	// enabling the controller there.
	f.takeWrites()
	err := c.Set(&specs.LinuxResources{
		HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 2 << 21}},
		Unified:        map[string]string{"hugetlb.2MB.rsvd.max": "4194304"},
		Memory:         &specs.LinuxMemory{Limit: ptr(int64(1 << 30))},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := f.takeWrites()
	want := []write{
		{"cgroup/unified/cgroup.subtree_control", "+hugetlb"},
		{"cgroup/memory/h/memory.limit_in_bytes", "1073741824"},
		{"cgroup/unified/h/hugetlb.2MB.max", "4194304"},
		{"cgroup/unified/h/hugetlb.2MB.rsvd.max", "4194304"},
		{"cgroup/unified/h/hugetlb.2MB.rsvd.max", "4194304"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("writes %v\nwant %v", got, want)
	}
	// Unified keys for controllers bound to v1 are refused by name.
	for _, k := range []string{"memory.high", "io.max", "cpu.weight"} {
		_, err = NewOnHost(f.host, &specs.LinuxResources{Unified: map[string]string{k: "1"}}, "/h", "h", false)
		if err == nil || !strings.Contains(err.Error(), `linux.resources.unified["`+k+`"]`) || !strings.Contains(err.Error(), "bound to cgroup v1") {
			t.Errorf("%s in hybrid: %v", k, err)
		}
	}
	// Core files of the unified tree may be written.
	if err := c.Set(&specs.LinuxResources{Unified: map[string]string{"cgroup.freeze": "0"}}); err != nil {
		t.Errorf("cgroup.freeze in hybrid: %v", err)
	}
	// A controller that is available in the root but not yet enabled for
	// the cgroup passes validation: Set enables it first.
	f.set(f.path("unified/h/cgroup.controllers"), "")
	if !c.willEnable(c.Unified, "hugetlb") || c.willEnable(c.Unified, "memory") {
		t.Error("willEnable")
	}
}
