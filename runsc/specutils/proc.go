package specutils

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
	"runsc.dev/runsc/pkg/sysfile"
)

// Proc names one host process: its PID and its start time (field 22 of
// /proc/<pid>/stat), so that a reused PID is never mistaken for it.
type Proc struct {
	PID       int    `json:"pid"`
	StartTime uint64 `json:"startTime"`
}

// procStat returns the state letter and start time of pid.
func procStat(pid int) (state byte, start uint64, err error) {
	b, err := sysfile.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	return parseStat(string(b))
}

// parseStat parses /proc/<pid>/stat text: the command may hold spaces and
// parentheses, so fields are counted from the last ')'.
func parseStat(s string) (byte, uint64, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return 0, 0, fmt.Errorf("malformed stat %q", s)
	}
	fields := strings.Fields(s[i+2:])
	// fields[0] is field 3 (state); start time is field 22.
	if len(fields) < 20 || len(fields[0]) != 1 {
		return 0, 0, fmt.Errorf("malformed stat %q", s)
	}
	start, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("malformed start time in stat: %w", err)
	}
	return fields[0][0], start, nil
}

// NewProc records pid with its current start time.
func NewProc(pid int) (Proc, error) {
	_, start, err := procStat(pid)
	if err != nil {
		return Proc{}, fmt.Errorf("reading start time of pid %d: %w", pid, err)
	}
	return Proc{PID: pid, StartTime: start}, nil
}

// NewProcAt is NewProc reading the process from procFd, an open procfs
// root (a process whose /proc is another pid namespace's, or gone).
func NewProcAt(procFd, pid int) (Proc, error) {
	fd, err := unix.Openat(procFd, fmt.Sprintf("%d/stat", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return Proc{}, fmt.Errorf("reading start time of pid %d: %w", pid, err)
	}
	f := os.NewFile(uintptr(fd), "stat")
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return Proc{}, fmt.Errorf("reading start time of pid %d: %w", pid, err)
	}
	_, start, err := parseStat(string(b))
	if err != nil {
		return Proc{}, fmt.Errorf("reading start time of pid %d: %w", pid, err)
	}
	return Proc{PID: pid, StartTime: start}, nil
}

// Alive reports whether p still names the same, not yet exited (zombie
// counts as exited), process.
func (p Proc) Alive() bool {
	if p.PID <= 0 {
		return false
	}
	state, start, err := procStat(p.PID)
	return err == nil && start == p.StartTime && state != 'Z' && state != 'X'
}

// Exists is like Alive but counts a zombie as existing: it still holds
// its PID.
func (p Proc) Exists() bool {
	if p.PID <= 0 {
		return false
	}
	_, start, err := procStat(p.PID)
	return err == nil && start == p.StartTime
}

// Signal sends sig to p if it is still the same process; a PID that now
// names another process is never signalled.
func (p Proc) Signal(sig unix.Signal) error {
	if !p.Exists() {
		return unix.ESRCH
	}
	return unix.Kill(p.PID, sig)
}

// ParentOf returns the parent PID of pid, 0 if it cannot be read.
func ParentOf(pid int) int {
	b, err := sysfile.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}
