// Package config holds runsc's global flags: the ones every subcommand
// accepts, and that runsc passes on to the sandbox and gofer it starts.
package config

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// Config is the set of global flags.
type Config struct {
	// RootDir is where container state lives (--root).
	RootDir string
	// LogFilename receives error (and other) log lines (--log).
	LogFilename string
	// LogFormat is "text" or "json" (--log-format).
	LogFormat string
	// Debug turns on debug-level logging (--debug).
	Debug bool
	// DebugLog is a file, or a directory pattern with %COMMAND% and
	// %TIMESTAMP%, that receives debug logs (--debug-log).
	DebugLog string
	// SystemdCgroup makes linux.cgroupsPath use the slice:prefix:name form.
	SystemdCgroup bool
	// Rootless runs without privileges: the sandbox and the container live
	// in a user namespace mapping the caller to root.
	Rootless bool
	// TestOnlySkipChroot skips the sandbox's chroot and id changes. It exists
	// for tests that run where those are impossible; never use it otherwise.
	TestOnlySkipChroot bool
}

// DefaultRootDir is --root's default: /var/run/runsc for root, and
// $XDG_RUNTIME_DIR/runsc for anyone else.
func DefaultRootDir() string {
	if os.Geteuid() != 0 {
		if xdg := os.Getenv("XDG_RUNTIME_DIR"); xdg != "" {
			return filepath.Join(xdg, "runsc")
		}
	}
	return "/var/run/runsc"
}

// RegisterFlags adds the global flags to fs.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.RootDir, "root", DefaultRootDir(), "root directory for storage of container state.")
	fs.StringVar(&c.LogFilename, "log", "", "file path where internal logs are written (appended); default is stderr.")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json.")
	fs.BoolVar(&c.Debug, "debug", false, "enable debug logging.")
	fs.StringVar(&c.DebugLog, "debug-log", "", "additional file, or directory pattern with %COMMAND% and %TIMESTAMP% (or ending in /), for debug logs.")
	fs.BoolVar(&c.SystemdCgroup, "systemd-cgroup", false, "use the systemd form slice:prefix:name for linux.cgroupsPath.")
	fs.BoolVar(&c.Rootless, "rootless", os.Geteuid() != 0, "run without root: the sandbox and container live in a user namespace; default true when not root.")
	fs.BoolVar(&c.TestOnlySkipChroot, "TESTONLY-skip-chroot", false, "TEST ONLY: skip the sandbox's chroot and id changes. Never use in production.")
}

// Validate checks flag values.
func (c *Config) Validate() error {
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("invalid --log-format %q: want text or json", c.LogFormat)
	}
	if c.RootDir == "" {
		return fmt.Errorf("--root must not be empty")
	}
	abs, err := filepath.Abs(c.RootDir)
	if err != nil {
		return fmt.Errorf("resolving --root: %w", err)
	}
	c.RootDir = abs
	return nil
}

// ToFlags renders c as command-line flags for a runsc child process.
// --log is left out on purpose: children report through their parent.
func (c *Config) ToFlags() []string {
	return []string{
		"--root=" + c.RootDir,
		"--log-format=" + c.LogFormat,
		"--debug=" + strconv.FormatBool(c.Debug),
		"--debug-log=" + c.DebugLog,
		"--systemd-cgroup=" + strconv.FormatBool(c.SystemdCgroup),
		"--rootless=" + strconv.FormatBool(c.Rootless),
		"--TESTONLY-skip-chroot=" + strconv.FormatBool(c.TestOnlySkipChroot),
	}
}
