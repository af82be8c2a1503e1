package specutils

import (
	"os"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestCapsFromSpec(t *testing.T) {
	caps, err := CapsFromSpec(&specs.LinuxCapabilities{
		Bounding:  []string{"CAP_CHOWN", "CAP_SYS_ADMIN", "cap_checkpoint_restore"},
		Effective: []string{"CAP_KILL"},
		Permitted: []string{"CAP_KILL", "CAP_NET_RAW"},
		Ambient:   []string{"CAP_NET_BIND_SERVICE"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Caps{
		Bounding:  1<<0 | 1<<21 | 1<<40,
		Effective: 1 << 5,
		Permitted: 1<<5 | 1<<13,
		Ambient:   1 << 10,
	}
	if caps != want {
		t.Errorf("CapsFromSpec = %+v, want %+v", caps, want)
	}
	if none, err := CapsFromSpec(nil); err != nil || none != (Caps{}) {
		t.Errorf("CapsFromSpec(nil) = %+v, %v; want no capability", none, err)
	}
	if _, err := CapsFromSpec(&specs.LinuxCapabilities{Effective: []string{"CAP_NOPE"}}); err == nil {
		t.Error("CapsFromSpec accepted an unknown capability")
	}
}

func TestCapabilityNumbers(t *testing.T) {
	for i, n := range AllCapabilityNames() {
		if c, err := CapabilityFromName(n); err != nil || c != i {
			t.Errorf("CapabilityFromName(%q) = %d, %v; want %d", n, c, err, i)
		}
	}
	// The kernel's own count, where it says.
	if b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap"); err == nil {
		n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if LastCap() != n {
			t.Errorf("LastCap() = %d, /proc says %d", LastCap(), n)
		}
	}
}
