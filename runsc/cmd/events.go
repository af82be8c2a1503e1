package cmd

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"time"

	"github.com/google/subcommands"
	"runsc.dev/runsc/runsc/container"
)

// Events prints a container's resource statistics, once or periodically,
// in runc's JSON shape.
type Events struct {
	// stats prints one stats event and exits.
	stats bool
	// interval is the period of stats events.
	interval time.Duration
}

// Name implements subcommands.Command.
func (*Events) Name() string { return "events" }

// Synopsis implements subcommands.Command.
func (*Events) Synopsis() string { return "display container events such as resource usage" }

// Usage implements subcommands.Command.
func (*Events) Usage() string { return "events [--stats] [--interval 5s] <container id>\n" }

// SetFlags implements subcommands.Command.
func (e *Events) SetFlags(f *flag.FlagSet) {
	f.BoolVar(&e.stats, "stats", false, "display the container's stats once, then exit.")
	f.DurationVar(&e.interval, "interval", 5*time.Second, "interval between stats events.")
}

// event is runc's event envelope.
type event struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data any    `json:"data,omitempty"`
}

// Execute implements subcommands.Command.
func (e *Events) Execute(_ context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
	if f.NArg() != 1 {
		return usageError(e, "events needs exactly one container id")
	}
	if e.interval <= 0 {
		return Errorf("--interval must be positive")
	}
	root, id := confFrom(args).RootDir, f.Arg(0)
	enc := json.NewEncoder(os.Stdout)
	for {
		c, err := container.Load(root, id)
		if err != nil {
			return Errorf("%v", err)
		}
		if c.Status == container.Stopped && !e.stats {
			return subcommands.ExitSuccess
		}
		st, err := c.Stats()
		if err != nil {
			return Errorf("%v", err)
		}
		if err := enc.Encode(event{Type: "stats", ID: id, Data: st}); err != nil {
			return Errorf("writing event: %v", err)
		}
		if e.stats {
			return subcommands.ExitSuccess
		}
		time.Sleep(e.interval)
	}
}
