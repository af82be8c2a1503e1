package container

import (
	"math/rand/v2"
	"regexp"
	"strconv"
	"testing"
)

// TestParseProcNSPathAgreesWithRegexp checks parseProcNSPath against the
// regular expression it replaces, on chosen and on random paths.
func TestParseProcNSPathAgreesWithRegexp(t *testing.T) {
	re := regexp.MustCompile(`^/proc/(\d+)/ns/([a-z_]+)$`)
	in := []string{"/proc/1/ns/net", "/proc/123/ns/pid_for_children", "/proc/self/ns/net", "/proc//ns/net", "/proc/1/ns/", "/proc/1/ns/Net", "/proc/1/ns/net/x", "proc/1/ns/net", "/proc/1/ns/net\n", "/proc/01/ns/ipc", "/run/netns/x", ""}
	r := rand.New(rand.NewPCG(3, 4))
	parts := []string{"/proc/", "/ns/", "1", "42", "x", "net", "_", "/", "A", "self"}
	for range 20000 {
		s := ""
		for n := r.IntN(6); n >= 0; n-- {
			s += parts[r.IntN(len(parts))]
		}
		in = append(in, s)
	}
	for _, s := range in {
		pid, typ, ok := parseProcNSPath(s)
		m := re.FindStringSubmatch(s)
		if ok != (m != nil) {
			t.Errorf("%q: ok %v, the regexp matched %v", s, ok, m != nil)
			continue
		}
		if ok {
			if want, _ := strconv.Atoi(m[1]); pid != want || typ != m[2] {
				t.Errorf("%q: (%d, %q), want (%d, %q)", s, pid, typ, want, m[2])
			}
		}
	}
}
