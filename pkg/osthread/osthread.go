// Package osthread runs code on an OS thread of its own that is thrown
// away afterwards: for per-thread kernel state (a cgroup, a namespace)
// that must not leak into the threads Go schedules other goroutines on.
package osthread

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// Throwaway runs f on a locked OS thread that exits when f returns, and
// waits for it. The thread is never the process's main thread: Go cannot
// let that one exit, and would park it for good with f's changes (in a
// cgroup it keeps busy, a namespace it keeps alive).
func Throwaway(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Never unlocked: the thread exits with this goroutine.
		runtime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			// Hold the main thread while another one runs f, then give
			// it back unchanged.
			Throwaway(f)
			runtime.UnlockOSThread()
			return
		}
		f()
	}()
	<-done
}
