package container

import (
	"errors"
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"runsc.dev/runsc/runsc/control"
	"runsc.dev/runsc/runsc/specutils"
)

// Exec starts p inside the container, with this process's stdio (or a pty
// sent to consoleSocket when p.Terminal is set), and returns its host
// process.
func (c *Container) Exec(p *specs.Process, consoleSocket string) (specutils.Proc, error) {
	if c.Status == Stopped {
		return specutils.Proc{}, fmt.Errorf("cannot exec in container %q: %w", c.ID, ErrNotRunning)
	}
	if c.Status == Paused {
		return specutils.Proc{}, fmt.Errorf("cannot exec in container %q: it is paused", c.ID)
	}
	if err := specutils.ValidateProcess(p); err != nil {
		return specutils.Proc{}, err
	}
	req := &control.Message{Type: control.Exec, Process: p, Terminal: p.Terminal}
	for _, f := range []*os.File{os.Stdin, os.Stdout, os.Stderr} {
		d := dupFile(f)
		defer d.Close()
		req.Files = append(req.Files, d)
	}
	if p.Terminal {
		if consoleSocket == "" {
			return specutils.Proc{}, errors.New("process.terminal is set but no --console-socket was given")
		}
		conn, err := dialConsole(consoleSocket)
		if err != nil {
			return specutils.Proc{}, err
		}
		defer conn.Close()
		req.Files = append(req.Files, conn)
	}
	conn, err := control.Dial(c.socketPath())
	if err != nil {
		return specutils.Proc{}, fmt.Errorf("exec in container %q: %w", c.ID, err)
	}
	defer conn.Close()
	resp, err := conn.Call(req)
	if err != nil {
		return specutils.Proc{}, fmt.Errorf("exec in container %q: %w", c.ID, err)
	}
	proc, err := specutils.NewProc(resp.PID)
	if err != nil {
		// Already gone: keep the PID, its status is with the sandbox.
		proc = specutils.Proc{PID: resp.PID}
	}
	return proc, nil
}

// WaitPID waits for the exec'd process pid and returns its status.
func (c *Container) WaitPID(pid int) (int, error) {
	conn, err := control.Dial(c.socketPath())
	if err != nil {
		// The sandbox is gone, and the container with it.
		return 128 + 9, nil
	}
	defer conn.Close()
	resp, err := conn.Call(&control.Message{Type: control.Wait, PID: pid})
	if err != nil {
		return 0, fmt.Errorf("waiting for pid %d in container %q: %w", pid, c.ID, err)
	}
	return resp.Status, nil
}
