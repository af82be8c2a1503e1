package specutils

import (
	"os"
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseStat(t *testing.T) {
	for _, tc := range []struct {
		in    string
		state byte
		start uint64
		ok    bool
	}{
		{"1 (init) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 42 100 200", 'S', 42, true},
		{"7 (a) b) (c) R 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 99 100 200", 'R', 99, true},
		{"7 (x) Z 0", 0, 0, false},
		{"garbage", 0, 0, false},
		{"", 0, 0, false},
	} {
		st, start, err := parseStat(tc.in)
		if (err == nil) != tc.ok || st != tc.state || start != tc.start {
			t.Errorf("parseStat(%q) = %c, %d, %v", tc.in, st, start, err)
		}
	}
}

func TestProcLifecycle(t *testing.T) {
	self, err := NewProc(os.Getpid())
	if err != nil || !self.Alive() {
		t.Fatalf("self: %+v %v", self, err)
	}
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep binary:", err)
	}
	p, err := NewProc(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Alive() {
		t.Fatal("child not alive")
	}
	wrong := p
	wrong.StartTime++
	if wrong.Alive() || wrong.Signal(unix.SIGKILL) != unix.ESRCH {
		t.Fatal("a process with another start time was treated as ours")
	}
	if err := p.Signal(unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Wait without reaping, so the zombie check runs first.
	var info unix.Siginfo
	if err := unix.Waitid(unix.P_PID, p.PID, &info, unix.WEXITED|unix.WNOWAIT, nil); err != nil {
		t.Fatal(err)
	}
	if p.Alive() {
		t.Fatal("zombie reported alive")
	}
	cmd.Wait()
	if p.Exists() {
		t.Fatal("reaped process reported existing")
	}
}
