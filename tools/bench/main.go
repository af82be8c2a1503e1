// Command bench runs the same busybox-static bundle through several OCI
// runtimes (runsc, and Debian's runc and crun by default), interleaving
// them round by round after a warm-up, and prints for each metric the
// median, minimum and maximum per runtime and the median of the per-round
// ratios runsc/X.
//
//	go run ./tools/bench [--runs 30] [--quick] [--json] [--runtime name=path]...
//	bazel run //tools/bench -- --quick
//
// It needs root. crun refuses a hybrid cgroup host, so it runs through a
// wrapper (the bench binary itself) that detaches /sys/fs/cgroup/unified in
// a private mount namespace; the wrapper's cost is measured in every round
// and subtracted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// runtimeFlags collects repeated --runtime name=path.
type runtimeFlags []string

func (f *runtimeFlags) String() string { return strings.Join(*f, ",") }

func (f *runtimeFlags) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("want name=path, got %q", v)
	}
	*f = append(*f, v)
	return nil
}

// options are the command-line settings.
type options struct {
	runtimes   runtimeFlags
	runsc      string
	runs       int
	warmup     int
	quick      bool
	json       bool
	markdown   bool
	jsonOut    string
	idle       time.Duration
	tputN      int
	tputConc   int
	tputRuns   int
	ref        string
	base       string
	wrap       string
	noDocker   bool
	skipTput   bool
	commandStr string
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == nsexecArg {
		nsexecMain(os.Args[2:])
		return
	}
	var o options
	flag.Var(&o.runtimes, "runtime", "a runtime as name=path (repeatable); default: runsc, and runc and crun when installed")
	flag.StringVar(&o.runsc, "runsc", "", "runsc binary for the default set; default: build ./runsc of this tree (CGO_ENABLED=0) into a temp dir")
	flag.IntVar(&o.runs, "runs", 30, "measured rounds")
	flag.IntVar(&o.warmup, "warmup", 3, "warm-up rounds, discarded")
	flag.BoolVar(&o.quick, "quick", false, "quick mode: 5 rounds, 1 warm-up, 1 throughput round")
	flag.BoolVar(&o.json, "json", false, "print JSON instead of the table")
	flag.StringVar(&o.jsonOut, "json-out", "", "also write the JSON report to this file")
	flag.BoolVar(&o.markdown, "markdown", false, "print a Markdown table instead of the text table")
	flag.DurationVar(&o.idle, "idle", 250*time.Millisecond, "how long a container idles before its runtime's memory is read")
	flag.IntVar(&o.tputN, "throughput-n", 100, "containers per throughput round")
	flag.IntVar(&o.tputConc, "throughput-conc", 10, "concurrency of the throughput rounds")
	flag.IntVar(&o.tputRuns, "throughput-runs", 5, "throughput rounds (interleaved like the others)")
	flag.BoolVar(&o.skipTput, "no-throughput", false, "skip the throughput rounds")
	flag.StringVar(&o.ref, "ref", "runsc", "runtime in the numerator of the runsc/X ratio column")
	flag.StringVar(&o.base, "base", "runc", "runtime in the denominator of the X/runc ratio column")
	flag.StringVar(&o.wrap, "wrap", "auto", "runtimes (comma-separated names) run through the mount-namespace wrapper; auto: crun* on a hybrid cgroup host; none")
	flag.BoolVar(&o.noDocker, "no-docker", false, "skip docker run --rm even when dockerd is reachable")
	flag.Parse()
	if o.quick {
		o.runs, o.warmup, o.tputRuns = 5, 1, 1
	}
	o.commandStr = strings.Join(os.Args, " ")
	if err := run(&o); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

// run sets up, measures, cleans up and reports.
func run(o *options) (retErr error) {
	if os.Geteuid() != 0 {
		return errors.New("needs root (containers, cgroups, mount namespaces)")
	}
	if o.runs < 1 || o.tputConc < 1 || o.tputN < 1 {
		return errors.New("--runs, --throughput-n and --throughput-conc must be positive")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	if err := becomeSubreaper(); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding the bench binary: %w", err)
	}
	tmp, err := os.MkdirTemp("", "runsc-bench-")
	if err != nil {
		return fmt.Errorf("making temp dir: %w", err)
	}
	os.Chmod(tmp, 0o755)
	defer os.RemoveAll(tmp)

	rts, err := setupRuntimes(o, tmp, self)
	if err != nil {
		return err
	}
	var runscPath string
	for _, rt := range rts {
		if strings.HasPrefix(rt.Name, "runsc") {
			runscPath = rt.Path
		}
	}
	if runscPath == "" {
		// The spec comes from `runsc spec`; build one if none is under test.
		if runscPath, err = buildRunsc(tmp); err != nil {
			return err
		}
	}
	bundles, err := makeBundles(filepath.Join(tmp, "bundle"), runscPath)
	if err != nil {
		return err
	}
	iv, err := NewInvoker(tmp)
	if err != nil {
		return err
	}
	defer iv.Close()
	b := &Bench{ctx: ctx, rts: rts, bundles: bundles, tmp: tmp, self: self, iv: iv, idle: o.idle}
	for _, m := range metricDefs {
		n := o.runs
		if m.Key == "throughput" {
			n = o.tputRuns
		}
		b.alloc(m.Key, n)
	}
	b.wrapper = make([]float64, o.runs)
	for i := range b.wrapper {
		b.wrapper[i] = nanValue
	}
	rep := &Report{Date: time.Now().UTC().Format(time.RFC3339), Command: o.commandStr, Runs: o.runs, Warmup: o.warmup,
		Machine: machineNotes(), Runtimes: rts, ThroughputN: o.tputN, ThroughputConc: o.tputConc, ThroughputRuns: o.tputRuns}

	// Clean up every container however we leave: error, signal or success.
	defer func() {
		for _, rt := range rts {
			for _, msg := range rt.cleanup(iv) {
				fmt.Fprintln(os.Stderr, "bench: "+msg)
				retErr = errors.Join(retErr, errors.New(msg))
			}
			if ents, _ := os.ReadDir(rt.Root); len(ents) > 0 {
				fmt.Fprintf(os.Stderr, "bench: %s left %d state entries in %s\n", rt.Name, len(ents), rt.Root)
			}
		}
		time.Sleep(50 * time.Millisecond)
		reapOrphans()
	}()

	dockerNames := map[string]bool{}
	if o.noDocker {
		rep.DockerSkipped = "--no-docker"
	} else {
		var reason string
		dockerNames, reason = dockerSetup(ctx, filepath.Join(tmp, "bundle", "rootfs"), rts)
		rep.DockerSkipped = reason
		if reason == "" {
			defer dockerCleanup()
			b.extra = append(b.extra, b.dockerRun(dockerNames))
		}
	}

	for r := -o.warmup; r < o.runs; r++ {
		if r < 0 {
			progress("warm-up %d/%d", r+o.warmup+1, o.warmup)
		} else {
			progress("round %d/%d", r+1, o.runs)
		}
		if err := b.round(r); err != nil {
			return err
		}
	}
	if !o.skipTput {
		for r := 0; r < o.tputRuns; r++ {
			for _, rt := range rts {
				progress("throughput %d/%d %s", r+1, o.tputRuns, rt.Name)
				cps, err := b.throughput(rt, o.tputN, o.tputConc)
				if errors.Is(err, errInterrupted) {
					return err
				}
				if err != nil {
					b.fail("throughput", rt, err)
				}
				if cps > 0 {
					b.record("throughput", rt, r, cps)
				}
			}
		}
	}
	progress("done")
	rep.fill(b, o)
	if o.jsonOut != "" {
		f, err := os.Create(o.jsonOut)
		if err != nil {
			return fmt.Errorf("writing --json-out: %w", err)
		}
		err = rep.writeJSON(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("writing --json-out: %w", err)
		}
	}
	switch {
	case o.json:
		return rep.writeJSON(os.Stdout)
	case o.markdown:
		rep.writeMarkdown(os.Stdout)
	default:
		rep.writeTable(os.Stdout)
	}
	return nil
}

func progress(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "\rbench: "+format+"          ", a...)
	if format == "done" {
		fmt.Fprintln(os.Stderr)
	}
}

// setupRuntimes resolves the runtimes under test, each with its own root.
func setupRuntimes(o *options, tmp, self string) ([]*Runtime, error) {
	specs := []string(o.runtimes)
	if len(specs) == 0 {
		p := o.runsc
		if p == "" {
			progress("building runsc")
			built, err := buildRunsc(tmp)
			if err != nil {
				return nil, err
			}
			p = built
		}
		specs = append(specs, "runsc="+p)
		for _, d := range []string{"runc=/usr/sbin/runc", "crun=/usr/bin/crun"} {
			if _, err := os.Stat(strings.SplitN(d, "=", 2)[1]); err == nil {
				specs = append(specs, d)
			}
		}
	}
	wrapSet := map[string]bool{}
	for _, n := range strings.Split(o.wrap, ",") {
		wrapSet[strings.TrimSpace(n)] = true
	}
	hybrid := isMountpoint(hybridUnified)
	var rts []*Runtime
	seen := map[string]bool{}
	for _, s := range specs {
		kv := strings.SplitN(s, "=", 2)
		name, path := kv[0], kv[1]
		if seen[name] {
			return nil, fmt.Errorf("runtime %q given twice", name)
		}
		seen[name] = true
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, fmt.Errorf("runtime %s: %w", name, err)
		}
		st, err := os.Stat(abs)
		if err != nil {
			return nil, fmt.Errorf("runtime %s: %w", name, err)
		}
		root := filepath.Join(tmp, "rt-"+name, "root")
		if err := os.MkdirAll(root, 0o700); err != nil {
			return nil, fmt.Errorf("making root of %s: %w", name, err)
		}
		rt := &Runtime{Name: name, Path: abs, Size: st.Size(), Root: root, self: self}
		switch {
		case o.wrap == "auto":
			rt.Wrapped = hybrid && strings.HasPrefix(name, "crun")
		case o.wrap != "none":
			rt.Wrapped = wrapSet[name]
		}
		rt.Version = firstLine(rt.Path, "--version")
		rts = append(rts, rt)
	}
	return rts, nil
}
