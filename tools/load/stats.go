package main

import (
	"bufio"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// latencies is a set of durations of one kind of operation.
type latencies []time.Duration

// percentile returns the p-th percentile (0 < p <= 100) by the
// nearest-rank method: the smallest value with at least p% of the values
// at or below it. It is 0 for an empty set.
func (l latencies) percentile(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := append(latencies(nil), l...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	if rank < 1 {
		rank = 1
	}
	if rank > len(s) {
		rank = len(s)
	}
	return s[rank-1]
}

// max returns the largest value, 0 for an empty set.
func (l latencies) max() time.Duration {
	var m time.Duration
	for _, d := range l {
		m = max(m, d)
	}
	return m
}

// ms formats d in milliseconds with one decimal.
func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64)
}

// ratio formats a/b with two decimals, "-" when b is 0.
func ratio(a, b time.Duration) string {
	if b == 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(a)/float64(b), 'f', 2, 64)
}

// parseKB finds "key: N kB" in a /proc text file (status, smaps_rollup)
// and returns N in bytes.
func parseKB(text, key string) (int64, error) {
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), key+":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("malformed %s line %q", key, sc.Text())
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("malformed %s line %q: %w", key, sc.Text(), err)
		}
		return n * 1024, nil
	}
	return 0, fmt.Errorf("no %s line", key)
}

// mib formats bytes in MiB with two decimals.
func mib(b int64) string {
	return strconv.FormatFloat(float64(b)/(1<<20), 'f', 2, 64)
}
