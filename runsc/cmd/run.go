package cmd

import (
	"context"
	"flag"
	"os"
	"os/signal"

	"github.com/google/subcommands"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/runsc/container"
)

// Run creates and starts a container, waits for it, and deletes it.
type Run struct {
	// bundle is the bundle directory (default: the current directory).
	bundle string
	// pidFile receives the sandbox's PID.
	pidFile string
	// consoleSocket receives the pty master when process.terminal is set.
	consoleSocket string
	// detach returns once the container has started, leaving it running.
	detach bool
}

// Name implements subcommands.Command.
func (*Run) Name() string { return "run" }

// Synopsis implements subcommands.Command.
func (*Run) Synopsis() string { return "create and run a container" }

// Usage implements subcommands.Command.
func (*Run) Usage() string {
	return "run [--bundle <dir>] [--pid-file <file>] [--console-socket <path>] [--detach] <container id>\n"
}

// SetFlags implements subcommands.Command.
func (r *Run) SetFlags(f *flag.FlagSet) {
	bundleFlags(f, &r.bundle)
	f.StringVar(&r.pidFile, "pid-file", "", "file to write the process id of the container's sandbox to.")
	f.StringVar(&r.consoleSocket, "console-socket", "", "unix socket that receives the pty master of a terminal container.")
	f.BoolVar(&r.detach, "detach", false, "detach from the container's process.")
	f.BoolVar(&r.detach, "d", false, "shorthand for --detach.")
}

// Execute implements subcommands.Command.
func (r *Run) Execute(_ context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
	if f.NArg() != 1 {
		return usageError(r, "run needs exactly one container id")
	}
	conf := confFrom(args)
	bundle, err := loadBundle(r.bundle)
	if err != nil {
		return Errorf("%v", err)
	}
	sigs := make(chan os.Signal, 16)
	status, err := container.Run(conf, container.CreateArgs{
		ID: f.Arg(0), Bundle: bundle, PidFile: r.pidFile,
		ConsoleSocket: r.consoleSocket, Attached: !r.detach,
		Spawned: func() { forwardSignals(sigs) },
	}, r.detach, sigs)
	if err != nil {
		return Errorf("%v", err)
	}
	return subcommands.ExitStatus(status)
}

// forwardSignals delivers on ch the signals runsc receives that `run`
// forwards to the container, as runc does.
func forwardSignals(ch chan<- os.Signal) {
	signal.Notify(ch, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH)
}
