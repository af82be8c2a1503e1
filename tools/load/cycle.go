package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// row is the outcome of one cycle (create, exec, delete) of N containers
// with one runtime.
type row struct {
	Runtime string
	N       int

	Create latencies
	Exec   latencies
	Delete latencies
	// ExecMissed counts exec ticks skipped because the previous exec of
	// the same container was still running.
	ExecMissed int
	// Failures counts failed commands of every phase; Errors keeps the
	// first few messages.
	Failures int
	Errors   []string
	// RuntimePSS is the mean PSS per container of the runtime's own
	// long-lived processes (runsc: sandbox and gofer; runc: none).
	RuntimePSS int64
	// InitRSS is the mean RSS of the container's init.
	InitRSS int64
	// MemSamples counts the containers memory was read from.
	MemSamples int
	Residue    residue
}

// recorder collects a cycle's results from many goroutines.
type recorder struct {
	mu  sync.Mutex
	row *row
}

func (rec *recorder) fail(err error) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.row.Failures++
	if len(rec.row.Errors) < 5 {
		rec.row.Errors = append(rec.row.Errors, err.Error())
	}
}

func (rec *recorder) record(into *latencies, res result) bool {
	if res.Err != nil {
		rec.fail(res.Err)
		return false
	}
	rec.mu.Lock()
	*into = append(*into, res.Took)
	rec.mu.Unlock()
	return true
}

// forAll runs f(i) for i in [0, n) concurrently, released together.
func forAll(n int, f func(i int)) {
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			f(i)
		}()
	}
	close(gate)
	wg.Wait()
}

// cycle creates n containers concurrently with rt, starts them, runs an
// exec in each container once a second for dur, measures memory, deletes
// them concurrently and looks for residue. A cancelled ctx (Ctrl-C) cuts
// the exec phase short; the containers are deleted either way.
func cycle(ctx context.Context, rt *runtime, n int, dur time.Duration, tmp, rootfs string) (*row, error) {
	r := &row{Runtime: rt.Name, N: n}
	rec := &recorder{row: r}
	bundles := filepath.Join(tmp, fmt.Sprintf("bundles-%s-%d", rt.Name, n))
	defer os.RemoveAll(bundles)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("load-%d-%d", n, i)
		if err := writeBundle(filepath.Join(bundles, ids[i]), rootfs, rt.CgParent+"/"+ids[i]); err != nil {
			return nil, err
		}
	}
	running := make([]bool, n)
	forAll(n, func(i int) {
		if ctx.Err() != nil {
			return
		}
		rt.track(ids[i], true)
		res := rt.run("create", "--bundle", filepath.Join(bundles, ids[i]), "--pid-file", rt.pidFile(bundles, ids[i]), ids[i])
		if rec.record(&r.Create, res) {
			running[i] = rec.record(new(latencies), rt.run("start", ids[i]))
		}
	})

	// Execs: one per container per second, staggered over the second.
	end := time.Now().Add(dur)
	forAll(n, func(i int) {
		if !running[i] {
			return
		}
		next := time.Now().Add(time.Second * time.Duration(i) / time.Duration(n))
		for next.Before(end) {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(next)):
			}
			rec.record(&r.Exec, rt.run("exec", ids[i], "/bin/true"))
			next = next.Add(time.Second)
			for time.Now().After(next) && next.Before(end) {
				rec.mu.Lock()
				r.ExecMissed++
				rec.mu.Unlock()
				next = next.Add(time.Second)
			}
		}
	})

	measureMemory(rt, r, bundles, ids, running)

	forAll(n, func(i int) {
		res := rt.run("delete", "--force", ids[i])
		if rec.record(&r.Delete, res) {
			rt.track(ids[i], false)
		}
	})
	r.Residue = findResidue(rt, tmp)
	return r, nil
}

// measureMemory reads, per running container, the PSS of the runtime's
// long-lived processes (runsc: the pid-file process, the sandbox, and its
// child the gofer) and the RSS of the container's init, and stores the
// means in r.
func measureMemory(rt *runtime, r *row, bundles string, ids []string, running []bool) {
	var pssSum, rssSum int64
	for i, id := range ids {
		if !running[i] {
			continue
		}
		pid, err := readPid(rt.pidFile(bundles, id))
		if err != nil {
			continue
		}
		init := pid
		if rt.LongLived {
			var sum int64
			procs := append([]int{pid}, children(pid)...)
			for _, p := range procs {
				if v, err := pss(p); err == nil {
					sum += v
				}
			}
			pssSum += sum
			// sandbox -> gofer -> init.
			init = 0
			for _, g := range children(pid) {
				if c := children(g); len(c) > 0 {
					init = c[0]
				}
			}
		}
		if v, err := rss(init); err == nil {
			rssSum += v
		}
		r.MemSamples++
	}
	if r.MemSamples > 0 {
		r.RuntimePSS = pssSum / int64(r.MemSamples)
		r.InitRSS = rssSum / int64(r.MemSamples)
	}
}
