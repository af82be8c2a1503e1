package main

import (
	"github.com/google/subcommands"
)

// ociCommands are the runc-compatible commands.
func ociCommands() []subcommands.Command {
	return nil
}

// internalCommands run inside the sandbox.
func internalCommands() []subcommands.Command {
	return nil
}
