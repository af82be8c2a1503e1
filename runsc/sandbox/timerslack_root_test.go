//go:build root

package sandbox

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestCoarsenTimerSlack checks that every thread of the process gets
// HelperTimerSlack, threads started afterwards too (helpers are then
// started from any thread: allCoarse), and that the caller's slack is what
// the container's processes get (callerTimerSlack).
func TestCoarsenTimerSlack(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (CAP_SYS_NICE) to set other threads' slack")
	}
	caller, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if caller >= HelperTimerSlack {
		t.Skipf("the test's slack %d is already at least %d", caller, HelperTimerSlack)
	}
	CoarsenTimerSlack()
	t.Cleanup(func() { callerSlack, allCoarse = 0, false })
	if got := callerTimerSlack(); got != uint64(caller) {
		t.Errorf("callerTimerSlack() = %d, want the caller's %d", got, caller)
	}
	if !allCoarse {
		t.Error("allCoarse is not set: some thread was not given the slack")
	}
	// A goroutine locked to a new thread: the runtime starts it from one
	// of the threads set.
	done := make(chan struct{})
	ready := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		close(ready)
		<-done
	}()
	<-ready
	defer close(done)
	tids := threads()
	if len(tids) < 2 {
		t.Fatalf("threads() = %v", tids)
	}
	for _, tid := range tids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/timerslack_ns", tid))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(string(b)); got != strconv.Itoa(HelperTimerSlack) {
			t.Errorf("thread %d: timer slack %s, want %d", tid, got, HelperTimerSlack)
		}
	}
}
