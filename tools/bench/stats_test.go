package main

import (
	"math"
	"testing"
)

func TestMedian(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{5}, 5},
		{[]float64{nan, 7, nan, 1, 4}, 4},
		{[]float64{10, 1, 1, 1, 1000}, 1},
		{[]float64{math.Inf(1), 2, 4}, 3},
	} {
		if got := Median(tc.in); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if got := Median(nil); !math.IsNaN(got) {
		t.Errorf("Median(nil) = %v, want NaN", got)
	}
	if got := Median([]float64{nan, nan}); !math.IsNaN(got) {
		t.Errorf("Median(NaN, NaN) = %v, want NaN", got)
	}
}

func TestMedianDoesNotReorderInput(t *testing.T) {
	in := []float64{3, 1, 2}
	Median(in)
	if in[0] != 3 || in[1] != 1 || in[2] != 2 {
		t.Errorf("Median sorted its input in place: %v", in)
	}
}

func TestSummarize(t *testing.T) {
	s := Summarize([]float64{5, math.NaN(), 1, 9, 3})
	if s.Median != 4 || s.Min != 1 || s.Max != 9 || s.N != 4 {
		t.Errorf("Summarize = %+v, want median 4 min 1 max 9 n 4", s)
	}
	e := Summarize(nil)
	if !math.IsNaN(e.Median) || !math.IsNaN(e.Min) || !math.IsNaN(e.Max) || e.N != 0 {
		t.Errorf("Summarize(nil) = %+v, want NaNs and n 0", e)
	}
}

func TestPairRatiosAreAdjacent(t *testing.T) {
	// A slow drift hits both runtimes in the same round: the per-round
	// ratio stays 0.5 while the ratio of medians would not be exact.
	a := []float64{10, 20, 40, math.NaN(), 80}
	b := []float64{20, 40, 80, 100, 160}
	got := PairRatios(a, b)
	if len(got) != 4 {
		t.Fatalf("PairRatios = %v, want 4 ratios (round 3 lacks a)", got)
	}
	for _, r := range got {
		if r != 0.5 {
			t.Errorf("ratio %v, want 0.5", r)
		}
	}
	if r := PairRatio(a, b); r != 0.5 {
		t.Errorf("PairRatio = %v, want 0.5", r)
	}
}

func TestPairRatioDiffersFromRatioOfMedians(t *testing.T) {
	a := []float64{1, 10, 10}
	b := []float64{2, 1, 100}
	// Per round: 0.5, 10, 0.1 -> median 0.5; medians 10/2 = 5.
	if r := PairRatio(a, b); r != 0.5 {
		t.Errorf("PairRatio = %v, want 0.5", r)
	}
	if m := Median(a) / Median(b); m != 5 {
		t.Errorf("ratio of medians = %v, want 5", m)
	}
}

func TestPairRatioSkipsZeroAndUnequalLengths(t *testing.T) {
	got := PairRatios([]float64{1, 2, 3}, []float64{0, 4})
	if len(got) != 1 || got[0] != 0.5 {
		t.Errorf("PairRatios = %v, want [0.5]", got)
	}
	if r := PairRatio(nil, []float64{1}); !math.IsNaN(r) {
		t.Errorf("PairRatio with no pairs = %v, want NaN", r)
	}
}

func TestSubtractAndDiff(t *testing.T) {
	s := Subtract([]float64{5, math.NaN()}, 2)
	if s[0] != 3 || !math.IsNaN(s[1]) {
		t.Errorf("Subtract = %v", s)
	}
	d := Diff([]float64{5, 7, math.NaN()}, []float64{1, 2, 3})
	if d[0] != 4 || d[1] != 5 || !math.IsNaN(d[2]) || len(d) != 3 {
		t.Errorf("Diff = %v", d)
	}
}
