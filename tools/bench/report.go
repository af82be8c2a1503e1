package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"

	"golang.org/x/sys/unix"
)

var nanValue = math.NaN()

// jnum is a float that encodes NaN as JSON null.
type jnum float64

// MarshalJSON implements json.Marshaler.
func (j jnum) MarshalJSON() ([]byte, error) {
	f := float64(j)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return []byte(strconv.FormatFloat(f, 'f', 4, 64)), nil
}

func jnums(xs []float64) []jnum {
	out := make([]jnum, len(xs))
	for i, x := range xs {
		out[i] = jnum(x)
	}
	return out
}

// RuntimeResult is one runtime's figures for one metric.
type RuntimeResult struct {
	Median  jnum   `json:"median"`
	Min     jnum   `json:"min"`
	Max     jnum   `json:"max"`
	N       int    `json:"n"`
	Samples []jnum `json:"samples"`
	// NA says why there is no figure.
	NA string `json:"na,omitempty"`
}

// MetricResult is one metric for every runtime.
type MetricResult struct {
	Key    string                    `json:"key"`
	Title  string                    `json:"title"`
	Unit   string                    `json:"unit"`
	Higher bool                      `json:"higher_is_better,omitempty"`
	By     map[string]*RuntimeResult `json:"runtimes"`
	// Ratios maps "a/b" to the median of the per-round ratios a_i/b_i.
	Ratios map[string]jnum `json:"ratios"`
}

// Report is the whole output.
type Report struct {
	Date           string            `json:"date"`
	Command        string            `json:"command"`
	Runs           int               `json:"runs"`
	Warmup         int               `json:"warmup"`
	Machine        map[string]string `json:"machine"`
	Runtimes       []*Runtime        `json:"runtimes"`
	WrapperCostMs  jnum              `json:"wrapper_cost_ms"`
	ThroughputN    int               `json:"throughput_n"`
	ThroughputConc int               `json:"throughput_concurrency"`
	ThroughputRuns int               `json:"throughput_runs"`
	DockerSkipped  string            `json:"docker_skipped,omitempty"`
	Metrics        []*MetricResult   `json:"metrics"`
	Errors         map[string]string `json:"errors,omitempty"`
	Notes          []string          `json:"notes"`

	ref, base string
}

// wrappedCalls is how many wrapped runtime invocations one sample of a
// metric contains; the wrapper's cost is subtracted that many times.
var wrappedCalls = map[string]float64{"run": 1, "create": 1, "start": 1, "delete": 1, "exec": 1, "lifecycle": 3}

// fill computes the figures from the bench's samples.
func (rep *Report) fill(b *Bench, o *options) {
	rep.ref, rep.base = o.ref, o.base
	w := Median(b.wrapper)
	if !b.anyWrapped() {
		w = math.NaN()
	}
	rep.WrapperCostMs = jnum(w)
	final := map[string]map[string][]float64{}
	for _, m := range metricDefs {
		final[m.Key] = map[string][]float64{}
		for _, rt := range b.rts {
			s := append([]float64(nil), b.samples[m.Key][rt.Name]...)
			switch {
			case m.Key == "dd" || m.Key == "fork":
				// Both runs go through the same wrapper: it cancels.
				s = Diff(s, b.samples["run"][rt.Name])
			case rt.Wrapped && wrappedCalls[m.Key] > 0:
				s = Subtract(s, w*wrappedCalls[m.Key])
			case rt.Wrapped && m.Key == "throughput":
				// N containers of 3 wrapped calls spread over C workers.
				for i, cps := range s {
					wall := float64(o.tputN)/cps - 3*w/1000*float64(o.tputN)/float64(o.tputConc)
					s[i] = float64(o.tputN) / wall
				}
			}
			final[m.Key][rt.Name] = s
		}
	}
	for _, m := range metricDefs {
		mr := &MetricResult{Key: m.Key, Title: m.Title, Unit: m.Unit, Higher: m.Higher, By: map[string]*RuntimeResult{}, Ratios: map[string]jnum{}}
		if m.Key == "throughput" {
			mr.Title = fmt.Sprintf("throughput: %d containers create+start+wait+delete, concurrency %d", o.tputN, o.tputConc)
		}
		any := false
		for _, rt := range b.rts {
			s := final[m.Key][rt.Name]
			sum := Summarize(s)
			rr := &RuntimeResult{Median: jnum(sum.Median), Min: jnum(sum.Min), Max: jnum(sum.Max), N: sum.N, Samples: jnums(s)}
			switch {
			case m.Key == "exec" && rt.ExecUnsupported:
				rr.NA = "no exec subcommand"
			case m.Key == "docker" && rep.DockerSkipped != "":
				rr.NA = rep.DockerSkipped
			case m.Key == "throughput" && o.skipTput:
				rr.NA = "--no-throughput"
			case sum.N == 0:
				rr.NA = "no sample"
			}
			if sum.N > 0 {
				any = true
			}
			mr.By[rt.Name] = rr
		}
		for _, a := range b.rts {
			for _, c := range b.rts {
				if a != c {
					mr.Ratios[a.Name+"/"+c.Name] = jnum(PairRatio(final[m.Key][a.Name], final[m.Key][c.Name]))
				}
			}
		}
		if any || m.Key == "exec" {
			rep.Metrics = append(rep.Metrics, mr)
		}
	}
	b.errMu.Lock()
	for k, v := range b.errs {
		if rep.Errors == nil {
			rep.Errors = map[string]string{}
		}
		rep.Errors[k] = fmt.Sprintf("%d failed; first: %s", b.nerrs[k], v)
	}
	b.errMu.Unlock()
	rep.Notes = rep.notes(b, w)
}

func (rep *Report) notes(b *Bench, w float64) []string {
	n := []string{
		fmt.Sprintf("ratio a/b = median over rounds of a_i/b_i; a round runs every runtime once per metric, in turn (%s), so a_i and b_i are adjacent in time", rtNames(b.rts)),
		"bundle: `runsc spec` with terminal false, the same read-only busybox-static rootfs for all; ociVersion set to " + benchOCIVersion + " (crun 1.8.1 rejects 1.3.0)",
		"create/start/delete: one create, start, wait (wait4 on the pid-file process, the bench being a child subreaper like a shim), delete per round; each call timed from fork to reap",
		"memory: PSS and USS from /proc/<pid>/smaps_rollup summed over the pid-file process, the ancestors of the container's init below the bench, and their descendants, leaving out the container's init (pid from `state`) and its descendants, after the container idled; runc and crun leave no process of their own",
		"dd, fork: wall time of `run` of that workload minus the same round's `run` of /bin/true",
	}
	for _, rt := range b.rts {
		if rt.Wrapped {
			n = append(n, fmt.Sprintf("%s* runs through a mount-namespace wrapper (the bench binary re-executed: unshare(CLONE_NEWNS) on a locked thread, / made rslave, umount -l %s, exec %s) because it refuses this hybrid cgroup host; the wrapper's own cost, %.2f ms (median per round of wrapper running /bin/true minus /bin/true), is subtracted from each %s invocation (3x for create+start+wait+delete; throughput corrected by 3*W*N/C of wall time)", rt.Name, hybridUnified, rt.Name, w, rt.Name))
		}
		if rt.ExecUnsupported {
			n = append(n, fmt.Sprintf("exec: n/a for %s (it has no exec subcommand yet)", rt.Name))
		}
	}
	if rep.DockerSkipped != "" {
		n = append(n, "docker run --rm: skipped: "+rep.DockerSkipped)
	}
	return n
}

func rtNames(rts []*Runtime) string {
	var s []string
	for _, rt := range rts {
		s = append(s, rt.Name)
	}
	return strings.Join(s, " ")
}

func (rep *Report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// fmtVal formats a value of unit.
func fmtVal(v jnum, unit string) string {
	f := float64(v)
	switch {
	case math.IsNaN(f):
		return "n/a"
	case unit == "count":
		return strconv.FormatFloat(f, 'f', 0, 64)
	case unit == "MiB" || math.Abs(f) < 10:
		return strconv.FormatFloat(f, 'f', 2, 64)
	default:
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
}

func fmtRatio(v jnum, ok bool) string {
	if !ok {
		return "-"
	}
	if math.IsNaN(float64(v)) {
		return "n/a"
	}
	return strconv.FormatFloat(float64(v), 'f', 2, 64)
}

// rows yields, per metric and runtime, the cells of the table.
func (rep *Report) rows(emit func(title string, cells []string)) {
	for _, m := range rep.Metrics {
		first := true
		for _, rt := range rep.Runtimes {
			rr := m.By[rt.Name]
			name := rt.Name
			if rt.Wrapped {
				name += "*"
			}
			title := ""
			if first {
				title = fmt.Sprintf("%s [%s]", m.Title, m.Unit)
				first = false
			}
			refR, refOK := m.Ratios[rep.ref+"/"+rt.Name]
			baseR, baseOK := m.Ratios[rt.Name+"/"+rep.base]
			if rr.NA != "" {
				emit(title, []string{name, "n/a", "", "", "", "", rr.NA})
				continue
			}
			emit(title, []string{name, fmtVal(rr.Median, m.Unit), fmtVal(rr.Min, m.Unit), fmtVal(rr.Max, m.Unit),
				fmtRatio(refR, refOK), fmtRatio(baseR, baseOK), ""})
		}
	}
}

func (rep *Report) header() []string {
	h := []string{
		fmt.Sprintf("date: %s; %d rounds after %d warm-up, interleaved; throughput %d rounds", rep.Date, rep.Runs, rep.Warmup, rep.ThroughputRuns),
		"command: " + rep.Command,
		fmt.Sprintf("machine: %s; %s cores (%s); kernel %s; %s; cgroup %s", rep.Machine["os"], rep.Machine["cpus"], rep.Machine["cpu"], rep.Machine["kernel"], rep.Machine["memory"], rep.Machine["cgroup"]),
	}
	for _, rt := range rep.Runtimes {
		h = append(h, fmt.Sprintf("runtime %s: %s, %.1f MB, %s", rt.Name, rt.Path, float64(rt.Size)/1e6, rt.Version))
	}
	return h
}

func (rep *Report) writeTable(w io.Writer) {
	for _, l := range rep.header() {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "metric\truntime\tmedian\tmin\tmax\t%s/this\tthis/%s\t\n", rep.ref, rep.base)
	rep.rows(func(title string, c []string) {
		if title != "" {
			tw.Flush()
			fmt.Fprintln(w, title)
		}
		fmt.Fprintf(tw, "\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c[0], c[1], c[2], c[3], c[4], c[5], c[6])
	})
	tw.Flush()
	rep.writeFooter(w, "")
}

func (rep *Report) writeMarkdown(w io.Writer) {
	for _, l := range rep.header() {
		fmt.Fprintf(w, "- %s\n", l)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "| metric | runtime | median | min | max | %s/this | this/%s |\n|---|---|--:|--:|--:|--:|--:|\n", rep.ref, rep.base)
	rep.rows(func(title string, c []string) {
		if c[6] != "" {
			c[1] = "n/a (" + c[6] + ")"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", title, c[0], c[1], c[2], c[3], c[4], c[5])
	})
	fmt.Fprintln(w)
	rep.writeFooter(w, "- ")
}

func (rep *Report) writeFooter(w io.Writer, bullet string) {
	fmt.Fprintln(w)
	for _, n := range rep.Notes {
		fmt.Fprintln(w, bullet+n)
	}
	for k, v := range rep.Errors {
		fmt.Fprintf(w, "%serror %s: %s\n", bullet, k, v)
	}
}

// firstLine returns the first line of a command's output.
func firstLine(name string, args ...string) string {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil && len(out) == 0 {
		return "(unknown version)"
	}
	return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
}

// machineNotes describes the host.
func machineNotes() map[string]string {
	m := map[string]string{"cpus": strconv.Itoa(runtime.NumCPU())}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m["kernel"] = unix.ByteSliceToString(u.Release[:])
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				m["cpu"] = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		f := strings.Fields(strings.SplitN(string(b), "\n", 2)[0])
		if len(f) >= 2 {
			kb, _ := strconv.ParseFloat(f[1], 64)
			m["memory"] = fmt.Sprintf("%.1f GiB RAM", kb/(1<<20))
		}
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
				m["os"] = strings.Trim(v, `"`)
			}
		}
	}
	switch {
	case isMountpoint(hybridUnified):
		m["cgroup"] = "hybrid (v1 controllers + v2 at " + hybridUnified + ")"
	case isMountpoint("/sys/fs/cgroup/memory"):
		m["cgroup"] = "v1"
	default:
		m["cgroup"] = "v2"
	}
	return m
}
