package cmd

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"

	"github.com/google/subcommands"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/runsc/container"
	"runsc.dev/runsc/runsc/specutils"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// Exec runs a new process inside a container.
type Exec struct {
	// process is a process.json; otherwise the process is the container's,
	// with the flags below applied.
	process       string
	cwd           string
	env           stringList
	user          string
	addGids       stringList
	caps          stringList
	tty           bool
	noNewPrivs    bool
	apparmor      string
	detach        bool
	pidFile       string
	consoleSocket string
	// proxyFor makes this process the waiting proxy of an exec'd process
	// (internal: started by `exec --detach`).
	proxyFor int
}

// Name implements subcommands.Command.
func (*Exec) Name() string { return "exec" }

// Synopsis implements subcommands.Command.
func (*Exec) Synopsis() string { return "execute a new process inside a container" }

// Usage implements subcommands.Command.
func (*Exec) Usage() string {
	return `exec [flags] <container id> <command> [args...]
exec [flags] --process <process.json> <container id>
`
}

// SetFlags implements subcommands.Command.
func (e *Exec) SetFlags(f *flag.FlagSet) {
	f.StringVar(&e.process, "process", "", "path to a process.json.")
	f.StringVar(&e.process, "p", "", "shorthand for --process.")
	f.StringVar(&e.cwd, "cwd", "", "current working directory in the container.")
	f.Var(&e.env, "env", "set an environment variable (repeatable).")
	f.Var(&e.env, "e", "shorthand for --env.")
	f.StringVar(&e.user, "user", "", "UID[:GID] to run as.")
	f.StringVar(&e.user, "u", "", "shorthand for --user.")
	f.Var(&e.addGids, "additional-gids", "additional group id (repeatable).")
	f.Var(&e.addGids, "g", "shorthand for --additional-gids.")
	f.Var(&e.caps, "cap", "add a capability to the bounding, effective and permitted sets (repeatable).")
	f.Var(&e.caps, "c", "shorthand for --cap.")
	f.BoolVar(&e.tty, "tty", false, "allocate a pseudo-TTY.")
	f.BoolVar(&e.tty, "t", false, "shorthand for --tty.")
	f.BoolVar(&e.noNewPrivs, "no-new-privs", false, "set no_new_privileges.")
	f.StringVar(&e.apparmor, "apparmor", "", "AppArmor profile (ignored: no AppArmor support).")
	f.BoolVar(&e.detach, "detach", false, "detach from the process: exit once it has started.")
	f.BoolVar(&e.detach, "d", false, "shorthand for --detach.")
	f.StringVar(&e.pidFile, "pid-file", "", "file to write the PID of a process that exits with the exec'd process's status.")
	f.StringVar(&e.consoleSocket, "console-socket", "", "unix socket that receives the pty master with --tty.")
	f.IntVar(&e.proxyFor, "internal-proxy-for", 0, "internal: wait for this exec'd PID and exit with its status.")
	var preserve int
	f.IntVar(&preserve, "preserve-fds", 0, "accepted for runc compatibility; extra fds are not passed.")
}

// Execute implements subcommands.Command.
func (e *Exec) Execute(_ context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
	if f.NArg() < 1 {
		return usageError(e, "exec needs a container id")
	}
	root := confFrom(args).RootDir
	c, err := container.Load(root, f.Arg(0))
	if err != nil {
		return Errorf("%v", err)
	}
	if e.proxyFor > 0 {
		return waitAndForward(c, specutils.Proc{PID: e.proxyFor})
	}
	p, err := e.buildProcess(c.Spec, f.Args()[1:])
	if err != nil {
		return Errorf("%v", err)
	}
	if e.tty && e.consoleSocket == "" && !e.detach {
		// A terminal exec without a console socket uses our own stdio.
		p.Terminal = false
	}
	proc, err := c.Exec(p, e.consoleSocket)
	if err != nil {
		return Errorf("%v", err)
	}
	if !e.detach {
		if e.pidFile != "" {
			if err := container.WritePidFile(e.pidFile, proc.PID); err != nil {
				return Errorf("%v", err)
			}
		}
		return waitAndForward(c, proc)
	}
	// Detached: a proxy, our child (so the caller, a subreaper, inherits
	// and reaps it), waits for the process and exits with its status; its
	// PID is the pid file's.
	proxy := exec.Command("/proc/self/exe", append(os.Args[1:len(os.Args)-f.NArg()], "--internal-proxy-for="+strconv.Itoa(proc.PID), c.ID)...)
	proxy.Args[0] = "runsc-exec-proxy"
	if err := proxy.Start(); err != nil {
		return Errorf("starting exec proxy: %v", err)
	}
	if e.pidFile != "" {
		if err := container.WritePidFile(e.pidFile, proxy.Process.Pid); err != nil {
			proxy.Process.Kill()
			return Errorf("%v", err)
		}
	}
	return subcommands.ExitSuccess
}

// waitAndForward forwards our signals to proc until it exits, and exits
// with its status.
func waitAndForward(c *container.Container, proc specutils.Proc) subcommands.ExitStatus {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH)
	go func() {
		for s := range sigs {
			if proc.StartTime != 0 {
				proc.Signal(s.(unix.Signal))
			} else {
				unix.Kill(proc.PID, s.(unix.Signal))
			}
		}
	}()
	status, err := c.WaitPID(proc.PID)
	if err != nil {
		return Errorf("%v", err)
	}
	return subcommands.ExitStatus(status)
}

// buildProcess reads --process, or derives the process from the
// container's own, as runc does.
func (e *Exec) buildProcess(spec *specs.Spec, argv []string) (*specs.Process, error) {
	if e.process != "" {
		data, err := os.ReadFile(e.process)
		if err != nil {
			return nil, fmt.Errorf("reading process: %w", err)
		}
		var p specs.Process
		if err := json.Unmarshal(data, &p); err != nil {
			return nil, fmt.Errorf("decoding process %s: %w", e.process, err)
		}
		return &p, nil
	}
	if len(argv) == 0 {
		return nil, fmt.Errorf("exec needs a command (or --process)")
	}
	var p specs.Process
	if spec != nil && spec.Process != nil {
		p = *spec.Process
		if spec.Process.Capabilities != nil {
			caps := *spec.Process.Capabilities
			p.Capabilities = &caps
		}
	}
	p.Args = argv
	p.Terminal = e.tty
	p.Env = append(append([]string(nil), p.Env...), e.env...)
	if e.cwd != "" {
		p.Cwd = e.cwd
	}
	if e.user != "" {
		uid, gid, _ := strings.Cut(e.user, ":")
		u, err := strconv.ParseUint(uid, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("invalid --user %q", e.user)
		}
		p.User.UID = uint32(u)
		if gid != "" {
			g, err := strconv.ParseUint(gid, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("invalid --user %q", e.user)
			}
			p.User.GID = uint32(g)
		}
	}
	for _, g := range e.addGids {
		n, err := strconv.ParseUint(g, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("invalid --additional-gids %q", g)
		}
		p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(n))
	}
	if len(e.caps) > 0 {
		if p.Capabilities == nil {
			p.Capabilities = &specs.LinuxCapabilities{}
		}
		c := p.Capabilities
		// Copies: the container's own lists are not changed.
		c.Bounding = append(append([]string(nil), c.Bounding...), e.caps...)
		c.Effective = append(append([]string(nil), c.Effective...), e.caps...)
		c.Permitted = append(append([]string(nil), c.Permitted...), e.caps...)
	}
	if e.noNewPrivs {
		p.NoNewPrivileges = true
	}
	if e.apparmor != "" {
		p.ApparmorProfile = e.apparmor
	}
	return &p, nil
}
