// Package sandbox starts the sandbox process (`runsc boot`, shown as
// runsc-sandbox) for a container and talks to it.
//
// The sandbox is started in its own mount namespace. When runsc holds
// CAP_SYS_ADMIN it is passed --setup-root: it spawns the gofer, builds its
// minimal chroot, drops to nobody and re-executes itself. Everything else it
// needs (the spec, its control listener, the container's stdio and console)
// arrives as one control.Message over the socket at fd 3.
package sandbox

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/syndtr/gocapability/capability"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/runsc/config"
	"runsc.dev/runsc/runsc/control"
	"runsc.dev/runsc/runsc/specutils"
)

// Args are what Start needs.
type Args struct {
	// ID is the container id.
	ID string
	// Bundle is the bundle directory.
	Bundle string
	// Boot is the message sent to the sandbox on fd 3: the spec file, the
	// control listener, stdio and console, as control.Message.Files.
	Boot *control.Message
	// CgroupJoin, when set, is called with the sandbox's PID before the
	// boot message is sent: everything the sandbox spawns then inherits
	// the container's cgroup.
	CgroupJoin func(pid int) error
}

// Sandbox is a started sandbox process.
type Sandbox struct {
	// Proc is the sandbox process.
	Proc specutils.Proc
	// Cmd is set in the process that started the sandbox (its parent).
	Cmd *exec.Cmd
	// Conn is the boot socket: the sandbox reports Ready or Error on it.
	Conn *control.Conn
}

// haveSysAdmin reports whether this process may build the sandbox's root
// itself (CAP_SYS_ADMIN in its own user namespace).
func haveSysAdmin() bool {
	caps, err := capability.NewPid2(0)
	if err != nil || caps.Load() != nil {
		return false
	}
	return caps.Get(capability.EFFECTIVE, capability.CAP_SYS_ADMIN)
}

// helperEnv is the whole environment of the sandbox and the gofer: none of
// the caller's (a long-lived process has no use for it), and a Go runtime
// sized for an idle helper: one P, which keeps its threads and heap small.
var helperEnv = []string{"GOMAXPROCS=1"}

// Start starts the sandbox process and sends it the boot message.
func Start(conf *config.Config, args Args) (_ *Sandbox, retErr error) {
	attr := &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNS}
	switch {
	case conf.Rootless:
		spec, err := bootSpec(args.Boot)
		if err != nil {
			return nil, err
		}
		if attr, err = rootlessAttr(spec); err != nil {
			return nil, err
		}
	case !haveSysAdmin() && !conf.TestOnlySkipChroot:
		return nil, fmt.Errorf("starting sandbox: CAP_SYS_ADMIN is required: run as root, or pass --rootless")
	}
	conn, peer, err := control.Pair()
	if err != nil {
		return nil, err
	}
	defer peer.Close()
	defer func() {
		if retErr != nil {
			conn.Close()
		}
	}()

	argv := append(conf.ToFlags(), "boot", "--bundle="+args.Bundle)
	if !conf.TestOnlySkipChroot {
		argv = append(argv, "--setup-root")
	}
	argv = append(argv, args.ID)
	cmd := exec.Command("/proc/self/exe", argv...)
	cmd.Args[0] = "runsc-sandbox"
	cmd.Env = helperEnv
	// The boot socket is fd 3; stdio are /dev/null: the container's stdio
	// travel in the boot message, so no runsc process but the container's
	// own holds the caller's stdout/stderr.
	cmd.ExtraFiles = []*os.File{peer}
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting sandbox: %w", err)
	}
	sb := &Sandbox{Cmd: cmd, Conn: conn}
	defer func() {
		if retErr != nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	if sb.Proc, err = specutils.NewProc(cmd.Process.Pid); err != nil {
		return nil, err
	}
	if args.CgroupJoin != nil {
		if err := args.CgroupJoin(cmd.Process.Pid); err != nil {
			return nil, err
		}
	}
	if err := conn.Send(args.Boot); err != nil {
		return nil, fmt.Errorf("sending boot message: %w", err)
	}
	return sb, nil
}
