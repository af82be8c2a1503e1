package cgroup

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Kernel limits used to validate settings before anything is written.
const (
	minShares     = 2
	maxShares     = 262144
	minCFSPeriod  = 1000    // 1ms, in usecs
	maxCFSPeriod  = 1000000 // 1s
	minCFSQuota   = 1000
	minBlkioWt    = 10
	maxBlkioWt    = 1000
	defaultPeriod = 100000
)

// unsetSwappiness is runc's "not set" value for swappiness (-1 as uint64).
const unsetSwappiness = math.MaxUint64

// ConvertCPUSharesToWeight converts cgroup v1 cpu.shares [2, 262144] to the
// cgroup v2 cpu.weight [1, 10000] with runc's formula
// 1 + ((shares-2)*9999)/262142. Zero (unset) stays zero.
func ConvertCPUSharesToWeight(shares uint64) uint64 {
	if shares == 0 {
		return 0
	}
	return 1 + ((shares-2)*9999)/262142
}

// ConvertBlkioWeightToIOWeight converts a blkio weight [10, 1000] to an
// io.weight [1, 10000] as runc does: 1 + (weight-10)*9999/990.
func ConvertBlkioWeightToIOWeight(weight uint16) uint64 {
	if weight == 0 {
		return 0
	}
	return 1 + (uint64(weight)-10)*9999/990
}

// ConvertMemorySwapToV2 converts the OCI (and cgroup v1) memory+swap total
// to a cgroup v2 memory.swap.max value (swap alone), as runc does: 0 is
// unset, -1 unlimited, otherwise swap-limit. Unlimited memory with unset
// swap means unlimited swap.
func ConvertMemorySwapToV2(swap, limit int64) (int64, error) {
	if limit == -1 && swap == 0 {
		return -1, nil
	}
	if swap == -1 || swap == 0 {
		return swap, nil
	}
	if limit == 0 || limit == -1 {
		return 0, errors.New("unable to set swap limit without memory limit")
	}
	if limit < 0 {
		return 0, fmt.Errorf("invalid memory limit %d", limit)
	}
	if swap < limit {
		return 0, fmt.Errorf("memory+swap limit %d should be >= memory limit %d", swap, limit)
	}
	return swap - limit, nil
}

func i64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func u64(p *uint64) uint64 {
	if p == nil {
		return 0
	}
	return *p
}

func boolStr(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// parseCPUList parses a cpuset list such as "0-3,5" and returns its members.
func parseCPUList(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	var out []int
	if s == "" {
		return out, nil
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.ParseUint(lo, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("invalid list %q", s)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 16); err != nil || b < a {
				return nil, fmt.Errorf("invalid list %q", s)
			}
		}
		for i := a; i <= b; i++ {
			out = append(out, int(i))
		}
	}
	return out, nil
}

// checkSubset verifies that list s only names members of the parent list.
func checkSubset(field, s, parent string) error {
	want, err := parseCPUList(s)
	if err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	have, err := parseCPUList(parent)
	if err != nil || len(have) == 0 {
		return nil // best effort: parent unknown
	}
	set := make(map[int]bool, len(have))
	for _, v := range have {
		set[v] = true
	}
	for _, v := range want {
		if !set[v] {
			return fmt.Errorf("%s: %q is not a subset of the parent's %q", field, s, strings.TrimSpace(parent))
		}
	}
	return nil
}

// validateValues checks values that are invalid on every cgroup version.
func validateValues(r *specs.LinuxResources) error {
	if m := r.Memory; m != nil {
		for name, p := range map[string]*int64{"limit": m.Limit, "reservation": m.Reservation, "swap": m.Swap, "kernel": m.Kernel, "kernelTCP": m.KernelTCP} {
			if p != nil && *p < -1 {
				return fmt.Errorf("linux.resources.memory.%s: invalid value %d", name, *p)
			}
		}
		if l, s := i64(m.Limit), i64(m.Swap); l > 0 && s > 0 && s < l {
			return fmt.Errorf("linux.resources.memory.swap: memory+swap limit %d must be >= memory limit %d", s, l)
		}
		if s := m.Swappiness; s != nil && *s > 100 && *s != unsetSwappiness {
			return fmt.Errorf("linux.resources.memory.swappiness: invalid value %d (valid range is 0-100)", *s)
		}
	}
	if c := r.CPU; c != nil {
		if s := u64(c.Shares); s != 0 && (s < minShares || s > maxShares) {
			return fmt.Errorf("linux.resources.cpu.shares: %d out of range [%d, %d]", s, minShares, maxShares)
		}
		if q := i64(c.Quota); q != 0 && q != -1 && q < minCFSQuota {
			return fmt.Errorf("linux.resources.cpu.quota: %d must be -1 or at least %d", q, minCFSQuota)
		}
		if p := u64(c.Period); p != 0 && (p < minCFSPeriod || p > maxCFSPeriod) {
			return fmt.Errorf("linux.resources.cpu.period: %d out of range [%d, %d]", p, minCFSPeriod, maxCFSPeriod)
		}
		if b := c.Burst; b != nil && i64(c.Quota) > 0 && *b > uint64(*c.Quota) {
			return fmt.Errorf("linux.resources.cpu.burst: %d must not exceed the quota %d", *b, *c.Quota)
		}
		if rt := i64(c.RealtimeRuntime); rt < -1 {
			return fmt.Errorf("linux.resources.cpu.realtimeRuntime: invalid value %d", rt)
		} else if rp := u64(c.RealtimePeriod); rp != 0 && rt > 0 && uint64(rt) > rp {
			return fmt.Errorf("linux.resources.cpu.realtimeRuntime: %d exceeds realtimePeriod %d", rt, rp)
		}
		if _, err := parseCPUList(c.Cpus); err != nil {
			return fmt.Errorf("linux.resources.cpu.cpus: %w", err)
		}
		if _, err := parseCPUList(c.Mems); err != nil {
			return fmt.Errorf("linux.resources.cpu.mems: %w", err)
		}
		if c.Idle != nil && *c.Idle != 0 && *c.Idle != 1 {
			return fmt.Errorf("linux.resources.cpu.idle: %d must be 0 or 1", *c.Idle)
		}
	}
	if b := r.BlockIO; b != nil {
		if err := validateWeight("linux.resources.blockIO.weight", b.Weight); err != nil {
			return err
		}
		if err := validateWeight("linux.resources.blockIO.leafWeight", b.LeafWeight); err != nil {
			return err
		}
		for i, d := range b.WeightDevice {
			f := fmt.Sprintf("linux.resources.blockIO.weightDevice[%d]", i)
			if err := validateDevNum(f, d.Major, d.Minor); err != nil {
				return err
			}
			if err := validateWeight(f+".weight", d.Weight); err != nil {
				return err
			}
			if err := validateWeight(f+".leafWeight", d.LeafWeight); err != nil {
				return err
			}
		}
		for name, list := range throttleLists(b) {
			for i, d := range list {
				if err := validateDevNum(fmt.Sprintf("linux.resources.blockIO.%s[%d]", name, i), d.Major, d.Minor); err != nil {
					return err
				}
			}
		}
	}
	for i, h := range r.HugepageLimits {
		if !validPageSize(h.Pagesize) {
			return fmt.Errorf("linux.resources.hugepageLimits[%d].pageSize: invalid size %q (want e.g. 2MB)", i, h.Pagesize)
		}
	}
	if n := r.Network; n != nil {
		for i, p := range n.Priorities {
			if p.Name == "" || strings.ContainsAny(p.Name, " \t\n/") {
				return fmt.Errorf("linux.resources.network.priorities[%d].name: invalid interface name %q", i, p.Name)
			}
		}
	}
	for dev := range r.Rdma {
		if dev == "" || strings.ContainsAny(dev, " \t\n") {
			return fmt.Errorf("linux.resources.rdma: invalid device name %q", dev)
		}
	}
	for k := range r.Unified {
		if !validUnifiedKey(k) || strings.Contains(k, "..") || k != filepath.Base(k) {
			return fmt.Errorf("linux.resources.unified[%q]: key must be a cgroup2 file name of the form CONTROLLER.PARAMETER", k)
		}
	}
	return nil
}

func validateWeight(field string, w *uint16) error {
	if w != nil && *w != 0 && (*w < minBlkioWt || *w > maxBlkioWt) {
		return fmt.Errorf("%s: %d out of range [%d, %d]", field, *w, minBlkioWt, maxBlkioWt)
	}
	return nil
}

func validateDevNum(field string, major, minor int64) error {
	if major < 0 || minor < 0 {
		return fmt.Errorf("%s: invalid device %d:%d", field, major, minor)
	}
	return nil
}

// throttleLists returns the four throttle lists keyed by their spec names.
func throttleLists(b *specs.LinuxBlockIO) map[string][]specs.LinuxThrottleDevice {
	return map[string][]specs.LinuxThrottleDevice{
		"throttleReadBpsDevice":   b.ThrottleReadBpsDevice,
		"throttleWriteBpsDevice":  b.ThrottleWriteBpsDevice,
		"throttleReadIOPSDevice":  b.ThrottleReadIOPSDevice,
		"throttleWriteIOPSDevice": b.ThrottleWriteIOPSDevice,
	}
}

// sortedKeys returns the keys of a map in order, for deterministic writes.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// rdmaLine formats one rdma.max line, "" if nothing is limited.
func rdmaLine(dev string, l specs.LinuxRdma) string {
	if l.HcaHandles == nil && l.HcaObjects == nil {
		return ""
	}
	line := dev
	if l.HcaHandles != nil {
		line += " hca_handle=" + strconv.FormatUint(uint64(*l.HcaHandles), 10)
	}
	if l.HcaObjects != nil {
		line += " hca_object=" + strconv.FormatUint(uint64(*l.HcaObjects), 10)
	}
	return line
}

// pidsValue formats pids.max: positive limits verbatim, -1/0 as "max".
func pidsValue(limit int64) string {
	if limit > 0 {
		return strconv.FormatInt(limit, 10)
	}
	return "max"
}

// isErrno returns a tolerate function matching any of the given errnos.
func isErrno(errs ...error) func(error) bool {
	return func(err error) bool {
		for _, e := range errs {
			if errors.Is(err, e) {
				return true
			}
		}
		return false
	}
}

// validPageSize reports whether s is a hugetlb page size as the cgroup
// files name it: [1-9][0-9]*[KMGT]B. (Hand-written, as the few other
// patterns runsc checks: linking the regexp package made the binary
// bigger and every runsc process's start-up slower.)
func validPageSize(s string) bool {
	n := len(s)
	if n < 3 || s[n-1] != 'B' || !strings.ContainsRune("KMGT", rune(s[n-2])) || s[0] == '0' {
		return false
	}
	return strings.Trim(s[:n-2], "0123456789") == ""
}

// validUnifiedKey reports whether k looks like a cgroup v2 interface file
// name, controller.key: [a-z_]+\.[A-Za-z0-9_.-]+.
func validUnifiedKey(k string) bool {
	ctrl, key, ok := strings.Cut(k, ".")
	return ok && ctrl != "" && key != "" &&
		strings.Trim(ctrl, "abcdefghijklmnopqrstuvwxyz_") == "" &&
		strings.Trim(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == ""
}
