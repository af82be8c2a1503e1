package cmd

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/subcommands"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/runsc/container"
)

// Kill sends a signal to a container's init, or to all its processes.
type Kill struct {
	// all signals every process of the container.
	all bool
	// pid signals one exec'd process instead of init (gVisor's flag).
	pid int
}

// Name implements subcommands.Command.
func (*Kill) Name() string { return "kill" }

// Synopsis implements subcommands.Command.
func (*Kill) Synopsis() string { return "send a signal to a container" }

// Usage implements subcommands.Command.
func (*Kill) Usage() string {
	return "kill [--all] <container id> [signal]  (name or number, default TERM)\n"
}

// SetFlags implements subcommands.Command.
func (k *Kill) SetFlags(f *flag.FlagSet) {
	f.BoolVar(&k.all, "all", false, "send the signal to every process of the container.")
	f.BoolVar(&k.all, "a", false, "send the signal to every process of the container (shorthand).")
}

// ParseSignal parses "9", "KILL", "SIGKILL" or "sigkill".
func ParseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal %q", s)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("invalid signal %q", s)
}

// Execute implements subcommands.Command.
func (k *Kill) Execute(_ context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
	if f.NArg() < 1 || f.NArg() > 2 {
		return usageError(k, "kill needs a container id and an optional signal")
	}
	sig := unix.SIGTERM
	if f.NArg() == 2 {
		var err error
		if sig, err = ParseSignal(f.Arg(1)); err != nil {
			return Errorf("%v", err)
		}
	}
	c, err := container.Load(confFrom(args).RootDir, f.Arg(0))
	if err != nil {
		return Errorf("%v", err)
	}
	if err := c.Signal(sig, k.all); err != nil {
		return Errorf("%v", err)
	}
	return subcommands.ExitSuccess
}
