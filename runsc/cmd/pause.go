package cmd

import (
	"context"
	"flag"

	"github.com/google/subcommands"
	"runsc.dev/runsc/runsc/container"
)

// Pause freezes every process of a container (cgroup freezer).
type Pause struct{}

// Name implements subcommands.Command.
func (*Pause) Name() string { return "pause" }

// Synopsis implements subcommands.Command.
func (*Pause) Synopsis() string { return "pause all processes of a container" }

// Usage implements subcommands.Command.
func (*Pause) Usage() string { return "pause <container id>\n" }

// SetFlags implements subcommands.Command.
func (*Pause) SetFlags(*flag.FlagSet) {}

// Execute implements subcommands.Command.
func (p *Pause) Execute(_ context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
	if f.NArg() != 1 {
		return usageError(p, "pause needs exactly one container id")
	}
	if err := container.Pause(confFrom(args).RootDir, f.Arg(0)); err != nil {
		return Errorf("%v", err)
	}
	return subcommands.ExitSuccess
}

// Resume thaws a paused container.
type Resume struct{}

// Name implements subcommands.Command.
func (*Resume) Name() string { return "resume" }

// Synopsis implements subcommands.Command.
func (*Resume) Synopsis() string { return "resume all processes of a paused container" }

// Usage implements subcommands.Command.
func (*Resume) Usage() string { return "resume <container id>\n" }

// SetFlags implements subcommands.Command.
func (*Resume) SetFlags(*flag.FlagSet) {}

// Execute implements subcommands.Command.
func (r *Resume) Execute(_ context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
	if f.NArg() != 1 {
		return usageError(r, "resume needs exactly one container id")
	}
	if err := container.Resume(confFrom(args).RootDir, f.Arg(0)); err != nil {
		return Errorf("%v", err)
	}
	return subcommands.ExitSuccess
}
