// Package gofer is the container's agent (runsc-gofer) and the container's
// init before it execs the user's process.
//
// The gofer lives in the container's user and mount namespaces. It starts
// init in the container's pid, net, ipc, uts and cgroup namespaces (new,
// or joined by path), relays start and exec requests, and reaps.
//
// Mounts of procfs, sysfs, mqueue and cgroups take the mounter's
// pid/net/ipc/cgroup namespaces. Usually the gofer builds the root
// filesystem itself, on its locked thread that has entered the
// container's net, ipc and uts namespaces and cgroups, and forks init
// (fork.go, forked.go), which mounts what needs its pid and cgroup
// namespaces. Otherwise (forkedInitUnsupported) it starts runsc init, which
// builds the whole rootfs, being the one process in all of them (init.go).
// Either way pivot_root moves every process of the mount namespace whose
// root was the old root: the gofer ends up rooted in the rootfs.
package gofer

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/pkg/child"
	"runsc.dev/runsc/pkg/log"
	"runsc.dev/runsc/runsc/cgroup"
	"runsc.dev/runsc/runsc/config"
	"runsc.dev/runsc/runsc/control"
	"runsc.dev/runsc/runsc/specutils"
)

// Indexes of the files in the boot message from create.
const (
	BootSpec = iota
	BootStdin
	BootStdout
	BootStderr
	BootConsole // Present when Message.Terminal is set.
)

// Agent is the running gofer.
type Agent struct {
	conf    *config.Config
	sandbox *control.Conn
	// initP is the container's init, initProc it with its start time,
	// read when it was forked.
	initP    *child.Process
	initProc specutils.Proc
	// initSo is the socket to a runsc init; forked is set instead when
	// the gofer forked init itself (forked.go).
	initSo *control.Conn
	forked *forkedInit

	// specFile is the sealed spec, kept for exec'd processes.
	specFile *os.File
	// exe is the read-only bind of runsc, opened before init pivots away
	// from it: exec'd processes are started from it.
	exe *os.File
	// ns are init's namespaces, opened before it pivots: exec'd processes
	// are spawned into them.
	ns []nsFile
	// origNS are the gofer's namespaces before it joined init's by-path
	// ones (inodes by /proc/<pid>/ns name).
	origNS map[string]uint64
	// sendMu serialises messages to the sandbox (Agent.send).
	sendMu sync.Mutex
	// execExited carries the exits of exec'd processes to Run's loop,
	// which sends them to the sandbox.
	execExited chan *control.Message
	// cgroupTasks and cgroup2, when create started the gofer before the
	// container's cgroup existed (sandbox.StartGofer), are that cgroup's
	// files (cgroup.ThreadFiles): init and exec'd processes are started
	// into it from a thread that entered it.
	cgroupTasks []*os.File
	cgroup2     *os.File
	// cgroupLater is set until the Cgroup message that a boot message
	// with GoferBoot.CgroupLater announced has been read (awaitCgroup).
	cgroupLater bool
	// timerSlack is create's timer slack (GoferBoot.TimerSlack), 0 for
	// none: a thread sets it (containerSlack) before it starts a process
	// of the container, which inherits it.
	timerSlack uint64
}

// containerSlack gives the calling (locked) thread the timer slack of the
// process that created the container, for the container's process it is
// about to start: the gofer's own is coarser (sandbox.HelperTimerSlack).
func (a *Agent) containerSlack() error {
	if a.timerSlack == 0 {
		return nil
	}
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(a.timerSlack), 0, 0, 0); err != nil {
		return fmt.Errorf("setting the timer slack: %w", err)
	}
	return nil
}

// awaitCgroup reads the cgroup's files, if they come after the boot
// message: create sends them once the cgroup exists, before it hands our
// socket to the sandbox.
func (a *Agent) awaitCgroup() error {
	if !a.cgroupLater {
		return nil
	}
	a.cgroupLater = false
	end := log.Span("gofer/await-cgroup")
	m, err := a.sandbox.Recv()
	end()
	if err != nil {
		return fmt.Errorf("reading the cgroup message: %w", err)
	}
	defer func() {
		for _, f := range m.Files {
			f.Close()
		}
	}()
	switch m.Type {
	case control.Cgroup:
		return a.takeCgroupFiles(m)
	case control.Error:
		return fmt.Errorf("creating the cgroup: %w", m.AsError())
	}
	return fmt.Errorf("unexpected %q instead of the cgroup message", m.Type)
}

// takeCgroupFiles keeps the cgroup files of the boot message.
func (a *Agent) takeCgroupFiles(msg *control.Message) error {
	for i, f := range msg.Files {
		if len(msg.FileNames) != len(msg.Files) {
			break
		}
		switch msg.FileNames[i] {
		case cgroup.TasksFileName:
			d, err := dup(f)
			if err != nil {
				return err
			}
			a.cgroupTasks = append(a.cgroupTasks, d)
		case cgroup.Cgroup2DirName:
			d, err := dup(f)
			if err != nil {
				return err
			}
			a.cgroup2 = d
		}
	}
	return nil
}

// intoCgroup prepares the calling (locked) thread to start a child in the
// container's cgroup, when the gofer is not in it: the thread enters the
// v1 cgroups, and attr clones into the cgroup2 one.
func (a *Agent) intoCgroup(attr *syscall.SysProcAttr) error {
	if err := a.awaitCgroup(); err != nil {
		return err
	}
	if err := cgroup.EnterThread(a.cgroupTasks); err != nil {
		return err
	}
	if a.cgroup2 != nil {
		attr.UseCgroupFD, attr.CgroupFD = true, int(a.cgroup2.Fd())
	}
	return nil
}

// NewAgent reads the boot message from create and starts the
// container's init. It must run on a locked OS thread that outlives init:
// init's pdeathsig is tied to it.
func NewAgent(conf *config.Config, sandbox *control.Conn) (*Agent, error) {
	msg, err := sandbox.Recv()
	if err != nil {
		return nil, fmt.Errorf("reading boot message: %w", err)
	}
	log.Mark("gofer/boot")
	defer func() {
		for _, f := range msg.Files {
			f.Close()
		}
	}()
	if msg.Type != control.Boot || len(msg.Files) <= BootStderr || msg.Gofer == nil {
		return nil, fmt.Errorf("bad boot message %q with %d files", msg.Type, len(msg.Files))
	}
	// Nothing we mount (the sealed binary, an overlay) may propagate back
	// to the host.
	if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return nil, fmt.Errorf("making / a slave mount: %w", err)
	}
	if v := msg.Gofer.RootfsOverlay; v != "" {
		spec, err := specutils.ReadSpecFromFile(msg.Files[BootSpec])
		if err != nil {
			return nil, err
		}
		f, err := prepareOverlay(spec, v, filepath.Join(conf.RootDir, msg.ID, overlayDirName))
		if err != nil {
			return nil, err
		}
		msg.Files[BootSpec].Close()
		msg.Files[BootSpec] = f
	}
	a := &Agent{conf: conf, sandbox: sandbox, origNS: ownNamespaces(), execExited: make(chan *control.Message, 16), cgroupLater: msg.Gofer.CgroupLater, timerSlack: msg.Gofer.TimerSlack}
	if err := a.takeCgroupFiles(msg); err != nil {
		return nil, err
	}
	end := log.Span("gofer/start-init")
	err = a.startAnyInit(msg)
	end()
	if err != nil {
		return nil, err
	}
	// Kept open for exec'd processes (the deferred close above closes the
	// message's own copy).
	if a.specFile, err = dup(msg.Files[BootSpec]); err != nil {
		return nil, err
	}
	return a, nil
}

// startAnyInit forks the container's init (startForkedInit), or spawns
// runsc init where that is unsupported (forkedInitUnsupported).
func (a *Agent) startAnyInit(msg *control.Message) error {
	spec, err := specutils.ReadSpecFromFile(msg.Files[BootSpec])
	if err != nil {
		return err
	}
	if why := forkedInitUnsupported(a.conf, spec, msg); why != "" {
		log.Debugf("starting runsc init, not a forked init: %s", why)
		return a.startInit(msg)
	}
	return a.startForkedInit(msg, spec)
}

// startInit spawns runsc init with the container's namespaces.
func (a *Agent) startInit(msg *control.Message) error {
	cloneFlags, err := joinNamespaces(msg.Gofer.Namespaces, msg.File(control.NetNS))
	if err != nil {
		return err
	}
	conn, peer, err := control.Pair()
	if err != nil {
		return err
	}
	defer peer.Close()
	end := log.Span("gofer/seal")
	exe, err := sealSelf()
	end()
	if err != nil {
		conn.Close()
		return err
	}
	if a.exe, err = os.Open(exe); err != nil {
		conn.Close()
		return fmt.Errorf("opening runsc binary: %w", err)
	}
	// Init sets its own pdeathsig (InitMain): Go's fork would check it
	// against getppid(), which reads 0 across a pid namespace boundary,
	// and kill a child that joined an existing pid namespace.
	attr := &syscall.SysProcAttr{Cloneflags: cloneFlags}
	// This thread is locked for good (init's pdeathsig is tied to it).
	if err := a.intoCgroup(attr); err != nil {
		conn.Close()
		return err
	}
	if err := a.containerSlack(); err != nil {
		conn.Close()
		return err
	}
	end = log.Span("gofer/fork-init")
	files := []uintptr{msg.Files[BootStdin].Fd(), msg.Files[BootStdout].Fd(), msg.Files[BootStderr].Fd(), peer.Fd()}
	initP, err := child.Start(exe, append([]string{"runsc-init"}, append(a.conf.ToFlags(), "init")...), stageEnv, files, attr)
	end()
	if err != nil {
		conn.Close()
		return fmt.Errorf("starting init: %w", err)
	}
	// Before init can pivot away from the host's /proc.
	if a.ns, err = openNamespaces(initP.Pid); err != nil {
		initP.Kill()
		initP.Wait()
		conn.Close()
		return err
	}
	// Read now, while init can neither have exited nor pivoted: create
	// gets it with Ready, when a started init may be gone.
	if a.initProc, err = specutils.NewProc(initP.Pid); err != nil {
		initP.Kill()
		initP.Wait()
		conn.Close()
		return err
	}
	initMsg := &control.Message{Type: control.Boot, ID: msg.ID, Bundle: msg.Bundle, Terminal: msg.Terminal, Start: msg.Start, Files: []*os.File{msg.Files[BootSpec]}}
	if msg.Terminal {
		initMsg.Files = append(initMsg.Files, msg.Files[BootConsole])
	}
	for i, name := range msg.FileNames {
		if !strings.HasPrefix(name, idmappedPrefix) && name != control.InitConn || len(msg.FileNames) != len(msg.Files) {
			continue
		}
		// Renamed so that init finds them too.
		fd, err := unix.FcntlInt(msg.Files[i].Fd(), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			initP.Kill()
			initP.Wait()
			conn.Close()
			return fmt.Errorf("dup of an idmapped mount: %w", err)
		}
		named := os.NewFile(uintptr(fd), name)
		defer named.Close()
		initMsg.Files = append(initMsg.Files, named)
	}
	if err := conn.Send(initMsg); err != nil {
		initP.Kill()
		initP.Wait()
		conn.Close()
		return fmt.Errorf("sending boot message to init: %w", err)
	}
	a.initP, a.initSo = initP, conn
	return nil
}

// IdmappedRootfsFile names (in Message.FileNames) the detached, idmapped
// clone of the rootfs that the sandbox may send with the boot message (see
// boot.IdmappedRootfsFile): init attaches it in place of its bind of
// root.path onto itself. IdmappedMountFile followed by an index in
// spec.mounts names that of an idmapped bind mount's source.
const (
	IdmappedRootfsFile = "idmapped-rootfs"
	IdmappedMountFile  = "idmapped-mount-"
)

// idmappedPrefix is what the names of the sandbox's idmapped mounts start
// with: the gofer relays every such file to init.
const idmappedPrefix = "idmapped-"

// sealSelf returns the path init and exec'd processes are started from:
// the runsc binary on a read-only mount, so that the host binary cannot be
// opened for writing through their /proc/<pid>/exe (CVE-2019-5736). As
// root, create started the gofer from a detached read-only mount of it
// (sandbox.readOnlyBinary): /proc/self/exe is that. Rootless, the gofer
// bind-mounts the binary read-only onto itself in its private mount
// namespace.
func sealSelf() (string, error) {
	var st unix.Statfs_t
	if err := unix.Statfs("/proc/self/exe", &st); err == nil && st.Flags&unix.ST_RDONLY != 0 {
		return "/proc/self/exe", nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("finding runsc binary: %w", err)
	}
	if err := unix.Mount(exe, exe, "", unix.MS_BIND, ""); err != nil {
		return "", fmt.Errorf("binding runsc binary: %w", err)
	}
	if err := unix.Mount("", exe, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, ""); err != nil {
		return "", fmt.Errorf("making runsc binary read-only: %w", err)
	}
	return exe, nil
}

// joinNamespaces enters, on this locked thread, every namespace of the
// spec's linux.namespaces named by path (pid ones apply to children), and
// netns, when set, for a new network namespace (made by create); it
// returns the clone flags for the namespaces init gets new.
func joinNamespaces(namespaces []specs.LinuxNamespace, netns *os.File) (uintptr, error) {
	var flags uintptr
	for _, ns := range namespaces {
		if ns.Type == specs.NetworkNamespace && ns.Path == "" && netns != nil {
			if err := unix.Setns(int(netns.Fd()), unix.CLONE_NEWNET); err != nil {
				return 0, fmt.Errorf("joining the network namespace made for the container: %w", err)
			}
			continue
		}
		switch ns.Type {
		case specs.UserNamespace, specs.MountNamespace:
			// The gofer was born in these (the sandbox made them).
			if ns.Path != "" {
				return 0, fmt.Errorf("linux.namespaces: joining a %s namespace by path is not supported", ns.Type)
			}
			continue
		}
		flag, _ := specutils.NamespaceFlag(ns.Type)
		if ns.Path == "" {
			flags |= flag
			continue
		}
		fd, err := unix.Open(ns.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return 0, fmt.Errorf("linux.namespaces: opening %s namespace %q: %w", ns.Type, ns.Path, err)
		}
		err = unix.Setns(fd, int(flag))
		unix.Close(fd)
		if err != nil {
			return 0, fmt.Errorf("linux.namespaces: joining %s namespace %q: %w", ns.Type, ns.Path, err)
		}
	}
	return flags, nil
}

// Run relays the container's readiness, then serves the sandbox's
// requests until init exits. It returns when the container is gone.
func (a *Agent) Run() error {
	if err := a.initReady(); err != nil {
		a.sandbox.Send(control.ErrorMessage(err))
		a.initP.Kill()
		a.initP.Wait()
		return err
	}
	ready := &control.Message{Type: control.Ready, PID: a.initProc.PID, StartTime: a.initProc.StartTime}
	log.Mark("gofer/ready")
	if err := a.sandbox.Send(ready); err != nil {
		return err
	}
	if a.forked != nil {
		go a.forked.relayStart()
	}

	// Init's exit is reported by the goroutine that reaps it, as soon as
	// init's start has been answered: through this loop, locked to its
	// thread, it would wait for that thread to be handed the P.
	exited := make(chan error, 1)
	go func() {
		ws, _ := a.initP.Wait()
		if a.forked != nil {
			a.forked.relaying.Wait()
		}
		exited <- a.send(&control.Message{Type: control.Exited, PID: a.initP.Pid, Status: child.ExitCode(ws)})
	}()
	reqs := make(chan *control.Message)
	go func() {
		for {
			m, err := a.sandbox.Recv()
			if err != nil {
				close(reqs)
				return
			}
			reqs <- m
		}
	}()
	for {
		select {
		case err := <-exited:
			return err
		case m := <-a.execExited:
			a.send(m)
		case req, ok := <-reqs:
			if !ok {
				// The sandbox is gone: so is the container.
				a.initP.Kill()
				return errors.New("sandbox connection closed")
			}
			resp, err := a.handle(req)
			a.sendMu.Lock()
			a.sandbox.Reply(resp, err)
			a.sendMu.Unlock()
		}
	}
}

// send sends m to the sandbox, one message at a time (sendMu): Run's
// loop and the goroutine that reports init's exit both send.
func (a *Agent) send(m *control.Message) error {
	a.sendMu.Lock()
	defer a.sendMu.Unlock()
	return a.sandbox.Send(m)
}

// initReady waits for init to report Ready, and explains an init that
// failed or hung up on us instead.
func (a *Agent) initReady() error {
	if a.forked != nil {
		var err error
		a.ns, err = a.forked.waitReady()
		if errors.Is(err, io.EOF) {
			st, _ := a.initP.Wait()
			return fmt.Errorf("init: init exited (%v) before the container was created", st)
		}
		return err
	}
	ready, err := a.initSo.Recv()
	if errors.Is(err, io.EOF) {
		st, _ := a.initP.Wait()
		return fmt.Errorf("init: init exited (%v) before the container was created", st)
	}
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if ready.Type != control.Ready {
		return ready.AsError()
	}
	return nil
}

func (a *Agent) handle(req *control.Message) (*control.Message, error) {
	defer func() {
		for _, f := range req.Files {
			f.Close()
		}
	}()
	switch req.Type {
	case control.Exec:
		return a.exec(req)
	default:
		return nil, fmt.Errorf("unknown request %q", req.Type)
	}
}

// Main is the gofer process: it locks its thread, starts init and serves.
func Main(conf *config.Config, sandbox *control.Conn) error {
	runtime.LockOSThread()
	a, err := NewAgent(conf, sandbox)
	if err != nil {
		sandbox.Send(control.ErrorMessage(err))
		return err
	}
	err = a.Run()
	log.Debugf("gofer done: %v", err)
	return err
}
