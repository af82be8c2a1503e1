package cmd

import (
	"context"
	"encoding/json"
	"flag"
	"os"

	"github.com/google/subcommands"
	"runsc.dev/runsc/runsc/container"
)

// State prints a container's OCI state as JSON.
type State struct{}

// Name implements subcommands.Command.
func (*State) Name() string { return "state" }

// Synopsis implements subcommands.Command.
func (*State) Synopsis() string { return "output the state of a container" }

// Usage implements subcommands.Command.
func (*State) Usage() string { return "state <container id>\n" }

// SetFlags implements subcommands.Command.
func (*State) SetFlags(*flag.FlagSet) {}

// Execute implements subcommands.Command.
func (s *State) Execute(_ context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
	if f.NArg() != 1 {
		return usageError(s, "state needs exactly one container id")
	}
	c, err := container.Load(confFrom(args).RootDir, f.Arg(0))
	if err != nil {
		return Errorf("%v", err)
	}
	b, err := json.MarshalIndent(c.State(), "", "  ")
	if err != nil {
		return Errorf("encoding state: %v", err)
	}
	os.Stdout.Write(append(b, '\n'))
	return subcommands.ExitSuccess
}
