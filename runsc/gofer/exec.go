package gofer

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
	"runsc.dev/runsc/pkg/child"
	"runsc.dev/runsc/runsc/control"
	"runsc.dev/runsc/runsc/specutils"
)

// Indexes of the files in an Exec request.
const (
	ExecStdin = iota
	ExecStdout
	ExecStderr
	ExecConsole // Present when Message.Terminal is set.
)

// stageEnv is the whole environment of init and of the exec stage, neither
// the caller's nor the container's: their Go runtime need not collect
// (they execve soon) and runs on one P, which starts fewer threads (each
// one execve must kill first).
var stageEnv = []string{"GOGC=off", "GOMAXPROCS=1"}

// nsFile is an open namespace of init.
type nsFile struct {
	f    *os.File
	name string // as in /proc/<pid>/ns
	kind int    // CLONE_NEW*
}

// initNamespaces are the namespaces of init that exec'd processes join, as
// named in /proc/<pid>/ns; an optional one is missing from some kernels.
// The user and mount namespaces are the gofer's own.
var initNamespaces = []struct {
	name     string
	kind     int
	optional bool
}{{"pid", unix.CLONE_NEWPID, false}, {"net", unix.CLONE_NEWNET, false}, {"ipc", unix.CLONE_NEWIPC, false}, {"uts", unix.CLONE_NEWUTS, false}, {"cgroup", unix.CLONE_NEWCGROUP, false}, {"time", unix.CLONE_NEWTIME, true}}

// openNamespaces opens the namespaces of pid that exec'd processes join.
// The user and mount namespaces are the gofer's own.
func openNamespaces(pid int) ([]nsFile, error) {
	return openNamespacesAt(unix.AT_FDCWD, pid)
}

// openNamespacesAt is openNamespaces reading the procfs root procFd
// (AT_FDCWD: /proc).
func openNamespacesAt(procFd, pid int) ([]nsFile, error) {
	var out []nsFile
	for _, ns := range initNamespaces {
		path := fmt.Sprintf("%d/ns/%s", pid, ns.name)
		if procFd == unix.AT_FDCWD {
			path = "/proc/" + path
		}
		var f *os.File
		fd, err := unix.Openat(procFd, path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err == nil {
			f = os.NewFile(uintptr(fd), path)
		}
		if errors.Is(err, unix.ENOENT) && ns.optional {
			continue // A kernel without time namespaces.
		}
		if err != nil {
			for _, o := range out {
				o.f.Close()
			}
			return nil, fmt.Errorf("opening %s namespace of init: %w", ns.name, err)
		}
		out = append(out, nsFile{f: f, name: ns.name, kind: ns.kind})
	}
	return out, nil
}

// inode returns the inode of an open namespace file, 0 if unknown.
func inode(f *os.File) uint64 {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return 0
	}
	return st.Ino
}

// ownNamespaces records the inodes of this process's namespaces.
func ownNamespaces() map[string]uint64 {
	out := map[string]uint64{}
	for _, name := range []string{"pid", "net", "ipc", "uts", "cgroup", "time"} {
		var st unix.Stat_t
		if err := unix.Stat("/proc/self/ns/"+name, &st); err == nil {
			out[name] = st.Ino
		}
	}
	return out
}

func dup(f *os.File) (*os.File, error) {
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("dup: %w", err)
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

// exec starts req.Process in the container: a `runsc init --exec` born in
// init's namespaces, joined on a dedicated locked thread that is thrown
// away afterwards. The reply is sent once the process has execve'd.
func (a *Agent) exec(req *control.Message) (*control.Message, error) {
	if req.Process == nil {
		return nil, errors.New("exec: no process")
	}
	if len(req.Files) <= ExecStderr || req.Terminal && len(req.Files) <= ExecConsole {
		return nil, fmt.Errorf("exec: %d files, want stdio", len(req.Files))
	}
	type started struct {
		pid int
		err error
	}
	ch := make(chan started, 1)
	// The request's files are closed when handle returns: the goroutine
	// works on its own copies.
	files := make([]*os.File, len(req.Files))
	for i, f := range req.Files {
		var err error
		if files[i], err = dup(f); err != nil {
			return nil, err
		}
	}
	go func() {
		runtime.LockOSThread()
		// Never unlocked: the thread's namespaces are the container's now,
		// and it dies with this goroutine.
		p, err := a.startExec(req, files)
		for _, f := range files {
			f.Close()
		}
		if err != nil {
			ch <- started{err: err}
			return
		}
		ch <- started{pid: p.Pid}
		ws, _ := p.Wait()
		a.execExited <- &control.Message{Type: control.Exited, PID: p.Pid, Status: child.ExitCode(ws)}
	}()
	s := <-ch
	if s.err != nil {
		return nil, s.err
	}
	return &control.Message{PID: s.pid}, nil
}

// startExec runs on a locked thread: it joins init's namespaces, spawns
// the exec stage from the sealed runsc binary and hands it the process.
func (a *Agent) startExec(req *control.Message, files []*os.File) (*child.Process, error) {
	if err := a.containerSlack(); err != nil {
		return nil, err
	}
	for _, ns := range a.ns {
		// A fresh thread has the gofer's original namespaces (Go clones
		// new threads from its template thread, not from the main thread
		// that joined init's by-path ones): one init shares is left
		// alone; joining a time namespace, even the same one, needs a
		// single-threaded caller.
		if a.origNS[ns.name] == inode(ns.f) {
			continue
		}
		if err := unix.Setns(int(ns.f.Fd()), ns.kind); err != nil {
			return nil, fmt.Errorf("exec: joining %s namespace: %w", ns.name, err)
		}
	}
	conn, peer, err := control.Pair()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	// The child is in the container's pid namespace and mount namespace,
	// so /proc/self/fd/4 in the container's procfs is the runsc binary
	// it inherits as fd 4.
	stdio := []*os.File{files[ExecStdin], files[ExecStdout], files[ExecStderr]}
	if req.Terminal {
		// The gofer's own stdio are /dev/null, opened outside the
		// container's device cgroup.
		stdio = []*os.File{os.Stdin, os.Stdout, os.Stderr}
	}
	// No pdeathsig: Go's fork checks getppid() against the parent's PID,
	// which reads 0 across the pid namespace boundary, and would kill the
	// child. It needs none: if the gofer dies, init does (its pdeathsig),
	// and the kernel kills the rest of the pid namespace with it.
	attr := &syscall.SysProcAttr{}
	// This thread is thrown away afterwards.
	if err := a.intoCgroup(attr); err != nil {
		peer.Close()
		return nil, err
	}
	fds := []uintptr{stdio[0].Fd(), stdio[1].Fd(), stdio[2].Fd(), peer.Fd(), a.exe.Fd()}
	p, err := child.Start("/proc/self/fd/4", append([]string{"runsc-exec"}, append(a.conf.ToFlags(), "init", "--exec")...), stageEnv, fds, attr)
	// Our copy of the child's end goes now: its EOF is the child's.
	peer.Close()
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("exec: the container has no /proc: %w", err)
		}
		return nil, fmt.Errorf("exec: %w", err)
	}
	msg := &control.Message{Type: control.Boot, Process: req.Process, Terminal: req.Terminal, Files: []*os.File{a.specFile}}
	if req.Terminal {
		msg.Files = append(msg.Files, files[ExecConsole])
	}
	err = conn.Send(msg)
	if err == nil {
		// close-on-exec: EOF means execve succeeded.
		var m *control.Message
		m, err = conn.Recv()
		switch {
		case errors.Is(err, io.EOF):
			err = nil
		case err == nil && m.Type == control.Error:
			err = m.AsError()
		case err == nil:
			err = fmt.Errorf("exec: unexpected %q", m.Type)
		}
	}
	if err != nil {
		p.Kill()
		p.Wait()
		return nil, err
	}
	return p, nil
}

// ExecMain is the exec stage (runsc init --exec): it applies an exec'd
// process's attributes and execve's it, with the container's seccomp
// filter. It returns only on failure, after reporting it.
func ExecMain(conn *control.Conn) error {
	runtime.LockOSThread()
	protectSelf()
	err := execMain(conn)
	conn.Send(control.ErrorMessage(err))
	return err
}

func execMain(conn *control.Conn) error {
	msg, err := conn.Recv()
	if err != nil {
		return fmt.Errorf("reading exec message: %w", err)
	}
	if msg.Process == nil || len(msg.Files) == 0 || msg.Terminal && len(msg.Files) < 2 {
		return fmt.Errorf("bad exec message")
	}
	spec, err := specutils.ReadSpecFromFile(msg.Files[0])
	msg.Files[0].Close()
	if err != nil {
		return err
	}
	p := msg.Process
	if _, err := unix.Setsid(); err != nil {
		return fmt.Errorf("setsid: %w", err)
	}
	if msg.Terminal {
		console := msg.Files[1]
		defer console.Close()
		if err := execConsole(console); err != nil {
			return err
		}
	}
	for _, r := range p.Rlimits {
		res, _ := specutils.RlimitResource(r.Type)
		if err := unix.Prlimit(0, res, &unix.Rlimit{Cur: r.Soft, Max: r.Hard}, nil); err != nil {
			return fmt.Errorf("process.rlimits %s: %w", r.Type, err)
		}
	}
	if err := unix.Chdir(p.Cwd); err != nil {
		return fmt.Errorf("process.cwd %q: %w", p.Cwd, err)
	}
	path, err := lookPath(p.Args[0], p.Env)
	if err != nil {
		return err
	}
	execSpec := *spec
	execSpec.Process = p
	return execProcess(&execSpec, path)
}

// execConsole gives an exec'd process a new pty of the container's devpts
// (no /dev/console bind: that is init's).
func execConsole(socket *os.File) error {
	master, slave, err := NewPty()
	if err != nil {
		return err
	}
	defer master.Close()
	defer slave.Close()
	return attachConsole(socket, master, slave)
}

// attachConsole sends the pty master over the console socket (runc's
// protocol, which containerd speaks: one message carrying the master as
// SCM_RIGHTS and its name as data) and makes the slave this process's
// stdio and controlling terminal.
func attachConsole(socket, master, slave *os.File) error {
	if err := unix.Sendmsg(int(socket.Fd()), []byte("/dev/ptmx"), unix.UnixRights(int(master.Fd())), nil, 0); err != nil {
		return fmt.Errorf("sending pty master to console socket: %w", err)
	}
	for fd := 0; fd < 3; fd++ {
		if err := unix.Dup3(int(slave.Fd()), fd, 0); err != nil {
			return fmt.Errorf("console stdio: %w", err)
		}
	}
	if err := unix.IoctlSetInt(0, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("setting controlling terminal: %w", err)
	}
	return nil
}
