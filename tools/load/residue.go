package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// residue is what a runtime left on the host after its containers were
// deleted. Every count must be 0.
type residue struct {
	StateDirs, Procs, Cgroups, Mounts int
	// Details names the first few items found.
	Details []string
}

func (r *residue) add(count *int, format string, args ...any) {
	*count++
	if len(r.Details) < 8 {
		r.Details = append(r.Details, fmt.Sprintf(format, args...))
	}
}

// total is the number of items left.
func (r residue) total() int { return r.StateDirs + r.Procs + r.Cgroups + r.Mounts }

// cgroupDirs lists the directories of cgroup path p in every hierarchy
// (v1 controllers, a hybrid cgroup2 tree, or a pure cgroup2 root).
func cgroupDirs(p string) []string {
	var out []string
	if fi, err := os.Stat(filepath.Join("/sys/fs/cgroup", p)); err == nil && fi.IsDir() {
		out = append(out, filepath.Join("/sys/fs/cgroup", p))
	}
	entries, _ := os.ReadDir("/sys/fs/cgroup")
	for _, e := range entries {
		d := filepath.Join("/sys/fs/cgroup", e.Name(), p)
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			out = append(out, d)
		}
	}
	return out
}

// subdirs lists the directories below dir, deepest first.
func subdirs(dir string) []string {
	var out []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.IsDir() {
			d := filepath.Join(dir, e.Name())
			out = append(out, subdirs(d)...)
			out = append(out, d)
		}
	}
	return out
}

// findResidue lists what rt left: entries of its state root, processes
// naming its root on their command line or living in a cgroup under its
// cgroup parent, cgroups under that parent, and mounts under tmp.
func findResidue(rt *runtime, tmp string) residue {
	var res residue
	entries, _ := os.ReadDir(rt.Root)
	for _, e := range entries {
		res.add(&res.StateDirs, "state %s/%s", rt.Root, e.Name())
	}
	procs, _ := os.ReadDir("/proc")
	for _, e := range procs {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if st := procState(pid); st == 0 || st == 'Z' {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		cg, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cgroup"))
		args := strings.Split(string(cmdline), "\x00")
		if containsRoot(args, rt.Root) || strings.Contains(string(cg), ":"+rt.CgParent+"/") {
			res.add(&res.Procs, "process %d %s", pid, strings.Join(args, " "))
		}
	}
	for _, d := range cgroupDirs(rt.CgParent) {
		for _, s := range subdirs(d) {
			res.add(&res.Cgroups, "cgroup %s", s)
		}
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	for _, l := range strings.Split(string(mi), "\n") {
		if f := strings.Fields(l); len(f) > 4 && strings.HasPrefix(f[4], tmp+"/") {
			res.add(&res.Mounts, "mount %s", f[4])
		}
	}
	return res
}

// containsRoot reports whether args pass root as --root.
func containsRoot(args []string, root string) bool {
	for i, a := range args {
		if a == "--root="+root || (a == "--root" && i+1 < len(args) && args[i+1] == root) {
			return true
		}
	}
	return false
}

// procState is the state letter of pid, 0 if it does not exist.
func procState(pid int) byte {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return 0
	}
	return s[i+2]
}

// children lists the children of pid.
func children(pid int) []int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// pss is the proportional set size of pid in bytes.
func pss(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0, err
	}
	return parseKB(string(b), "Pss")
}

// rss is the resident set size of pid in bytes.
func rss(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseKB(string(b), "VmRSS")
}

// removeCgroupTree removes the cgroup dir d and everything below it,
// deepest first (teardown; errors are reported by the residue check).
func removeCgroupTree(d string) {
	for _, s := range subdirs(d) {
		os.Remove(s)
	}
	os.Remove(d)
}
