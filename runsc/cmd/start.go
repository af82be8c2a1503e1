package cmd

import (
	"context"
	"flag"

	"github.com/google/subcommands"
	"runsc.dev/runsc/runsc/container"
)

// Start starts a created container's process.
type Start struct{}

// Name implements subcommands.Command.
func (*Start) Name() string { return "start" }

// Synopsis implements subcommands.Command.
func (*Start) Synopsis() string { return "start a created container" }

// Usage implements subcommands.Command.
func (*Start) Usage() string { return "start <container id>\n" }

// SetFlags implements subcommands.Command.
func (*Start) SetFlags(*flag.FlagSet) {}

// Execute implements subcommands.Command.
func (s *Start) Execute(_ context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
	if f.NArg() != 1 {
		return usageError(s, "start needs exactly one container id")
	}
	if err := container.Start(confFrom(args).RootDir, f.Arg(0)); err != nil {
		return Errorf("%v", err)
	}
	return subcommands.ExitSuccess
}
