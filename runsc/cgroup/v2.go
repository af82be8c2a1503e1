package cgroup

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"runsc.dev/runsc/pkg/sysfile"
)

// This file builds the write plans for a cgroup v2 directory (pure v2, or
// the unified tree of a hybrid host for controllers not bound to v1), and
// enables controllers in the parents' cgroup.subtree_control.

// numToStr formats a v2 limit: 0 is unset (""), -1 is "max".
func numToStr(v int64) string {
	switch v {
	case 0:
		return ""
	case -1:
		return "max"
	}
	return strconv.FormatInt(v, 10)
}

// planMemoryV2 writes memory.swap.max (swap alone: OCI swap minus limit),
// memory.max and memory.low. Kernel memory, swappiness, the OOM killer
// switch and useHierarchy have no cgroup v2 equivalent and are ignored.
func planMemoryV2(dir string, m *specs.LinuxMemory) ([]op, error) {
	const f = "linux.resources.memory"
	limit, swap := i64(m.Limit), i64(m.Swap)
	live := isDir(dir)
	if live && m.CheckBeforeUpdate != nil && *m.CheckBeforeUpdate {
		if err := checkUsage(dir, "memory.current", limit, f+".limit"); err != nil {
			return nil, err
		}
		if err := checkUsage(dir, "memory.current", swap, f+".swap"); err != nil {
			return nil, err
		}
	}
	effLimit := limit
	if swap > 0 && limit == 0 && live {
		// Update of swap alone: convert against the current memory.max.
		if cur, err := readTrimmed(dir, "memory.max"); err == nil && cur != "max" {
			if v, err := strconv.ParseInt(cur, 10, 64); err == nil {
				effLimit = v
			}
		}
	}
	sw, err := ConvertMemorySwapToV2(swap, effLimit)
	if err != nil {
		return nil, fmt.Errorf("%s.swap: %w", f, err)
	}
	var ops []op
	swapStr := numToStr(sw)
	if swapStr == "" && sw == 0 && swap > 0 {
		swapStr = "0" // memory and memory+swap equal: no swap
	}
	if swapStr != "" {
		// Without swap accounting there is no memory.swap.max; setting it
		// to "max" or "0" is then a no-op, anything else an error.
		ops = append(ops, op{field: f + ".swap", dir: dir, file: "memory.swap.max", value: swapStr, ctrl: "memory", optional: swapStr == "max" || swapStr == "0"})
	}
	if v := numToStr(limit); v != "" {
		ops = append(ops, op{field: f + ".limit", dir: dir, file: "memory.max", value: v, ctrl: "memory"})
	}
	if v := numToStr(i64(m.Reservation)); v != "" {
		ops = append(ops, op{field: f + ".reservation", dir: dir, file: "memory.low", value: v, ctrl: "memory"})
	}
	if m.Kernel != nil || m.KernelTCP != nil {
		debugf("cgroup: %s.kernel/kernelTCP are not supported by cgroup v2, ignoring", f)
	}
	if m.Swappiness != nil && *m.Swappiness != unsetSwappiness {
		debugf("cgroup: %s.swappiness is not supported by cgroup v2, ignoring", f)
	}
	if m.DisableOOMKiller != nil || m.UseHierarchy != nil {
		debugf("cgroup: %s.disableOOMKiller/useHierarchy are not supported by cgroup v2, ignoring", f)
	}
	return ops, nil
}

// planCPUV2 writes cpu.idle, cpu.weight (converted from shares),
// cpu.max.burst and cpu.max. A quota or period given alone keeps the other
// half of cpu.max.
func planCPUV2(dir string, c *specs.LinuxCPU) ([]op, error) {
	const f = "linux.resources.cpu"
	if i64(c.RealtimeRuntime) != 0 || u64(c.RealtimePeriod) != 0 {
		return nil, fmt.Errorf("%s.realtimeRuntime/realtimePeriod: realtime CPU budgets are not supported by cgroup v2", f)
	}
	var ops []op
	if i := c.Idle; i != nil {
		ops = append(ops, op{field: f + ".idle", dir: dir, file: "cpu.idle", value: strconv.FormatInt(*i, 10), ctrl: "cpu", optional: *i == 0})
	}
	if w := ConvertCPUSharesToWeight(u64(c.Shares)); w != 0 {
		ops = append(ops, op{field: f + ".shares", dir: dir, file: "cpu.weight", value: strconv.FormatUint(w, 10), ctrl: "cpu"})
	}
	quota, period := i64(c.Quota), u64(c.Period)
	if b := c.Burst; b != nil {
		ops = append(ops, op{field: f + ".burst", dir: dir, file: "cpu.max.burst", value: strconv.FormatUint(*b, 10), ctrl: "cpu", deferEINVAL: quota != 0, optional: *b == 0})
	}
	if quota != 0 || period != 0 {
		q := "max"
		if quota > 0 {
			q = strconv.FormatInt(quota, 10)
		}
		if cur, err := readTrimmed(dir, "cpu.max"); err == nil {
			if cq, cp, ok := strings.Cut(cur, " "); ok {
				if quota == 0 {
					q = cq
				}
				if period == 0 {
					period, _ = strconv.ParseUint(cp, 10, 64)
				}
			}
		}
		if period == 0 {
			period = defaultPeriod
		}
		ops = append(ops, op{field: f + ".quota", dir: dir, file: "cpu.max", value: q + " " + strconv.FormatUint(period, 10), ctrl: "cpu"})
	}
	return ops, nil
}

// planCpusetV2 writes cpuset.cpus and cpuset.mems after checking them
// against the parent's effective sets.
func planCpusetV2(dir string, c *specs.LinuxCPU) ([]op, error) {
	const f = "linux.resources.cpu"
	var ops []op
	parent := filepath.Dir(dir)
	for _, x := range []struct{ name, val, file string }{{"cpus", c.Cpus, "cpuset.cpus"}, {"mems", c.Mems, "cpuset.mems"}} {
		if x.val == "" {
			continue
		}
		if p, err := readFile(parent, x.file+".effective"); err == nil {
			if err := checkSubset(f+"."+x.name, x.val, p); err != nil {
				return nil, err
			}
		}
		ops = append(ops, op{field: f + "." + x.name, dir: dir, file: x.file, value: x.val, ctrl: "cpuset"})
	}
	return ops, nil
}

// bfqDeviceWeights reports whether io.bfq.weight accepts per-device weights:
// old kernels only show (and accept) a single default weight.
func bfqDeviceWeights(dir string) bool {
	s, err := readTrimmed(dir, "io.bfq.weight")
	if err != nil {
		return false
	}
	_, err = strconv.ParseUint(s, 10, 64)
	return err != nil
}

// planIOV2 writes weights (BFQ io.bfq.weight verbatim when present, otherwise
// io.weight with runc's blkio->io weight conversion) and io.max throttles. A
// throttle rate of 0 (v1: no limit) becomes "max".
func planIOV2(dir string, b *specs.LinuxBlockIO) []op {
	const f = "linux.resources.blockIO"
	live := isDir(dir)
	bfq := live && exists(filepath.Join(dir, "io.bfq.weight"))
	var ops []op
	if w := b.Weight; w != nil && *w != 0 {
		if bfq {
			ops = append(ops, op{field: f + ".weight", dir: dir, file: "io.bfq.weight", value: strconv.Itoa(int(*w)), ctrl: "io"})
		} else {
			ops = append(ops, op{field: f + ".weight", dir: dir, file: "io.weight", value: strconv.FormatUint(ConvertBlkioWeightToIOWeight(*w), 10), ctrl: "io"})
		}
	}
	if b.LeafWeight != nil {
		debugf("cgroup: %s.leafWeight is not supported by cgroup v2, ignoring", f)
	}
	bfqDev := bfq && bfqDeviceWeights(dir)
	for i, d := range b.WeightDevice {
		w := d.Weight
		if w == nil || *w == 0 {
			continue
		}
		field := fmt.Sprintf("%s.weightDevice[%d].weight", f, i)
		if bfqDev {
			ops = append(ops, op{field: field, dir: dir, file: "io.bfq.weight", value: fmt.Sprintf("%d:%d %d", d.Major, d.Minor, *w), ctrl: "io"})
		} else {
			ops = append(ops, op{field: field, dir: dir, file: "io.weight", value: fmt.Sprintf("%d:%d %d", d.Major, d.Minor, ConvertBlkioWeightToIOWeight(*w)), ctrl: "io"})
		}
	}
	for _, t := range []struct {
		name, key string
		list      []specs.LinuxThrottleDevice
	}{
		{"throttleReadBpsDevice", "rbps", b.ThrottleReadBpsDevice},
		{"throttleWriteBpsDevice", "wbps", b.ThrottleWriteBpsDevice},
		{"throttleReadIOPSDevice", "riops", b.ThrottleReadIOPSDevice},
		{"throttleWriteIOPSDevice", "wiops", b.ThrottleWriteIOPSDevice},
	} {
		for i, d := range t.list {
			rate := "max"
			if d.Rate != 0 {
				rate = strconv.FormatUint(d.Rate, 10)
			}
			ops = append(ops, op{field: fmt.Sprintf("%s.%s[%d]", f, t.name, i), dir: dir, file: "io.max", value: fmt.Sprintf("%d:%d %s=%s", d.Major, d.Minor, t.key, rate), ctrl: "io"})
		}
	}
	return ops
}

// planHugetlbV2 writes hugetlb.<size>.max and, where present,
// hugetlb.<size>.rsvd.max.
func planHugetlbV2(dir string, limits []specs.LinuxHugepageLimit) []op {
	var ops []op
	for i, h := range limits {
		field := fmt.Sprintf("linux.resources.hugepageLimits[%d]", i)
		val := strconv.FormatUint(h.Limit, 10)
		prefix := "hugetlb." + h.Pagesize
		ops = append(ops,
			op{field: field, dir: dir, file: prefix + ".max", value: val, ctrl: "hugetlb"},
			op{field: field, dir: dir, file: prefix + ".rsvd.max", value: val, ctrl: "hugetlb", optional: true})
	}
	return ops
}

// planUnified writes linux.resources.unified verbatim into the cgroup2
// directory, in key order. Keys were validated as plain file names.
func planUnified(c *Cgroup, u map[string]string) ([]op, error) {
	if len(u) == 0 {
		return nil, nil
	}
	if c.Unified == "" {
		return nil, fmt.Errorf("linux.resources.unified: requires cgroup v2, but this host has only cgroup v1 hierarchies")
	}
	var ops []op
	for _, k := range sortedKeys(u) {
		ctrl, _, _ := strings.Cut(k, ".")
		v1 := map[string]string{"io": "blkio"}[ctrl]
		if v1 == "" {
			v1 = ctrl
		}
		if _, ok := c.Paths[v1]; ok && c.Mode == Hybrid {
			return nil, fmt.Errorf("linux.resources.unified[%q]: the %s controller is bound to cgroup v1 on this hybrid host; use the v1 setting", k, ctrl)
		}
		o := op{field: fmt.Sprintf("linux.resources.unified[%q]", k), dir: c.Unified, file: k, value: u[k]}
		if containsStr(c.UnifiedControllers, ctrl) {
			o.ctrl = ctrl
		}
		ops = append(ops, o)
	}
	return ops, nil
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ancestors returns the directories from mount down to dir's parent.
func ancestors(mount, dir string) []string {
	rel, err := filepath.Rel(mount, dir)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return nil
	}
	out := []string{mount}
	cur := mount
	parts := strings.Split(rel, string(filepath.Separator))
	for _, p := range parts[:len(parts)-1] {
		cur = filepath.Join(cur, p)
		out = append(out, cur)
	}
	return out
}

// enableControllers makes ctrls available in dir by adding them to
// cgroup.subtree_control of every ancestor from the cgroup2 mount down. It
// is best effort, like runc: controllers that cannot be enabled make the
// later writes fail with an error naming the field.
func enableControllers(mount, dir string, ctrls []string) {
	for _, a := range ancestors(mount, dir) {
		cur, err := readFile(a, "cgroup.subtree_control")
		if err != nil {
			debugf("cgroup: reading %s/cgroup.subtree_control: %v", a, err)
			return
		}
		have := strings.Fields(cur)
		for _, c := range ctrls {
			if containsStr(have, c) {
				continue
			}
			if err := writeFile(a, "cgroup.subtree_control", "+"+c); err != nil {
				debugf("cgroup: enabling %s in %s: %v", c, a, err)
			}
		}
	}
}

// willEnable reports whether the cgroup2 controller ctrl is not yet enabled
// for dir but will be enabled before a plan runs.
func (c *Cgroup) willEnable(dir, ctrl string) bool {
	if dir != c.Unified || !containsStr(c.UnifiedControllers, ctrl) {
		return false
	}
	cur, err := sysfile.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	return err != nil || !containsStr(strings.Fields(string(cur)), ctrl)
}
