// Command load puts runsc under load next to runc on the same machine: it
// creates N containers concurrently (N = 50, 100, 250 by default), runs an
// exec in every container once a second for a while, and deletes them
// concurrently, alternating the runtimes at each N. It reports create
// latency (p50/p99) against N, exec and delete latency, failed commands
// (must be 0), memory per container (PSS of the runtime's long-lived
// processes, and the init's RSS for context) and residue after teardown:
// state dirs, processes, cgroups and mounts (must be 0). Each runtime has
// its own --root in a temp dir and each container an explicit
// linux.cgroupsPath under a parent unique to the run, so residue can be
// checked. Everything is torn down on exit, Ctrl-C included.
//
// Usage (as root): go run ./tools/load [--quick] [--n N] [--duration D]
// [--runsc PATH] [--runc PATH]. Without --runsc, runsc is built from this
// tree. The exit status is 1 if any command failed or anything was left.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	quick := flag.Bool("quick", false, "only N=50, 10s of execs")
	n := flag.Int("n", 0, "number of containers (default: 50, 100 and 250 in turn)")
	duration := flag.Duration("duration", 0, "length of the exec phase (default 1m, 10s with --quick)")
	runscBin := flag.String("runsc", "", "runsc binary (default: built from this tree)")
	runcBin := flag.String("runc", "/usr/sbin/runc", "runc binary, the baseline")
	flag.Parse()
	if err := run(*quick, *n, *duration, *runscBin, *runcBin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "load: %v\n", err)
		os.Exit(1)
	}
}

// sizes returns the N values to run.
func sizes(quick bool, n int) []int {
	switch {
	case n > 0:
		return []int{n}
	case quick:
		return []int{50}
	default:
		return []int{50, 100, 250}
	}
}

func run(quick bool, n int, dur time.Duration, runscBin, runcBin string, w io.Writer) (retErr error) {
	if os.Geteuid() != 0 {
		return errors.New("must run as root")
	}
	if dur == 0 {
		dur = time.Minute
		if quick {
			dur = 10 * time.Second
		}
	}
	// Ctrl-C (or SIGTERM) cuts the run short; teardown still happens. The
	// runtimes run in their own process groups, out of reach of the
	// terminal's SIGINT.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	tmp, err := os.MkdirTemp("", "runsc-load")
	if err != nil {
		return err
	}
	os.Chmod(tmp, 0o755)
	defer os.RemoveAll(tmp)
	if runscBin == "" {
		if runscBin, err = buildRunsc(tmp); err != nil {
			return err
		}
	}
	if _, err := os.Stat(runcBin); err != nil {
		return fmt.Errorf("runc baseline: %w", err)
	}
	rootfs := filepath.Join(tmp, "rootfs")
	if err := makeRootfs(rootfs); err != nil {
		return err
	}
	cgParent := fmt.Sprintf("/runsc-load-%d", os.Getpid())
	runtimes := []*runtime{
		{Name: "runsc", Bin: runscBin, Root: filepath.Join(tmp, "root-runsc"), CgParent: cgParent + "/runsc", LongLived: true},
		{Name: "runc", Bin: runcBin, Root: filepath.Join(tmp, "root-runc"), CgParent: cgParent + "/runc"},
	}
	defer teardown(runtimes, cgParent)

	var rows []*row
	for k, size := range sizes(quick, n) {
		// Alternate which runtime goes first at each N.
		order := runtimes
		if k%2 == 1 {
			order = []*runtime{runtimes[1], runtimes[0]}
		}
		for _, rt := range order {
			if ctx.Err() != nil {
				break
			}
			fmt.Fprintf(os.Stderr, "load: %s, N=%d, %v of execs\n", rt.Name, size, dur)
			r, err := cycle(ctx, rt, size, dur, tmp, rootfs)
			if err != nil {
				return err
			}
			rows = append(rows, r)
		}
	}
	report(w, rows, dur)
	if ctx.Err() != nil {
		return errors.New("interrupted")
	}
	for _, r := range rows {
		if r.Failures > 0 || r.Residue.total() > 0 {
			return errors.New("failures or residue (see the report)")
		}
	}
	return nil
}

// buildRunsc builds runsc from the source tree holding the working
// directory into dir.
func buildRunsc(dir string) (string, error) {
	src, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(src, "go.mod")); err == nil && strings.Contains(string(b), "module runsc.dev/runsc") {
			break
		}
		parent := filepath.Dir(src)
		if parent == src {
			return "", errors.New("cannot find the runsc source tree: run from it or pass --runsc")
		}
		src = parent
	}
	bin := filepath.Join(dir, "runsc")
	cmd := exec.Command("go", "build", "-o", bin, "./runsc")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building runsc: %v: %s", err, out)
	}
	return bin, nil
}

// teardown deletes every container that may still exist, then removes the
// cgroup parent. It runs on every exit path, after the residue was
// measured.
func teardown(runtimes []*runtime, cgParent string) {
	for _, rt := range runtimes {
		ids := rt.liveIDs()
		forAll(len(ids), func(i int) {
			if res := rt.run("delete", "--force", ids[i]); res.Err == nil {
				rt.track(ids[i], false)
			} else {
				fmt.Fprintf(os.Stderr, "load: teardown: %v\n", res.Err)
			}
		})
	}
	for _, d := range cgroupDirs(cgParent) {
		removeCgroupTree(d)
	}
}
