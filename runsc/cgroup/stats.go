package cgroup

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// The types below reproduce runc's types.Stats (package
// github.com/opencontainers/runc/types) field for field and tag for tag, so
// that "events --stats" prints the same JSON as runc.

// Event is one line of "events" output.
type Event struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data any    `json:"data,omitempty"`
}

// Stats is the container statistics document of "events --stats".
type Stats struct {
	CPU               CPU                 `json:"cpu"`
	CPUSet            CPUSet              `json:"cpuset"`
	Memory            Memory              `json:"memory"`
	Pids              Pids                `json:"pids"`
	Blkio             Blkio               `json:"blkio"`
	Hugetlb           map[string]Hugetlb  `json:"hugetlb"`
	IntelRdt          IntelRdt            `json:"intel_rdt"`
	NetworkInterfaces []*NetworkInterface `json:"network_interfaces"`
}

// PSIData is one line of a cgroup v2 pressure file.
type PSIData struct {
	Avg10  float64 `json:"avg10"`
	Avg60  float64 `json:"avg60"`
	Avg300 float64 `json:"avg300"`
	Total  uint64  `json:"total"`
}

// PSIStats is a cgroup v2 pressure file.
type PSIStats struct {
	Some PSIData `json:"some,omitempty"`
	Full PSIData `json:"full,omitempty"`
}

// Hugetlb is the usage of one huge page size.
type Hugetlb struct {
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

// BlkioEntry is one per-device block I/O counter.
type BlkioEntry struct {
	Major uint64 `json:"major,omitempty"`
	Minor uint64 `json:"minor,omitempty"`
	Op    string `json:"op,omitempty"`
	Value uint64 `json:"value,omitempty"`
}

// Blkio holds the block I/O counters.
type Blkio struct {
	IoServiceBytesRecursive []BlkioEntry `json:"ioServiceBytesRecursive,omitempty"`
	IoServicedRecursive     []BlkioEntry `json:"ioServicedRecursive,omitempty"`
	IoQueuedRecursive       []BlkioEntry `json:"ioQueueRecursive,omitempty"`
	IoServiceTimeRecursive  []BlkioEntry `json:"ioServiceTimeRecursive,omitempty"`
	IoWaitTimeRecursive     []BlkioEntry `json:"ioWaitTimeRecursive,omitempty"`
	IoMergedRecursive       []BlkioEntry `json:"ioMergedRecursive,omitempty"`
	IoTimeRecursive         []BlkioEntry `json:"ioTimeRecursive,omitempty"`
	SectorsRecursive        []BlkioEntry `json:"sectorsRecursive,omitempty"`
	PSI                     *PSIStats    `json:"psi,omitempty"`
}

// Pids holds the process count and limit (0: no limit).
type Pids struct {
	Current uint64 `json:"current,omitempty"`
	Limit   uint64 `json:"limit,omitempty"`
}

// Throttling holds CFS bandwidth throttling counters (times in ns).
type Throttling struct {
	Periods          uint64 `json:"periods,omitempty"`
	ThrottledPeriods uint64 `json:"throttledPeriods,omitempty"`
	ThrottledTime    uint64 `json:"throttledTime,omitempty"`
}

// CPUUsage holds CPU time consumed, in nanoseconds.
type CPUUsage struct {
	Total        uint64   `json:"total,omitempty"`
	Percpu       []uint64 `json:"percpu,omitempty"`
	PercpuKernel []uint64 `json:"percpu_kernel,omitempty"`
	PercpuUser   []uint64 `json:"percpu_user,omitempty"`
	Kernel       uint64   `json:"kernel"`
	User         uint64   `json:"user"`
}

// CPU holds CPU statistics.
type CPU struct {
	Usage      CPUUsage   `json:"usage,omitempty"`
	Throttling Throttling `json:"throttling,omitempty"`
	PSI        *PSIStats  `json:"psi,omitempty"`
}

// CPUSet holds the cpuset configuration (cgroup v1).
type CPUSet struct {
	CPUs                  []uint16 `json:"cpus,omitempty"`
	CPUExclusive          uint64   `json:"cpu_exclusive"`
	Mems                  []uint16 `json:"mems,omitempty"`
	MemHardwall           uint64   `json:"mem_hardwall"`
	MemExclusive          uint64   `json:"mem_exclusive"`
	MemoryMigrate         uint64   `json:"memory_migrate"`
	MemorySpreadPage      uint64   `json:"memory_spread_page"`
	MemorySpreadSlab      uint64   `json:"memory_spread_slab"`
	MemoryPressure        uint64   `json:"memory_pressure"`
	SchedLoadBalance      uint64   `json:"sched_load_balance"`
	SchedRelaxDomainLevel int64    `json:"sched_relax_domain_level"`
}

// MemoryEntry is usage, peak, limit and failure count of one memory counter.
type MemoryEntry struct {
	Limit   uint64 `json:"limit"`
	Usage   uint64 `json:"usage,omitempty"`
	Max     uint64 `json:"max,omitempty"`
	Failcnt uint64 `json:"failcnt"`
}

// Memory holds memory statistics. Swap is memory+swap, as in cgroup v1.
type Memory struct {
	Cache     uint64            `json:"cache,omitempty"`
	Usage     MemoryEntry       `json:"usage,omitempty"`
	Swap      MemoryEntry       `json:"swap,omitempty"`
	Kernel    MemoryEntry       `json:"kernel,omitempty"`
	KernelTCP MemoryEntry       `json:"kernelTCP,omitempty"`
	Raw       map[string]uint64 `json:"raw,omitempty"`
	PSI       *PSIStats         `json:"psi,omitempty"`
}

// IntelRdt holds Intel RDT statistics; this runtime reports none.
type IntelRdt struct {
	L3CacheSchemaRoot string `json:"l3_cache_schema_root,omitempty"`
	L3CacheSchema     string `json:"l3_cache_schema,omitempty"`
	MemBwSchemaRoot   string `json:"mem_bw_schema_root,omitempty"`
	MemBwSchema       string `json:"mem_bw_schema,omitempty"`
}

// NetworkInterface holds the counters of one network interface.
type NetworkInterface struct {
	Name      string
	RxBytes   uint64
	RxPackets uint64
	RxErrors  uint64
	RxDropped uint64
	TxBytes   uint64
	TxPackets uint64
	TxErrors  uint64
	TxDropped uint64
}

// clockTicks is USER_HZ, the unit of cpuacct.stat.
const clockTicks = 100

// Stats reads the container's statistics from every controller it has.
// Counters whose files are absent are left zero.
func (c *Cgroup) Stats() (*Stats, error) {
	s := &Stats{Hugetlb: map[string]Hugetlb{}}
	steps := []struct {
		v1, v2 string
		f1, f2 func(string, *Stats) error
	}{
		{"cpu", "cpu", statCPUV1, statCPUV2},
		{"cpuacct", "cpu", statCpuacctV1, nil},
		{"cpuset", "cpuset", statCpusetV1, nil},
		{"memory", "memory", statMemoryV1, statMemoryV2},
		{"pids", "pids", statPids, statPids},
		{"blkio", "io", statBlkioV1, statIOV2},
		{"hugetlb", "hugetlb", statHugetlbV1, statHugetlbV2},
	}
	for _, st := range steps {
		dir, v2, ok := c.route(st.v1, st.v2)
		f := st.f1
		if v2 {
			f = st.f2
		}
		if !ok || f == nil {
			continue
		}
		if err := f(dir, s); err != nil {
			return nil, fmt.Errorf("%s stats: %w", st.v1, err)
		}
	}
	if c.Unified != "" {
		var err error
		if s.CPU.PSI, err = readPSI(c.Unified, "cpu.pressure"); err != nil {
			return nil, err
		}
		if s.Memory.PSI, err = readPSI(c.Unified, "memory.pressure"); err != nil {
			return nil, err
		}
		if s.Blkio.PSI, err = readPSI(c.Unified, "io.pressure"); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// optional turns "file not found" into success.
func optional(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

func statCPUV1(dir string, s *Stats) error {
	kv, err := readKeyValues(dir, "cpu.stat")
	if err != nil {
		return optional(err)
	}
	s.CPU.Throttling = Throttling{Periods: kv["nr_periods"], ThrottledPeriods: kv["nr_throttled"], ThrottledTime: kv["throttled_time"]}
	return nil
}

func readUintList(dir, file string) ([]uint64, error) {
	str, err := readFile(dir, file)
	if err != nil {
		return nil, err
	}
	var out []uint64
	for _, f := range strings.Fields(str) {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, file), err)
		}
		out = append(out, v)
	}
	return out, nil
}

func statCpuacctV1(dir string, s *Stats) error {
	u := &s.CPU.Usage
	var err error
	if u.Total, err = readUint(dir, "cpuacct.usage"); optional(err) != nil {
		return err
	}
	if u.Percpu, err = readUintList(dir, "cpuacct.usage_percpu"); optional(err) != nil {
		return err
	}
	// cpuacct.usage_all: "cpu user system" header, then one line per CPU.
	if all, err := readFile(dir, "cpuacct.usage_all"); err == nil {
		lines := strings.Split(strings.TrimSpace(all), "\n")
		for _, line := range lines[1:] {
			f := strings.Fields(line)
			if len(f) != 3 {
				return fmt.Errorf("malformed cpuacct.usage_all line %q", line)
			}
			user, err1 := strconv.ParseUint(f[1], 10, 64)
			sys, err2 := strconv.ParseUint(f[2], 10, 64)
			if err1 != nil || err2 != nil {
				return fmt.Errorf("malformed cpuacct.usage_all line %q", line)
			}
			u.PercpuUser = append(u.PercpuUser, user)
			u.PercpuKernel = append(u.PercpuKernel, sys)
		}
	} else if optional(err) != nil {
		return err
	}
	kv, err := readKeyValues(dir, "cpuacct.stat")
	if err != nil {
		return optional(err)
	}
	u.User = kv["user"] * 1e9 / clockTicks
	u.Kernel = kv["system"] * 1e9 / clockTicks
	return nil
}

func statCPUV2(dir string, s *Stats) error {
	kv, err := readKeyValues(dir, "cpu.stat")
	if err != nil {
		return optional(err)
	}
	s.CPU.Usage.Total = kv["usage_usec"] * 1000
	s.CPU.Usage.User = kv["user_usec"] * 1000
	s.CPU.Usage.Kernel = kv["system_usec"] * 1000
	s.CPU.Throttling = Throttling{Periods: kv["nr_periods"], ThrottledPeriods: kv["nr_throttled"], ThrottledTime: kv["throttled_usec"] * 1000}
	return nil
}

func statCpusetV1(dir string, s *Stats) error {
	toU16 := func(file string) ([]uint16, error) {
		str, err := readFile(dir, file)
		if err != nil {
			return nil, optional(err)
		}
		list, err := parseCPUList(str)
		if err != nil {
			return nil, err
		}
		var out []uint16
		for _, v := range list {
			out = append(out, uint16(v))
		}
		return out, nil
	}
	var err error
	if s.CPUSet.CPUs, err = toU16("cpuset.cpus"); err != nil {
		return err
	}
	if s.CPUSet.Mems, err = toU16("cpuset.mems"); err != nil {
		return err
	}
	for file, dst := range map[string]*uint64{
		"cpuset.cpu_exclusive": &s.CPUSet.CPUExclusive, "cpuset.mem_hardwall": &s.CPUSet.MemHardwall,
		"cpuset.mem_exclusive": &s.CPUSet.MemExclusive, "cpuset.memory_migrate": &s.CPUSet.MemoryMigrate,
		"cpuset.memory_spread_page": &s.CPUSet.MemorySpreadPage, "cpuset.memory_spread_slab": &s.CPUSet.MemorySpreadSlab,
		"cpuset.memory_pressure": &s.CPUSet.MemoryPressure, "cpuset.sched_load_balance": &s.CPUSet.SchedLoadBalance,
	} {
		if *dst, err = readUint(dir, file); optional(err) != nil {
			return err
		}
	}
	if v, err := readTrimmed(dir, "cpuset.sched_relax_domain_level"); err == nil {
		s.CPUSet.SchedRelaxDomainLevel, _ = strconv.ParseInt(v, 10, 64)
	}
	return nil
}

// memoryEntryV1 reads memory[.name].{usage_in_bytes,max_usage_in_bytes,
// failcnt,limit_in_bytes}; an absent optional counter reads as zero.
func memoryEntryV1(dir, name string) (MemoryEntry, error) {
	prefix := "memory"
	if name != "" {
		prefix += "." + name
	}
	var e MemoryEntry
	for file, dst := range map[string]*uint64{"usage_in_bytes": &e.Usage, "max_usage_in_bytes": &e.Max, "failcnt": &e.Failcnt, "limit_in_bytes": &e.Limit} {
		v, err := readUint(dir, prefix+"."+file)
		if err != nil {
			if name != "" && errors.Is(err, fs.ErrNotExist) {
				return MemoryEntry{}, nil
			}
			return MemoryEntry{}, err
		}
		*dst = v
	}
	return e, nil
}

func statMemoryV1(dir string, s *Stats) error {
	raw, err := readKeyValues(dir, "memory.stat")
	if err != nil {
		return optional(err)
	}
	m := &s.Memory
	m.Raw = raw
	m.Cache = raw["cache"]
	for name, dst := range map[string]*MemoryEntry{"": &m.Usage, "memsw": &m.Swap, "kmem": &m.Kernel, "kmem.tcp": &m.KernelTCP} {
		if *dst, err = memoryEntryV1(dir, name); err != nil {
			return err
		}
	}
	return nil
}

// memoryEntryV2 reads memory[.name].{current,max,peak}.
func memoryEntryV2(dir, name string) (MemoryEntry, error) {
	prefix := "memory"
	if name != "" {
		prefix += "." + name
	}
	var e MemoryEntry
	var err error
	if e.Usage, err = readUint(dir, prefix+".current"); err != nil {
		if name != "" && errors.Is(err, fs.ErrNotExist) {
			return MemoryEntry{}, nil
		}
		return MemoryEntry{}, err
	}
	if e.Limit, err = readUint(dir, prefix+".max"); err != nil {
		return MemoryEntry{}, err
	}
	if e.Max, err = readUint(dir, prefix+".peak"); optional(err) != nil {
		return MemoryEntry{}, err
	}
	return e, nil
}

// statMemoryV2 follows runc: cache is memory.stat "file", and swap is
// reported as memory+swap like cgroup v1 (with no peak).
func statMemoryV2(dir string, s *Stats) error {
	raw, err := readKeyValues(dir, "memory.stat")
	if err != nil {
		return optional(err)
	}
	m := &s.Memory
	m.Raw = raw
	m.Cache = raw["file"]
	if m.Usage, err = memoryEntryV2(dir, ""); err != nil {
		return err
	}
	sw, err := memoryEntryV2(dir, "swap")
	if err != nil {
		return err
	}
	sw.Usage += m.Usage.Usage
	if sw.Limit != math.MaxUint64 {
		sw.Limit += m.Usage.Limit
	}
	sw.Max = 0
	m.Swap = sw
	return nil
}

func statPids(dir string, s *Stats) error {
	cur, err := readUint(dir, "pids.current")
	if err != nil {
		return optional(err)
	}
	limit, err := readUint(dir, "pids.max")
	if err != nil {
		return err
	}
	if limit == math.MaxUint64 {
		limit = 0 // "max": no limit
	}
	s.Pids = Pids{Current: cur, Limit: limit}
	return nil
}

// readBlkioEntries parses a v1 blkio statistics file: "MAJ:MIN [Op] value"
// lines and a trailing "Total value" line.
func readBlkioEntries(dir, file string) ([]BlkioEntry, error) {
	str, err := readFile(dir, file)
	if err != nil {
		return nil, err
	}
	var out []BlkioEntry
	for _, line := range strings.Split(str, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || (len(f) == 2 && f[0] == "Total") {
			continue
		}
		maj, mnr, ok := strings.Cut(f[0], ":")
		if !ok || len(f) < 2 || len(f) > 3 {
			return nil, fmt.Errorf("%s: malformed line %q", file, line)
		}
		e := BlkioEntry{}
		var err1, err2, err3 error
		e.Major, err1 = strconv.ParseUint(maj, 10, 64)
		e.Minor, err2 = strconv.ParseUint(mnr, 10, 64)
		if len(f) == 3 {
			e.Op = f[1]
		}
		e.Value, err3 = strconv.ParseUint(f[len(f)-1], 10, 64)
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("%s: malformed line %q: %w", file, line, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// statBlkioV1 reads the CFQ statistics if present, else BFQ's, else the
// throttling layer's, as runc does.
func statBlkioV1(dir string, s *Stats) error {
	b := &s.Blkio
	var files []struct {
		name string
		dst  *[]BlkioEntry
	}
	switch {
	case exists(filepath.Join(dir, "blkio.io_service_bytes_recursive")):
		files = []struct {
			name string
			dst  *[]BlkioEntry
		}{
			{"blkio.sectors_recursive", &b.SectorsRecursive},
			{"blkio.io_service_bytes_recursive", &b.IoServiceBytesRecursive},
			{"blkio.io_serviced_recursive", &b.IoServicedRecursive},
			{"blkio.io_queued_recursive", &b.IoQueuedRecursive},
			{"blkio.io_service_time_recursive", &b.IoServiceTimeRecursive},
			{"blkio.io_wait_time_recursive", &b.IoWaitTimeRecursive},
			{"blkio.io_merged_recursive", &b.IoMergedRecursive},
			{"blkio.time_recursive", &b.IoTimeRecursive},
		}
	case exists(filepath.Join(dir, "blkio.bfq.io_service_bytes_recursive")):
		files = []struct {
			name string
			dst  *[]BlkioEntry
		}{
			{"blkio.bfq.sectors_recursive", &b.SectorsRecursive},
			{"blkio.bfq.io_service_bytes_recursive", &b.IoServiceBytesRecursive},
			{"blkio.bfq.io_serviced_recursive", &b.IoServicedRecursive},
			{"blkio.bfq.io_queued_recursive", &b.IoQueuedRecursive},
			{"blkio.bfq.io_service_time_recursive", &b.IoServiceTimeRecursive},
			{"blkio.bfq.io_wait_time_recursive", &b.IoWaitTimeRecursive},
			{"blkio.bfq.io_merged_recursive", &b.IoMergedRecursive},
			{"blkio.bfq.time_recursive", &b.IoTimeRecursive},
		}
	default:
		files = []struct {
			name string
			dst  *[]BlkioEntry
		}{
			{"blkio.throttle.io_service_bytes_recursive", &b.IoServiceBytesRecursive},
			{"blkio.throttle.io_serviced_recursive", &b.IoServicedRecursive},
		}
	}
	for _, f := range files {
		e, err := readBlkioEntries(dir, f.name)
		if err != nil {
			if err = optional(err); err != nil {
				return err
			}
			continue
		}
		*f.dst = e
	}
	return nil
}

// statIOV2 converts io.stat ("MAJ:MIN rbytes=.. wbytes=.. rios=.. wios=..")
// into v1-style Read/Write entries, as runc does.
func statIOV2(dir string, s *Stats) error {
	str, err := readFile(dir, "io.stat")
	if err != nil {
		return optional(err)
	}
	for _, line := range strings.Split(str, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		maj, mnr, ok := strings.Cut(f[0], ":")
		if !ok {
			return fmt.Errorf("io.stat: malformed line %q", line)
		}
		major, err1 := strconv.ParseUint(maj, 10, 64)
		minor, err2 := strconv.ParseUint(mnr, 10, 64)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("io.stat: malformed line %q", line)
		}
		for _, kv := range f[1:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				continue
			}
			val, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return fmt.Errorf("io.stat: malformed value %q", kv)
			}
			e := BlkioEntry{Major: major, Minor: minor, Value: val}
			switch k {
			case "rbytes":
				e.Op = "Read"
				s.Blkio.IoServiceBytesRecursive = append(s.Blkio.IoServiceBytesRecursive, e)
			case "wbytes":
				e.Op = "Write"
				s.Blkio.IoServiceBytesRecursive = append(s.Blkio.IoServiceBytesRecursive, e)
			case "rios":
				e.Op = "Read"
				s.Blkio.IoServicedRecursive = append(s.Blkio.IoServicedRecursive, e)
			case "wios":
				e.Op = "Write"
				s.Blkio.IoServicedRecursive = append(s.Blkio.IoServicedRecursive, e)
			}
		}
	}
	return nil
}

// hugePageSizes lists the page sizes that have a file with the given
// suffix ("limit_in_bytes" on v1, "max" on v2) in dir.
func hugePageSizes(dir, suffix string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if size, ok := strings.CutPrefix(n, "hugetlb."); ok {
			if size, ok = strings.CutSuffix(size, "."+suffix); ok && !strings.Contains(size, ".") {
				out = append(out, size)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

func statHugetlbV1(dir string, s *Stats) error {
	sizes, err := hugePageSizes(dir, "limit_in_bytes")
	if err != nil {
		return optional(err)
	}
	for _, size := range sizes {
		var h Hugetlb
		p := "hugetlb." + size + "."
		if h.Usage, err = readUint(dir, p+"usage_in_bytes"); err != nil {
			return err
		}
		if h.Max, err = readUint(dir, p+"max_usage_in_bytes"); err != nil {
			return err
		}
		if h.Failcnt, err = readUint(dir, p+"failcnt"); err != nil {
			return err
		}
		s.Hugetlb[size] = h
	}
	return nil
}

// statHugetlbV2 reads hugetlb.<size>.current and the "max" count of
// hugetlb.<size>.events as the failure count; v2 keeps no peak.
func statHugetlbV2(dir string, s *Stats) error {
	sizes, err := hugePageSizes(dir, "max")
	if err != nil {
		return optional(err)
	}
	for _, size := range sizes {
		var h Hugetlb
		p := "hugetlb." + size + "."
		if h.Usage, err = readUint(dir, p+"current"); err != nil {
			return err
		}
		ev, err := readKeyValues(dir, p+"events")
		if optional(err) != nil {
			return err
		}
		h.Failcnt = ev["max"]
		s.Hugetlb[size] = h
	}
	return nil
}

// readPSI parses a cgroup v2 pressure file; nil if absent.
func readPSI(dir, file string) (*PSIStats, error) {
	str, err := readFile(dir, file)
	if err != nil {
		if optional(err) == nil || errors.Is(err, os.ErrPermission) {
			return nil, nil
		}
		return nil, err
	}
	var psi PSIStats
	for _, line := range strings.Split(str, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		var d *PSIData
		switch f[0] {
		case "some":
			d = &psi.Some
		case "full":
			d = &psi.Full
		default:
			continue
		}
		for _, kv := range f[1:] {
			k, v, _ := strings.Cut(kv, "=")
			var err error
			switch k {
			case "avg10":
				d.Avg10, err = strconv.ParseFloat(v, 64)
			case "avg60":
				d.Avg60, err = strconv.ParseFloat(v, 64)
			case "avg300":
				d.Avg300, err = strconv.ParseFloat(v, 64)
			case "total":
				d.Total, err = strconv.ParseUint(v, 10, 64)
			}
			if err != nil {
				return nil, fmt.Errorf("%s: malformed %q: %w", file, kv, err)
			}
		}
	}
	return &psi, nil
}
