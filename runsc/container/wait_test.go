package container

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"runsc.dev/runsc/runsc/specutils"
)

// leaderExitsEnv makes this test binary a process whose thread-group
// leader exits on its own while its other threads (sysmon at least) live
// on, as happens for a moment to every multi-threaded process that exits.
const leaderExitsEnv = "RUNSC_TEST_LEADER_EXITS"

func init() {
	if os.Getenv(leaderExitsEnv) == "" {
		return
	}
	// Package init runs on the main thread, the leader: end only it.
	runtime.LockOSThread()
	unix.RawSyscall(unix.SYS_EXIT, 0, 0, 0)
}

// procState is the state letter of pid in /proc/<pid>/stat.
func procState(t *testing.T, pid int) byte {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		t.Fatalf("bad stat %q", s)
	}
	return s[i+2]
}

// TestWaitGoneZombieLeader checks that waitGone waits for a process whose
// leader /proc shows as a zombie while its other threads still run: they
// are still in the container's cgroup (a v1 cgroup holds threads), which
// cannot be removed before they are gone.
func TestWaitGoneZombieLeader(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), leaderExitsEnv+"=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	p, err := specutils.NewProc(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for procState(t, p.PID) != 'Z' {
		if time.Now().After(deadline) {
			t.Fatal("the helper's leader never exited")
		}
		time.Sleep(time.Millisecond)
	}
	if n, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", p.PID)); err != nil || len(n) < 2 {
		t.Fatalf("the helper has no thread left besides its leader (%d tasks, %v)", len(n), err)
	}
	if waitGone(200*time.Millisecond, p) {
		t.Fatal("waitGone returned while the process still had a live thread")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if !waitGone(10*time.Second, p) {
		t.Fatal("waitGone did not see the process go after SIGKILL")
	}
}
