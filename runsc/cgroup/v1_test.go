package cgroup

import (
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// representative returns a resources struct that sets every field that has
// a cgroup v1 file.
func representative() *specs.LinuxResources {
	return &specs.LinuxResources{
		Memory: &specs.LinuxMemory{
			Limit: ptr(int64(256 << 20)), Reservation: ptr(int64(128 << 20)), Swap: ptr(int64(512 << 20)),
			Kernel: ptr(int64(64 << 20)), KernelTCP: ptr(int64(16 << 20)), Swappiness: ptr(uint64(10)),
			DisableOOMKiller: ptr(true), UseHierarchy: ptr(true),
		},
		CPU: &specs.LinuxCPU{
			Shares: ptr(uint64(512)), Quota: ptr(int64(50000)), Period: ptr(uint64(100000)), Burst: ptr(uint64(10000)),
			RealtimeRuntime: ptr(int64(5000)), RealtimePeriod: ptr(uint64(100000)), Cpus: "0-1", Mems: "0", Idle: ptr(int64(1)),
		},
		Pids: &specs.LinuxPids{Limit: ptr(int64(64))},
		BlockIO: &specs.LinuxBlockIO{
			Weight: ptr(uint16(300)), LeafWeight: ptr(uint16(200)),
			WeightDevice:            []specs.LinuxWeightDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Weight: ptr(uint16(400)), LeafWeight: ptr(uint16(100))}},
			ThrottleReadBpsDevice:   []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 1 << 20}},
			ThrottleWriteBpsDevice:  []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 2 << 20}},
			ThrottleReadIOPSDevice:  []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 16}, Rate: 100}},
			ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 16}, Rate: 0}},
		},
		HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 21}, {Pagesize: "1GB", Limit: 0}},
		Network:        &specs.LinuxNetwork{ClassID: ptr(uint32(0x100001)), Priorities: []specs.LinuxInterfacePriority{{Name: "eth0", Priority: 5}, {Name: "lo", Priority: 1}}},
		Rdma:           map[string]specs.LinuxRdma{"mlx5_1": {HcaHandles: ptr(uint32(3))}, "mlx4_0": {HcaHandles: ptr(uint32(2)), HcaObjects: ptr(uint32(100))}},
		Devices: []specs.LinuxDeviceCgroup{
			{Allow: false, Access: "rwm"},
			{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(3)), Access: "rwm"},
			{Allow: true, Type: "c", Major: ptr(int64(136)), Access: "rw"},
			{Allow: false, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(3)), Access: "m"},
		},
	}
}

func TestSetV1AllResources(t *testing.T) {
	f := newFakeHost(t, Legacy, nil)
	c := f.newCgroup("/pod/ctr", "ctr")
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	f.takeWrites()
	if err := c.Set(representative()); err != nil {
		t.Fatal(err)
	}
	got := f.takeWrites()
	want := []string{
		"cgroup/cpuset/pod/ctr/cpuset.cpus=0-1",
		"cgroup/cpuset/pod/ctr/cpuset.mems=0",
		"cgroup/cpu,cpuacct/pod/ctr/cpu.shares=512",
		"cgroup/cpu,cpuacct/pod/ctr/cpu.cfs_period_us=100000",
		"cgroup/cpu,cpuacct/pod/ctr/cpu.cfs_burst_us=10000",
		"cgroup/cpu,cpuacct/pod/ctr/cpu.cfs_quota_us=50000",
		"cgroup/cpu,cpuacct/pod/ctr/cpu.idle=1",
		"cgroup/cpu,cpuacct/pod/ctr/cpu.rt_period_us=100000",
		"cgroup/cpu,cpuacct/pod/ctr/cpu.rt_runtime_us=5000",
		"cgroup/pids/pod/ctr/pids.max=64",
		// New cgroup: the limit goes below memsw first.
		"cgroup/memory/pod/ctr/memory.limit_in_bytes=268435456",
		"cgroup/memory/pod/ctr/memory.memsw.limit_in_bytes=536870912",
		"cgroup/memory/pod/ctr/memory.soft_limit_in_bytes=134217728",
		"cgroup/memory/pod/ctr/memory.kmem.limit_in_bytes=67108864",
		"cgroup/memory/pod/ctr/memory.kmem.tcp.limit_in_bytes=16777216",
		"cgroup/memory/pod/ctr/memory.swappiness=10",
		"cgroup/memory/pod/ctr/memory.oom_control=1",
		"cgroup/memory/pod/ctr/memory.use_hierarchy=1",
		"cgroup/blkio/pod/ctr/blkio.weight=300",
		"cgroup/blkio/pod/ctr/blkio.leaf_weight=200",
		"cgroup/blkio/pod/ctr/blkio.weight_device=8:0 400",
		"cgroup/blkio/pod/ctr/blkio.leaf_weight_device=8:0 100",
		"cgroup/blkio/pod/ctr/blkio.throttle.read_bps_device=8:0 1048576",
		"cgroup/blkio/pod/ctr/blkio.throttle.write_bps_device=8:0 2097152",
		"cgroup/blkio/pod/ctr/blkio.throttle.read_iops_device=8:16 100",
		"cgroup/blkio/pod/ctr/blkio.throttle.write_iops_device=8:16 0",
		"cgroup/hugetlb/pod/ctr/hugetlb.2MB.limit_in_bytes=8388608",
		"cgroup/hugetlb/pod/ctr/hugetlb.2MB.rsvd.limit_in_bytes=8388608",
		"cgroup/hugetlb/pod/ctr/hugetlb.1GB.limit_in_bytes=0",
		// hugetlb.1GB.rsvd.limit_in_bytes is absent: skipped.
		"cgroup/net_cls,net_prio/pod/ctr/net_cls.classid=1048577",
		"cgroup/net_cls,net_prio/pod/ctr/net_prio.ifpriomap=eth0 5",
		"cgroup/net_cls,net_prio/pod/ctr/net_prio.ifpriomap=lo 1",
		"cgroup/rdma/pod/ctr/rdma.max=mlx4_0 hca_handle=2 hca_object=100",
		"cgroup/rdma/pod/ctr/rdma.max=mlx5_1 hca_handle=3",
		"cgroup/devices/pod/ctr/devices.deny=a *:* rwm",
		"cgroup/devices/pod/ctr/devices.deny=a *:* rwm",
		"cgroup/devices/pod/ctr/devices.allow=c 1:3 rwm",
		"cgroup/devices/pod/ctr/devices.allow=c 136:* rw",
		"cgroup/devices/pod/ctr/devices.deny=c 1:3 m",
	}
	var gotStr []string
	for _, w := range got {
		if !strings.HasSuffix(w.path, "/hugetlb.1GB.rsvd.limit_in_bytes") {
			gotStr = append(gotStr, w.String())
		}
	}
	if !reflect.DeepEqual(gotStr, want) {
		t.Errorf("writes:\n%s\nwant:\n%s", strings.Join(gotStr, "\n"), strings.Join(want, "\n"))
	}
	// The files hold the last value written.
	for file, val := range map[string]string{
		"memory/pod/ctr/memory.limit_in_bytes": "268435456",
		"cpu,cpuacct/pod/ctr/cpu.cfs_quota_us": "50000",
		"pids/pod/ctr/pids.max":                "64",
		"devices/pod/ctr/devices.deny":         "c 1:3 m",
	} {
		if got := f.get(f.path(file)); got != val {
			t.Errorf("%s = %q, want %q", file, got, val)
		}
	}
	// Resources are recorded for the state file.
	if c.Resources == nil || *c.Resources.Pids.Limit != 64 {
		t.Errorf("resources not recorded: %+v", c.Resources)
	}
}

func TestV1MemorySwapOrder(t *testing.T) {
	f := newFakeHost(t, Legacy, nil)
	c := f.newCgroup("/m", "m")
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	mem := func(limit, swap int64) *specs.LinuxResources {
		return &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit, Swap: &swap}}
	}
	f.set(f.path("memory/m", memLimit), "100")
	f.set(f.path("memory/m", memswLimit), "200")
	f.takeWrites()
	// Raising both above the current memsw: memsw first.
	if err := c.Set(mem(300, 400)); err != nil {
		t.Fatal(err)
	}
	if got := f.takeWrites(); len(got) != 2 || !strings.HasSuffix(got[0].path, memswLimit) || !strings.HasSuffix(got[1].path, memLimit) {
		t.Errorf("raise: %v", got)
	}
	// Lowering both: the limit first.
	if err := c.Set(mem(50, 60)); err != nil {
		t.Fatal(err)
	}
	if got := f.takeWrites(); len(got) != 2 || !strings.HasSuffix(got[0].path, memLimit) || !strings.HasSuffix(got[1].path, memswLimit) {
		t.Errorf("lower: %v", got)
	}
	// Unlimited memory with unset swap: unlimited memsw first, then limit.
	if err := c.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(-1))}}); err != nil {
		t.Fatal(err)
	}
	if got := f.takeWrites(); !reflect.DeepEqual(got, []write{{"cgroup/memory/m/" + memswLimit, "-1"}, {"cgroup/memory/m/" + memLimit, "-1"}}) {
		t.Errorf("unlimited: %v", got)
	}
	// A limit above the current memsw without swap would be refused by the
	// kernel: refused before writing.
	f.set(f.path("memory/m", memswLimit), "200")
	if err := c.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(300))}}); err == nil || !strings.Contains(err.Error(), "linux.resources.memory.limit") {
		t.Errorf("limit above memsw: %v", err)
	}
	if got := f.takeWrites(); len(got) != 0 {
		t.Errorf("refused update wrote %v", got)
	}
}

func TestV1CPUPeriodRetriedAfterQuota(t *testing.T) {
	f := newFakeHost(t, Legacy, nil)
	c := f.newCgroup("/q", "q")
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	f.takeWrites()
	quotaWritten := false
	f.fail = func(path, value string) error {
		switch {
		case strings.HasSuffix(path, "cfs_quota_us"):
			quotaWritten = true
		case strings.HasSuffix(path, "cfs_period_us") && !quotaWritten:
			return unix.EINVAL // old quota / new period exceeds the parent
		}
		return nil
	}
	res := &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr(int64(5000)), Period: ptr(uint64(10000))}}
	if err := c.Set(res); err != nil {
		t.Fatal(err)
	}
	got := f.takeWrites()
	if len(got) != 2 || !strings.HasSuffix(got[0].path, "cfs_quota_us") || !strings.HasSuffix(got[1].path, "cfs_period_us") {
		t.Errorf("writes %v", got)
	}
	// Without a quota in the same update, EINVAL is an error.
	quotaWritten = false
	err := c.Set(&specs.LinuxResources{CPU: &specs.LinuxCPU{Period: ptr(uint64(10000))}})
	if err == nil || !strings.Contains(err.Error(), "linux.resources.cpu.period") {
		t.Errorf("period alone: %v", err)
	}
}

func TestV1DevicesSkippedWhenUnchanged(t *testing.T) {
	f := newFakeHost(t, Legacy, nil)
	c := f.newCgroup("/d", "d")
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	rules := &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(3)), Access: "rwm"},
		{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(5)), Access: "r"},
		{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(5)), Access: "w"},
	}}
	// What the kernel lists after applying the rules (merged 1:5 access).
	f.set(f.path("devices/d/devices.list"), "c 1:3 rwm\nc 1:5 rw\n")
	f.takeWrites()
	if err := c.Set(rules); err != nil {
		t.Fatal(err)
	}
	if got := f.takeWrites(); len(got) != 0 {
		t.Errorf("unchanged device policy rewritten: %v", got)
	}
	f.set(f.path("devices/d/devices.list"), "a *:* rwm\n")
	if err := c.Set(rules); err != nil {
		t.Fatal(err)
	}
	if got := f.takeWrites(); len(got) != 5 || got[0].value != "a *:* rwm" {
		t.Errorf("writes %v", got)
	}
}

func TestV1CpusetParentsFilled(t *testing.T) {
	f := newFakeHost(t, Legacy, nil)
	c := f.newCgroup("/a/b/c", "c")
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"cpuset/a", "cpuset/a/b", "cpuset/a/b/c"} {
		if got := f.get(f.path(d, "cpuset.cpus")); got != "0-3" {
			t.Errorf("%s cpuset.cpus = %q", d, got)
		}
		if got := f.get(f.path(d, "cpuset.mems")); got != "0" {
			t.Errorf("%s cpuset.mems = %q", d, got)
		}
	}
	// CPUs outside the parent's set are refused before writing.
	err := c.Set(&specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "2-7"}})
	if err == nil || !strings.Contains(err.Error(), "linux.resources.cpu.cpus") {
		t.Errorf("cpus outside parent: %v", err)
	}
}

func TestV1MissingControllersNamed(t *testing.T) {
	f := newFakeHost(t, Hybrid, nil) // no net_cls, net_prio, rdma in v1 or v2
	for _, tc := range []struct {
		res   *specs.LinuxResources
		field string
	}{
		{&specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: ptr(uint32(1))}}, "linux.resources.network.classID"},
		{&specs.LinuxResources{Network: &specs.LinuxNetwork{Priorities: []specs.LinuxInterfacePriority{{Name: "eth0", Priority: 1}}}}, "linux.resources.network.priorities"},
		{&specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"mlx": {HcaHandles: ptr(uint32(1))}}}, "linux.resources.rdma"},
	} {
		_, err := NewOnHost(f.host, tc.res, "/x", "x", false)
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("want error naming %s, got %v", tc.field, err)
		}
	}
	// Pure v1: no cgroup2 tree for linux.resources.unified.
	l := newFakeHost(t, Legacy, nil)
	_, err := NewOnHost(l.host, &specs.LinuxResources{Unified: map[string]string{"memory.high": "1000"}}, "/x", "x", false)
	if err == nil || !strings.Contains(err.Error(), "linux.resources.unified") {
		t.Errorf("unified on v1: %v", err)
	}
}

func TestV1KernelMemoryOptional(t *testing.T) {
	f := newFakeHost(t, Legacy, nil)
	c := f.newCgroup("/k", "k")
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	// Kernels without kmem accounting have no kmem files; others refuse
	// the deprecated limit with EOPNOTSUPP. Both are ignored.
	if err := unixRemove(f.path("memory/k/memory.kmem.tcp.limit_in_bytes")); err != nil {
		t.Fatal(err)
	}
	f.fail = func(path, _ string) error {
		switch {
		case strings.HasSuffix(path, "memory.kmem.limit_in_bytes"):
			return unix.EOPNOTSUPP
		case strings.HasSuffix(path, "memory.use_hierarchy"):
			return unix.EINVAL // always hierarchical
		}
		return nil
	}
	res := &specs.LinuxResources{Memory: &specs.LinuxMemory{Kernel: ptr(int64(1 << 20)), KernelTCP: ptr(int64(1 << 20)), UseHierarchy: ptr(false)}}
	if err := c.Set(res); err != nil {
		t.Fatalf("kernel memory not ignored: %v", err)
	}
}

func unixRemove(p string) error { return unix.Unlink(p) }
