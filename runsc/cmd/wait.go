package cmd

import (
	"context"
	"encoding/json"
	"flag"
	"os"

	"github.com/google/subcommands"
	"runsc.dev/runsc/runsc/container"
)

// Wait waits for a container to exit and prints its status.
type Wait struct{}

// Name implements subcommands.Command.
func (*Wait) Name() string { return "wait" }

// Synopsis implements subcommands.Command.
func (*Wait) Synopsis() string { return "wait for a container to exit" }

// Usage implements subcommands.Command.
func (*Wait) Usage() string {
	return "wait <container id> - prints {\"id\":...,\"exitStatus\":N} and exits with N\n"
}

// SetFlags implements subcommands.Command.
func (*Wait) SetFlags(*flag.FlagSet) {}

// Execute implements subcommands.Command.
func (w *Wait) Execute(_ context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
	if f.NArg() != 1 {
		return usageError(w, "wait needs exactly one container id")
	}
	c, err := container.Load(confFrom(args).RootDir, f.Arg(0))
	if err != nil {
		return Errorf("%v", err)
	}
	status, err := c.Wait()
	if err != nil {
		return Errorf("%v", err)
	}
	json.NewEncoder(os.Stdout).Encode(struct {
		ID         string `json:"id"`
		ExitStatus int    `json:"exitStatus"`
	}{c.ID, status})
	return subcommands.ExitStatus(status)
}
