package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

func lockOSThread() { runtime.LockOSThread() }

// becomeSubreaper makes the bench a child subreaper, as a containerd shim
// is: the pid-file process of every container is reparented to it when the
// runtime's create exits, so it can wait for it and reap it.
func becomeSubreaper() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_CHILD_SUBREAPER): %w", err)
	}
	return nil
}

// procStat is the parent and state of one process.
type procStat struct {
	pid, ppid int
	state     byte
}

// readStat parses /proc/<pid>/stat.
func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+4 > len(s) {
		return procStat{}, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 2 {
		return procStat{}, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return procStat{}, fmt.Errorf("malformed /proc/%d/stat: %w", pid, err)
	}
	return procStat{pid: pid, ppid: ppid, state: f[0][0]}, nil
}

// allProcs returns the stat of every process.
func allProcs() []procStat {
	ents, _ := os.ReadDir("/proc")
	var out []procStat
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readStat(pid); err == nil {
			out = append(out, st)
		}
	}
	return out
}

// reapOrphans reaps zombie children of the bench: orphans of the runtimes
// reparented to it. Call it only when no command of its own is running, so
// that no exec.Cmd loses its exit status.
func reapOrphans() int {
	self := os.Getpid()
	n := 0
	for _, p := range allProcs() {
		if p.ppid == self && p.state == 'Z' {
			var ws unix.WaitStatus
			if _, err := unix.Wait4(p.pid, &ws, unix.WNOHANG, nil); err == nil {
				n++
			}
		}
	}
	return n
}

// Memory is the memory of a set of processes from smaps_rollup.
type Memory struct {
	// PSS is the proportional set size in bytes.
	PSS int64
	// USS is the private (clean + dirty) memory in bytes.
	USS int64
	// Procs is how many processes were counted.
	Procs int
}

// runtimeMemory sums the memory of a container's runtime processes: the
// pid-file process and its descendants, and the ancestors of the
// container's init below the bench (a runtime may hang init from a helper
// that is not the pid-file process: runsc's gofer is the sandbox's
// sibling), each with its descendants, leaving out init and its
// descendants (the container's own processes).
func runtimeMemory(pidFile, init int) (Memory, error) {
	procs := allProcs()
	children := map[int][]int{}
	parent := map[int]int{}
	for _, p := range procs {
		children[p.ppid] = append(children[p.ppid], p.pid)
		parent[p.pid] = p.ppid
	}
	roots := []int{pidFile}
	for p := parent[init]; p > 1 && p != os.Getpid(); p = parent[p] {
		roots = append(roots, p)
	}
	var m Memory
	seen := map[int]bool{}
	var walk func(pid int) error
	walk = func(pid int) error {
		if pid == init || seen[pid] {
			return nil
		}
		seen[pid] = true
		pss, uss, err := smapsRollup(pid)
		if err != nil {
			return err
		}
		m.PSS += pss
		m.USS += uss
		m.Procs++
		for _, c := range children[pid] {
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	for _, r := range roots {
		if err := walk(r); err != nil {
			return m, err
		}
	}
	return m, nil
}

// smapsRollup returns the PSS and USS of pid in bytes.
func smapsRollup(pid int) (pss, uss int64, err error) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "smaps_rollup"))
	if err != nil {
		return 0, 0, fmt.Errorf("reading smaps_rollup of %d: %w", pid, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		kb, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			continue
		}
		switch fields[0] {
		case "Pss:":
			pss = kb * 1024
		case "Private_Clean:", "Private_Dirty:":
			uss += kb * 1024
		}
	}
	return pss, uss, sc.Err()
}

// isMountpoint reports whether path is a mount point in the bench's mount
// namespace.
func isMountpoint(path string) bool {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && f[4] == path {
			return true
		}
	}
	return false
}
