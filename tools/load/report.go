package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// report prints one line per runtime and N, then runsc/runc latency
// ratios per N, then the first errors and residue items.
func report(w io.Writer, rows []*row, dur time.Duration) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "runtime\tN\tcreate p50 ms\tcreate p99 ms\tcreate max ms\texecs\texec/s\texec p50 ms\texec p99 ms\tmissed\tdelete p50 ms\tdelete p99 ms\tfailures\truntime PSS/ctr MiB\tinit RSS/ctr MiB\tresidue st/proc/cg/mnt\t\n")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\t%.1f\t%s\t%s\t%d\t%s\t%s\t%d\t%s\t%s\t%d/%d/%d/%d\t\n",
			r.Runtime, r.N,
			ms(r.Create.percentile(50)), ms(r.Create.percentile(99)), ms(r.Create.max()),
			len(r.Exec), float64(len(r.Exec))/dur.Seconds(), ms(r.Exec.percentile(50)), ms(r.Exec.percentile(99)), r.ExecMissed,
			ms(r.Delete.percentile(50)), ms(r.Delete.percentile(99)),
			r.Failures, mib(r.RuntimePSS), mib(r.InitRSS),
			r.Residue.StateDirs, r.Residue.Procs, r.Residue.Cgroups, r.Residue.Mounts)
	}
	tw.Flush()

	// Ratios runsc/runc at each N.
	byN := map[int]map[string]*row{}
	var ns []int
	for _, r := range rows {
		if byN[r.N] == nil {
			byN[r.N] = map[string]*row{}
			ns = append(ns, r.N)
		}
		byN[r.N][r.Runtime] = r
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "runsc/runc\tN\tcreate p50\tcreate p99\texec p50\texec p99\tdelete p50\tdelete p99\t\n")
	for _, n := range ns {
		a, b := byN[n]["runsc"], byN[n]["runc"]
		if a == nil || b == nil {
			continue
		}
		fmt.Fprintf(tw, "\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", n,
			ratio(a.Create.percentile(50), b.Create.percentile(50)), ratio(a.Create.percentile(99), b.Create.percentile(99)),
			ratio(a.Exec.percentile(50), b.Exec.percentile(50)), ratio(a.Exec.percentile(99), b.Exec.percentile(99)),
			ratio(a.Delete.percentile(50), b.Delete.percentile(50)), ratio(a.Delete.percentile(99), b.Delete.percentile(99)))
	}
	tw.Flush()
	for _, r := range rows {
		for _, e := range r.Errors {
			fmt.Fprintf(w, "%s N=%d error: %s\n", r.Runtime, r.N, oneLine(e))
		}
		for _, d := range r.Residue.Details {
			fmt.Fprintf(w, "%s N=%d residue: %s\n", r.Runtime, r.N, d)
		}
	}
}

// oneLine shortens a message to one line of at most 300 bytes.
func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " | ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
