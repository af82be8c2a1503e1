package cmd

import (
	"context"
	"flag"
	"os"

	"github.com/google/subcommands"
	"runsc.dev/runsc/runsc/control"
	"runsc.dev/runsc/runsc/gofer"
)

// Gofer is the container's agent (runsc-gofer). Internal: started by the
// sandbox.
type Gofer struct{}

// Name implements subcommands.Command.
func (*Gofer) Name() string { return "gofer" }

// Synopsis implements subcommands.Command.
func (*Gofer) Synopsis() string { return "internal: run the agent of a container" }

// Usage implements subcommands.Command.
func (*Gofer) Usage() string { return "gofer <container id>\n" }

// SetFlags implements subcommands.Command.
func (*Gofer) SetFlags(*flag.FlagSet) {}

// Execute implements subcommands.Command.
func (g *Gofer) Execute(_ context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
	conn, err := control.FileConn(os.NewFile(bootFD, "boot"))
	if err != nil {
		return Errorf("gofer: %v", err)
	}
	if err := gofer.Main(confFrom(args), conn); err != nil {
		return Errorf("gofer: %v", err)
	}
	return subcommands.ExitSuccess
}

// Init is the container's init before it execs the user's process
// (runsc init), or with --exec the stage that starts an exec'd process.
// Internal: started by the gofer.
type Init struct {
	// exec selects the exec stage.
	exec bool
}

// Name implements subcommands.Command.
func (*Init) Name() string { return "init" }

// Synopsis implements subcommands.Command.
func (*Init) Synopsis() string { return "internal: set up and start a container's process" }

// Usage implements subcommands.Command.
func (*Init) Usage() string { return "init [--exec]\n" }

// SetFlags implements subcommands.Command.
func (i *Init) SetFlags(f *flag.FlagSet) {
	f.BoolVar(&i.exec, "exec", false, "start an exec'd process instead of the container's init.")
}

// Execute implements subcommands.Command.
func (i *Init) Execute(_ context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
	conn, err := control.FileConn(os.NewFile(bootFD, "boot"))
	if err != nil {
		return Errorf("init: %v", err)
	}
	// InitMain and ExecMain return only on failure; they have told the
	// gofer why.
	if i.exec {
		return Errorf("exec: %v", gofer.ExecMain(conn))
	}
	return Errorf("init: %v", gofer.InitMain(conn))
}
