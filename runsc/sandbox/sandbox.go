// Package sandbox starts the two runsc processes that serve a container,
// both children of `runsc create`, and talks to them:
//
//   - the gofer (`runsc gofer`, runsc-gofer), started first (SpawnGofer,
//     StartGofer), in the container's user and mount namespaces, which
//     builds the rootfs and starts the container's init and exec'd
//     processes in the container's cgroup. Its boot message (the spec, the
//     container's stdio and console; Gofer.Boot, before the cgroup
//     exists) and then the cgroup's files are queued by create on the
//     gofer's socket before the sandbox is handed the other end: the gofer
//     reads them, and then the sandbox's requests, on its fd 3.
//   - the sandbox (`runsc boot`, shown as runsc-sandbox), the pid-file
//     process, born in the container's cgroup (SpawnSandbox: as soon as
//     it exists), in its own mount namespace. A root create starts it in
//     its minimal root, as nobody (--in-root: spawnInRoot, chroot.go); its
//     first boot message, on the socket at its fd 3, carries the files it
//     cannot open from there (the exit-status file, the debug log).
//     Otherwise, with --setup-root, it builds the root itself and becomes
//     nobody (rootless: in a user namespace of its own, it re-executes
//     itself without capabilities; see rootless.go), and its first boot
//     message carries the runsc binary it binds into the root. The second,
//     once it is set up, carries its control listener and its sockets to
//     the gofer and to init.
//
// Siblings, not parent and child, so that the gofer's start-up waits for
// neither the sandbox's nor create's own work. A child is also born in its parent's user
// namespace, which rules out a rootless sandbox parenting the gofer. Both
// run from a detached read-only mount of the binary (binary.go).
package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/pkg/child"
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
	// sandbox is born in it (cgroup.Spawn), and the gofer either too or,
	// started early, puts init and exec'd processes in it; the shim reads
	// the container's stats from the pid-file process's cgroup.
	Cgroup *cgroup.Cgroup
	// Gofer is the gofer StartGofer started early, if it did.
	Gofer *Gofer
	// Sandbox is the sandbox SpawnSandbox started early, if it did.
	Sandbox *Sandbox
	// CgroupFiles, for SpawnSandbox, are the cgroup's ThreadFiles that
	// SendCgroup returned: the sandbox takes them over.
	CgroupFiles []*os.File
	// AutoStart starts the container as soon as it is created (`runsc
	// run`, see control.Message.Start): after Ready, the sandbox sends
	// the start's outcome on Conn.
	AutoStart bool
}

// Sandbox is a started sandbox process and its gofer.
type Sandbox struct {
	// Proc is the sandbox process.
	Proc specutils.Proc
	// Process is set in the process that started the sandbox (its
	// parent).
	Process *child.Process
	// Gofer is the gofer process, GoferProcess its handle in the process
	// that started it.
	Gofer        specutils.Proc
	GoferProcess *child.Process
	// Conn is the boot socket: the sandbox reports Ready or Error on it,
	// and then, with Args.AutoStart, Ack or Error for the start.
	Conn *control.Conn
	// cgFiles are the cgroup's ThreadFiles, open from a SpawnSandbox
	// until Start.
	cgFiles []*os.File
}

// SpawnSandbox starts the sandbox ahead of Start (Args.Sandbox), for a
// gofer that Boot booted early, as soon as the container's cgroup exists
// with its limits (and SendCgroup has given the gofer its files): it
// builds its chroot and becomes nobody while create finishes the
// container. args.Cgroup and args.Gofer must be set.
func SpawnSandbox(conf *config.Config, args Args) (_ *Sandbox, retErr error) {
	g := args.Gofer
	if g == nil || !g.early || g.userns || args.Cgroup == nil {
		return nil, errors.New("starting the sandbox early: no early gofer or no cgroup")
	}
	sb := &Sandbox{GoferProcess: g.process, Gofer: g.proc}
	conn, peer, err := control.Pair()
	if err != nil {
		return nil, err
	}
	defer peer.Close()
	sb.Conn = conn
	defer func() {
		if retErr != nil {
			sb.kill()
		}
	}()
	if sb.cgFiles = args.CgroupFiles; sb.cgFiles == nil {
		if sb.cgFiles, err = args.Cgroup.ThreadFiles(); err != nil {
			return nil, err
		}
	}
	if err := sb.spawn(conf, args, g, peer); err != nil {
		return nil, err
	}
	return sb, nil
}

// spawn starts the sandbox process with boot its boot socket, and sends it
// its first boot message.
func (sb *Sandbox) spawn(conf *config.Config, args Args, g *Gofer, boot *os.File) error {
	argv := append(conf.ToFlags(), "boot", "--bundle="+args.Bundle)
	end := log.Span("create/spawn/sandbox")
	if !conf.Rootless && !conf.TestOnlySkipChroot && os.Geteuid() == 0 {
		err := sb.spawnInRoot(args.Cgroup, append(argv, "--in-root", args.ID), boot, g.null)
		if err == nil {
			end()
			return sb.sendInRootBoot(conf, args.ID)
		}
		// It builds its root itself then, as a sandbox of a caller
		// without uid 0 does.
		log.Debugf("starting the sandbox in its root: %v; starting it to build its root", err)
	}
	attr := &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNS}
	if conf.Rootless {
		attr = rootlessAttr()
	} else if !conf.TestOnlySkipChroot && os.Geteuid() == 0 {
		attr.Credential = bornAsNobodyGroup()
	}
	if !conf.TestOnlySkipChroot {
		argv = append(argv, "--setup-root")
	}
	argv = append(argv, args.ID)
	var err error
	sb.Process, sb.Proc, err = spawn(args.Cgroup, sb.cgFiles, "runsc-sandbox", argv, boot, g.exe, g.null, attr)
	end()
	if err != nil {
		return fmt.Errorf("starting sandbox: %w", err)
	}
	return sb.sendFirstBoot(args.ID, g.exe == nil)
}

// spawnInRoot starts a root caller's sandbox in its minimal root, as
// nobody (`runsc boot --in-root`): the thread that forks it, in the
// container's cgroup (cg, when set, with sb.cgFiles), builds the root in a
// mount namespace of its own first (enterRoot), and the sandbox, born in
// that namespace, runs the root's read-only /runsc, which is the host
// binary: its /proc/self/exe cannot be opened for writing
// (CVE-2019-5736). The credentials are set in the vfork child, which has
// one thread, before its execve.
func (sb *Sandbox) spawnInRoot(cg *cgroup.Cgroup, argv []string, boot, null *os.File) error {
	var files []*os.File
	if cg != nil {
		if files = sb.cgFiles; len(files) == 0 {
			return errors.New("the cgroup's files are not open")
		}
	}
	attr := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: sandboxUID, Gid: sandboxGID, Groups: []uint32{}}}
	var p *child.Process
	start := func(cgroupFD int) error {
		var err error
		p, err = startHelper("runsc-sandbox", "/runsc", argv, boot, null, attr, cgroupFD)
		return err
	}
	if err := cgroup.SpawnPrepared(files, enterRoot, start); err != nil {
		return err
	}
	proc, err := specutils.NewProc(p.Pid)
	if err != nil {
		p.Kill()
		p.Wait()
		return err
	}
	sb.Process, sb.Proc = p, proc
	return nil
}

// sandboxUID is the user the sandbox serves as: nobody.
const sandboxUID = 65534

// sandboxGID is the group the sandbox serves as: nobody's.
const sandboxGID = 65534

// bornAsNobodyGroup is the root sandbox's credential at its execve: uid 0
// (the caller's), gid nobody and no supplementary groups, set in its vfork
// child, which has one thread. Its setup (mounts, pivot_root) needs only
// uid 0's capabilities; what is left to drop afterwards is the uid alone.
// Dropped by the sandbox, each of setgroups, setgid and setuid is an
// all-thread system call (a stop-the-world waiting on every thread of its
// Go runtime), which took 0.3 to 1.2 ms for the three on these 2-core
// machines while the gofer and create were busy.
func bornAsNobodyGroup() *syscall.Credential {
	return &syscall.Credential{Uid: uint32(os.Getuid()), Gid: sandboxGID, Groups: []uint32{}}
}

// kill kills and reaps the sandbox alone, and releases what it holds.
func (sb *Sandbox) kill() {
	if sb.Process != nil {
		sb.Process.Kill()
		sb.Process.Wait()
	}
	if sb.Conn != nil {
		sb.Conn.Close()
	}
	for _, f := range sb.cgFiles {
		f.Close()
	}
	sb.cgFiles = nil
}

// Gofer is a started gofer, waiting for its boot message (Start sends
// it).
type Gofer struct {
	process *child.Process
	proc    specutils.Proc
	// conn is the sandbox's end of the gofer's socket, until Start sends
	// the gofer's boot message on it and hands it to the sandbox.
	conn *control.Conn
	// exe is the read-only binary the helpers run from (nil rootless).
	exe *os.File
	// null is the helpers' stdio (openNull).
	null *os.File
	// netns is set when the boot message carries a network namespace
	// made by create (wantNetNS).
	netns  *netNS
	userns bool
	// early is set when the gofer was started before the container's
	// cgroup existed: it is not in it, and gets the cgroup's files to
	// start init and exec'd processes there.
	early bool
	// initConn and initPeer are the sandbox's and init's ends of their
	// socket, once Boot has sent the latter.
	initConn *control.Conn
	initPeer *os.File
	// cgroupSent is set once SendCgroup has sent the cgroup's files.
	cgroupSent bool
}

// SendCgroup sends a gofer that Boot booted the files of its cgroup, made
// with its limits (what Start would do later): the gofer waits for them
// to enter the cgroup. It returns the files, which the caller owns.
func (g *Gofer) SendCgroup(cg *cgroup.Cgroup) ([]*os.File, error) {
	if g.initConn == nil || g.cgroupSent {
		return nil, errors.New("sending the cgroup to gofer: not booted, or sent already")
	}
	files, err := cg.ThreadFiles()
	if err != nil {
		return nil, err
	}
	if err := g.sendCgroup(files); err != nil {
		for _, f := range files {
			f.Close()
		}
		return nil, err
	}
	g.cgroupSent = true
	return files, nil
}

// sendCgroup sends the Cgroup message with files.
func (g *Gofer) sendCgroup(files []*os.File) error {
	if err := g.conn.Send(&control.Message{Type: control.Cgroup, Files: files}); err != nil {
		// The gofer failed on the rootfs and hung up: its error is
		// waiting in the socket.
		if r, rerr := g.conn.Recv(); rerr == nil && r.Type == control.Error {
			return fmt.Errorf("creating container: %w", r.AsError())
		}
		return fmt.Errorf("sending the cgroup to gofer: %w", err)
	}
	return nil
}

// CanBoot reports whether Boot may be called: the gofer was started
// early (as root, in no user namespace of its own) and is not booted yet.
// g may be nil.
func (g *Gofer) CanBoot() bool {
	return g != nil && g.early && !g.userns && g.initConn == nil
}

// Boot sends the gofer its boot message ahead of Start, before the
// container's cgroup exists: the gofer builds the rootfs meanwhile, and
// waits for the cgroup's files (control.Cgroup, sent by Start) only to
// start init. boot holds the files as for Args.Boot, but the control
// listener, which Start adds. Only a gofer started early (StartGofer) can
// be booted early.
func (g *Gofer) Boot(conf *config.Config, spec *specs.Spec, boot *control.Message, autoStart bool) (retErr error) {
	if !g.CanBoot() {
		return errors.New("booting the gofer early: not an early gofer, or booted already")
	}
	initConn, initPeer, err := control.Pair()
	if err != nil {
		return err
	}
	defer func() {
		if retErr != nil {
			initConn.Close()
			initPeer.Close()
		}
	}()
	gb, _ := goferBoot(conf, spec, boot, g.proc.PID, false)
	gb.Start = autoStart
	gb.Gofer.CgroupLater = true
	if err := g.sendBoot(gb, initPeer, nil); err != nil {
		return err
	}
	g.initConn, g.initPeer = initConn, initPeer
	return nil
}

// sendBoot completes the gofer's boot message gb with the network
// namespace made for it, init's end of its socket to the sandbox
// (initPeer) and cgFiles, and sends it.
func (g *Gofer) sendBoot(gb *control.Message, initPeer *os.File, cgFiles []*os.File) error {
	if n := g.netns; n != nil {
		n.make()
		g.netns = nil
		defer n.drop()
		if n.err != nil {
			return n.err
		}
		gb.Files = append(gb.Files, n.f)
	}
	initEnd, err := named(initPeer, control.InitConn)
	if err != nil {
		return err
	}
	defer initEnd.Close()
	gb.Files = append(gb.Files, initEnd)
	gb.Files = append(gb.Files, cgFiles...)
	if err := g.conn.Send(gb); err != nil {
		return fmt.Errorf("sending boot message to gofer: %w", err)
	}
	return nil
}

// haveSysAdmin reports whether this process may build the sandbox's root
// itself (CAP_SYS_ADMIN in its own user namespace). One capget: the
// bounding and ambient sets /proc/self/status also shows play no part.
func haveSysAdmin() bool {
	ok, err := specutils.HaveCapability(unix.CAP_SYS_ADMIN)
	return err == nil && ok
}

// helperEnv is the whole environment of the sandbox and the gofer: none of
// the caller's (a long-lived process has no use for it), and a Go runtime
// sized for an idle helper: one P, which keeps its threads and heap small.
var helperEnv = []string{"GOMAXPROCS=1"}

// StartGofer starts the gofer early, as soon as the spec is read: its Go
// start-up then runs while create makes the state and the cgroup, off the
// path to "created" (about 2 ms here). It is born outside the container's
// cgroup and puts init and every exec'd process in it itself, writing "0"
// to the v1 tasks files create opened for it (an open file is checked
// against its opener's credentials) and cloning into the cgroup2
// directory. A gofer in a user namespace of its own cannot do the latter
// (the kernel checks the cloner's credentials against the directory):
// StartGofer then returns nil, and Start starts the gofer in the cgroup.
// If create gives up before Start, it must Kill the gofer; a create that
// dies leaves it reading EOF on its boot socket, and exiting.
func StartGofer(conf *config.Config, spec *specs.Spec, id string) (*Gofer, error) {
	if !conf.Rootless && !haveSysAdmin() && !conf.TestOnlySkipChroot {
		return nil, fmt.Errorf("starting sandbox: CAP_SYS_ADMIN is required: run as root, or pass --rootless")
	}
	attr, err := goferAttr(conf, spec)
	if err != nil {
		return nil, err
	}
	if attr.Cloneflags&unix.CLONE_NEWUSER != 0 && !conf.Rootless {
		return nil, nil
	}
	return startGofer(conf, spec, id, attr, nil)
}

// SpawnGofer is StartGofer before the spec is read, for a root create
// (nil rootless): the gofer's Go start-up then also overlaps reading and
// checking the spec. The gofer it starts is the one any spec gets but a
// user-namespaced one: ForSpec then kills it.
func SpawnGofer(conf *config.Config, id string) (*Gofer, error) {
	if conf.Rootless || conf.TestOnlySkipChroot {
		return nil, nil
	}
	if !haveSysAdmin() {
		return nil, fmt.Errorf("starting sandbox: CAP_SYS_ADMIN is required: run as root, or pass --rootless")
	}
	return startGofer(conf, nil, id, &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNS}, nil)
}

// ForSpec returns the gofer SpawnGofer started if it fits spec (what
// StartGofer would have started), noting the network namespace the spec
// asks for (made with the boot message); else it kills it, and returns
// StartGofer's result.
// g may be nil.
func (g *Gofer) ForSpec(conf *config.Config, spec *specs.Spec, id string) (*Gofer, error) {
	if g == nil {
		return StartGofer(conf, spec, id)
	}
	attr, err := goferAttr(conf, spec)
	if err != nil {
		g.Kill()
		return nil, err
	}
	if attr.Cloneflags != unix.CLONE_NEWNS {
		g.Kill()
		return StartGofer(conf, spec, id)
	}
	if wantNetNS(conf, spec, false) {
		g.netns = new(netNS)
	}
	return g, nil
}

// startGofer starts the gofer (in cg when set) with attr; spec nil is
// SpawnGofer's.
func startGofer(conf *config.Config, spec *specs.Spec, id string, attr *syscall.SysProcAttr, cg *cgroup.Cgroup) (_ *Gofer, retErr error) {
	g := &Gofer{userns: attr.Cloneflags&unix.CLONE_NEWUSER != 0, early: cg == nil && !conf.Rootless}
	defer func() {
		if retErr != nil {
			g.Kill()
		}
	}()
	// Made while the gofer starts, instead of by the gofer's clone of
	// init: see wantNetNS.
	if spec != nil && wantNetNS(conf, spec, g.userns) {
		g.netns = new(netNS)
		go g.netns.make()
	}
	// nil (rootless): the helpers run from /proc/self/exe and seal their
	// own view of it.
	var err error
	if !conf.Rootless {
		if g.exe, err = readOnlyBinary(); err != nil {
			return nil, err
		}
	}
	if g.null, err = openNull(); err != nil {
		return nil, err
	}
	conn, peer, err := control.Pair()
	if err != nil {
		return nil, err
	}
	defer peer.Close()
	g.conn = conn
	end := log.Span("create/spawn/gofer")
	g.process, g.proc, err = spawn(cg, nil, "runsc-gofer", append(conf.ToFlags(), "gofer", id), peer, g.exe, g.null, attr)
	end()
	if err != nil {
		return nil, fmt.Errorf("starting gofer: %w", err)
	}
	return g, nil
}

// Kill kills and reaps a gofer that Start was not given, and releases
// what it holds. g may be nil.
func (g *Gofer) Kill() {
	if g == nil {
		return
	}
	if g.process != nil {
		g.process.Kill()
		g.process.Wait()
	}
	g.release()
}

// release closes what the gofer's start held for its boot.
func (g *Gofer) release() {
	if g.netns != nil {
		g.netns.drop()
		g.netns = nil
	}
	for _, f := range []**os.File{&g.exe, &g.null} {
		if *f != nil {
			(*f).Close()
			*f = nil
		}
	}
	if g.conn != nil {
		g.conn.Close()
		g.conn = nil
	}
	if g.initConn != nil {
		g.initConn.Close()
		g.initPeer.Close()
		g.initConn, g.initPeer = nil, nil
	}
}

// openNull opens /dev/null for the helpers' stdio. It is opened before
// the spawn, not by os/exec in it: the spawning thread is in the
// container's device cgroup, which may not allow /dev/null.
func openNull() (*os.File, error) {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", os.DevNull, err)
	}
	return null, nil
}

// Start sends the gofer its boot message, starting the gofer first unless
// StartGofer did, then starts the sandbox and sends it its own; the
// sandbox reports the container's creation on Conn. On failure nothing it
// started is left (args.Gofer included); after success, the caller kills
// and reaps both (Kill) if it gives up.
func Start(conf *config.Config, args Args) (_ *Sandbox, retErr error) {
	g := args.Gofer
	if g == nil {
		attr, err := goferAttr(conf, args.Spec)
		if err != nil {
			return nil, err
		}
		if g, err = startGofer(conf, args.Spec, args.ID, attr, args.Cgroup); err != nil {
			return nil, err
		}
	}
	sb := args.Sandbox
	if sb == nil {
		sb = &Sandbox{GoferProcess: g.process, Gofer: g.proc}
	}
	defer func() {
		if retErr != nil {
			sb.Kill()
		}
	}()
	defer g.release()
	defer func() {
		for _, f := range sb.cgFiles {
			f.Close()
		}
		sb.cgFiles = nil
	}()
	if args.Sandbox == nil {
		conn, peer, err := control.Pair()
		if err != nil {
			return nil, err
		}
		sb.Conn = conn
		defer peer.Close()
		// Opened once: for the gofer started outside the cgroup, and for
		// the sandbox's spawn into it.
		if args.Cgroup != nil {
			if sb.cgFiles, err = args.Cgroup.ThreadFiles(); err != nil {
				return nil, err
			}
		}
		// Before the gofer's boot message: a booted gofer (Boot) is
		// waiting only for its cgroup's files now.
		if err := sb.spawn(conf, args, g, peer); err != nil {
			return nil, err
		}
	}
	cgFiles := sb.cgFiles
	// The gofer's boot message (and its cgroup files) wait for it in its
	// socket; the sandbox then gets the other end. The sandbox relays
	// start to init on a socket of their own.
	initConn, initPeer := g.initConn, g.initPeer
	g.initConn, g.initPeer = nil, nil
	booted := initConn != nil
	if !booted {
		var err error
		if initConn, initPeer, err = control.Pair(); err != nil {
			return nil, err
		}
	}
	defer initConn.Close()
	defer initPeer.Close()
	if booted {
		// Boot said CgroupLater; SendCgroup may have sent it.
		if !g.cgroupSent {
			if err := g.sendCgroup(cgFiles); err != nil {
				return nil, err
			}
		}
	} else {
		gb, trees := goferBoot(conf, args.Spec, args.Boot, sb.Gofer.PID, g.userns)
		gb.Start = args.AutoStart
		defer func() {
			for _, t := range trees {
				t.Close()
			}
		}()
		var files []*os.File
		if g.early {
			files = cgFiles
		}
		if err := g.sendBoot(gb, initPeer, files); err != nil {
			return nil, err
		}
	}

	goferFile, err := g.conn.File()
	if err != nil {
		return nil, err
	}
	defer goferFile.Close()
	initFile, err := initConn.File()
	if err != nil {
		return nil, err
	}
	defer initFile.Close()
	m := &control.Message{Type: control.Boot, ID: args.ID, GoferPID: sb.Gofer.PID, Start: args.AutoStart}
	m.Files = []*os.File{args.Boot.Files[BootListener], goferFile, initFile}
	if err := sb.Conn.Send(m); err != nil {
		return nil, fmt.Errorf("sending boot message: %w", err)
	}
	return sb, nil
}

// sendFirstBoot sends the sandbox its first boot message: what it sets up
// with (the host's runsc binary, O_PATH, to bind into its chroot; none
// rootless) before the second, which Start sends, with what it serves
// with.
func (sb *Sandbox) sendFirstBoot(id string, rootless bool) error {
	m := &control.Message{Type: control.Boot, ID: id}
	if !rootless {
		host, err := hostBinary()
		if err != nil {
			return err
		}
		defer host.Close()
		m.Files = []*os.File{host}
	}
	if err := sb.Conn.Send(m); err != nil {
		return fmt.Errorf("sending boot message: %w", err)
	}
	return nil
}

// Names of the files in the first boot message of a sandbox started in
// its root (spawnInRoot), which can open nothing on the host.
const (
	// ExitStatusFile is the state directory's exit-status file, open for
	// writing: the sandbox writes the container's status into it.
	ExitStatusFile = "exit-status"
	// DebugLogFile is the sandbox's debug log, with --debug-log.
	DebugLogFile = "debug-log"
)

// sendInRootBoot sends a sandbox started in its root its first boot
// message: the files it would have opened as root before its chroot.
func (sb *Sandbox) sendInRootBoot(conf *config.Config, id string) error {
	m := &control.Message{Type: control.Boot, ID: id}
	fd, err := unix.Open(filepath.Join(conf.RootDir, id, ExitStatusFile), unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("opening exit status file: %w", err)
	}
	exit := os.NewFile(uintptr(fd), ExitStatusFile)
	defer exit.Close()
	m.Files = []*os.File{exit}
	if conf.DebugLog != "" {
		f, err := log.OpenLogFile(log.DebugLogPath(conf.DebugLog, "sandbox", time.Now()))
		if err != nil {
			return err
		}
		debugLog, err := named(f, DebugLogFile)
		f.Close()
		if err != nil {
			return err
		}
		defer debugLog.Close()
		m.Files = append(m.Files, debugLog)
	}
	if err := sb.Conn.Send(m); err != nil {
		return fmt.Errorf("sending boot message: %w", err)
	}
	return nil
}

// named returns a duplicate of f named name, for a control message.
func named(f *os.File, name string) (*os.File, error) {
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("dup: %w", err)
	}
	return os.NewFile(uintptr(fd), name), nil
}

// spawn starts a helper (startHelper), born in cg when it is set (with
// its ThreadFiles cgFiles, when open).
func spawn(cg *cgroup.Cgroup, cgFiles []*os.File, name string, argv []string, boot, exe, null *os.File, attr *syscall.SysProcAttr) (*child.Process, specutils.Proc, error) {
	var p *child.Process
	start := func(cgroupFD int) ([]int, error) {
		var err error
		p, err = startHelper(name, helperPath(exe), argv, boot, null, attr, cgroupFD)
		runtime.KeepAlive(exe)
		if err != nil {
			return nil, err
		}
		return []int{p.Pid}, nil
	}
	var err error
	if cg != nil {
		err = cg.SpawnWith(cgFiles, start)
	} else {
		_, err = start(-1)
	}
	if err != nil {
		if p != nil {
			p.Kill()
			p.Wait()
		}
		return nil, specutils.Proc{}, err
	}
	proc, err := specutils.NewProc(p.Pid)
	if err != nil {
		p.Kill()
		p.Wait()
		return nil, specutils.Proc{}, err
	}
	return p, proc, nil
}

// Kill kills and reaps the sandbox and the gofer, and closes the boot
// socket.
func (sb *Sandbox) Kill() {
	for _, p := range []*child.Process{sb.Process, sb.GoferProcess} {
		if p != nil {
			p.Kill()
			p.Wait()
		}
	}
	if sb.Conn != nil {
		sb.Conn.Close()
	}
}

// helperPath is the runsc binary a helper runs: with exe, the read-only
// binary (readOnlyBinary), that; else /proc/self/exe.
func helperPath(exe *os.File) string {
	if exe == nil {
		return "/proc/self/exe"
	}
	// exe is close-on-exec: the child resolves the path before execve
	// closes it, and runs without it open.
	return fmt.Sprintf("/proc/self/fd/%d", exe.Fd())
}

// startHelper starts the runsc binary at path (helperPath) as a helper
// process named name (its argv[0]) with argv, its boot socket at fd 3,
// stdio on null, and attr, in the cgroup2 directory cgroupFD when it is
// not -1.
func startHelper(name, path string, argv []string, boot, null *os.File, attr *syscall.SysProcAttr, cgroupFD int) (*child.Process, error) {
	a := *attr
	if cgroupFD >= 0 {
		a.UseCgroupFD, a.CgroupFD = true, cgroupFD
	}
	// stdio are /dev/null: the container's stdio travel in the gofer's
	// boot message, so no runsc process but the container's own holds
	// the caller's stdout/stderr.
	files := []uintptr{null.Fd(), null.Fd(), null.Fd(), boot.Fd()}
	// The slack is the spawning thread's, which the helper's first thread
	// inherits, and with it every thread its Go runtime starts. When every
	// thread of ours has it already (CoarsenTimerSlack), any thread will
	// do: one locked across the vfork, which returns at the helper's
	// execve, would have to be handed a P back by another thread whenever
	// sysmon took it meanwhile.
	if !allCoarse {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		defer setTimerSlack(HelperTimerSlack)()
	}
	p, err := child.Start(path, append([]string{name}, argv...), helperEnv, files, &a)
	runtime.KeepAlive(null)
	runtime.KeepAlive(boot)
	return p, err
}
