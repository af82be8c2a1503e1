package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/subcommands"
	"runsc.dev/runsc/runsc/specutils"
)

// Spec writes a default config.json into a bundle, as `runc spec` does.
type Spec struct {
	// bundle is the directory to write config.json into.
	bundle string
	// rootless writes a spec for an unprivileged user (a user namespace
	// mapping the caller to root).
	rootless bool
}

// Name implements subcommands.Command.
func (*Spec) Name() string { return "spec" }

// Synopsis implements subcommands.Command.
func (*Spec) Synopsis() string { return "create a new OCI bundle specification file" }

// Usage implements subcommands.Command.
func (*Spec) Usage() string {
	return `spec [--bundle <path>] [--rootless] - write a default config.json, refusing to overwrite one.
`
}

// SetFlags implements subcommands.Command.
func (s *Spec) SetFlags(f *flag.FlagSet) {
	f.StringVar(&s.bundle, "bundle", ".", "path to the bundle directory.")
	f.StringVar(&s.bundle, "b", ".", "path to the bundle directory (shorthand).")
	f.BoolVar(&s.rootless, "rootless", false, "write a spec for a rootless container.")
}

// Execute implements subcommands.Command.
func (s *Spec) Execute(_ context.Context, f *flag.FlagSet, _ ...any) subcommands.ExitStatus {
	if f.NArg() != 0 {
		return usageError(s, "spec takes no arguments, got %q", f.Args())
	}
	path := filepath.Join(s.bundle, specutils.ConfigName)
	b, err := json.MarshalIndent(specutils.DefaultSpec(s.rootless, uint32(os.Getuid()), uint32(os.Getgid())), "", "\t")
	if err != nil {
		return Errorf("encoding spec: %v", err)
	}
	// O_EXCL: an existing config.json is never overwritten.
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return Errorf("file %s exists: remove it first", path)
	}
	if err != nil {
		return Errorf("writing spec: %v", err)
	}
	_, err = fmt.Fprintf(file, "%s\n", b)
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return Errorf("writing spec: %v", err)
	}
	return subcommands.ExitSuccess
}
