package cmd

import (
	"context"
	"flag"

	"github.com/google/subcommands"
)

// Unsupported is a runc command runsc does not implement; it says so
// clearly (exit 1) instead of printing usage, so callers such as
// containerd report a plain error.
type Unsupported struct {
	// name is the command's name.
	name string
}

// NewCheckpoint returns the checkpoint command (not supported).
func NewCheckpoint() *Unsupported { return &Unsupported{name: "checkpoint"} }

// NewRestore returns the restore command (not supported).
func NewRestore() *Unsupported { return &Unsupported{name: "restore"} }

// Name implements subcommands.Command.
func (u *Unsupported) Name() string { return u.name }

// Synopsis implements subcommands.Command.
func (u *Unsupported) Synopsis() string { return u.name + " (not supported by runsc)" }

// Usage implements subcommands.Command.
func (u *Unsupported) Usage() string { return u.name + " - not supported by runsc\n" }

// SetFlags implements subcommands.Command. The flags runc takes are
// accepted so that the error is about the command, not a flag.
func (u *Unsupported) SetFlags(f *flag.FlagSet) {
	for _, s := range []string{"image-path", "work-path", "parent-path", "page-server", "manage-cgroups-mode", "bundle", "b", "pid-file", "console-socket"} {
		f.String(s, "", "ignored.")
	}
	for _, b := range []string{"leave-running", "tcp-established", "ext-unix-sk", "shell-job", "lazy-pages", "file-locks", "pre-dump", "auto-dedup", "detach", "d", "no-subreaper", "no-pivot"} {
		f.Bool(b, false, "ignored.")
	}
}

// Execute implements subcommands.Command.
func (u *Unsupported) Execute(context.Context, *flag.FlagSet, ...any) subcommands.ExitStatus {
	return Errorf("%s is not supported by runsc", u.name)
}
