package cgroup

import (
	"math/rand/v2"
	"regexp"
	"testing"
)

// randomString draws from an alphabet that hits every class the patterns
// distinguish.
func randomString(r *rand.Rand, alphabet string) string {
	b := make([]byte, r.IntN(8))
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// TestMatchersAgreeWithRegexps checks the hand-written matchers against the
// regular expressions they replace, on chosen and on random strings.
func TestMatchersAgreeWithRegexps(t *testing.T) {
	for _, tc := range []struct {
		name     string
		re       *regexp.Regexp
		f        func(string) bool
		alphabet string
		cases    []string
	}{
		{"page size", regexp.MustCompile(`^[1-9][0-9]*[KMGT]B$`), validPageSize, "0129KMGTBb .",
			[]string{"2MB", "1GB", "64KB", "0MB", "02MB", "MB", "2M", "2mb", "2MBB", "20MB", "", "B", "1TB", "1PB", " 2MB"}},
		{"unified key", regexp.MustCompile(`^[a-z_]+\.[A-Za-z0-9_.-]+$`), validUnifiedKey, "az_.AZ09-/ \n",
			[]string{"memory.max", "io.weight", "cpu.max.burst", "memory.", ".max", "memory", "Memory.max", "a.b/c", "a..b", "a.b-c_D.9", "", "_.x", "a.b\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			in := tc.cases
			for range 20000 {
				in = append(in, randomString(r, tc.alphabet))
			}
			for _, s := range in {
				if got, want := tc.f(s), tc.re.MatchString(s); got != want {
					t.Errorf("%q: %v, the regexp says %v", s, got, want)
				}
			}
		})
	}
}
