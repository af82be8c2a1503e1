package osthread

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestThrowawayNotMainThread(t *testing.T) {
	seen := map[int]bool{}
	for i := 0; i < 50; i++ {
		var tid int
		Throwaway(func() { tid = unix.Gettid() })
		if tid == unix.Getpid() {
			t.Fatalf("ran on the main thread")
		}
		seen[tid] = true
	}
	// Each call gets a fresh thread: the old ones exited.
	if len(seen) != 50 {
		t.Errorf("%d distinct threads in 50 calls, want 50 (threads reused)", len(seen))
	}
}
