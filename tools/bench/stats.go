package main

import (
	"math"
	"sort"
)

// Summary is the median, minimum and maximum of the valid samples of one
// runtime for one metric.
type Summary struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	// N is the number of valid (not NaN) samples.
	N int `json:"n"`
}

// valid returns the samples that are not NaN or infinite, in order.
func valid(xs []float64) []float64 {
	out := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			out = append(out, x)
		}
	}
	return out
}

// Median returns the median of the valid samples (the mean of the two middle
// ones for an even count), or NaN when there is none.
func Median(xs []float64) float64 {
	v := valid(xs)
	if len(v) == 0 {
		return math.NaN()
	}
	sort.Float64s(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// Summarize returns the median, minimum and maximum of the valid samples;
// all three are NaN when there is none.
func Summarize(xs []float64) Summary {
	v := valid(xs)
	if len(v) == 0 {
		return Summary{Median: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	}
	s := Summary{Median: Median(v), Min: v[0], Max: v[0], N: len(v)}
	for _, x := range v {
		s.Min = math.Min(s.Min, x)
		s.Max = math.Max(s.Max, x)
	}
	return s
}

// PairRatios returns a[i]/b[i] for every round i in which both samples are
// valid and b[i] is not zero: the runs of one round are adjacent in time, so
// each ratio compares two runtimes under the same machine conditions.
func PairRatios(a, b []float64) []float64 {
	n := min(len(a), len(b))
	out := make([]float64, 0, n)
	for i := 0; i < n; i++ {
		x, y := a[i], b[i]
		if math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) || y == 0 {
			continue
		}
		out = append(out, x/y)
	}
	return out
}

// PairRatio is the median of the per-round ratios a[i]/b[i] (see
// PairRatios), or NaN when no round has both samples.
func PairRatio(a, b []float64) float64 {
	return Median(PairRatios(a, b))
}

// Subtract returns xs with d subtracted from every valid sample.
func Subtract(xs []float64, d float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = x - d
	}
	return out
}

// Diff returns a[i]-b[i] per round, NaN where either is missing.
func Diff(a, b []float64) []float64 {
	out := make([]float64, min(len(a), len(b)))
	for i := range out {
		out[i] = a[i] - b[i]
	}
	return out
}
