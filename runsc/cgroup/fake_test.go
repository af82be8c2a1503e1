package cgroup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// fakeHost is a cgroupfs made of plain files in a temporary directory,
// described by a fake mountinfo. Its mkdir populates new cgroups with the
// control files the kernel would create, its rmdir removes them, and every
// write is recorded.
type fakeHost struct {
	t      *testing.T
	root   string
	mode   Mode
	host   *Host
	mounts map[string][]string // mountpoint -> controllers ("" list: cgroup2)

	mu     sync.Mutex
	writes []write
	fail   func(path, value string) error
}

// write is one recorded write, with the path relative to the fake root.
type write struct{ path, value string }

func (w write) String() string { return w.path + "=" + w.value }

// v1Files are the control files the fake kernel creates per v1 controller.
var v1Files = map[string]map[string]string{
	"cpu": {"cpu.shares": "1024", "cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "-1", "cpu.cfs_burst_us": "0",
		"cpu.idle": "0", "cpu.rt_period_us": "1000000", "cpu.rt_runtime_us": "0", "cpu.stat": "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n"},
	"cpuacct": {"cpuacct.usage": "0", "cpuacct.usage_percpu": "0 0 ", "cpuacct.usage_all": "cpu user system\n0 0 0\n1 0 0\n", "cpuacct.stat": "user 0\nsystem 0\n"},
	"cpuset":  {"cpuset.cpus": "", "cpuset.mems": "", "cpuset.cpu_exclusive": "0", "cpuset.sched_relax_domain_level": "-1"},
	"memory": {memLimit: "9223372036854771712", memswLimit: "9223372036854771712", "memory.soft_limit_in_bytes": "9223372036854771712",
		"memory.kmem.limit_in_bytes": "9223372036854771712", "memory.kmem.tcp.limit_in_bytes": "9223372036854771712",
		"memory.swappiness": "60", "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\n", "memory.use_hierarchy": "1",
		"memory.usage_in_bytes": "0", "memory.max_usage_in_bytes": "0", "memory.failcnt": "0",
		"memory.memsw.usage_in_bytes": "0", "memory.memsw.max_usage_in_bytes": "0", "memory.memsw.failcnt": "0",
		"memory.stat": "cache 0\nrss 0\n"},
	"devices": {"devices.allow": "", "devices.deny": "", "devices.list": "a *:* rwm\n"},
	"freezer": {"freezer.state": "THAWED"},
	"blkio": {"blkio.weight": "500", "blkio.weight_device": "", "blkio.leaf_weight": "500", "blkio.leaf_weight_device": "",
		"blkio.throttle.read_bps_device": "", "blkio.throttle.write_bps_device": "", "blkio.throttle.read_iops_device": "",
		"blkio.throttle.write_iops_device": "", "blkio.throttle.io_service_bytes_recursive": "Total 0\n", "blkio.throttle.io_serviced_recursive": "Total 0\n"},
	"pids": {"pids.max": "max", "pids.current": "0"},
	"hugetlb": {"hugetlb.2MB.limit_in_bytes": "9223372036854771712", "hugetlb.2MB.rsvd.limit_in_bytes": "9223372036854771712",
		"hugetlb.2MB.usage_in_bytes": "0", "hugetlb.2MB.max_usage_in_bytes": "0", "hugetlb.2MB.failcnt": "0",
		"hugetlb.1GB.limit_in_bytes": "9223372036854771712", "hugetlb.1GB.usage_in_bytes": "0", "hugetlb.1GB.max_usage_in_bytes": "0", "hugetlb.1GB.failcnt": "0"},
	"net_cls":  {"net_cls.classid": "0"},
	"net_prio": {"net_prio.ifpriomap": "lo 0\n"},
	"rdma":     {"rdma.max": ""},
}

// v2Files are the control files of a cgroup2 directory, per controller ("":
// core files).
var v2Files = map[string]map[string]string{
	"": {"cgroup.controllers": "", "cgroup.subtree_control": "", "cgroup.freeze": "0", "cgroup.events": "populated 0\nfrozen 0\n",
		"cgroup.type": "domain", "cpu.stat": "usage_usec 0\nuser_usec 0\nsystem_usec 0\n", "cpu.pressure": "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"},
	"cpu":    {"cpu.weight": "100", "cpu.max": "max 100000", "cpu.max.burst": "0", "cpu.idle": "0"},
	"cpuset": {"cpuset.cpus": "", "cpuset.mems": "", "cpuset.cpus.effective": "0-3", "cpuset.mems.effective": "0"},
	"memory": {"memory.max": "max", "memory.high": "max", "memory.swap.max": "max", "memory.low": "0", "memory.current": "0", "memory.swap.current": "0",
		"memory.peak": "0", "memory.stat": "anon 0\nfile 0\n", "memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n"},
	"io":      {"io.weight": "default 100", "io.max": "", "io.stat": ""},
	"pids":    {"pids.max": "max", "pids.current": "0"},
	"hugetlb": {"hugetlb.2MB.max": "max", "hugetlb.2MB.rsvd.max": "max", "hugetlb.2MB.current": "0", "hugetlb.2MB.events": "max 0\n"},
	"rdma":    {"rdma.max": ""},
	"misc":    {"misc.max": ""},
}

// newFakeHost builds a fake host of the given mode. self optionally maps
// controllers to the cgroup of the "runtime" (default "/").
func newFakeHost(t *testing.T, mode Mode, self map[string]string) *fakeHost {
	t.Helper()
	f := &fakeHost{t: t, root: t.TempDir(), mode: mode, mounts: map[string][]string{}}
	cg := filepath.Join(f.root, "cgroup")
	var v1 [][]string
	switch mode {
	case Legacy:
		v1 = [][]string{{"cpu", "cpuacct"}, {"cpuset"}, {"memory"}, {"devices"}, {"freezer"}, {"blkio"}, {"pids"},
			{"hugetlb"}, {"net_cls", "net_prio"}, {"rdma"}, {"name=systemd"}}
	case Hybrid: // like the development host: no hugetlb/net_cls/rdma in v1
		v1 = [][]string{{"cpu"}, {"cpuacct"}, {"cpuset"}, {"memory"}, {"devices"}, {"freezer"}, {"blkio"}, {"pids"}, {"name=systemd"}}
	}
	var mi strings.Builder
	id := 30
	mi.WriteString("27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n")
	fmt.Fprintf(&mi, "%d 27 0:28 / %s rw,relatime - tmpfs tmpfs rw,mode=755\n", id, cg)
	for _, ctrls := range v1 {
		id++
		name := strings.Join(ctrls, ",")
		if name == "name=systemd" {
			name = "systemd"
		}
		mp := filepath.Join(cg, name)
		fmt.Fprintf(&mi, "%d 30 0:%d / %s rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,%s\n", id, id, mp, strings.Join(ctrls, ","))
		f.mounts[mp] = ctrls
		f.mkdirFiles(mp, ctrls, nil)
		if containsStr(ctrls, "cpuset") {
			f.set(filepath.Join(mp, "cpuset.cpus"), "0-3")
			f.set(filepath.Join(mp, "cpuset.mems"), "0")
		}
	}
	var rootCtrls []string
	switch mode {
	case Hybrid:
		rootCtrls = []string{"hugetlb"}
	case Unified:
		rootCtrls = []string{"cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"}
	}
	if mode != Legacy {
		mp := cg
		if mode == Hybrid {
			mp = filepath.Join(cg, "unified")
		}
		fmt.Fprintf(&mi, "%d 30 0:99 / %s rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate\n", id+1, mp)
		f.mounts[mp] = nil
		f.mkdirFiles(mp, nil, rootCtrls)
		f.set(filepath.Join(mp, "cgroup.controllers"), strings.Join(rootCtrls, " "))
	}
	var pc, ic strings.Builder
	for n, ctrls := range v1 {
		fmt.Fprintf(&ic, "%d:%s:/init.scope\n", len(v1)-n, strings.Join(ctrls, ","))
		p := "/"
		if s, ok := self[ctrls[0]]; ok {
			p = s
		}
		fmt.Fprintf(&pc, "%d:%s:%s\n", len(v1)-n, strings.Join(ctrls, ","), p)
	}
	p := "/"
	if s, ok := self[""]; ok {
		p = s
	}
	fmt.Fprintf(&pc, "0::%s\n", p)
	ic.WriteString("0::/init.scope\n")
	f.set(filepath.Join(f.root, "mountinfo"), mi.String())
	f.set(filepath.Join(f.root, "self_cgroup"), pc.String())
	f.set(filepath.Join(f.root, "init_cgroup"), ic.String())
	host, err := DetectHost(f.config())
	if err != nil {
		t.Fatalf("DetectHost: %v", err)
	}
	f.host = host
	f.install()
	return f
}

func (f *fakeHost) config() HostConfig {
	return HostConfig{
		MountInfo:  filepath.Join(f.root, "mountinfo"),
		SelfCgroup: filepath.Join(f.root, "self_cgroup"),
		InitCgroup: filepath.Join(f.root, "init_cgroup"),
	}
}

// install swaps the filesystem hooks for the fake's until the test ends.
func (f *fakeHost) install() {
	oldMkdir, oldRmdir, oldHook := mkdir, rmdir, writeHook
	mkdir = f.mkdir
	rmdir = f.rmdir
	writeHook = f.record
	f.t.Cleanup(func() { mkdir, rmdir, writeHook = oldMkdir, oldRmdir, oldHook })
}

func (f *fakeHost) record(path, value string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		if err := f.fail(path, value); err != nil {
			return err
		}
	}
	rel, _ := filepath.Rel(f.root, path)
	f.writes = append(f.writes, write{rel, value})
	return nil
}

// takeWrites returns and clears the recorded writes.
func (f *fakeHost) takeWrites() []write {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.writes
	f.writes = nil
	return w
}

// mountOf returns the fake mount holding p.
func (f *fakeHost) mountOf(p string) (string, []string) {
	best := ""
	for mp := range f.mounts {
		if (p == mp || strings.HasPrefix(p, mp+"/")) && len(mp) > len(best) {
			best = mp
		}
	}
	return best, f.mounts[best]
}

func (f *fakeHost) mkdir(p string, perm os.FileMode) error {
	if err := os.Mkdir(p, perm); err != nil {
		return err
	}
	mp, ctrls := f.mountOf(p)
	if mp == "" {
		return nil
	}
	if ctrls == nil {
		root := f.get(filepath.Join(mp, "cgroup.controllers"))
		f.mkdirFiles(p, nil, strings.Fields(root))
		return nil
	}
	f.mkdirFiles(p, ctrls, nil)
	return nil
}

func (f *fakeHost) mkdirFiles(dir string, v1 []string, v2 []string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.t.Fatal(err)
	}
	f.set(filepath.Join(dir, "cgroup.procs"), "")
	for _, c := range v1 {
		for name, val := range v1Files[c] {
			f.set(filepath.Join(dir, name), val)
		}
	}
	if _, isV2 := f.mountOf(dir); isV2 == nil && v1 == nil {
		for _, c := range append([]string{""}, v2...) {
			for name, val := range v2Files[c] {
				f.set(filepath.Join(dir, name), val)
			}
		}
		f.set(filepath.Join(dir, "cgroup.controllers"), strings.Join(v2, " "))
	}
}

// rmdir behaves like rmdir(2) on cgroupfs: EBUSY with processes, ENOTEMPTY
// with child cgroups, ENOENT if gone.
func (f *fakeHost) rmdir(p string) error {
	entries, err := os.ReadDir(p)
	if err != nil {
		return &os.PathError{Op: "rmdir", Path: p, Err: unix.ENOENT}
	}
	for _, e := range entries {
		if e.IsDir() {
			return &os.PathError{Op: "rmdir", Path: p, Err: unix.ENOTEMPTY}
		}
	}
	if strings.TrimSpace(f.get(filepath.Join(p, "cgroup.procs"))) != "" {
		return &os.PathError{Op: "rmdir", Path: p, Err: unix.EBUSY}
	}
	return os.RemoveAll(p)
}

func (f *fakeHost) set(path, value string) {
	f.t.Helper()
	if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fakeHost) get(path string) string {
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		f.t.Fatal(err)
	}
	return string(b)
}

// path returns an absolute path inside the fake cgroupfs.
func (f *fakeHost) path(elem ...string) string {
	return filepath.Join(append([]string{f.root, "cgroup"}, elem...)...)
}

// newCgroup creates a Cgroup for path on the fake host.
func (f *fakeHost) newCgroup(path, id string) *Cgroup {
	f.t.Helper()
	c, err := NewOnHost(f.host, nil, path, id, false)
	if err != nil {
		f.t.Fatalf("NewOnHost: %v", err)
	}
	return c
}

// byFile groups writes by file name (relative path) for assertions.
func byFile(ws []write) map[string][]string {
	out := map[string][]string{}
	for _, w := range ws {
		out[w.path] = append(out[w.path], w.value)
	}
	return out
}

// listDirs returns every directory under the fake cgroupfs, relative.
func (f *fakeHost) listDirs() []string {
	var out []string
	filepath.WalkDir(f.path(), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			rel, _ := filepath.Rel(f.path(), p)
			out = append(out, rel)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

func ptr[T any](v T) *T { return &v }
