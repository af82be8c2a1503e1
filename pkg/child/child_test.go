package child

import (
	"errors"
	"os"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

func start(t *testing.T, script string) *Process {
	t.Helper()
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	fd := null.Fd()
	p, err := Start("/bin/sh", []string{"sh", "-c", script}, nil, []uintptr{fd, fd, fd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExitCode(t *testing.T) {
	p := start(t, "exit 3")
	ws, err := p.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if got := ExitCode(ws); got != 3 {
		t.Fatalf("exit code %d, want 3", got)
	}
	// Reaped: the PID is no longer ours to signal.
	if err := p.Signal(0); !errors.Is(err, ErrDone) {
		t.Fatalf("Signal after Wait: %v, want ErrDone", err)
	}
	if err := unix.Kill(p.Pid, 0); !errors.Is(err, unix.ESRCH) {
		t.Fatalf("kill(%d, 0) after Wait: %v, want ESRCH (reaped)", p.Pid, err)
	}
}

func TestKillConcurrentWait(t *testing.T) {
	p := start(t, "exec sleep 60")
	// Alive and unreaped until killed.
	if err := p.Signal(0); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	codes := make([]int, 4)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws, err := p.Wait()
			if err != nil {
				t.Error(err)
			}
			codes[i] = ExitCode(ws)
		}()
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, c := range codes {
		if c != 128+int(unix.SIGKILL) {
			t.Errorf("Wait %d: exit code %d, want %d", i, c, 128+int(unix.SIGKILL))
		}
	}
}

func TestStartError(t *testing.T) {
	if _, err := Start("/nonexistent/binary", []string{"x"}, nil, nil, nil); !errors.Is(err, unix.ENOENT) {
		t.Fatalf("Start of a missing binary: %v, want ENOENT", err)
	}
}
