package cmd

import (
	"context"
	"errors"
	"flag"

	"github.com/google/subcommands"
	"runsc.dev/runsc/runsc/container"
)

// Delete removes containers and everything they hold.
type Delete struct {
	// force kills a running container first; a missing one is no error.
	force bool
}

// Name implements subcommands.Command.
func (*Delete) Name() string { return "delete" }

// Synopsis implements subcommands.Command.
func (*Delete) Synopsis() string { return "delete resources held by a container" }

// Usage implements subcommands.Command.
func (*Delete) Usage() string { return "delete [--force] <container id> [<container id>...]\n" }

// SetFlags implements subcommands.Command.
func (d *Delete) SetFlags(f *flag.FlagSet) {
	f.BoolVar(&d.force, "force", false, "kill the container if it is running; succeed if it does not exist.")
	f.BoolVar(&d.force, "f", false, "shorthand for --force.")
}

// Execute implements subcommands.Command.
func (d *Delete) Execute(_ context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
	if f.NArg() < 1 {
		return usageError(d, "delete needs at least one container id")
	}
	root := confFrom(args).RootDir
	status := subcommands.ExitSuccess
	for _, id := range f.Args() {
		c, err := container.Load(root, id)
		if err == nil {
			err = c.Destroy(d.force)
		}
		if err != nil && !(d.force && errors.Is(err, container.ErrNotExist)) {
			status = Errorf("%v", err)
		}
	}
	return status
}
