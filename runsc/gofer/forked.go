package gofer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"syscall"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/pkg/child"
	"runsc.dev/runsc/pkg/log"
	"runsc.dev/runsc/runsc/config"
	"runsc.dev/runsc/runsc/control"
	"runsc.dev/runsc/runsc/specutils"
)

// forkedInit is the container's init when the gofer forked it (fork.go)
// instead of starting runsc init: the gofer built the rootfs on its
// locked thread, and stands in for init on the sandbox's start socket.
type forkedInit struct {
	// status is the read end of the child's status pipe: Ready, then EOF
	// at execve or an error record.
	status *os.File
	// start is the write end of the pipe the child waits on; closing it
	// unread makes the child exit.
	start *os.File
	// sandbox is init's end of the sandbox's start socket.
	sandbox   *control.Conn
	autoStart bool
	// relaying counts a relayStart past Start, answering the sandbox:
	// the gofer reports init's exit only after that answer, which an init
	// that fails its execve and exits would otherwise race.
	relaying sync.WaitGroup
	// describe names a failed step of the child.
	describe func(statusRecord) string
}

// forkedInitUnsupported says why the container's init cannot be forked
// by the gofer ("" if it can), in which case runsc init is started, which
// handles everything: a rootless or user-namespaced container (the gofer
// must be the privileged one), a terminal, startContainer hooks, a
// seccomp listener, a time namespace, idmapped mounts, a rootfs overlay,
// and mounts the gofer cannot make for it (forkedRootfsUnsupported).
func forkedInitUnsupported(conf *config.Config, spec *specs.Spec, msg *control.Message) string {
	switch {
	case conf.Rootless:
		return "rootless"
	case spec.Process == nil || len(spec.Process.Args) == 0:
		return "no process"
	case spec.Process.Terminal:
		return "terminal"
	case spec.Hooks != nil && len(spec.Hooks.StartContainer) > 0:
		return "startContainer hooks"
	case msg.Gofer.RootfsOverlay != "":
		return "rootfs overlay"
	}
	if spec.Linux != nil {
		for _, ns := range spec.Linux.Namespaces {
			if ns.Type == specs.UserNamespace || ns.Type == specs.TimeNamespace {
				return string(ns.Type) + " namespace"
			}
		}
		if s := spec.Linux.Seccomp; s != nil && s.ListenerPath != "" {
			return "seccomp listener"
		}
	}
	for _, name := range msg.FileNames {
		if len(name) >= len(idmappedPrefix) && name[:len(idmappedPrefix)] == idmappedPrefix {
			return "idmapped mounts"
		}
	}
	for _, m := range spec.Mounts {
		if len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0 {
			return "idmapped mounts"
		}
		o := parseMountOptions(m.Options)
		if o.idmap {
			return "idmapped mounts"
		}
	}
	return forkedRootfsUnsupported(spec)
}

// startForkedInit is startInit for a forked init, on the gofer's locked
// thread: it enters the container's namespaces (all but pid and cgroup,
// which init gets new at its fork or has joined by path) and cgroups,
// builds the rootfs and pivots into it (prepareRootfsForked), prepares
// init's program, and forks it. init then reports Ready on its status
// pipe (forkedInit.waitReady).
func (a *Agent) startForkedInit(msg *control.Message, spec *specs.Spec) error {
	sandboxEnd := msg.File(control.InitConn)
	if sandboxEnd == nil {
		return errors.New("boot message has no socket to the sandbox")
	}
	// What can fail on the spec alone fails before the host is touched.
	prog, err := programFromSpec(spec)
	if err != nil {
		return err
	}
	cloneFlags, err := joinNamespaces(msg.Gofer.Namespaces, msg.File(control.NetNS))
	if err != nil {
		return err
	}
	// This thread makes the container's mounts: it is in the
	// namespaces they show (sysfs, mqueue) and sets the hostname.
	if f := cloneFlags & (unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS); f != 0 {
		if err := unix.Unshare(int(f)); err != nil {
			return fmt.Errorf("entering the container's namespaces: %w", err)
		}
	}
	// This thread enters the container's cgroups, for init to be born
	// there, as late as it can: create may still be making them. A v1
	// cgroup mount shows the mounter's cgroup namespace root, this
	// thread's cgroups then: it enters them first.
	attr := &syscall.SysProcAttr{}
	entered := false
	enterCgroup := func() error {
		if entered {
			return nil
		}
		entered = true
		defer log.Span("gofer/enter-cgroup")()
		if err := a.intoCgroup(attr); err != nil {
			return err
		}
		if cloneFlags&unix.CLONE_NEWCGROUP != 0 {
			if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
				return fmt.Errorf("entering a cgroup namespace: %w", err)
			}
		}
		return nil
	}
	// Before the pivot hides the host's: init's namespaces and start
	// time are read there.
	hostProc, err := unix.Open("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening /proc: %w", err)
	}
	defer unix.Close(hostProc)
	exe, err := sealSelf()
	if err != nil {
		return err
	}
	if a.exe, err = os.Open(exe); err != nil {
		return fmt.Errorf("opening runsc binary: %w", err)
	}

	end := log.Span("gofer/rootfs")
	rootfs, err := prepareRootfsForked(spec, enterCgroup)
	end()
	if err != nil {
		return err
	}
	defer rootfs.close()
	if err := enterCgroup(); err != nil {
		return err
	}
	end = log.Span("gofer/program")
	// Now rooted in the container's root, like init.
	if err := setUpNamespaces(spec, msg.File(control.NetNS) != nil); err != nil {
		return err
	}
	path, err := lookPath(spec.Process.Args[0], spec.Process.Env)
	if err != nil {
		return err
	}
	if prog.rootFd, err = openRoot("/"); err != nil {
		return err
	}
	defer unix.Close(prog.rootFd)
	stdio, err := initStdio(prog.rootFd, msg.Files[BootStdin:BootStderr+1], needsDevSetup(spec))
	if err != nil {
		return err
	}
	defer closeAll(stdio)
	for i, f := range stdio {
		prog.stdio[i] = int(f.Fd())
	}
	if len(rootfs.masked) > 0 {
		if prog.devNullFd, err = openDevNull(prog.rootFd); err != nil {
			return fmt.Errorf("masking %q: %w", rootfs.masked[0], err)
		}
		defer unix.Close(prog.devNullFd)
	}
	if err := prog.setRootfs(rootfs, path); err != nil {
		return err
	}
	pipes, err := newInitPipes()
	if err != nil {
		return err
	}
	defer pipes.closeChildEnds()
	prog.statusFd, prog.startFd = pipes.childStatus, pipes.childStart
	prog.autoStart = msg.Start
	if err := prog.setNamespaces(hostProc); err != nil {
		return err
	}
	prog.clone = cloneArgs{flags: uint64(cloneFlags &^ (unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS)), exitSignal: uint64(unix.SIGCHLD)}
	if attr.UseCgroupFD {
		prog.clone.flags |= unix.CLONE_INTO_CGROUP
		prog.clone.cgroup = uint64(attr.CgroupFD)
	}
	if prog.autoStart && canVfork {
		// It runs on our memory until its execve (see fork.go).
		prog.clone.flags |= unix.CLONE_VM | unix.CLONE_VFORK
	}
	end()

	if err := a.containerSlack(); err != nil {
		pipes.closeOurEnds()
		return err
	}
	// Init is undumpable until its execve (CVE-2016-9962), and so is
	// the mm it may share with us (see fork.go): we are, from now on.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		pipes.closeOurEnds()
		return fmt.Errorf("making the gofer undumpable: %w", err)
	}
	end = log.Span("gofer/fork-init")
	pid, err := forkInit(prog)
	end()
	runtime.KeepAlive(prog)
	if err != nil {
		pipes.closeOurEnds()
		return fmt.Errorf("starting init: %w", err)
	}
	a.initP = child.Of(pid)
	fail := func(err error) error {
		a.initP.Kill()
		a.initP.Wait()
		pipes.closeOurEnds()
		return err
	}
	// Before init can have been reaped: create gets it with Ready.
	if a.initProc, err = specutils.NewProcAt(hostProc, pid); err != nil {
		return fail(err)
	}
	sb, err := dup(sandboxEnd)
	if err != nil {
		return fail(err)
	}
	conn, err := control.FileConn(sb)
	if err != nil {
		return fail(err)
	}
	a.forked = &forkedInit{
		status:    pipes.status,
		start:     pipes.start,
		sandbox:   conn,
		autoStart: msg.Start,
		describe:  describeSteps(spec, path, rootfs),
	}
	if msg.Start {
		// It goes on its own after Ready: the relay that answers its
		// failure is counted from now on (see relaying).
		a.forked.relaying.Add(1)
	}
	return nil
}

// setNamespaces prepares the child to send its namespaces
// (initProgram.hostProc): their names, and the message they travel in.
func (p *initProgram) setNamespaces(hostProc int) error {
	p.hostProc = hostProc
	for i, ns := range initNamespaces {
		b, err := unix.BytePtrFromString("thread-self/ns/" + ns.name)
		if err != nil {
			return err
		}
		p.nsNames = append(p.nsNames, b)
		if ns.optional && p.nsOptional == 0 {
			p.nsOptional = i
		}
	}
	if p.nsOptional == 0 {
		p.nsOptional = len(p.nsNames)
	}
	p.nsOob = make([]byte, unix.CmsgSpace(4*len(p.nsNames)))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&p.nsOob[0]))
	h.Level, h.Type = unix.SOL_SOCKET, unix.SCM_RIGHTS
	p.nsIov.Base = (*byte)(unsafe.Pointer(&p.nsRec))
	p.nsIov.SetLen(int(unsafe.Sizeof(p.nsRec)))
	p.nsMsg.Iov = &p.nsIov
	p.nsMsg.SetIovlen(1)
	p.nsMsg.Control = &p.nsOob[0]
	return nil
}

// setUpNamespaces does what runc's init does in the container's network
// and uts namespaces, which this thread is in: the loopback of a new
// network namespace up (unless create made it, loUp: it brought it up),
// the hostname and domain name.
func setUpNamespaces(spec *specs.Spec, loUp bool) error {
	if path, ok := specutils.HasNamespace(spec, specs.NetworkNamespace); ok && path == "" && !loUp {
		if err := specutils.LoopbackUp(); err != nil {
			return err
		}
	}
	if _, ok := specutils.HasNamespace(spec, specs.UTSNamespace); ok {
		if spec.Hostname != "" {
			if err := unix.Sethostname([]byte(spec.Hostname)); err != nil {
				return fmt.Errorf("hostname: %w", err)
			}
		}
		if spec.Domainname != "" {
			if err := unix.Setdomainname([]byte(spec.Domainname)); err != nil {
				return fmt.Errorf("domainname: %w", err)
			}
		}
	}
	return nil
}

// initPipes are the forked init's two channels: status, a stream socket
// (init sends its namespaces, then writes Ready or a failure, and execve
// closes it) and start, a pipe (the gofer writes the byte init waits
// for). childStatus and childStart are init's ends, dup'd above 4 so that
// init can move them to 3 and 4 before closing every other descriptor.
type initPipes struct {
	status, start           *os.File // ours
	statusW, startR         *os.File
	childStatus, childStart int
}

func newInitPipes() (_ *initPipes, retErr error) {
	p := &initPipes{childStatus: -1, childStart: -1}
	defer func() {
		if retErr != nil {
			p.closeChildEnds()
			p.closeOurEnds()
		}
	}()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	p.statusW = os.NewFile(uintptr(fds[1]), "init-status")
	// Non-blocking, ours is waited on through the netpoller, as a pipe's.
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	p.status = os.NewFile(uintptr(fds[0]), "init-status")
	if p.startR, p.start, err = os.Pipe(); err != nil {
		return nil, err
	}
	if p.childStatus, err = unix.FcntlInt(p.statusW.Fd(), unix.F_DUPFD_CLOEXEC, 5); err != nil {
		return nil, fmt.Errorf("dup: %w", err)
	}
	if p.childStart, err = unix.FcntlInt(p.startR.Fd(), unix.F_DUPFD_CLOEXEC, 5); err != nil {
		return nil, fmt.Errorf("dup: %w", err)
	}
	return p, nil
}

// closeChildEnds closes our copies of init's ends: after the fork, the
// status pipe reads EOF once init has execve'd or exited.
func (p *initPipes) closeChildEnds() {
	for _, f := range []*os.File{p.statusW, p.startR} {
		if f != nil {
			f.Close()
		}
	}
	for _, fd := range []int{p.childStatus, p.childStart} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
	p.statusW, p.startR, p.childStatus, p.childStart = nil, nil, -1, -1
}

func (p *initPipes) closeOurEnds() {
	for _, f := range []*os.File{p.status, p.start} {
		if f != nil {
			f.Close()
		}
	}
	p.status, p.start = nil, nil
}

func closeAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// initStdio returns init's stdio: copies of files, except that those
// that are the host's /dev/null become the container's when the container
// has its own /dev (reopenDevNull's rule), so that no descriptor keeps a
// host /dev mount referenced.
func initStdio(rootFd int, files []*os.File, ownDev bool) ([]*os.File, error) {
	null := -1
	var nullSt unix.Stat_t
	if ownDev {
		if fd, err := openInRoot(rootFd, "/dev/null", unix.O_RDWR|unix.O_NOFOLLOW, 0, unix.RESOLVE_NO_SYMLINKS); err == nil {
			if verifyDevNull(fd) == nil {
				null = fd
				nullSt, _ = fdStat(fd)
			} else {
				unix.Close(fd)
			}
		} else {
			log.Warningf("not reopening stdio on the container's /dev/null: %v", err)
		}
	}
	if null >= 0 {
		defer unix.Close(null)
	}
	var out []*os.File
	for _, f := range files {
		src := int(f.Fd())
		if null >= 0 {
			if st, err := fdStat(src); err == nil && st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == nullSt.Rdev && st.Dev != nullSt.Dev {
				src = null
			}
		}
		// Above 2: the child dup3's them onto 0, 1 and 2 in turn.
		fd, err := unix.FcntlInt(uintptr(src), unix.F_DUPFD_CLOEXEC, 3)
		if err != nil {
			for _, o := range out {
				o.Close()
			}
			return nil, fmt.Errorf("init's stdio: %w", err)
		}
		out = append(out, os.NewFile(uintptr(fd), "stdio"))
	}
	return out, nil
}

// setCaps sets the capability sets of the program from caps
// (specutils.CapsFromSpec), as Caps.DropBounding and Caps.Apply apply them.
func (p *initProgram) setCaps(caps specutils.Caps) error {
	if err := specutils.CheckLastCap(); err != nil {
		return fmt.Errorf("capabilities: %w", err)
	}
	p.lastCap = specutils.LastCap()
	p.bounding, p.ambient = caps.Bounding, caps.Ambient
	p.capHdr = unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	p.capData = caps.UserData()
	// Dropping from the bounding set needs CAP_SETPCAP, which
	// DropBounding checks for first.
	var err error
	if p.dropBounding, err = specutils.HaveCapability(unix.CAP_SETPCAP); err != nil {
		return fmt.Errorf("capabilities: %w", err)
	}
	return nil
}

// describeSteps returns what names a failed step of the child.
func describeSteps(spec *specs.Spec, path string, rootfs *forkedRootfs) func(statusRecord) string {
	p := spec.Process
	var mounts []string
	for _, m := range rootfs.mounts {
		mounts = append(mounts, fmt.Sprintf("mounting %s on %q", m.fstype, m.dest))
	}
	readonly := append([]string(nil), rootfs.readonly...)
	masked := append([]string(nil), rootfs.masked...)
	var rlimits []string
	for _, r := range p.Rlimits {
		rlimits = append(rlimits, r.Type)
	}
	cwd, uid, gid, arg0 := p.Cwd, p.User.UID, p.User.GID, p.Args[0]
	at := func(list []string, i uint32) string {
		if int(i) < len(list) {
			return list[i]
		}
		return "?"
	}
	return func(r statusRecord) string {
		switch r.step {
		case stepProtect:
			return "protecting init (prctl)"
		case stepSetsid:
			return "setsid"
		case stepMount:
			return at(mounts, r.index)
		case stepReadonly:
			return fmt.Sprintf("making %q read-only", at(readonly, r.index))
		case stepMask:
			return fmt.Sprintf("masking %q", at(masked, r.index))
		case stepRlimit:
			return "process.rlimits " + at(rlimits, r.index)
		case stepOOM:
			return "process.oomScoreAdj"
		case stepStdio:
			return "init's stdio"
		case stepCwd:
			return fmt.Sprintf("process.cwd %q", cwd)
		case stepSched:
			return "process.scheduler"
		case stepIOPrio:
			return "process.ioPriority"
		case stepPersonality:
			return "linux.personality"
		case stepBounding:
			return "process.capabilities.bounding"
		case stepCloseRange:
			return "close_range"
		case stepSeccomp:
			return "linux.seccomp"
		case stepKeepCaps:
			return "keepcaps"
		case stepGroups:
			return "process.user.additionalGids"
		case stepGID:
			return fmt.Sprintf("process.user.gid %d", gid)
		case stepUID:
			return fmt.Sprintf("process.user.uid %d", uid)
		case stepCaps:
			return "process.capabilities"
		case stepNoNewPrivs:
			return "process.noNewPrivileges"
		case stepExec:
			return fmt.Sprintf("exec %q (%s)", arg0, path)
		case stepNamespaces:
			return "sending init's namespaces"
		}
		return fmt.Sprintf("init step %d", r.step)
	}
}

// readStatus reads one record from init's status socket; io.EOF means
// init has execve'd (or died).
func (f *forkedInit) readStatus() (statusRecord, error) {
	var b [int(unsafe.Sizeof(statusRecord{}))]byte
	if _, err := io.ReadFull(f.status, b[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = io.EOF
		}
		return statusRecord{}, err
	}
	return decodeStatus(b[:]), nil
}

// readNamespaces reads init's first record, statusNamespaces with init's
// namespaces attached, which it returns (or init's failure).
func (f *forkedInit) readNamespaces() ([]nsFile, error) {
	var b [int(unsafe.Sizeof(statusRecord{}))]byte
	oob := make([]byte, unix.CmsgSpace(4*len(initNamespaces)))
	rc, err := f.status.SyscallConn()
	if err != nil {
		return nil, err
	}
	var n, oobn int
	var rerr error
	if err := rc.Read(func(fd uintptr) bool {
		n, oobn, _, _, rerr = unix.Recvmsg(int(fd), b[:], oob, unix.MSG_CMSG_CLOEXEC)
		return rerr != unix.EAGAIN && rerr != unix.EINTR
	}); err != nil {
		return nil, err
	}
	if rerr != nil {
		return nil, fmt.Errorf("reading init's namespaces: %w", rerr)
	}
	files, err := control.ParseRights(oob[:oobn])
	if err != nil {
		return nil, fmt.Errorf("reading init's namespaces: %w", err)
	}
	if n == 0 {
		closeAll(files)
		return nil, io.EOF
	}
	if n < len(b) {
		if _, err := io.ReadFull(f.status, b[n:]); err != nil {
			closeAll(files)
			return nil, fmt.Errorf("reading init's namespaces: %w", err)
		}
	}
	r := decodeStatus(b[:])
	switch {
	case r.kind == statusError:
		closeAll(files)
		return nil, f.failure(r)
	case r.kind != statusNamespaces || int(r.index) != len(files) || len(files) > len(initNamespaces):
		closeAll(files)
		return nil, fmt.Errorf("unexpected status %d (%d namespaces, %d descriptors) from init", r.kind, r.index, len(files))
	}
	out := make([]nsFile, len(files))
	for i, file := range files {
		ns := initNamespaces[i]
		out[i] = nsFile{f: file, name: ns.name, kind: ns.kind}
	}
	return out, nil
}

// decodeStatus decodes a status record.
func decodeStatus(b []byte) statusRecord {
	return statusRecord{
		kind:  binary.NativeEndian.Uint32(b[0:]),
		step:  binary.NativeEndian.Uint32(b[4:]),
		index: binary.NativeEndian.Uint32(b[8:]),
		errno: binary.NativeEndian.Uint32(b[12:]),
	}
}

// failure is the error a status record reports.
func (f *forkedInit) failure(r statusRecord) error {
	return fmt.Errorf("%s: %w", f.describe(r), syscall.Errno(r.errno))
}

// waitReady takes init's namespaces, which it sends first thing, and waits
// for its Ready.
func (f *forkedInit) waitReady() ([]nsFile, error) {
	ns, err := f.readNamespaces()
	if err != nil {
		return nil, err
	}
	r, err := f.readStatus()
	switch {
	case err != nil:
	case r.kind == statusError:
		err = f.failure(r)
	case r.kind != statusReady:
		err = fmt.Errorf("unexpected status %d from init", r.kind)
	}
	if err != nil {
		for _, n := range ns {
			n.f.Close()
		}
		return nil, err
	}
	return ns, nil
}

// relayStart stands in for init on the sandbox's start socket, as runsc
// init would answer it: it waits for Start (unless autoStart), lets init
// go, and answers with init's error, or with EOF once init has execve'd.
func (f *forkedInit) relayStart() {
	defer f.sandbox.Close()
	defer f.status.Close()
	if !f.autoStart {
		m, err := f.sandbox.Recv()
		if err != nil || m.Type != control.Start {
			// The sandbox is gone or confused: init exits on EOF.
			f.start.Close()
			return
		}
	}
	if f.autoStart {
		// Init went on its own (and was counted as relayed then).
		f.start.Close()
	} else {
		// Before init may go: its failure is answered before its exit.
		f.relaying.Add(1)
		if _, err := f.start.Write([]byte{1}); err != nil {
			// init is gone (killed: it reads the byte before anything
			// else).
			log.Debugf("starting init: %v", err)
		}
		f.start.Close()
	}
	defer f.relaying.Done()
	r, err := f.readStatus()
	switch {
	case errors.Is(err, io.EOF):
		// execve closed the status pipe: started.
	case err != nil:
		f.sandbox.Send(&control.Message{Type: control.Error, Err: fmt.Sprintf("reading init's status: %v", err)})
	case r.kind == statusError:
		f.sandbox.Send(control.ErrorMessage(f.failure(r)))
	default:
		f.sandbox.Send(&control.Message{Type: control.Error, Err: fmt.Sprintf("unexpected status %d from init", r.kind)})
	}
}
