// Binary runsc is an OCI container runtime, a drop-in for runc, that runs
// each container inside a least-privilege sandbox.
//
// The Go runtime must not keep cgroup files open to track CPU limits: those
// fds would reach the sandbox, the gofer and the container's init.
//
//go:debug updatemaxprocs=0
//go:debug containermaxprocs=0
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
	"unsafe"

	"github.com/google/subcommands"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/pkg/log"
	"runsc.dev/runsc/runsc/cmd"
	"runsc.dev/runsc/runsc/config"
	"runsc.dev/runsc/runsc/sandbox"
	"runsc.dev/runsc/runsc/version"
)

const (
	ociGroup      = "OCI"
	userGroup     = "user"
	internalGroup = "internal"
)

// commands returns every subcommand with its help group. Internal commands
// run inside the sandbox and are hidden from `runsc help`.
func commands() map[string][]subcommands.Command {
	return map[string][]subcommands.Command{
		ociGroup:      ociCommands(),
		userGroup:     {new(cmd.Spec), new(cmd.Do), new(cmd.Install), new(cmd.Uninstall)},
		internalGroup: internalCommands(),
	}
}

func main() {
	// An fd a caller leaked into runsc must not reach the sandbox, the
	// gofer or the container (CVE-2024-21626): from here on every
	// inherited fd past stdio is close-on-exec. The fds runsc passes on
	// purpose are dup'd or re-flagged when handed to a child.
	unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	nameHelper(os.Args[0])
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// nameHelper gives the sandbox and the gofer their argv[0] (runsc-sandbox,
// runsc-gofer) as their name in ps and /proc/<pid>/comm: the kernel names
// a process after the file it runs, which for them is an fd number
// (/proc/self/fd/N of the read-only binary create starts them from). init
// and the exec stage, which container processes can see, keep the
// kernel's. It names the calling thread, which at this point is the main
// one.
func nameHelper(argv0 string) {
	if argv0 != "runsc-sandbox" && argv0 != "runsc-gofer" {
		return
	}
	if p, err := unix.BytePtrFromString(argv0); err == nil {
		unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(p)), 0, 0, 0)
	}
}

// run is main without the exit, so tests can drive it.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("runsc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var conf config.Config
	conf.RegisterFlags(fs)
	showVersion := fs.Bool("version", false, "show version and exit.")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *showVersion {
		fmt.Fprintf(stdout, "runsc version %s\ncommit: %s\nspec: %s\n", version.Version, version.Commit, specs.Version)
		return 0
	}

	cdr := subcommands.NewCommander(fs, "runsc")
	cdr.Output, cdr.Error = stdout, stderr
	hidden := map[string]bool{}
	for group, cmds := range commands() {
		for _, c := range cmds {
			cdr.Register(c, group)
			if group == internalGroup {
				hidden[c.Name()] = true
			}
		}
	}
	cdr.Register(cdr.HelpCommand(), "")
	cdr.Register(cdr.FlagsCommand(), "")
	explainGroup := cdr.ExplainGroup
	cdr.ExplainGroup = func(w io.Writer, g *subcommands.CommandGroup) {
		if g.Name() != internalGroup {
			explainGroup(w, g)
		}
	}

	if err := conf.Validate(); err != nil {
		fmt.Fprintf(stderr, "runsc: %v\n", err)
		return 1
	}
	name := fs.Arg(0)
	if !hidden[name] {
		sandbox.CoarsenTimerSlack()
	}
	cmd.ErrorsToStderr = !hidden[name]
	closeLogs, err := setupLogging(&conf, name, hidden[name], stderr)
	if err != nil {
		fmt.Fprintf(stderr, "runsc: %v\n", err)
		return 1
	}
	defer closeLogs()
	log.Debugf("runsc %s (commit %s), args: %q", version.Version, version.Commit, os.Args)
	return int(cdr.Execute(context.Background(), &conf))
}

// stderrBelow sends messages below Error to stderr: errors reach stderr
// through cmd.Errorf, exactly once.
type stderrBelow struct{ e log.Emitter }

func (s stderrBelow) Emit(level log.Level, t time.Time, msg string) {
	if level < log.Error {
		s.e.Emit(level, t, msg)
	}
}

// setupLogging points the logger at --log (appended, in --log-format), the
// --debug-log file, and stderr. Internal commands never write to stderr: it
// is the container's.
func setupLogging(conf *config.Config, command string, internal bool, stderr io.Writer) (func(), error) {
	var emitters log.MultiEmitter
	var files []*os.File
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	format := func(w io.Writer, f string) log.Emitter {
		w = &log.Writer{W: w}
		if f == "json" {
			return log.JSONEmitter{W: w}
		}
		return log.TextEmitter{W: w}
	}
	if conf.LogFilename != "" {
		f, err := log.OpenLogFile(conf.LogFilename)
		if err != nil {
			return closeAll, err
		}
		files = append(files, f)
		emitters = append(emitters, format(f, conf.LogFormat))
	} else if !internal {
		emitters = append(emitters, stderrBelow{format(stderr, "text")})
	}
	if conf.DebugLog != "" {
		f, err := log.OpenLogFile(log.DebugLogPath(conf.DebugLog, command, time.Now()))
		switch {
		case err == nil:
			files = append(files, f)
			emitters = append(emitters, format(f, "text"))
		case !internal:
			closeAll()
			return func() {}, err
		}
		// An internal command inside the sandbox's chroot cannot open
		// host paths; it gets its log file from its parent instead.
	}
	log.SetEmitter(emitters)
	switch {
	case conf.Debug:
		log.SetLevel(log.Debug)
	case conf.LogFilename == "" && !internal:
		log.SetLevel(log.Warning)
	default:
		log.SetLevel(log.Info)
	}
	return closeAll, nil
}
