package main

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var l latencies
	for i := 1; i <= 100; i++ {
		l = append(l, time.Duration(101-i)*time.Millisecond) // Unsorted.
	}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{
		{50, 50 * time.Millisecond},
		{99, 99 * time.Millisecond},
		{100, 100 * time.Millisecond},
		{1, 1 * time.Millisecond},
		{0.1, 1 * time.Millisecond},
	} {
		if got := l.percentile(tc.p); got != tc.want {
			t.Errorf("p%v = %v, want %v", tc.p, got, tc.want)
		}
	}
	if l[0] != 100*time.Millisecond {
		t.Errorf("percentile sorted its input in place")
	}
	if got := l.max(); got != 100*time.Millisecond {
		t.Errorf("max = %v", got)
	}
}

func TestPercentileSmall(t *testing.T) {
	if got := latencies(nil).percentile(50); got != 0 {
		t.Errorf("empty p50 = %v", got)
	}
	one := latencies{7 * time.Millisecond}
	if one.percentile(50) != 7*time.Millisecond || one.percentile(99) != 7*time.Millisecond {
		t.Errorf("single value percentiles: %v %v", one.percentile(50), one.percentile(99))
	}
	// Nearest rank: of 3 values p50 is the 2nd, p99 the 3rd.
	three := latencies{3, 1, 2}
	if three.percentile(50) != 2 || three.percentile(99) != 3 {
		t.Errorf("p50 %v p99 %v of {1,2,3}", three.percentile(50), three.percentile(99))
	}
}

func TestParseKB(t *testing.T) {
	const rollup = `55d5c0a52000-7ffd2d9fb000 ---p 00000000 00:00 0                          [rollup]
Rss:                2048 kB
Pss:                1234 kB
Pss_Anon:            800 kB
`
	if n, err := parseKB(rollup, "Pss"); err != nil || n != 1234*1024 {
		t.Errorf("Pss = %d, %v", n, err)
	}
	if n, err := parseKB("Name:\tsleep\nVmRSS:\t     512 kB\n", "VmRSS"); err != nil || n != 512*1024 {
		t.Errorf("VmRSS = %d, %v", n, err)
	}
	if _, err := parseKB(rollup, "Swap"); err == nil {
		t.Errorf("missing key: no error")
	}
	if _, err := parseKB("Pss: lots kB\n", "Pss"); err == nil {
		t.Errorf("malformed value: no error")
	}
	if _, err := parseKB("Pss: 12 MB\n", "Pss"); err == nil {
		t.Errorf("wrong unit: no error")
	}
}

func TestFormat(t *testing.T) {
	if got := ms(1500 * time.Microsecond); got != "1.5" {
		t.Errorf("ms = %q", got)
	}
	if got := ratio(3*time.Millisecond, 2*time.Millisecond); got != "1.50" {
		t.Errorf("ratio = %q", got)
	}
	if got := ratio(1, 0); got != "-" {
		t.Errorf("ratio by 0 = %q", got)
	}
	if got := mib(3 << 19); got != "1.50" {
		t.Errorf("mib = %q", got)
	}
}
