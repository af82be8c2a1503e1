package cmd

import (
	"context"
	"flag"
	"path/filepath"

	"github.com/google/subcommands"
	"runsc.dev/runsc/runsc/container"
)

// Create creates a container from a bundle; `start` runs its process.
type Create struct {
	// bundle is the bundle directory (default: the current directory).
	bundle string
	// pidFile receives the sandbox's PID, written last.
	pidFile string
	// consoleSocket receives the pty master when process.terminal is set.
	consoleSocket string
}

// Name implements subcommands.Command.
func (*Create) Name() string { return "create" }

// Synopsis implements subcommands.Command.
func (*Create) Synopsis() string { return "create a container" }

// Usage implements subcommands.Command.
func (*Create) Usage() string {
	return "create [--bundle <dir>] [--pid-file <file>] [--console-socket <path>] <container id>\n"
}

// SetFlags implements subcommands.Command.
func (c *Create) SetFlags(f *flag.FlagSet) {
	bundleFlags(f, &c.bundle)
	f.StringVar(&c.pidFile, "pid-file", "", "file to write the process id of the container's sandbox to.")
	f.StringVar(&c.consoleSocket, "console-socket", "", "unix socket that receives the pty master of a terminal container.")
}

// bundleFlags registers --bundle and its shorthand -b.
func bundleFlags(f *flag.FlagSet, bundle *string) {
	f.StringVar(bundle, "bundle", "", "path to the bundle directory (default: current directory).")
	f.StringVar(bundle, "b", "", "path to the bundle directory (shorthand).")
}

// loadBundle reads and validates the bundle's spec.
func loadBundle(bundle string) (string, error) {
	if bundle == "" {
		bundle = "."
	}
	return filepath.Abs(bundle)
}

// Execute implements subcommands.Command.
func (c *Create) Execute(_ context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
	if f.NArg() != 1 {
		return usageError(c, "create needs exactly one container id, got %d arguments", f.NArg())
	}
	conf := confFrom(args)
	bundle, err := loadBundle(c.bundle)
	if err != nil {
		return Errorf("%v", err)
	}
	if _, err := container.Create(conf, container.CreateArgs{
		ID: f.Arg(0), Bundle: bundle, PidFile: c.pidFile, ConsoleSocket: c.consoleSocket,
	}); err != nil {
		return Errorf("%v", err)
	}
	return subcommands.ExitSuccess
}
