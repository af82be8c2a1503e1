package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/google/subcommands"
	"runsc.dev/runsc/runsc/container"
)

// PS lists the host processes of a container.
type PS struct {
	// format is table (the host's ps output, filtered) or json (PIDs).
	format string
}

// Name implements subcommands.Command.
func (*PS) Name() string { return "ps" }

// Synopsis implements subcommands.Command.
func (*PS) Synopsis() string { return "display the processes running inside a container" }

// Usage implements subcommands.Command.
func (*PS) Usage() string {
	return "ps [--format table|json] <container id> [ps options]\n"
}

// SetFlags implements subcommands.Command.
func (p *PS) SetFlags(f *flag.FlagSet) {
	f.StringVar(&p.format, "format", "table", "table or json.")
	f.StringVar(&p.format, "f", "table", "shorthand for --format.")
}

// Execute implements subcommands.Command.
func (p *PS) Execute(_ context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
	if f.NArg() < 1 {
		return usageError(p, "ps needs a container id")
	}
	c, err := container.Load(confFrom(args).RootDir, f.Arg(0))
	if err != nil {
		return Errorf("%v", err)
	}
	procs, err := c.Processes()
	if err != nil {
		return Errorf("%v", err)
	}
	pids := []int{}
	for _, pr := range procs {
		pids = append(pids, pr.PID)
	}
	switch p.format {
	case "json":
		if f.NArg() > 1 {
			return Errorf("ps options cannot be used with --format json")
		}
		json.NewEncoder(os.Stdout).Encode(pids)
		return subcommands.ExitSuccess
	case "table":
	default:
		return Errorf("invalid --format %q: want table or json", p.format)
	}
	psArgs := f.Args()[1:]
	if len(psArgs) == 0 {
		psArgs = []string{"-ef"}
	}
	out, err := exec.Command("ps", psArgs...).Output()
	if err != nil {
		return Errorf("running ps: %v", err)
	}
	table, err := filterPS(out, pids)
	if err != nil {
		return Errorf("%v", err)
	}
	os.Stdout.Write(table)
	return subcommands.ExitSuccess
}

// filterPS keeps the header of ps output and the lines whose PID column
// names one of pids, as runc does.
func filterPS(out []byte, pids []int) ([]byte, error) {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	col := -1
	for i, h := range strings.Fields(lines[0]) {
		if h == "PID" {
			col = i
		}
	}
	if col < 0 {
		return nil, fmt.Errorf("ps output has no PID column")
	}
	want := map[int]bool{}
	for _, p := range pids {
		want[p] = true
	}
	var b bytes.Buffer
	b.WriteString(lines[0] + "\n")
	for _, l := range lines[1:] {
		fields := strings.Fields(l)
		if len(fields) <= col {
			continue
		}
		if pid, err := strconv.Atoi(fields[col]); err == nil && want[pid] {
			b.WriteString(l + "\n")
		}
	}
	return b.Bytes(), nil
}
