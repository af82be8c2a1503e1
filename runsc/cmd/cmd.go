// Package cmd holds runsc's subcommands: one file each, a small struct with
// documented flag fields, SetFlags, and an Execute that checks arguments,
// loads, makes one call into runsc/container and reports errors one way.
package cmd

import (
	"fmt"
	"os"
	"strings"

	"github.com/google/subcommands"
	"runsc.dev/runsc/pkg/log"
	"runsc.dev/runsc/runsc/config"
)

// ErrorsToStderr is cleared for internal commands, whose stderr is the
// container's: they report through their parent and the debug log only.
var ErrorsToStderr = true

// Errorf reports a failed command the one way runsc does: a single line on
// stderr and, through the logger, a line in --log (JSON when
// --log-format=json, which is what containerd's shim reads). It returns
// ExitFailure so callers can `return Errorf(...)`.
func Errorf(format string, args ...any) subcommands.ExitStatus {
	msg := strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", " ")
	log.Errorf("%s", msg)
	if ErrorsToStderr {
		fmt.Fprintf(os.Stderr, "runsc: %s\n", msg)
	}
	return subcommands.ExitFailure
}

// usageError reports wrong arguments together with the command's usage.
func usageError(f interface{ Usage() string }, format string, args ...any) subcommands.ExitStatus {
	Errorf(format, args...)
	fmt.Fprint(os.Stderr, f.Usage())
	return subcommands.ExitUsageError
}

// confFrom extracts the global config that main passes to every command.
func confFrom(args []any) *config.Config {
	return args[0].(*config.Config)
}
