package cmd

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/google/subcommands"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"runsc.dev/runsc/runsc/container"
)

// Update changes the resource limits of a running container.
type Update struct {
	// resources is a linux.resources JSON file, or "-" for stdin.
	resources string
	// The per-flag form; empty means unchanged.
	memory, memoryReservation, memorySwap, cpusetCpus, cpusetMems string
	cpuShares, cpuPeriod, cpuRtPeriod                             string
	cpuQuota, cpuRtRuntime, pidsLimit, blkioWeight                string
}

// Name implements subcommands.Command.
func (*Update) Name() string { return "update" }

// Synopsis implements subcommands.Command.
func (*Update) Synopsis() string { return "update container resource constraints" }

// Usage implements subcommands.Command.
func (*Update) Usage() string {
	return "update [--resources FILE|-] [--memory N] [--cpu-share N] [--pids-limit N] ... <container id>\n"
}

// SetFlags implements subcommands.Command.
func (u *Update) SetFlags(f *flag.FlagSet) {
	f.StringVar(&u.resources, "resources", "", "path to a linux.resources JSON file, or - for stdin.")
	f.StringVar(&u.resources, "r", "", "shorthand for --resources.")
	f.StringVar(&u.memory, "memory", "", "memory limit in bytes (k, m, g suffixes; -1 for none).")
	f.StringVar(&u.memoryReservation, "memory-reservation", "", "memory soft limit in bytes.")
	f.StringVar(&u.memorySwap, "memory-swap", "", "memory plus swap limit in bytes (-1 for unlimited).")
	f.StringVar(&u.cpuShares, "cpu-share", "", "CPU shares (relative weight).")
	f.StringVar(&u.cpuPeriod, "cpu-period", "", "CPU CFS period in microseconds.")
	f.StringVar(&u.cpuQuota, "cpu-quota", "", "CPU CFS quota in microseconds.")
	f.StringVar(&u.cpuRtPeriod, "cpu-rt-period", "", "CPU realtime period in microseconds.")
	f.StringVar(&u.cpuRtRuntime, "cpu-rt-runtime", "", "CPU realtime runtime in microseconds.")
	f.StringVar(&u.cpusetCpus, "cpuset-cpus", "", "CPUs to use (0-3, 0,1).")
	f.StringVar(&u.cpusetMems, "cpuset-mems", "", "memory nodes to use.")
	f.StringVar(&u.pidsLimit, "pids-limit", "", "maximum number of pids (-1 for unlimited).")
	f.StringVar(&u.blkioWeight, "blkio-weight", "", "block IO weight, 10 to 1000.")
}

// parseBytes parses 123, 64k, 64m, 1g (powers of 1024) or -1.
func parseBytes(s string) (int64, error) {
	if s == "-1" {
		return -1, nil
	}
	mult := int64(1)
	l := strings.ToLower(strings.TrimSuffix(strings.ToLower(s), "b"))
	switch {
	case strings.HasSuffix(l, "k"):
		mult, l = 1<<10, l[:len(l)-1]
	case strings.HasSuffix(l, "m"):
		mult, l = 1<<20, l[:len(l)-1]
	case strings.HasSuffix(l, "g"):
		mult, l = 1<<30, l[:len(l)-1]
	}
	n, err := strconv.ParseInt(l, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return n * mult, nil
}

// resourcesFromFlags builds linux.resources from the per-flag form.
func (u *Update) resourcesFromFlags() (*specs.LinuxResources, error) {
	res := &specs.LinuxResources{}
	var err error
	i64 := func(s string, parse func(string) (int64, error), set func(int64)) {
		if s == "" || err != nil {
			return
		}
		var v int64
		if v, err = parse(s); err == nil {
			set(v)
		}
	}
	num := func(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) }
	mem := func() *specs.LinuxMemory {
		if res.Memory == nil {
			res.Memory = &specs.LinuxMemory{}
		}
		return res.Memory
	}
	cpu := func() *specs.LinuxCPU {
		if res.CPU == nil {
			res.CPU = &specs.LinuxCPU{}
		}
		return res.CPU
	}
	i64(u.memory, parseBytes, func(v int64) { mem().Limit = &v })
	i64(u.memoryReservation, parseBytes, func(v int64) { mem().Reservation = &v })
	i64(u.memorySwap, parseBytes, func(v int64) { mem().Swap = &v })
	i64(u.cpuShares, num, func(v int64) { s := uint64(v); cpu().Shares = &s })
	i64(u.cpuPeriod, num, func(v int64) { p := uint64(v); cpu().Period = &p })
	i64(u.cpuQuota, num, func(v int64) { cpu().Quota = &v })
	i64(u.cpuRtPeriod, num, func(v int64) { p := uint64(v); cpu().RealtimePeriod = &p })
	i64(u.cpuRtRuntime, num, func(v int64) { cpu().RealtimeRuntime = &v })
	i64(u.pidsLimit, num, func(v int64) { res.Pids = &specs.LinuxPids{Limit: &v} })
	i64(u.blkioWeight, num, func(v int64) { w := uint16(v); res.BlockIO = &specs.LinuxBlockIO{Weight: &w} })
	if err != nil {
		return nil, fmt.Errorf("parsing update flags: %w", err)
	}
	if u.cpusetCpus != "" {
		cpu().Cpus = u.cpusetCpus
	}
	if u.cpusetMems != "" {
		cpu().Mems = u.cpusetMems
	}
	return res, nil
}

// Execute implements subcommands.Command.
func (u *Update) Execute(_ context.Context, f *flag.FlagSet, args ...any) subcommands.ExitStatus {
	if f.NArg() != 1 {
		return usageError(u, "update needs exactly one container id")
	}
	var res *specs.LinuxResources
	if u.resources != "" {
		var r io.Reader = os.Stdin
		if u.resources != "-" {
			file, err := os.Open(u.resources)
			if err != nil {
				return Errorf("reading resources: %v", err)
			}
			defer file.Close()
			r = file
		}
		res = &specs.LinuxResources{}
		if err := json.NewDecoder(io.LimitReader(r, 16<<20)).Decode(res); err != nil {
			return Errorf("decoding resources: %v", err)
		}
	} else {
		var err error
		if res, err = u.resourcesFromFlags(); err != nil {
			return Errorf("%v", err)
		}
	}
	if err := container.Update(confFrom(args).RootDir, f.Arg(0), res); err != nil {
		return Errorf("%v", err)
	}
	return subcommands.ExitSuccess
}
