package cmd

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/google/subcommands"
	"runsc.dev/runsc/runsc/container"
)

// List lists containers.
type List struct {
	// format is table or json.
	format string
	// quiet prints ids only.
	quiet bool
}

// Name implements subcommands.Command.
func (*List) Name() string { return "list" }

// Synopsis implements subcommands.Command.
func (*List) Synopsis() string { return "list containers started by runsc with the given root" }

// Usage implements subcommands.Command.
func (*List) Usage() string { return "list [--format table|json] [--quiet]\n" }

// SetFlags implements subcommands.Command.
func (l *List) SetFlags(f *flag.FlagSet) {
	f.StringVar(&l.format, "format", "table", "table or json.")
	f.StringVar(&l.format, "f", "table", "shorthand for --format.")
	f.BoolVar(&l.quiet, "quiet", false, "print only container ids.")
	f.BoolVar(&l.quiet, "q", false, "shorthand for --quiet.")
}

// listEntry is runc's `list --format json` shape.
type listEntry struct {
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Created     time.Time         `json:"created"`
	Owner       string            `json:"owner"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Execute implements subcommands.Command.
func (l *List) Execute(_ context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
	if f.NArg() != 0 {
		return usageError(l, "list takes no arguments")
	}
	if l.format != "table" && l.format != "json" {
		return Errorf("invalid --format %q: want table or json", l.format)
	}
	root := confFrom(args).RootDir
	ids, err := container.List(root)
	if err != nil {
		return Errorf("%v", err)
	}
	entries := []listEntry{}
	for _, id := range ids {
		c, err := container.Load(root, id)
		if err != nil {
			continue // Deleted meanwhile.
		}
		st := c.State()
		entries = append(entries, listEntry{ID: c.ID, Pid: st.Pid, Status: string(c.Status), Bundle: c.Bundle, Created: c.Created, Owner: fmt.Sprint(c.Owner), Annotations: st.Annotations})
	}
	switch {
	case l.quiet:
		for _, e := range entries {
			fmt.Println(e.ID)
		}
	case l.format == "json":
		json.NewEncoder(os.Stdout).Encode(entries)
	default:
		w := tabwriter.NewWriter(os.Stdout, 12, 1, 3, ' ', 0)
		fmt.Fprint(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
		for _, e := range entries {
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", e.ID, e.Pid, e.Status, e.Bundle, e.Created.Format(time.RFC3339Nano), e.Owner)
		}
		w.Flush()
	}
	return subcommands.ExitSuccess
}
