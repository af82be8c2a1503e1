package main

import (
	"github.com/google/subcommands"
	"runsc.dev/runsc/runsc/cmd"
)

// ociCommands are the runc-compatible commands.
func ociCommands() []subcommands.Command {
	return []subcommands.Command{
		new(cmd.Create), new(cmd.Start), new(cmd.Run), new(cmd.State),
		new(cmd.Kill), new(cmd.Wait), new(cmd.Delete), new(cmd.List),
		new(cmd.Exec), new(cmd.PS), new(cmd.Pause), new(cmd.Resume), new(cmd.Update),
		new(cmd.Events), new(cmd.Features), cmd.NewCheckpoint(), cmd.NewRestore(),
	}
}

// internalCommands run inside the sandbox.
func internalCommands() []subcommands.Command {
	return []subcommands.Command{new(cmd.Boot), new(cmd.Gofer), new(cmd.Init)}
}
