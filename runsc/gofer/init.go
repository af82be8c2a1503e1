package gofer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/pkg/log"
	"runsc.dev/runsc/runsc/control"
	"runsc.dev/runsc/runsc/specutils"
)

// Indexes of the files in init's boot message.
const (
	InitSpec    = iota
	InitConsole // Present when Message.Terminal is set.
)

// InitMain is the container's init (runsc init): it builds the rootfs,
// reports Ready to the gofer, waits for Start from the sandbox on their
// own socket (unless its boot message says Start), applies the process's
// credentials and execve's it. It
// returns only on failure, after reporting it: before start to the gofer,
// after to the sandbox, which answers start with it.
func InitMain(conn *control.Conn) error {
	// Credentials, capabilities, no_new_privs and seccomp are per thread:
	// they are all set on this one, which then calls execve.
	runtime.LockOSThread()
	protectSelf()
	var sandbox *control.Conn
	err := initMain(conn, &sandbox)
	if sandbox != nil {
		conn = sandbox
	}
	conn.Send(control.ErrorMessage(err))
	return err
}

func initMain(conn *control.Conn, started **control.Conn) error {
	msg, err := conn.Recv()
	if err != nil {
		return fmt.Errorf("reading boot message: %w", err)
	}
	if msg.Type != control.Boot || len(msg.Files) <= InitSpec || msg.Terminal && len(msg.Files) <= InitConsole {
		return fmt.Errorf("bad boot message %q with %d files", msg.Type, len(msg.Files))
	}
	spec, err := specutils.ReadSpecFromFile(msg.Files[InitSpec])
	msg.Files[InitSpec].Close()
	if err != nil {
		return err
	}
	var console *os.File
	if msg.Terminal {
		console = msg.Files[InitConsole]
		defer console.Close()
	}
	sf := msg.File(control.InitConn)
	if sf == nil {
		return errors.New("boot message has no socket to the sandbox")
	}
	sandbox, err := control.FileConn(sf)
	if err != nil {
		return err
	}
	trees := receivedIdmapTrees(msg)
	end := log.Span("init/prepare")
	path, err := prepare(spec, console, trees)
	end()
	trees.close()
	if err != nil {
		return err
	}
	if err := conn.Send(&control.Message{Type: control.Ready}); err != nil {
		return err
	}
	// `runsc run` (msg.Start) starts at once: the sandbox, which create
	// asks for the outcome, reads it on our socket as for a Start.
	if !msg.Start {
		start, err := waitStart(conn, sandbox)
		if err != nil {
			return err
		}
		if start.Type != control.Start {
			*started = sandbox
			return fmt.Errorf("unexpected %q while waiting for start", start.Type)
		}
	}
	*started = sandbox
	log.Mark("init/start")
	if spec.Hooks != nil {
		// startContainer hooks run in the container, before its process.
		st := specs.State{Version: specs.Version, ID: msg.ID, Status: specs.StateCreated, Pid: os.Getpid(), Bundle: msg.Bundle, Annotations: spec.Annotations}
		if err := specutils.RunHooks("startContainer", spec.Hooks.StartContainer, st); err != nil {
			return err
		}
	}
	return execProcess(spec, path)
}

// waitStart waits for the sandbox's Start. It exits init if the gofer or
// the sandbox goes away first (EOF: the container is being destroyed).
// init's end of the sandbox's socket is close-on-exec: the sandbox reads
// execve's success as EOF.
func waitStart(gofer, sandbox *control.Conn) (*control.Message, error) {
	for {
		fds := []unix.PollFd{{Fd: int32(gofer.Fd()), Events: unix.POLLIN}, {Fd: int32(sandbox.Fd()), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, -1); err != nil {
			if err == unix.EINTR {
				continue
			}
			return nil, fmt.Errorf("waiting for start: %w", err)
		}
		from := gofer
		if fds[1].Revents != 0 {
			from = sandbox
		} else if fds[0].Revents == 0 {
			continue
		}
		m, err := from.Recv()
		if err != nil {
			os.Exit(1)
		}
		if from == gofer {
			return nil, fmt.Errorf("unexpected %q from the gofer while waiting for start", m.Type)
		}
		return m, nil
	}
}

// protectSelf makes runsc init (and the exec stage) die with the gofer
// thread that spawned it, and non-dumpable until it execve's the user's
// binary: no process of the container can ptrace it or read its memory and
// fds through /proc before then (CVE-2016-9962). execve makes the user's
// process dumpable again; the pdeathsig stays.
func protectSelf() {
	unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0)
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
}

// prepare does everything that can happen before start: rootfs, console,
// hostname, sysctls, rlimits, oom_score_adj, cwd; and resolves the
// executable, so that a missing binary fails create. trees are the
// idmapped mounts the sandbox made (see prepareRootfs).
func prepare(spec *specs.Spec, console *os.File, trees idmapTrees) (string, error) {
	if _, err := unix.Setsid(); err != nil {
		return "", fmt.Errorf("setsid: %w", err)
	}
	if err := prepareRootfs(spec, trees); err != nil {
		return "", err
	}
	if spec.Linux != nil {
		if err := writeSysctls(spec.Linux.Sysctl); err != nil {
			return "", err
		}
	}
	if console != nil {
		if err := setupConsole(console); err != nil {
			return "", err
		}
	}
	if err := FinalizeRootfs(spec); err != nil {
		return "", err
	}
	if path, ok := specutils.HasNamespace(spec, specs.NetworkNamespace); ok && path == "" {
		// A new network namespace gets its loopback up, as runc does.
		if err := specutils.LoopbackUp(); err != nil {
			return "", err
		}
	}
	if _, ok := specutils.HasNamespace(spec, specs.UTSNamespace); ok {
		if spec.Hostname != "" {
			if err := unix.Sethostname([]byte(spec.Hostname)); err != nil {
				return "", fmt.Errorf("hostname: %w", err)
			}
		}
		if spec.Domainname != "" {
			if err := unix.Setdomainname([]byte(spec.Domainname)); err != nil {
				return "", fmt.Errorf("domainname: %w", err)
			}
		}
	}
	p := spec.Process
	for _, r := range p.Rlimits {
		res, _ := specutils.RlimitResource(r.Type)
		if err := unix.Prlimit(0, res, &unix.Rlimit{Cur: r.Soft, Max: r.Hard}, nil); err != nil {
			return "", fmt.Errorf("process.rlimits %s: %w", r.Type, err)
		}
	}
	if p.OOMScoreAdj != nil {
		if err := os.WriteFile("/proc/self/oom_score_adj", []byte(fmt.Sprint(*p.OOMScoreAdj)), 0); err != nil {
			return "", fmt.Errorf("process.oomScoreAdj: %w", err)
		}
	}
	if err := unix.Chdir(p.Cwd); err != nil {
		return "", fmt.Errorf("process.cwd %q: %w", p.Cwd, err)
	}
	return lookPath(p.Args[0], p.Env)
}

// writeSysctls writes linux.sysctl under /proc/sys.
func writeSysctls(sysctls map[string]string) error {
	for k, v := range sysctls {
		if strings.Contains(k, "..") || strings.HasPrefix(k, "/") {
			return fmt.Errorf("linux.sysctl: bad key %q", k)
		}
		path := filepath.Join("/proc/sys", strings.ReplaceAll(k, ".", "/"))
		if err := os.WriteFile(path, []byte(v), 0); err != nil {
			return fmt.Errorf("linux.sysctl %q: %w", k, err)
		}
	}
	return nil
}

// setupConsole makes a pty inside the container, binds its slave on
// /dev/console, sends the master over the console socket and makes the
// slave init's stdio and controlling terminal.
func setupConsole(socket *os.File) error {
	master, slave, err := NewPty()
	if err != nil {
		return err
	}
	defer master.Close()
	defer slave.Close()
	if err := MountConsole(slave); err != nil {
		return err
	}
	return attachConsole(socket, master, slave)
}

// lookPath resolves the executable like execvp, with the container's PATH.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		if err := checkExecutable(name); err != nil {
			err = fmt.Errorf("process.args[0] %q: %w", name, err)
			if errors.Is(err, os.ErrNotExist) {
				err = control.NotFound(err)
			}
			return "", err
		}
		return name, nil
	}
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if checkExecutable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("process.args[0] %q: %w in $PATH", name, control.ErrExecutableNotFound)
}

func checkExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return fmt.Errorf("is a directory")
	}
	if fi.Mode()&0o111 == 0 {
		return fmt.Errorf("permission denied")
	}
	return nil
}
