package container

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/pkg/child"
	"runsc.dev/runsc/pkg/log"
	"runsc.dev/runsc/runsc/cgroup"
	"runsc.dev/runsc/runsc/config"
	"runsc.dev/runsc/runsc/control"
	"runsc.dev/runsc/runsc/sandbox"
	"runsc.dev/runsc/runsc/specutils"
)

// CreateArgs are the inputs of Create.
type CreateArgs struct {
	// ID is the new container's id.
	ID string
	// Bundle is the bundle directory, and Spec its config.json: nil, and
	// Create reads it once it has started the gofer (SpawnGofer).
	Bundle string
	Spec   *specs.Spec
	// PidFile, if set, receives the sandbox's PID, written last.
	PidFile string
	// ConsoleSocket is the unix socket that receives the pty master when
	// process.terminal is set.
	ConsoleSocket string
	// Attached is set by `run` in the foreground: with a terminal and no
	// console socket, the container uses the caller's own stdio.
	Attached bool
	// start is set by Run: the container starts as soon as it is created
	// (sandbox.Args.AutoStart) when no hook must run in between.
	start bool
	// Spawned, when set, is called once, as soon as the gofer is spawned
	// (right away when Spec is given), before any state exists: `run`
	// starts catching the signals it forwards there. os/signal's first
	// Notify starts a goroutine, and so a thread, which would compete
	// with the gofer's spawn; a signal before it kills runsc before it
	// has made anything (a gofer it spawned reads EOF and exits).
	Spawned func()
}

// cleanup runs rollback steps in reverse order unless released.
type cleanup struct{ fns []func() }

func (c *cleanup) add(f func()) { c.fns = append(c.fns, f) }
func (c *cleanup) release()     { c.fns = nil }
func (c *cleanup) run() {
	for i := len(c.fns) - 1; i >= 0; i-- {
		c.fns[i]()
	}
}

// Create creates the container: state directory, sandbox, gofer, and an
// init waiting for start. On any failure everything made so far is undone.
func Create(conf *config.Config, args CreateArgs) (_ *Container, retErr error) {
	if err := ValidateID(args.ID); err != nil {
		return nil, err
	}
	var cu cleanup
	defer func() {
		if retErr != nil {
			cu.run()
		}
	}()
	var early *sandbox.Gofer
	if args.Spec != nil && args.Spawned != nil {
		args.Spawned()
	}
	var ahead readAhead
	if args.Spec == nil {
		// The gofer starts before the spec is even read (SpawnGofer),
		// and the spec is read while it starts: SpawnGofer's thread waits
		// for the gofer's execve, and the other core is idle until then.
		ch := make(chan readAhead, 1)
		go func() { ch <- readSpecAhead(conf, args.Bundle) }()
		var err error
		early, err = sandbox.SpawnGofer(conf, args.ID)
		if args.Spawned != nil {
			args.Spawned()
		}
		ahead = <-ch
		if err != nil {
			return nil, err
		}
		if ahead.err != nil {
			early.Kill()
			return nil, ahead.err
		}
		args.Spec = ahead.spec
	}
	if err := redirectNamespaces(conf.RootDir, args.ID, args.Spec); err != nil {
		early.Kill()
		return nil, err
	}
	// The state directory and the cgroup are made on a goroutine while
	// the gofer starts (see sandbox.StartGofer) and is sent its boot
	// message (Gofer.Boot): both take about a millisecond, mostly in the
	// kernel, and the gofer needs the cgroup only to start init. Nothing
	// else touches args.Spec, which all read, until they are joined.
	gofer, err := early.ForSpec(conf, args.Spec, args.ID)
	if err != nil {
		return nil, err
	}
	// An early gofer gets an early sandbox too: as soon as the cgroup is
	// made with its limits, the goroutine sends the gofer the cgroup's
	// files (it is waiting for them) and then spawns the sandbox, which
	// sets up while create finishes.
	earlySandbox := gofer.CanBoot()
	type made struct {
		c   *Container
		l   *lock
		sb  *sandbox.Sandbox
		err error
	}
	ch := make(chan made, 1)
	// booted carries whether the early gofer got its boot message: the
	// goroutine then sends it the cgroup's files as soon as they exist,
	// the gofer's boot message having gone first on their socket.
	booted := make(chan bool, 1)
	go func() {
		c, l, err := newState(conf, args)
		var sb *sandbox.Sandbox
		if err == nil {
			err = c.makeCgroup(conf, args.Spec, ahead.host)
		}
		if err == nil && earlySandbox && <-booted {
			var files []*os.File
			if files, err = gofer.SendCgroup(c.Cgroup); err == nil {
				sb, err = sandbox.SpawnSandbox(conf, sandbox.Args{ID: c.ID, Bundle: c.Bundle, Cgroup: c.Cgroup, Gofer: gofer, CgroupFiles: files})
				if err != nil {
					closeFiles(files)
				}
			}
		}
		ch <- made{c, l, sb, err}
	}()
	autoStart := args.start && !hasCreateHooks(args.Spec)
	var boot *control.Message
	if err == nil {
		boot, err = bootMessage(args)
	}
	if err == nil && gofer.CanBoot() {
		// The gofer builds the rootfs while the cgroup is made: its boot
		// message goes now, the cgroup's files once they exist.
		err = gofer.Boot(conf, args.Spec, boot, autoStart)
	}
	booted <- err == nil && earlySandbox
	m := <-ch
	if boot != nil {
		defer closeFiles(boot.Files)
	}
	c := m.c
	if c != nil {
		// Removed last: cleanups run newest first.
		cu.add(func() { os.RemoveAll(c.dir) })
	}
	if m.l != nil {
		defer m.l.release()
	}
	if gofer != nil {
		// Idempotent: Start takes the gofer over and kills it itself on
		// failure.
		cu.add(gofer.Kill)
	}
	// Set only once makeCgroup made it, whatever failed after (the gofer
	// refusing the spec as its cgroup's files arrive, the sandbox's spawn).
	if c != nil && c.Cgroup != nil {
		cu.add(func() { c.Cgroup.Rollback() })
	}
	if m.sb != nil {
		// Killed before the cgroup's rollback: it is in it.
		cu.add(m.sb.Kill)
	}
	if m.err != nil {
		return nil, m.err
	}
	if err != nil {
		return nil, err
	}
	if err := c.addListener(boot); err != nil {
		return nil, err
	}
	end := log.Span("create/spawn")
	sb, err := sandbox.Start(conf, sandbox.Args{ID: c.ID, Bundle: c.Bundle, Spec: args.Spec, Boot: boot, Cgroup: c.Cgroup, Gofer: gofer, Sandbox: m.sb, AutoStart: autoStart})
	end()
	if err != nil {
		return nil, err
	}
	cu.add(sb.Kill)
	if !autoStart {
		defer sb.Conn.Close()
	}
	c.Sandbox, c.Gofer = sb.Proc, sb.Gofer
	// Saved before waiting, so a create killed from here on leaves PIDs
	// that delete can find.
	if err := c.save(); err != nil {
		return nil, err
	}

	end = log.Span("create/wait-ready")
	ready, err := sb.Conn.Recv()
	end()
	if err != nil {
		return nil, fmt.Errorf("waiting for sandbox: %w", sandboxExitError(sb, err))
	}
	if ready.Type == control.Error {
		return nil, fmt.Errorf("creating container: %w", ready.AsError())
	}
	if ready.Type != control.Ready {
		return nil, fmt.Errorf("creating container: unexpected %q from sandbox", ready.Type)
	}
	end = log.Span("create/finish")
	defer end()
	c.Init = specutils.Proc{PID: ready.PID, StartTime: ready.StartTime}
	if ready.StartTime == 0 {
		if c.Init, err = specutils.NewProc(ready.PID); err != nil {
			return nil, err
		}
	}
	if err := c.save(); err != nil {
		return nil, err
	}
	if h := args.Spec.Hooks; h != nil {
		// createContainer hooks run here too, from the runtime's
		// namespaces, once the container's namespaces and rootfs exist.
		st := c.State()
		st.Status = specs.StateCreating
		for _, hooks := range []struct {
			kind  string
			hooks []specs.Hook
		}{{"prestart", h.Prestart}, {"createRuntime", h.CreateRuntime}, {"createContainer", h.CreateContainer}} {
			if err := specutils.RunHooks(hooks.kind, hooks.hooks, st); err != nil {
				return nil, err
			}
		}
	}
	// The pid file is written last: containerd treats it as create done.
	if args.PidFile != "" {
		if err := WritePidFile(args.PidFile, c.Sandbox.PID); err != nil {
			return nil, err
		}
	}
	c.Status = Created
	c.sandboxCmd = sb
	c.autoStarted = autoStart
	log.Mark("create/done")
	cu.release()
	log.Debugf("created container %s", c.describe())
	return c, nil
}

// newState makes the container's state directory, locked: its mkdir is
// the uniqueness check (of two creates of one id, one fails here). c is
// nil unless the directory was made.
func newState(conf *config.Config, args CreateArgs) (c *Container, l *lock, err error) {
	defer log.Span("create/state")()
	if err := os.MkdirAll(conf.RootDir, 0o711); err != nil {
		return nil, nil, fmt.Errorf("creating root directory: %w", err)
	}
	dir := stateDir(conf.RootDir, args.ID)
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, nil, fmt.Errorf("container with id %q %w", args.ID, ErrExist)
		}
		return nil, nil, fmt.Errorf("creating state directory: %w", err)
	}
	c = &Container{
		ID:     args.ID,
		Bundle: args.Bundle,
		Spec:   args.Spec,
		// UTC, as runc records it: no time zone database to load.
		Created: time.Now().UTC(),
		Owner:   os.Getuid(),
		dir:     dir,
	}
	if c.dirID, err = dirID(dir); err != nil {
		return c, nil, fmt.Errorf("creating state directory: %w", err)
	}
	if l, err = takeLock(dir, true, true); err != nil {
		return c, nil, err
	}
	return c, l, nil
}

// makeCgroup makes the container's cgroup with its limits (none when
// rootless), saving container.json first: a create killed from then on
// leaves a state naming the cgroup, which delete removes (and whose
// processes it kills). The limits are written before init and the sandbox
// are born in it, and before the gofer (started early, outside it) may
// start init there: a v1 device list is rewritten as deny-all then
// allows, and init opening /dev/null in between fails (seen at 10 creates
// at a time). host is the host's cgroups as readSpecAhead found them, or
// nil to detect them now. On failure, the caller rolls back a c.Cgroup
// left set.
func (c *Container) makeCgroup(conf *config.Config, spec *specs.Spec, host *cgroup.Host) error {
	defer log.Span("create/cgroup")()
	if !conf.Rootless {
		var res *specs.LinuxResources
		var path string
		if spec.Linux != nil {
			path = spec.Linux.CgroupsPath
			// A copy: the spec keeps the config's own device rules.
			r := specs.LinuxResources{}
			if spec.Linux.Resources != nil {
				r = *spec.Linux.Resources
			}
			r.Devices = deviceRules(spec)
			res = &r
		}
		var cg *cgroup.Cgroup
		var err error
		if host != nil {
			cg, err = cgroup.NewOnHost(host, res, path, c.ID, conf.SystemdCgroup)
		} else {
			cg, err = cgroup.New(res, path, c.ID, conf.SystemdCgroup)
		}
		if err != nil {
			return err
		}
		c.Cgroup = cg
	}
	if err := c.saveConfig(); err != nil {
		c.Cgroup = nil // Nothing made yet: nothing to roll back.
		return err
	}
	if c.Cgroup == nil {
		return nil
	}
	if err := c.Cgroup.Prepare(); err != nil {
		// Prepare removed what it made.
		c.Cgroup = nil
		return err
	}
	return nil
}

// readAhead is what Create reads while the gofer starts.
type readAhead struct {
	spec *specs.Spec
	err  error
	// host is the host's cgroups, nil when rootless or undetected (New
	// then detects them again, and reports the error).
	host *cgroup.Host
}

// readSpecAhead reads the bundle's spec and then, for a container that
// gets a cgroup, detects the host's cgroups (/proc/self/mountinfo and
// /proc/self/cgroup), which makeCgroup needs first and which depends on
// no spec.
func readSpecAhead(conf *config.Config, bundle string) readAhead {
	spec, err := specutils.ReadSpec(bundle)
	if err != nil {
		return readAhead{err: err}
	}
	r := readAhead{spec: spec}
	if !conf.Rootless {
		r.host, _ = cgroup.DetectHost(cgroup.HostConfig{})
	}
	return r
}

// WritePidFile writes pid to path atomically (a temp file renamed
// into place): the shim never reads a partial pid.
func WritePidFile(path string, pid int) error {
	// Atomic by rename; not fsynced: no process it names outlives a crash
	// of the machine.
	if err := writeFileAtomic(path, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return fmt.Errorf("writing pid file: %w", err)
	}
	return nil
}

// sandboxExitError explains a sandbox that went away during create.
func sandboxExitError(sb *sandbox.Sandbox, err error) error {
	if ws, werr := sb.Process.Wait(); werr == nil {
		return fmt.Errorf("sandbox exited (%s) before the container was created", describeExit(ws))
	}
	return err
}

// bootMessage assembles the files of the sandbox's and the gofer's boot
// messages (sandbox.Boot* indexes): the spec as a sealed memfd, the control
// listener, stdio and the console socket.
func bootMessage(args CreateArgs) (_ *control.Message, retErr error) {
	m := &control.Message{Type: control.Boot, ID: args.ID, Bundle: args.Bundle}
	defer func() {
		if retErr != nil {
			closeFiles(m.Files)
		}
	}()
	specFile, err := specutils.SealedSpecFile(args.Spec)
	if err != nil {
		return nil, err
	}
	// The control listener comes later (addListener).
	m.Files = append(m.Files, specFile, nil)
	for _, f := range []*os.File{os.Stdin, os.Stdout, os.Stderr} {
		m.Files = append(m.Files, dupFile(f))
	}
	if args.Spec.Process.Terminal {
		switch {
		case args.ConsoleSocket != "":
			conn, err := dialConsole(args.ConsoleSocket)
			if err != nil {
				return nil, err
			}
			m.Files = append(m.Files, conn)
			m.Terminal = true
		case !args.Attached:
			return nil, fmt.Errorf("process.terminal is set but no --console-socket was given: cannot allocate a tty for a detached container")
		}
	}
	return m, nil
}

// addListener puts the control socket's listener, in the state
// directory, into the boot message.
func (c *Container) addListener(m *control.Message) error {
	l, err := control.Listen(c.socketPath())
	if err != nil {
		return err
	}
	lf, err := l.File("listener")
	l.Close()
	if err != nil {
		return fmt.Errorf("control listener: %w", err)
	}
	m.Files[sandbox.BootListener] = lf
	return nil
}

// closeFiles closes files, skipping nils.
func closeFiles(files []*os.File) {
	for _, f := range files {
		if f != nil {
			f.Close()
		}
	}
}

// dupFile duplicates f so the boot message owns its own copy.
func dupFile(f *os.File) *os.File {
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		null, _ := os.Open(os.DevNull)
		return null
	}
	return os.NewFile(uintptr(fd), f.Name())
}

// dialConsole connects to the console socket; it must be a unix socket.
func dialConsole(path string) (*os.File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("console socket: %w", err)
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return nil, fmt.Errorf("console socket %q is not a unix socket", path)
	}
	conn, err := control.Dial(path)
	if err != nil {
		return nil, fmt.Errorf("console socket: %w", err)
	}
	defer conn.Close()
	return conn.File()
}

// Start makes a created container's init execve the user's process.
func Start(root, id string) error {
	if err := ValidateID(id); err != nil {
		return err
	}
	dir := stateDir(root, id)
	l, err := takeLock(dir, true, false)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("container %q %w", id, ErrNotExist)
	}
	if err != nil {
		return err
	}
	defer l.release()
	end := log.Span("start/load")
	c, err := loadLocked(dir, id)
	end()
	if err != nil {
		return err
	}
	if c.Status != Created {
		return fmt.Errorf("cannot start container %q: it is %s, not created", id, c.Status)
	}
	conn, err := control.Dial(c.socketPath())
	if err != nil {
		return fmt.Errorf("starting container %q: %w", id, err)
	}
	defer conn.Close()
	end = log.Span("start/call")
	_, err = conn.Call(&control.Message{Type: control.Start})
	end()
	if err != nil {
		return fmt.Errorf("starting container %q: %w", id, err)
	}
	return c.markStarted()
}

// hasCreateHooks reports whether spec has hooks that run between create
// and start (see Create): a container with them is never started early.
func hasCreateHooks(spec *specs.Spec) bool {
	h := spec.Hooks
	return h != nil && len(h.Prestart)+len(h.CreateRuntime)+len(h.CreateContainer) > 0
}

// awaitStart waits for the start of a container that Create started
// itself (autoStarted): the sandbox reports it on the boot socket, as its
// answer to a Start would be.
func (c *Container) awaitStart() error {
	sb := c.sandboxCmd
	end := log.Span("start/await")
	resp, err := sb.Conn.Recv()
	end()
	sb.Conn.Close()
	if err != nil {
		return fmt.Errorf("starting container %q: %w", c.ID, sandboxExitError(sb, err))
	}
	if resp.Type == control.Error {
		return fmt.Errorf("starting container %q: %w", c.ID, resp.AsError())
	}
	l, err := takeLock(c.dir, true, false)
	if err != nil {
		return err
	}
	defer l.release()
	return c.markStarted()
}

// markStarted records a started container (under its lock) and runs its
// poststart hooks.
func (c *Container) markStarted() error {
	c.Started = true
	if err := c.save(); err != nil {
		return err
	}
	if c.Spec != nil && c.Spec.Hooks != nil {
		st := c.State()
		st.Status = specs.StateRunning
		// The spec: a failing poststart hook is logged, and start goes on.
		if err := specutils.RunHooks("poststart", c.Spec.Hooks.Poststart, st); err != nil {
			log.Warningf("%v", err)
		}
	}
	return nil
}

// Wait waits for the container to exit and returns its status: the exit
// code, or 128+N after signal N.
func (c *Container) Wait() (int, error) {
	if c.sandboxCmd != nil {
		// The caller started the sandbox: it is our child, and its exit
		// status is the container's.
		ws, err := c.sandboxCmd.Process.Wait()
		if err != nil {
			return 0, fmt.Errorf("waiting for container %q: %w", c.ID, err)
		}
		return child.ExitCode(ws), nil
	}
	if c.Status != Stopped {
		if conn, err := control.Dial(c.socketPath()); err == nil {
			defer conn.Close()
			resp, err := conn.Call(&control.Message{Type: control.Wait})
			if err == nil {
				return resp.Status, nil
			}
		}
	}
	if st, ok := readExitStatus(c.dir); ok {
		return st, nil
	}
	// The container has exited, and its sandbox, which records the
	// status before it exits, may not have heard yet.
	waitGone(5*time.Second, c.Sandbox)
	if st, ok := readExitStatus(c.dir); ok {
		return st, nil
	}
	return 0, fmt.Errorf("waiting for container %q: its exit status is unknown", c.ID)
}

// describeExit says how a process ended, as os.ProcessState does.
func describeExit(ws unix.WaitStatus) string {
	if ws.Signaled() {
		return "signal: " + ws.Signal().String()
	}
	return "exit status " + strconv.Itoa(ws.ExitStatus())
}
