// Package sandbox starts the two runsc processes that serve a container,
// both children of `runsc create`, born together in the container's
// cgroup, and talks to them:
//
//   - the sandbox (`runsc boot`, shown as runsc-sandbox), the pid-file
//     process, in its own mount namespace: when runsc holds CAP_SYS_ADMIN
//     it is passed --setup-root, builds its minimal chroot, drops to nobody
//     and re-executes itself (rootless: in a user namespace of its own,
//     see rootless.go). Its boot message, on the socket at its fd 3,
//     carries its control listener and its socket to the gofer.
//   - the gofer (`runsc gofer`, runsc-gofer), in the container's user and
//     mount namespaces, which starts the container's init. Its boot
//     message (the spec, the container's stdio and console) is queued by
//     create on the gofer's socket before the sandbox is handed the other
//     end: the gofer reads it, and then the sandbox's requests, on its
//     fd 3.
//
// Siblings, not parent and child, so that the gofer's start-up does not
// wait for the sandbox's: they run in parallel, and only the gofer and init
// are on the path to "created". A child is also born in its parent's user
// namespace, which rules out a rootless sandbox parenting the gofer.
package sandbox

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/syndtr/gocapability/capability"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/pkg/log"
	"runsc.dev/runsc/runsc/cgroup"
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
	// Spec is the container's spec.
	Spec *specs.Spec
	// Boot holds the files for the sandbox and the gofer, by the Boot*
	// indexes: the spec file, the control listener, stdio and the
	// console. They stay owned by the caller.
	Boot *control.Message
	// Cgroup, when set, is the container's cgroup, already created: the
	// sandbox and the gofer are born in it (cgroup.Spawn), so everything
	// the gofer spawns inherits it, and the shim reads the container's
	// stats from the pid-file process's cgroup.
	Cgroup *cgroup.Cgroup
}

// Sandbox is a started sandbox process and its gofer.
type Sandbox struct {
	// Proc is the sandbox process.
	Proc specutils.Proc
	// Cmd is set in the process that started the sandbox (its parent).
	Cmd *exec.Cmd
	// Gofer is the gofer process, GoferCmd its command in the process
	// that started it.
	Gofer    specutils.Proc
	GoferCmd *exec.Cmd
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

// Start starts the gofer and sends it its boot message, then starts the
// sandbox and sends it its own; the sandbox reports the container's
// creation on Conn. The gofer goes first: it and init are the path to
// "created", and the sandbox's start-up is not. On failure nothing it
// started is left; after success, the caller kills and reaps both (Kill)
// if it gives up.
func Start(conf *config.Config, args Args) (_ *Sandbox, retErr error) {
	sbAttr := &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNS}
	switch {
	case conf.Rootless:
		var err error
		if sbAttr, err = rootlessAttr(); err != nil {
			return nil, err
		}
	case !haveSysAdmin() && !conf.TestOnlySkipChroot:
		return nil, fmt.Errorf("starting sandbox: CAP_SYS_ADMIN is required: run as root, or pass --rootless")
	}
	goferAttr, err := goferAttr(conf, args.Spec)
	if err != nil {
		return nil, err
	}
	userns := goferAttr.Cloneflags&unix.CLONE_NEWUSER != 0
	// Made while the gofer starts, instead of by the gofer's clone of
	// init: see newNetNS.
	var netns chan netNSResult
	if wantNetNS(conf, args.Spec, userns) {
		netns = make(chan netNSResult, 1)
		go func() { netns <- newNetNS() }()
		defer func() {
			if netns != nil {
				if r := <-netns; r.f != nil {
					r.f.Close()
				}
			}
		}()
	}
	// Opened here, not by os/exec in the spawn: that thread is in the
	// container's device cgroup, which may not allow /dev/null.
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", os.DevNull, err)
	}
	defer null.Close()
	// nil (rootless): the helpers run from /proc/self/exe and seal their
	// own view of it.
	var exe *os.File
	if !conf.Rootless {
		if exe, err = readOnlyBinary(); err != nil {
			return nil, err
		}
		defer exe.Close()
	}
	conn, sbPeer, err := control.Pair()
	if err != nil {
		return nil, err
	}
	defer sbPeer.Close()
	goferConn, goferPeer, err := control.Pair()
	if err != nil {
		conn.Close()
		return nil, err
	}
	defer goferPeer.Close()
	defer goferConn.Close()
	// The sandbox relays start to init on a socket of their own.
	initConn, initPeer, err := control.Pair()
	if err != nil {
		conn.Close()
		return nil, err
	}
	defer initConn.Close()
	defer initPeer.Close()
	sb := &Sandbox{Conn: conn}
	defer func() {
		if retErr != nil {
			sb.Kill()
		}
	}()

	end := log.Span("create/spawn/gofer")
	sb.GoferCmd, sb.Gofer, err = spawn(args.Cgroup, "runsc-gofer", append(conf.ToFlags(), "gofer", args.ID), goferPeer, exe, null, goferAttr)
	end()
	if err != nil {
		return nil, fmt.Errorf("starting gofer: %w", err)
	}
	// The gofer's boot message waits for it in its socket; the sandbox
	// then gets the other end.
	gb, trees := goferBoot(conf, args.Spec, args.Boot, sb.Gofer.PID, userns)
	defer func() {
		for _, t := range trees {
			t.Close()
		}
	}()
	if netns != nil {
		r := <-netns
		netns = nil
		if r.err != nil {
			return nil, r.err
		}
		defer r.f.Close()
		gb.Files = append(gb.Files, r.f)
	}
	initEnd, err := named(initPeer, control.InitConn)
	if err != nil {
		return nil, err
	}
	defer initEnd.Close()
	gb.Files = append(gb.Files, initEnd)
	if err := goferConn.Send(gb); err != nil {
		return nil, fmt.Errorf("sending boot message to gofer: %w", err)
	}

	sbArgv := append(conf.ToFlags(), "boot", "--bundle="+args.Bundle)
	if !conf.TestOnlySkipChroot {
		sbArgv = append(sbArgv, "--setup-root")
	}
	sbArgv = append(sbArgv, args.ID)
	end = log.Span("create/spawn/sandbox")
	sb.Cmd, sb.Proc, err = spawn(args.Cgroup, "runsc-sandbox", sbArgv, sbPeer, exe, null, sbAttr)
	end()
	if err != nil {
		return nil, fmt.Errorf("starting sandbox: %w", err)
	}
	goferFile, err := goferConn.File()
	if err != nil {
		return nil, err
	}
	defer goferFile.Close()
	initFile, err := initConn.File()
	if err != nil {
		return nil, err
	}
	defer initFile.Close()
	m := &control.Message{Type: control.Boot, ID: args.ID, GoferPID: sb.Gofer.PID}
	m.Files = []*os.File{args.Boot.Files[BootListener], goferFile, initFile}
	if exe != nil {
		host, err := hostBinary()
		if err != nil {
			return nil, err
		}
		defer host.Close()
		m.Files = append(m.Files, host)
	}
	if err := sb.Conn.Send(m); err != nil {
		return nil, fmt.Errorf("sending boot message: %w", err)
	}
	return sb, nil
}

// named returns a duplicate of f named name, for a control message.
func named(f *os.File, name string) (*os.File, error) {
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("dup: %w", err)
	}
	return os.NewFile(uintptr(fd), name), nil
}

// spawn starts a helper (startHelper), born in cg when it is set.
func spawn(cg *cgroup.Cgroup, name string, argv []string, boot, exe, null *os.File, attr *syscall.SysProcAttr) (*exec.Cmd, specutils.Proc, error) {
	var cmd *exec.Cmd
	start := func(cgroupFD int) ([]int, error) {
		var err error
		if cmd, err = startHelper(name, argv, boot, exe, null, attr, cgroupFD); err != nil {
			return nil, err
		}
		return []int{cmd.Process.Pid}, nil
	}
	var err error
	if cg != nil {
		err = cg.Spawn(start)
	} else {
		_, err = start(-1)
	}
	if err != nil {
		if cmd != nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		return nil, specutils.Proc{}, err
	}
	p, err := specutils.NewProc(cmd.Process.Pid)
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, specutils.Proc{}, err
	}
	return cmd, p, nil
}

// Kill kills and reaps the sandbox and the gofer, and closes the boot
// socket.
func (sb *Sandbox) Kill() {
	for _, c := range []*exec.Cmd{sb.Cmd, sb.GoferCmd} {
		if c != nil && c.Process != nil {
			c.Process.Kill()
			c.Wait()
		}
	}
	sb.Conn.Close()
}

// startHelper starts the runsc binary as a helper process named name (its
// argv[0]) with argv, its boot socket at fd 3, stdio on null, and attr,
// in the cgroup2 directory cgroupFD when it is not -1. With exe, the
// read-only binary (readOnlyBinary), it runs from that; else from
// /proc/self/exe.
func startHelper(name string, argv []string, boot, exe, null *os.File, attr *syscall.SysProcAttr, cgroupFD int) (*exec.Cmd, error) {
	path := "/proc/self/exe"
	if exe != nil {
		// exe is close-on-exec: the child resolves the path before
		// execve closes it, and runs without it open.
		path = fmt.Sprintf("/proc/self/fd/%d", exe.Fd())
	}
	cmd := exec.Command(path, argv...)
	cmd.Args[0] = name
	cmd.Env = helperEnv
	// stdio are /dev/null: the container's stdio travel in the gofer's
	// boot message, so no runsc process but the container's own holds
	// the caller's stdout/stderr.
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, null, null
	cmd.ExtraFiles = []*os.File{boot}
	a := *attr
	if cgroupFD >= 0 {
		a.UseCgroupFD, a.CgroupFD = true, cgroupFD
	}
	cmd.SysProcAttr = &a
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return cmd, nil
}
