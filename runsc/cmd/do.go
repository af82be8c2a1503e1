package cmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/google/subcommands"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/pkg/log"
	"runsc.dev/runsc/runsc/container"
)

// Do runs a command in a sandboxed container built on the fly: the host's
// root (or --root-dir) seen read-only under a writable tmpfs overlay, the
// caller's working directory and environment, private /tmp, /run, /proc
// and /dev, and no network but loopback.
type Do struct {
	// rootDir is the tree the container sees as "/".
	rootDir string
	// overlay makes the root writable through a tmpfs overlay.
	overlay bool
	// network is none or host.
	network string
	// cpus and memory limit the container (linux.resources).
	cpus   float64
	memory string
	// volumes are HOST:CONTAINER[:ro] bind mounts.
	volumes doList
	// user is UID[:GID].
	user string
	// env are extra K=V settings.
	env doList
	// tty is "auto", "true" or "false".
	tty string
}

// doList is a repeatable string flag.
type doList []string

func (l *doList) String() string     { return strings.Join(*l, ",") }
func (l *doList) Set(v string) error { *l = append(*l, v); return nil }

// Name implements subcommands.Command.
func (*Do) Name() string { return "do" }

// Synopsis implements subcommands.Command.
func (*Do) Synopsis() string {
	return "run a command in a sandbox, with the host's root under a writable overlay"
}

// Usage implements subcommands.Command.
func (*Do) Usage() string {
	return `do [flags] <command> [args...] - run a command in a sandboxed container.

The container's root is the host's / (or --root-dir) read-only, under a
writable tmpfs overlay that vanishes with the container; its cwd is the
current directory; it gets the caller's environment (minus SUDO_*,
XDG_RUNTIME_DIR, session and agent sockets), private /tmp, /run, /proc and
/dev, and only a loopback network. The exit status is the command's; a
runsc failure exits 125, a missing command 127. Ctrl-C is forwarded; the
container is killed if it is still running 2s later (or on a second one).

`
}

// SetFlags implements subcommands.Command.
func (d *Do) SetFlags(f *flag.FlagSet) {
	f.StringVar(&d.rootDir, "root-dir", "/", "tree to use as the container's root.")
	f.BoolVar(&d.overlay, "overlay", true, "put a writable tmpfs overlay over the root; false makes it plainly read-only.")
	f.StringVar(&d.network, "network", "none", "none (a new network namespace with loopback) or host.")
	f.Float64Var(&d.cpus, "cpus", 0, "CPU limit, in CPUs (e.g. 0.5); 0 is no limit.")
	f.StringVar(&d.memory, "memory", "", "memory limit, in bytes or with a k, m or g suffix.")
	f.Var(&d.volumes, "volume", "HOST:CONTAINER[:ro] bind mount (repeatable).")
	f.Var(&d.volumes, "v", "shorthand for --volume.")
	f.StringVar(&d.user, "user", "", "UID[:GID] to run as (default: the caller's; root of the user namespace when rootless).")
	f.Var(&d.env, "env", "K=V to set in the command's environment (repeatable).")
	f.StringVar(&d.tty, "tty", "auto", "use the caller's terminal: auto (when stdin and stdout are terminals), true or false.")
}

// doFailure is the exit status of a `runsc do` that could not run the
// command (as docker run's 125), doNotFound that of a missing command.
const (
	doFailure  = 125
	doNotFound = 127
)

// parseSize parses a byte count with an optional k, m or g suffix.
func parseSize(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	mult := int64(1)
	switch strings.ToLower(s[len(s)-1:]) {
	case "k":
		mult = 1 << 10
	case "m":
		mult = 1 << 20
	case "g":
		mult = 1 << 30
	}
	if mult != 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// Execute implements subcommands.Command.
func (d *Do) Execute(_ context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
	if f.NArg() == 0 {
		return usageError(d, "do needs a command to run")
	}
	conf := confFrom(args)
	mem, err := parseSize(d.memory)
	if err != nil {
		Errorf("--memory: %v", err)
		return doFailure
	}
	var tty bool
	switch d.tty {
	case "auto":
		tty = isTerminal(os.Stdin) && isTerminal(os.Stdout)
	case "true", "false":
		tty = d.tty == "true"
	default:
		return usageError(d, "--tty %q: want auto, true or false", d.tty)
	}
	if conf.Rootless && (d.cpus != 0 || mem != 0) {
		log.Warningf("--cpus and --memory are ignored in rootless mode: runsc uses no cgroups there")
		d.cpus, mem = 0, 0
	}
	cwd, _ := os.Getwd()
	spec, err := container.DoSpec(container.DoOptions{
		Args: f.Args(), RootDir: d.rootDir, Overlay: d.overlay, Network: d.network,
		CPUs: d.cpus, Memory: mem, Volumes: d.volumes, User: d.user, Env: d.env,
		Environ: os.Environ(), Cwd: cwd, Terminal: tty, Rootless: conf.Rootless,
		StateRoot: conf.RootDir,
	})
	if err != nil {
		Errorf("%v", err)
		return doFailure
	}
	sigs := make(chan os.Signal, 16)
	forwardSignals(sigs)
	status, err := container.Do(conf, container.NewDoID(), cwd, spec, sigs)
	if err != nil {
		Errorf("%v", err)
		if errors.Is(err, container.ErrExecutableNotFound) {
			return doNotFound
		}
		return doFailure
	}
	return subcommands.ExitStatus(status)
}
