package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"sync"
	"time"
)

// metricDef describes one row group of the output.
type metricDef struct {
	Key   string
	Title string
	Unit  string
	// Higher is true when a larger value is better (throughput).
	Higher bool
}

// metricDefs lists the metrics in output order.
var metricDefs = []metricDef{
	{Key: "version", Title: "--version (binary start-up)", Unit: "ms"},
	{Key: "run", Title: "run /bin/true (create+start+wait+delete)", Unit: "ms"},
	{Key: "create", Title: "create", Unit: "ms"},
	{Key: "start", Title: "start", Unit: "ms"},
	{Key: "delete", Title: "delete", Unit: "ms"},
	{Key: "lifecycle", Title: "create+start+wait+delete, separate calls", Unit: "ms"},
	{Key: "exec", Title: "exec /bin/true into a running container", Unit: "ms"},
	{Key: "pss", Title: "idle memory of runtime processes, PSS", Unit: "MiB"},
	{Key: "uss", Title: "idle memory of runtime processes, USS", Unit: "MiB"},
	{Key: "procs", Title: "runtime processes per idle container", Unit: "count"},
	{Key: "dd", Title: "inside: dd bs=1 count=200000 (run minus run of true)", Unit: "ms"},
	{Key: "fork", Title: "inside: 500x fork+exec true (run minus run of true)", Unit: "ms"},
	{Key: "throughput", Title: "throughput: N containers, concurrency C", Unit: "containers/s", Higher: true},
	{Key: "docker", Title: "docker run --rm /bin/true", Unit: "ms"},
}

// errInterrupted stops the bench after a signal.
var errInterrupted = errors.New("interrupted")

// Bench holds the runtimes, bundles and samples of one benchmark run.
type Bench struct {
	ctx     context.Context
	rts     []*Runtime
	bundles map[string]string
	tmp     string
	self    string
	iv      *Invoker
	idle    time.Duration
	// extra are optional per-round steps (docker).
	extra []func(*Runtime, int) error

	// samples[metric][runtime][round], NaN where a sample failed.
	samples map[string]map[string][]float64
	// wrapper[round] is the wrapper's cost in ms.
	wrapper []float64

	errMu sync.Mutex
	errs  map[string]string // first error per metric/runtime
	nerrs map[string]int
}

// newSamples allocates n rounds of NaN for metric.
func (b *Bench) alloc(metric string, n int) {
	if b.samples == nil {
		b.samples = map[string]map[string][]float64{}
	}
	m := map[string][]float64{}
	for _, rt := range b.rts {
		s := make([]float64, n)
		for i := range s {
			s[i] = math.NaN()
		}
		m[rt.Name] = s
	}
	b.samples[metric] = m
}

// record stores one sample; round < 0 is warm-up and is dropped.
func (b *Bench) record(metric string, rt *Runtime, round int, v float64) {
	if round < 0 {
		return
	}
	b.samples[metric][rt.Name][round] = v
}

// fail notes a failed sample.
func (b *Bench) fail(metric string, rt *Runtime, err error) {
	b.errMu.Lock()
	defer b.errMu.Unlock()
	k := metric + "/" + rt.Name
	if b.errs == nil {
		b.errs, b.nerrs = map[string]string{}, map[string]int{}
	}
	if _, ok := b.errs[k]; !ok {
		b.errs[k] = err.Error()
		fmt.Fprintf(os.Stderr, "bench: %s: %v\n", k, err)
	}
	b.nerrs[k]++
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// anyWrapped reports whether a runtime runs through the wrapper.
func (b *Bench) anyWrapped() bool {
	for _, rt := range b.rts {
		if rt.Wrapped {
			return true
		}
	}
	return false
}

// round runs every per-round metric once for each runtime in turn, so the
// samples of one round are adjacent in time. round < 0 is warm-up.
func (b *Bench) round(r int) error {
	if b.anyWrapped() {
		t1, err1 := b.iv.Run([]string{b.self, nsexecArg, "/bin/true"})
		t0, err0 := b.iv.Run([]string{"/bin/true"})
		if err1 != nil || err0 != nil {
			return fmt.Errorf("measuring the wrapper: %v %v", err1, err0)
		}
		if r >= 0 {
			b.wrapper[r] = ms(t1 - t0)
		}
	}
	steps := []func(*Runtime, int) error{b.version, b.run, b.lifecycle, b.idleAndExec, b.work("dd"), b.work("fork")}
	steps = append(steps, b.extra...)
	for _, step := range steps {
		for _, rt := range b.rts {
			if b.ctx.Err() != nil {
				return errInterrupted
			}
			if err := step(rt, r); err != nil {
				return err
			}
		}
	}
	reapOrphans()
	return nil
}

func (b *Bench) version(rt *Runtime, r int) error {
	d, err := b.iv.Run([]string{rt.Path, "--version"})
	if err != nil {
		b.fail("version", rt, err)
		return nil
	}
	b.record("version", rt, r, ms(d))
	return nil
}

func (b *Bench) run(rt *Runtime, r int) error {
	id := rt.newID("run")
	d, err := b.iv.Run(rt.argv("run", "--bundle", b.bundles["true"], id))
	if err != nil {
		b.fail("run", rt, err)
		rt.cleanup(b.iv)
		return nil
	}
	rt.gone(id)
	b.record("run", rt, r, ms(d))
	return nil
}

func (b *Bench) lifecycle(rt *Runtime, r int) error {
	id := rt.newID("lc")
	tc, pid, err := rt.create(b.iv, b.bundles["true"], id)
	if err != nil {
		b.fail("create", rt, err)
		rt.cleanup(b.iv)
		return nil
	}
	ts, err := b.iv.Run(rt.argv("start", id))
	if err != nil {
		b.fail("start", rt, err)
		rt.cleanup(b.iv)
		waitPid(pid)
		return nil
	}
	w0 := time.Now()
	if err := waitPid(pid); err != nil {
		return err
	}
	tw := time.Since(w0)
	td, err := rt.delete(b.iv, id)
	if err != nil {
		b.fail("delete", rt, err)
		rt.cleanup(b.iv)
		return nil
	}
	b.record("create", rt, r, ms(tc))
	b.record("start", rt, r, ms(ts))
	b.record("delete", rt, r, ms(td))
	b.record("lifecycle", rt, r, ms(tc+ts+tw+td))
	return nil
}

// idleAndExec starts a container running sleep, lets it idle, measures the
// memory of the runtime's processes (see runtimeMemory), then times an exec
// of /bin/true into it.
func (b *Bench) idleAndExec(rt *Runtime, r int) error {
	id := rt.newID("idle")
	_, pid, err := rt.create(b.iv, b.bundles["sleep"], id)
	if err != nil {
		b.fail("pss", rt, err)
		rt.cleanup(b.iv)
		return nil
	}
	defer func() {
		b.iv.Run(rt.argv("kill", id, "KILL"))
		waitPid(pid)
		if _, err := rt.delete(b.iv, id); err != nil {
			b.fail("delete (idle)", rt, err)
			rt.cleanup(b.iv)
		}
	}()
	if _, err := b.iv.Run(rt.argv("start", id)); err != nil {
		b.fail("pss", rt, err)
		return nil
	}
	select {
	case <-time.After(b.idle):
	case <-b.ctx.Done():
		return errInterrupted
	}
	initPid, err := rt.statePid(b.iv, id)
	if err != nil {
		b.fail("pss", rt, err)
		return nil
	}
	mem, err := runtimeMemory(pid, initPid)
	if err != nil {
		b.fail("pss", rt, err)
	} else {
		b.record("pss", rt, r, float64(mem.PSS)/(1<<20))
		b.record("uss", rt, r, float64(mem.USS)/(1<<20))
		b.record("procs", rt, r, float64(mem.Procs))
	}
	if rt.ExecUnsupported {
		return nil
	}
	d, err := b.iv.Run(rt.argv("exec", id, "/bin/true"))
	if err != nil {
		if !rt.hasExec(b.iv, err) {
			rt.ExecUnsupported = true
			fmt.Fprintf(os.Stderr, "bench: %s has no exec subcommand; exec is n/a for it\n", rt.Name)
			return nil
		}
		b.fail("exec", rt, err)
		return nil
	}
	b.record("exec", rt, r, ms(d))
	return nil
}

// work times `run` of a workload bundle; finish subtracts the same round's
// run of /bin/true.
func (b *Bench) work(name string) func(*Runtime, int) error {
	return func(rt *Runtime, r int) error {
		id := rt.newID(name)
		d, err := b.iv.Run(rt.argv("run", "--bundle", b.bundles[name], id))
		if err != nil {
			b.fail(name, rt, err)
			rt.cleanup(b.iv)
			return nil
		}
		rt.gone(id)
		b.record(name, rt, r, ms(d))
		return nil
	}
}

// throughput creates, starts, waits for and deletes n containers with
// conc workers and returns containers per second.
func (b *Bench) throughput(rt *Runtime, n, conc int) (float64, error) {
	jobs := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	failed := 0
	ivs := make([]*Invoker, conc)
	for i := range ivs {
		iv, err := NewInvoker(b.tmp)
		if err != nil {
			return 0, err
		}
		defer iv.Close()
		ivs[i] = iv
	}
	start := time.Now()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(iv *Invoker) {
			defer wg.Done()
			for range jobs {
				err := func() error {
					id := rt.newID("tp")
					_, pid, err := rt.create(iv, b.bundles["true"], id)
					if err != nil {
						return err
					}
					if _, err := iv.Run(rt.argv("start", id)); err != nil {
						return err
					}
					if err := waitPid(pid); err != nil {
						return err
					}
					_, err = rt.delete(iv, id)
					return err
				}()
				if err != nil {
					mu.Lock()
					failed++
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}(ivs[w])
	}
	for i := 0; i < n && b.ctx.Err() == nil; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	wall := time.Since(start)
	rt.cleanup(b.iv)
	reapOrphans()
	if b.ctx.Err() != nil {
		return 0, errInterrupted
	}
	cps := float64(n-failed) / wall.Seconds()
	if firstErr != nil {
		// The figure counts the containers that made it; the failures are
		// reported next to it.
		return cps, fmt.Errorf("%d of %d containers failed (the figure counts the others): %w", failed, n, firstErr)
	}
	return cps, nil
}
