package sandbox

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// HelperTimerSlack is the timer slack (ns) the sandbox and the gofer start
// with, instead of the caller's (50 us by default). Each Go runtime's
// sysmon thread sleeps 20 us at a time while any goroutine runs or sits in
// a system call; with the default slack it wakes every 70 us or so, on
// these 2-core machines preempting the very threads that create is waiting
// for: about 45 of every 100 context switches of a `run` were the
// helpers' and create's sysmons. 200 us cut a run's context switches by
// an eighth and its CPU time by 4%, and the run 0.98-0.99x (1 ms was slower
// then: sysmon also hands a P stuck in a system call to another
// goroutine). Since create's own threads have it too (CoarsenTimerSlack),
// 500 us for all three was 0.970x 200 us (1.041 the other way round, 500
// rounds each), and 1 ms no better than 500 us (0.997, 1.006 reversed).
// The container's processes get the caller's slack back
// (GoferBoot.TimerSlack).
const HelperTimerSlack = 500_000

// setTimerSlack raises the calling (locked) thread's timer slack to ns,
// and returns what puts the previous one back.
func setTimerSlack(ns int) (restore func()) {
	cur, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil || cur >= ns {
		return func() {}
	}
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(ns), 0, 0, 0); err != nil {
		return func() {}
	}
	return func() { unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(cur), 0, 0, 0) }
}

// callerTimerSlack is the timer slack this process was started with
// (before CoarsenTimerSlack), which the container's processes are given
// (0 if unknown).
func callerTimerSlack() uint64 {
	if callerSlack != 0 {
		return callerSlack
	}
	cur, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil || cur <= 0 {
		return 0
	}
	return uint64(cur)
}

// callerSlack is the caller's timer slack, as CoarsenTimerSlack found it.
var callerSlack uint64

// allCoarse is set once CoarsenTimerSlack has given every thread of the
// process HelperTimerSlack (or found the caller's at least as coarse):
// helpers then start with it from any thread.
var allCoarse bool

// CoarsenTimerSlack gives every thread of this runsc process the helpers'
// timer slack (HelperTimerSlack), after recording the caller's for the
// container's processes (callerTimerSlack). Create's own sysmon woke about
// 80 times in a `run` of /bin/true with the caller's 50 us (every
// nanosleep of it), preempting create's and the helpers' threads on these
// 2-core machines; a `run` started with a 200 us slack was 0.96x one
// started with 50 us (400 interleaved rounds each way, 3-4% both ways).
// The Go runtime has started its threads by now (sysmon among them), and
// a thread's slack is its own, inherited by the threads and children it
// makes: each is set, the calling one with prctl, the others through
// /proc/<tid>/timerslack_ns, which needs CAP_SYS_NICE (without it they
// keep the caller's). For the commands a user runs, not the helpers,
// which start with it.
func CoarsenTimerSlack() {
	cur, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil || cur <= 0 {
		return
	}
	callerSlack = uint64(cur)
	if cur >= HelperTimerSlack {
		// A caller's coarser slack is every thread's: they all inherit it.
		allCoarse = true
		return
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self := unix.Gettid()
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, HelperTimerSlack, 0, 0, 0); err != nil {
		return
	}
	all := true
	for _, tid := range threads() {
		if tid != self && !writeProcFile(fmt.Sprintf("/proc/%d/timerslack_ns", tid), strconv.Itoa(HelperTimerSlack)) {
			all = false
		}
	}
	allCoarse = all
}

// threads lists this process's thread ids (/proc/self/task), read with
// getdents: os.ReadDir would register the directory with the netpoller.
func threads() []int {
	fd, err := unix.Open("/proc/self/task", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer unix.Close(fd)
	var tids []int
	buf := make([]byte, 4096)
	for {
		n, err := unix.Getdents(fd, buf)
		if err != nil || n <= 0 {
			return tids
		}
		_, _, names := unix.ParseDirent(buf[:n], -1, nil)
		for _, name := range names {
			if tid, err := strconv.Atoi(name); err == nil {
				tids = append(tids, tid)
			}
		}
	}
}

// writeProcFile writes s to the procfs file at path, and reports whether
// it did. A thread that exited meanwhile is one less to set: its file is
// gone (ENOENT, or ESRCH on the write).
func writeProcFile(path, s string) bool {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return errors.Is(err, unix.ENOENT)
	}
	defer unix.Close(fd)
	_, err = unix.Write(fd, []byte(s))
	return err == nil || errors.Is(err, unix.ESRCH)
}
