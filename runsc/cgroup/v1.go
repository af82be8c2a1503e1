package cgroup

import (
	"fmt"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// This file builds the write plans for cgroup v1 hierarchies. Each function
// takes the controller's directory for the container (which may not exist
// yet when a plan is only validated) and returns the writes in the order
// runc performs them.

const (
	memswLimit = "memory.memsw.limit_in_bytes"
	memLimit   = "memory.limit_in_bytes"
)

// errENOTSUPP is the kernel-internal ENOTSUPP (524) that some cgroup files
// return for deprecated settings.
const errENOTSUPP = unix.Errno(524)

// checkUsage refuses a limit at or below the current usage read from file
// (linux.resources.memory.checkBeforeUpdate). It is best effort: an
// unreadable usage passes.
func checkUsage(dir, file string, limit int64, field string) error {
	if limit <= 0 {
		return nil
	}
	usage, err := readUint(dir, file)
	if err != nil {
		return nil
	}
	if uint64(limit) <= usage {
		return fmt.Errorf("%s: rejecting limit %d: current usage is %d (checkBeforeUpdate)", field, limit, usage)
	}
	return nil
}

// planMemoryV1 writes memory.limit_in_bytes and memory.memsw.limit_in_bytes
// (limit+swap, as in the OCI spec) in an order the kernel accepts (memsw must
// never be below the limit), then the other memory settings. root is the
// hierarchy's mountpoint, probed for optional files while dir does not exist.
func planMemoryV1(dir, root string, m *specs.LinuxMemory) ([]op, error) {
	const f = "linux.resources.memory"
	limit, swap := i64(m.Limit), i64(m.Swap)
	live := isDir(dir)
	probe := dir
	if !live {
		probe = root
	}
	hasMemsw := exists(filepath.Join(probe, memswLimit))
	if limit == -1 && swap == 0 && hasMemsw {
		swap = -1 // unlimited memory with unset swap: unlimited swap too
	}
	if swap != 0 && !hasMemsw {
		if swap != -1 {
			return nil, fmt.Errorf("%s.swap: swap accounting is not available (no %s)", f, memswLimit)
		}
		debugf("cgroup: %s.swap: no %s, not setting unlimited swap", f, memswLimit)
		swap = 0
	}
	if live && m.CheckBeforeUpdate != nil && *m.CheckBeforeUpdate {
		if err := checkUsage(dir, "memory.usage_in_bytes", limit, f+".limit"); err != nil {
			return nil, err
		}
		if hasMemsw {
			if err := checkUsage(dir, "memory.memsw.usage_in_bytes", swap, f+".swap"); err != nil {
				return nil, err
			}
		}
	}
	limitOp := op{field: f + ".limit", dir: dir, file: memLimit, value: strconv.FormatInt(limit, 10)}
	swapOp := op{field: f + ".swap", dir: dir, file: memswLimit, value: strconv.FormatInt(swap, 10)}
	var ops []op
	switch {
	case limit != 0 && swap != 0:
		// Raising: memsw first; lowering: the limit first.
		swapFirst := swap == -1
		if cur, err := readUint(dir, memLimit); live && err == nil && swap > 0 && cur < uint64(swap) {
			swapFirst = true
		}
		if swapFirst {
			ops = append(ops, swapOp, limitOp)
		} else {
			ops = append(ops, limitOp, swapOp)
		}
	case limit != 0:
		if live && hasMemsw && limit > 0 {
			if cur, err := readUint(dir, memswLimit); err == nil && uint64(limit) > cur {
				return nil, fmt.Errorf("%s.limit: %d exceeds the current memory+swap limit %d; set %s.swap too", f, limit, cur, f)
			}
		}
		ops = append(ops, limitOp)
	case swap != 0:
		if swap > 0 {
			cur := uint64(1<<63 - 1)
			if live {
				if v, err := readUint(dir, memLimit); err == nil {
					cur = v
				}
			}
			if uint64(swap) < cur {
				return nil, fmt.Errorf("%s.swap: memory+swap limit %d is below the memory limit (set %s.limit too)", f, swap, f)
			}
		}
		ops = append(ops, swapOp)
	}
	if r := i64(m.Reservation); r != 0 {
		ops = append(ops, op{field: f + ".reservation", dir: dir, file: "memory.soft_limit_in_bytes", value: strconv.FormatInt(r, 10)})
	}
	deprecated := isErrno(unix.EOPNOTSUPP, errENOTSUPP)
	if k := i64(m.Kernel); k != 0 {
		ops = append(ops, op{field: f + ".kernel", dir: dir, file: "memory.kmem.limit_in_bytes", value: strconv.FormatInt(k, 10), optional: true, tolerate: deprecated})
	}
	if k := i64(m.KernelTCP); k != 0 {
		ops = append(ops, op{field: f + ".kernelTCP", dir: dir, file: "memory.kmem.tcp.limit_in_bytes", value: strconv.FormatInt(k, 10), optional: true, tolerate: deprecated})
	}
	if s := m.Swappiness; s != nil && *s != unsetSwappiness {
		ops = append(ops, op{field: f + ".swappiness", dir: dir, file: "memory.swappiness", value: strconv.FormatUint(*s, 10)})
	}
	if d := m.DisableOOMKiller; d != nil {
		ops = append(ops, op{field: f + ".disableOOMKiller", dir: dir, file: "memory.oom_control", value: boolStr(*d)})
	}
	if u := m.UseHierarchy; u != nil {
		// Kernels >= 5.x are always hierarchical and refuse "0".
		ops = append(ops, op{field: f + ".useHierarchy", dir: dir, file: "memory.use_hierarchy", value: boolStr(*u), optional: true, tolerate: isErrno(unix.EINVAL)})
	}
	return ops, nil
}

// planCPUV1 writes cpu.shares, CFS bandwidth (period, burst, quota: a period
// or burst refused with EINVAL is retried after the quota), cpu.idle and the
// realtime budget.
func planCPUV1(dir string, c *specs.LinuxCPU) []op {
	const f = "linux.resources.cpu"
	var ops []op
	quotaSet := i64(c.Quota) != 0
	if s := u64(c.Shares); s != 0 {
		ops = append(ops, op{field: f + ".shares", dir: dir, file: "cpu.shares", value: strconv.FormatUint(s, 10)})
	}
	if p := u64(c.Period); p != 0 {
		ops = append(ops, op{field: f + ".period", dir: dir, file: "cpu.cfs_period_us", value: strconv.FormatUint(p, 10), deferEINVAL: quotaSet})
	}
	if b := c.Burst; b != nil {
		ops = append(ops, op{field: f + ".burst", dir: dir, file: "cpu.cfs_burst_us", value: strconv.FormatUint(*b, 10), deferEINVAL: quotaSet, optional: *b == 0})
	}
	if quotaSet {
		ops = append(ops, op{field: f + ".quota", dir: dir, file: "cpu.cfs_quota_us", value: strconv.FormatInt(*c.Quota, 10)})
	}
	if i := c.Idle; i != nil {
		ops = append(ops, op{field: f + ".idle", dir: dir, file: "cpu.idle", value: strconv.FormatInt(*i, 10), optional: *i == 0})
	}
	rtSet := i64(c.RealtimeRuntime) != 0
	if p := u64(c.RealtimePeriod); p != 0 {
		ops = append(ops, op{field: f + ".realtimePeriod", dir: dir, file: "cpu.rt_period_us", value: strconv.FormatUint(p, 10), deferEINVAL: rtSet})
	}
	if rtSet {
		ops = append(ops, op{field: f + ".realtimeRuntime", dir: dir, file: "cpu.rt_runtime_us", value: strconv.FormatInt(*c.RealtimeRuntime, 10)})
	}
	return ops
}

// planCpusetV1 writes cpuset.cpus and cpuset.mems after checking them against
// the parent cpuset (the kernel refuses CPUs the parent lacks).
func planCpusetV1(dir string, c *specs.LinuxCPU) ([]op, error) {
	const f = "linux.resources.cpu"
	var ops []op
	parent := filepath.Dir(dir)
	for _, x := range []struct{ name, val, file string }{{"cpus", c.Cpus, "cpuset.cpus"}, {"mems", c.Mems, "cpuset.mems"}} {
		if x.val == "" {
			continue
		}
		if p, err := readFile(parent, x.file); err == nil {
			if err := checkSubset(f+"."+x.name, x.val, p); err != nil {
				return nil, err
			}
		}
		ops = append(ops, op{field: f + "." + x.name, dir: dir, file: x.file, value: x.val})
	}
	return ops, nil
}

// planBlkioV1 writes blkio weights (CFQ blkio.weight or BFQ blkio.bfq.weight,
// whichever the kernel has), leaf weights where CFQ still provides them, and
// the throttle lists.
func planBlkioV1(dir, root string, b *specs.LinuxBlockIO) []op {
	const f = "linux.resources.blockIO"
	probe := dir
	if !isDir(dir) {
		probe = root
	}
	weightFile, weightDevFile := "blkio.weight", "blkio.weight_device"
	if !exists(filepath.Join(probe, weightFile)) && exists(filepath.Join(probe, "blkio.bfq.weight")) {
		weightFile, weightDevFile = "blkio.bfq.weight", "blkio.bfq.weight_device"
	}
	var ops []op
	if w := b.Weight; w != nil && *w != 0 {
		ops = append(ops, op{field: f + ".weight", dir: dir, file: weightFile, value: strconv.Itoa(int(*w))})
	}
	if w := b.LeafWeight; w != nil && *w != 0 {
		ops = append(ops, op{field: f + ".leafWeight", dir: dir, file: "blkio.leaf_weight", value: strconv.Itoa(int(*w)), optional: true})
	}
	for i, d := range b.WeightDevice {
		field := fmt.Sprintf("%s.weightDevice[%d]", f, i)
		if w := d.Weight; w != nil && *w != 0 {
			ops = append(ops, op{field: field + ".weight", dir: dir, file: weightDevFile, value: fmt.Sprintf("%d:%d %d", d.Major, d.Minor, *w)})
		}
		if w := d.LeafWeight; w != nil && *w != 0 {
			ops = append(ops, op{field: field + ".leafWeight", dir: dir, file: "blkio.leaf_weight_device", value: fmt.Sprintf("%d:%d %d", d.Major, d.Minor, *w), optional: true})
		}
	}
	for _, t := range []struct {
		name, file string
		list       []specs.LinuxThrottleDevice
	}{
		{"throttleReadBpsDevice", "blkio.throttle.read_bps_device", b.ThrottleReadBpsDevice},
		{"throttleWriteBpsDevice", "blkio.throttle.write_bps_device", b.ThrottleWriteBpsDevice},
		{"throttleReadIOPSDevice", "blkio.throttle.read_iops_device", b.ThrottleReadIOPSDevice},
		{"throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", b.ThrottleWriteIOPSDevice},
	} {
		for i, d := range t.list {
			ops = append(ops, op{field: fmt.Sprintf("%s.%s[%d]", f, t.name, i), dir: dir, file: t.file, value: fmt.Sprintf("%d:%d %d", d.Major, d.Minor, d.Rate)})
		}
	}
	return ops
}

// planHugetlbV1 writes hugetlb.<size>.limit_in_bytes and, where the kernel
// has it, the reservation limit hugetlb.<size>.rsvd.limit_in_bytes.
func planHugetlbV1(dir string, limits []specs.LinuxHugepageLimit) []op {
	var ops []op
	for i, h := range limits {
		field := fmt.Sprintf("linux.resources.hugepageLimits[%d]", i)
		val := strconv.FormatUint(h.Limit, 10)
		prefix := "hugetlb." + h.Pagesize
		ops = append(ops,
			op{field: field, dir: dir, file: prefix + ".limit_in_bytes", value: val},
			op{field: field, dir: dir, file: prefix + ".rsvd.limit_in_bytes", value: val, optional: true})
	}
	return ops
}

// planNetworkV1 writes net_cls.classid and net_prio.ifpriomap. Both
// controllers exist only in cgroup v1; a missing one is an error naming the
// field.
func planNetworkV1(c *Cgroup, n *specs.LinuxNetwork) ([]op, error) {
	const f = "linux.resources.network"
	var ops []op
	if n.ClassID != nil {
		dir, ok := c.Paths["net_cls"]
		if !ok {
			return nil, fmt.Errorf("%s.classID: the net_cls cgroup controller is not mounted (%s)", f, c.noV1Reason())
		}
		ops = append(ops, op{field: f + ".classID", dir: dir, file: "net_cls.classid", value: strconv.FormatUint(uint64(*n.ClassID), 10)})
	}
	for i, p := range n.Priorities {
		dir, ok := c.Paths["net_prio"]
		if !ok {
			return nil, fmt.Errorf("%s.priorities: the net_prio cgroup controller is not mounted (%s)", f, c.noV1Reason())
		}
		ops = append(ops, op{field: fmt.Sprintf("%s.priorities[%d]", f, i), dir: dir, file: "net_prio.ifpriomap", value: fmt.Sprintf("%s %d", p.Name, p.Priority)})
	}
	return ops, nil
}

// noV1Reason explains why a v1-only controller is missing.
func (c *Cgroup) noV1Reason() string {
	if c.Mode == Unified {
		return "cgroup v2 has no equivalent"
	}
	return "not in /proc/self/mountinfo"
}
