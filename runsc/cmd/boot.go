package cmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/google/subcommands"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/pkg/log"
	"runsc.dev/runsc/pkg/sysfile"
	"runsc.dev/runsc/runsc/boot"
	"runsc.dev/runsc/runsc/config"
	"runsc.dev/runsc/runsc/control"
	"runsc.dev/runsc/runsc/sandbox"
)

// Boot is the sandbox process (runsc-sandbox). Internal: started by create.
type Boot struct {
	// bundle is the container's bundle directory.
	bundle string
	// setupRoot makes the sandbox build its minimal chroot and drop its
	// privileges (as root, becoming nobody; rootless, re-executing itself
	// without it and without capabilities).
	setupRoot bool
	// inRoot says the sandbox was started in its minimal chroot, as
	// nobody, by a root create (sandbox.spawnInRoot): it only takes its
	// files and serves.
	inRoot bool
}

// Name implements subcommands.Command.
func (*Boot) Name() string { return "boot" }

// Synopsis implements subcommands.Command.
func (*Boot) Synopsis() string { return "internal: run the sandbox of a container" }

// Usage implements subcommands.Command.
func (*Boot) Usage() string {
	return "boot [--setup-root | --in-root] --bundle <dir> <container id>\n"
}

// SetFlags implements subcommands.Command.
func (b *Boot) SetFlags(f *flag.FlagSet) {
	f.StringVar(&b.bundle, "bundle", "", "bundle directory.")
	f.BoolVar(&b.setupRoot, "setup-root", false, "build the minimal chroot and drop privileges.")
	f.BoolVar(&b.inRoot, "in-root", false, "started in the minimal chroot as nobody: serve.")
}

// bootFD is where the sandbox's one control socket arrives.
const bootFD = 3

// Execute implements subcommands.Command.
func (b *Boot) Execute(_ context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
	conf := confFrom(args)
	if f.NArg() != 1 {
		return usageError(b, "boot needs exactly one container id")
	}
	// Every step below runs on this one thread: a rootless sandbox's
	// securebits and capability drops change only the calling thread,
	// which must be the one that re-executes it.
	runtime.LockOSThread()
	conn, err := control.FileConn(os.NewFile(bootFD, "boot"))
	if err != nil {
		return Errorf("sandbox: %v", err)
	}
	msg, err := conn.Recv()
	if err != nil {
		return Errorf("sandbox: reading boot message: %v", err)
	}
	log.Mark("sandbox/boot")
	if b.inRoot {
		if err := b.serveInRoot(conf, conn, msg); err != nil {
			conn.Send(control.ErrorMessage(err))
			return Errorf("sandbox: %v", err)
		}
		return subcommands.ExitSuccess // Not reached.
	}
	if b.setupRoot || conf.TestOnlySkipChroot {
		err = b.setUp(conf, f.Arg(0), conn, msg)
		// Reached only on failure (or with the test-only flag).
		if err != nil {
			conn.Send(control.ErrorMessage(err))
			return Errorf("sandbox: %v", err)
		}
		return subcommands.ExitSuccess
	}
	return b.serve(conf, conn, msg)
}

// setUp is the sandbox's privileged phase: it builds the chroot and drops
// its privileges (re-executing itself when rootless), then serves. Create
// hears the gofer's Ready only once that is done (Server.WaitReady).
//
// It needs only its first boot message, first (the runsc binary to bind
// into the chroot), which create sends as it starts the sandbox: it sets
// up while create finishes the container, and reads the second, the
// files it serves with (boot.Boot*), once it is nobody.
func (b *Boot) setUp(conf *config.Config, id string, create *control.Conn, first *control.Message) error {
	// The exit-status file is opened now, as root: the sandbox writes the
	// container's status into it once it has become nobody.
	exitFile, err := sysfile.Open(filepath.Join(conf.RootDir, id, "exit-status"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("opening exit status file: %w", err)
	}
	// The serving phase cannot open paths on the host: it gets its debug
	// log already open, opened now, before the chroot covers /tmp.
	var debugLog *os.File
	if conf.DebugLog != "" {
		if debugLog, err = log.OpenLogFile(log.DebugLogPath(conf.DebugLog, "sandbox", time.Now())); err != nil {
			return err
		}
	}
	handoff := func() (*control.Message, error) { return handoff(create, exitFile, debugLog) }
	if conf.TestOnlySkipChroot {
		h, err := handoff()
		if err != nil {
			return err
		}
		b.serveHandoff(conf, h)
		return nil
	}
	chroot := os.TempDir()
	exe, err := chrootBinary(first.File(sandbox.Binary))
	if err != nil {
		return err
	}
	defer exe.Close()
	// Nothing we mount may propagate back to the host.
	if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("making / a slave mount: %w", err)
	}
	end := log.Span("sandbox/chroot")
	if err := sandbox.PrepareChroot(chroot, exe); err != nil {
		return err
	}
	if err := sandbox.PivotIntoChroot(chroot); err != nil {
		return err
	}
	end()
	if !conf.Rootless {
		// Becoming nobody drops every capability, on every thread: no
		// re-execution needed (the binary we run from is read-only
		// already), which would cost a second Go start-up on the path to
		// created.
		exe.Close()
		end := log.Span("sandbox/nobody")
		err := dropToNobody()
		end()
		if err != nil {
			return err
		}
		h, err := handoff()
		if err != nil {
			return err
		}
		create.Close()
		b.serveHandoff(conf, h)
		return nil
	}
	// The handed-off files travel to the re-executed sandbox as one
	// message queued on a socket that becomes its fd 3.
	h, err := handoff()
	if err != nil {
		return err
	}
	self, peer, err := control.Pair()
	if err != nil {
		return err
	}
	if err := self.Send(h); err != nil {
		return err
	}
	if err := unix.Dup3(int(peer.Fd()), bootFD, 0); err != nil {
		return fmt.Errorf("dup boot socket: %w", err)
	}
	var reexec []string
	for _, a := range os.Args[1:] {
		if a != "--setup-root" && a != "-setup-root" {
			reexec = append(reexec, a)
		}
	}
	// A rootless sandbox's user namespace maps only the caller: it stays
	// its root, and re-executes without capabilities, which execve
	// applies to the one thread left (the securebits and capability sets
	// it sets are per thread).
	return boot.CallSelfWithoutCaps(reexec)
}

// handoff reads the second boot message from create and builds what the
// serving phase gets, with the exit-status file and the debug log (nil
// without --debug-log).
func handoff(create *control.Conn, exitFile, debugLog *os.File) (*control.Message, error) {
	msg, err := create.Recv()
	if err != nil {
		return nil, fmt.Errorf("reading the second boot message: %w", err)
	}
	if msg.Type != control.Boot || len(msg.Files) <= boot.BootInit {
		return nil, fmt.Errorf("bad second boot message %q with %d files", msg.Type, len(msg.Files))
	}
	h := &control.Message{Type: control.Boot, GoferPID: msg.GoferPID, Start: msg.Start}
	h.Files = make([]*os.File, boot.HandoffExitFile+1)
	if h.Files[boot.HandoffCreate], err = create.File(); err != nil {
		return nil, err
	}
	h.Files[boot.HandoffListener] = msg.Files[boot.BootListener]
	h.Files[boot.HandoffGofer] = msg.Files[boot.BootGofer]
	h.Files[boot.HandoffInit] = msg.Files[boot.BootInit]
	h.Files[boot.HandoffExitFile] = exitFile
	if debugLog != nil {
		h.Files = append(h.Files, debugLog)
	}
	return h, nil
}

// serveInRoot serves as a sandbox that a root create started in its
// minimal chroot, as nobody: its first boot message (first) carries the
// files setUp would have opened, and it goes on as setUp does once it is
// nobody. It returns only on failure.
func (b *Boot) serveInRoot(conf *config.Config, create *control.Conn, first *control.Message) error {
	exitFile := first.File(sandbox.ExitStatusFile)
	if exitFile == nil {
		return errors.New("the first boot message has no exit-status file")
	}
	h, err := handoff(create, exitFile, first.File(sandbox.DebugLogFile))
	if err != nil {
		return err
	}
	create.Close()
	b.serveHandoff(conf, h)
	return nil
}

// serve is the sandbox's unprivileged phase, after the re-exec.
func (b *Boot) serve(conf *config.Config, conn *control.Conn, handoff *control.Message) subcommands.ExitStatus {
	conn.Close()
	if handoff.Type != control.Boot {
		return Errorf("sandbox: unexpected %q handoff", handoff.Type)
	}
	b.serveHandoff(conf, handoff)
	return subcommands.ExitSuccess // Not reached.
}

func (b *Boot) serveHandoff(conf *config.Config, handoff *control.Message) {
	if len(handoff.Files) <= boot.HandoffExitFile {
		Errorf("sandbox: handoff has %d files", len(handoff.Files))
		os.Exit(1)
	}
	if len(handoff.Files) > boot.HandoffDebugLog {
		log.SetEmitter(log.TextEmitter{W: &log.Writer{W: handoff.Files[boot.HandoffDebugLog]}})
	}
	create, err := control.FileConn(handoff.Files[boot.HandoffCreate])
	if err != nil {
		Errorf("sandbox: %v", err)
		os.Exit(1)
	}
	fail := func(err error) {
		create.Send(control.ErrorMessage(err))
		Errorf("sandbox: %v", err)
		os.Exit(1)
	}
	if !conf.TestOnlySkipChroot {
		end := log.Span("sandbox/seccomp")
		err := boot.InstallSandboxFilter()
		end()
		if err != nil {
			fail(err)
		}
	}
	srv, err := boot.NewServer(handoff, 0)
	if err != nil {
		fail(err)
	}
	// Every thread is alike from here on (one root, nobody, the filter
	// synced to all): the serving goroutine needs no thread of its own,
	// and one locked to its thread hands the P over to another thread
	// each time it blocks, and is handed it back each time it wakes.
	runtime.UnlockOSThread()
	log.Mark("sandbox/serving")
	if err := srv.WaitReady(create); err != nil {
		log.Warningf("sandbox: %v", err)
		os.Exit(1)
	}
	status := srv.Serve()
	log.Debugf("container exited with status %d", status)
	os.Exit(status)
}
