package cgroup

import (
	"encoding/json"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestStatsV1(t *testing.T) {
	f := newFakeHost(t, Legacy, nil)
	c := f.newCgroup("/s", "s")
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	for file, val := range map[string]string{
		"cpu,cpuacct/s/cpuacct.usage":                       "123456789\n",
		"cpu,cpuacct/s/cpuacct.usage_percpu":                "100 200 \n",
		"cpu,cpuacct/s/cpuacct.usage_all":                   "cpu user system\n0 60 40\n1 120 80\n",
		"cpu,cpuacct/s/cpuacct.stat":                        "user 300\nsystem 200\n",
		"cpu,cpuacct/s/cpu.stat":                            "nr_periods 10\nnr_throttled 2\nthrottled_time 5000\n",
		"memory/s/memory.stat":                              "cache 4096\nrss 8192\nhierarchical_memory_limit 9223372036854771712\n",
		"memory/s/memory.usage_in_bytes":                    "12288\n",
		"memory/s/memory.max_usage_in_bytes":                "20000\n",
		"memory/s/memory.failcnt":                           "1\n",
		"memory/s/memory.limit_in_bytes":                    "268435456\n",
		"memory/s/memory.memsw.usage_in_bytes":              "12288\n",
		"pids/s/pids.current":                               "3\n",
		"blkio/s/blkio.throttle.io_service_bytes_recursive": "8:0 Read 100\n8:0 Write 200\n8:0 Sync 300\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 300\nTotal 300\n",
		"blkio/s/blkio.throttle.io_serviced_recursive":      "8:0 Read 1\n8:0 Write 2\nTotal 3\n",
		"hugetlb/s/hugetlb.2MB.usage_in_bytes":              "2097152\n",
		"hugetlb/s/hugetlb.2MB.max_usage_in_bytes":          "4194304\n",
		"cpuset/s/cpuset.cpus":                              "0-1,3\n",
	} {
		f.set(f.path(file), val)
	}
	for _, gone := range []string{"memory.kmem.limit_in_bytes", "memory.kmem.tcp.limit_in_bytes"} {
		os.Remove(f.path("memory/s", gone))
	}
	s, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	wantCPU := CPU{
		Usage:      CPUUsage{Total: 123456789, Percpu: []uint64{100, 200}, PercpuUser: []uint64{60, 120}, PercpuKernel: []uint64{40, 80}, User: 3e9, Kernel: 2e9},
		Throttling: Throttling{Periods: 10, ThrottledPeriods: 2, ThrottledTime: 5000},
	}
	if !reflect.DeepEqual(s.CPU, wantCPU) {
		t.Errorf("cpu %+v\nwant %+v", s.CPU, wantCPU)
	}
	if s.Memory.Cache != 4096 || s.Memory.Usage != (MemoryEntry{Limit: 268435456, Usage: 12288, Max: 20000, Failcnt: 1}) ||
		s.Memory.Swap.Usage != 12288 || s.Memory.Raw["rss"] != 8192 {
		t.Errorf("memory %+v", s.Memory)
	}
	if s.Memory.Kernel.Usage != 0 || s.Memory.Kernel.Limit != 0 {
		t.Errorf("kernel memory without limit file: %+v", s.Memory.Kernel)
	}
	if s.Pids != (Pids{Current: 3}) {
		t.Errorf("pids %+v", s.Pids)
	}
	wantIO := []BlkioEntry{{8, 0, "Read", 100}, {8, 0, "Write", 200}, {8, 0, "Sync", 300}, {8, 0, "Async", 0}, {8, 0, "Discard", 0}, {8, 0, "Total", 300}}
	if !reflect.DeepEqual(s.Blkio.IoServiceBytesRecursive, wantIO) || len(s.Blkio.IoServicedRecursive) != 2 {
		t.Errorf("blkio %+v", s.Blkio)
	}
	if s.Hugetlb["2MB"] != (Hugetlb{Usage: 2097152, Max: 4194304}) || len(s.Hugetlb) != 2 {
		t.Errorf("hugetlb %+v", s.Hugetlb)
	}
	if !reflect.DeepEqual(s.CPUSet.CPUs, []uint16{0, 1, 3}) || s.CPUSet.SchedRelaxDomainLevel != -1 {
		t.Errorf("cpuset %+v", s.CPUSet)
	}
	// The JSON has runc's "events --stats" shape.
	b, err := json.Marshal(Event{Type: "stats", ID: "s", Data: s})
	if err != nil {
		t.Fatal(err)
	}
	for _, frag := range []string{
		`{"type":"stats","id":"s","data":{"cpu":{"usage":{"total":123456789,"percpu":[100,200],"percpu_kernel":[40,80],"percpu_user":[60,120],"kernel":2000000000,"user":3000000000},"throttling":{"periods":10,"throttledPeriods":2,"throttledTime":5000}},"cpuset":{"cpus":[0,1,3],"cpu_exclusive":0,`,
		`"memory":{"cache":4096,"usage":{"limit":268435456,"usage":12288,"max":20000,"failcnt":1},"swap":{"limit":9223372036854771712,"usage":12288,"failcnt":0},"kernel":{"limit":0,"failcnt":0},"kernelTCP":{"limit":0,"failcnt":0},"raw":{`,
		`"pids":{"current":3},"blkio":{"ioServiceBytesRecursive":[{"major":8,"op":"Read","value":100},`,
		`"hugetlb":{"1GB":{"failcnt":0},"2MB":{"usage":2097152,"max":4194304,"failcnt":0}},"intel_rdt":{},"network_interfaces":null}}`,
	} {
		if !strings.Contains(string(b), frag) {
			t.Errorf("JSON lacks %s\n%s", frag, b)
		}
	}
}

func TestStatsV2(t *testing.T) {
	f := newFakeHost(t, Unified, nil)
	c := f.newCgroup("/s", "s")
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	for file, val := range map[string]string{
		"s/cpu.stat":            "usage_usec 1000\nuser_usec 600\nsystem_usec 400\nnr_periods 5\nnr_throttled 1\nthrottled_usec 20\n",
		"s/memory.stat":         "anon 100\nfile 200\n",
		"s/memory.current":      "300\n",
		"s/memory.max":          "1000\n",
		"s/memory.peak":         "400\n",
		"s/memory.swap.current": "50\n",
		"s/pids.current":        "2\n",
		"s/pids.max":            "10\n",
		"s/io.stat":             "254:1 rbytes=6901432320 wbytes=14245535744 rios=263278 wios=248603 dbytes=0 dios=0\n259:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6\n",
		"s/hugetlb.2MB.current": "2097152\n",
		"s/hugetlb.2MB.events":  "max 2\n",
		"s/memory.pressure":     "some avg10=1.50 avg60=0.25 avg300=0.00 total=12345\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=67\n",
	} {
		f.set(f.path(file), val)
	}
	s, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.CPU.Usage, CPUUsage{Total: 1e6, User: 6e5, Kernel: 4e5}) || s.CPU.Throttling != (Throttling{5, 1, 20000}) {
		t.Errorf("cpu %+v", s.CPU)
	}
	if s.Memory.Cache != 200 || s.Memory.Usage != (MemoryEntry{Limit: 1000, Usage: 300, Max: 400}) {
		t.Errorf("memory %+v", s.Memory)
	}
	// Swap is reported as memory+swap like v1; unlimited stays unlimited.
	if s.Memory.Swap != (MemoryEntry{Limit: math.MaxUint64, Usage: 350}) {
		t.Errorf("swap %+v", s.Memory.Swap)
	}
	if s.Pids != (Pids{Current: 2, Limit: 10}) {
		t.Errorf("pids %+v", s.Pids)
	}
	wantBytes := []BlkioEntry{{254, 1, "Read", 6901432320}, {254, 1, "Write", 14245535744}, {259, 0, "Read", 1}, {259, 0, "Write", 2}}
	wantIOs := []BlkioEntry{{254, 1, "Read", 263278}, {254, 1, "Write", 248603}, {259, 0, "Read", 3}, {259, 0, "Write", 4}}
	if !reflect.DeepEqual(s.Blkio.IoServiceBytesRecursive, wantBytes) || !reflect.DeepEqual(s.Blkio.IoServicedRecursive, wantIOs) {
		t.Errorf("io %+v", s.Blkio)
	}
	if s.Hugetlb["2MB"] != (Hugetlb{Usage: 2097152, Failcnt: 2}) {
		t.Errorf("hugetlb %+v", s.Hugetlb)
	}
	if s.Memory.PSI == nil || s.Memory.PSI.Some != (PSIData{1.5, 0.25, 0, 12345}) || s.Memory.PSI.Full.Total != 67 {
		t.Errorf("psi %+v", s.Memory.PSI)
	}
	if s.CPU.PSI == nil || s.Blkio.PSI != nil {
		t.Errorf("cpu psi %v, io psi %v (absent file)", s.CPU.PSI, s.Blkio.PSI)
	}
}

func TestStatsMalformed(t *testing.T) {
	f := newFakeHost(t, Unified, nil)
	c := f.newCgroup("/m", "m")
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	f.set(f.path("m/io.stat"), "garbage\n")
	if _, err := c.Stats(); err == nil {
		t.Error("malformed io.stat accepted")
	}
}
