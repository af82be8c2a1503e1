// Package child starts, signals and reaps child processes without package
// os's process handling.
//
// os.StartProcess and os.FindProcess first check, once per process, that
// pidfds work (os/pidfd_linux.go, checkPidfd): pidfd_open, waitid,
// pidfd_send_signal and a throw-away clone(CLONE_PIDFD) child, about
// 0.2 ms here, on the critical path of create (spawning the gofer) and of
// the gofer (right after it forks init). A child needs none of that: its
// PID cannot be reused before its parent reaps it, so a PID and a guard
// against signalling after the reap (the scheme os used before pidfds)
// are enough.
package child

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrDone is returned when signalling a process that has been reaped.
var ErrDone = os.ErrProcessDone

// Process is a child of this process, reaped only through Wait.
type Process struct {
	// Pid is the child's PID.
	Pid int

	// mu orders Signal against the reap: once reaped is set the PID may
	// name another process.
	mu     sync.Mutex
	reaped bool

	once   sync.Once
	status unix.WaitStatus
	err    error
}

// Of returns the Process for pid, a child of this process that nothing
// else reaps.
func Of(pid int) *Process {
	return &Process{Pid: pid}
}

// Start starts path with argv and env (nil: none), the file descriptors
// files as its 0, 1, 2... and attr, as syscall.StartProcess does.
func Start(path string, argv, env []string, files []uintptr, attr *syscall.SysProcAttr) (*Process, error) {
	if env == nil {
		env = []string{}
	}
	pid, _, err := syscall.StartProcess(path, argv, &syscall.ProcAttr{Env: env, Files: files, Sys: attr})
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", path, err)
	}
	return Of(pid), nil
}

// Signal sends sig to the process, or returns ErrDone once it has been
// reaped.
func (p *Process) Signal(sig unix.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reaped {
		return ErrDone
	}
	if err := unix.Kill(p.Pid, sig); err != nil {
		return fmt.Errorf("signalling %d: %w", p.Pid, err)
	}
	return nil
}

// Kill sends the process SIGKILL.
func (p *Process) Kill() error {
	return p.Signal(unix.SIGKILL)
}

// Wait waits for the process to exit and reaps it. Later and concurrent
// calls return the same status.
func (p *Process) Wait() (unix.WaitStatus, error) {
	p.once.Do(func() { p.status, p.err = p.reap() })
	return p.status, p.err
}

func (p *Process) reap() (unix.WaitStatus, error) {
	// Wait without reaping first, so that the reap and reaped = true are
	// one step for Signal (os/exec_unix.go's blockUntilWaitable does the
	// same).
	if err := p.awaitExit(); err != nil {
		return 0, fmt.Errorf("waiting for %d: %w", p.Pid, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(p.Pid, &ws, 0, nil)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EINTR) {
			return 0, fmt.Errorf("reaping %d: %w", p.Pid, err)
		}
	}
	p.reaped = true
	return ws, nil
}

// awaitExit returns once the process has exited, leaving it unreaped. It
// waits on a pidfd through the Go runtime's netpoller (a pidfd is
// readable once its process has exited): the waiting goroutine holds no
// thread, where a blocking waitid would keep one, and with it the only P
// of a GOMAXPROCS=1 helper until sysmon takes it back (20 us to 10 ms) and
// starts another thread for the other goroutines. Without pidfds
// (PIDFD_NONBLOCK is Linux 5.10) it blocks in waitid.
func (p *Process) awaitExit() error {
	fd, err := unix.PidfdOpen(p.Pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return waitBlocking(unix.P_PID, p.Pid)
	}
	// NewFile registers the non-blocking fd with the netpoller; f owns it.
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return waitBlocking(unix.P_PIDFD, fd)
	}
	var werr error
	err = rc.Read(func(fd uintptr) bool {
		var info unix.Siginfo
		for {
			werr = unix.Waitid(unix.P_PIDFD, int(fd), &info, unix.WEXITED|unix.WNOWAIT|unix.WNOHANG, nil)
			if werr != unix.EINTR {
				break
			}
		}
		// With WNOHANG and nothing to report, waitid succeeds and
		// leaves info zeroed.
		return werr != nil || info.Signo != 0
	})
	if err != nil {
		// Not pollable after all.
		return waitBlocking(unix.P_PIDFD, fd)
	}
	return werr
}

// waitBlocking waits in waitid, without reaping, for id (of idtype) to
// exit.
func waitBlocking(idtype, id int) error {
	var info unix.Siginfo
	for {
		err := unix.Waitid(idtype, id, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// ExitCode is a shell's view of ws: the exit code, or 128+N after
// signal N.
func ExitCode(ws unix.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
