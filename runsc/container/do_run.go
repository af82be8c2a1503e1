package container

import (
	"fmt"
	"os"
	"runtime"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/pkg/log"
	"runsc.dev/runsc/runsc/config"
	"runsc.dev/runsc/runsc/specutils"
)

// DoKillGrace is how long `runsc do` lets the command handle a forwarded
// SIGINT, SIGTERM or SIGHUP before it kills the container. A second such
// signal kills it at once. (The command is PID 1 of its PID namespace: a
// signal it has no handler for is ignored, so forwarding alone may not
// stop it.)
const DoKillGrace = 2 * time.Second

// Do runs spec as container id the way `runsc do` does: created, started,
// waited for and deleted, with signals from sigs forwarded to it and the
// interrupting ones (SIGINT, SIGTERM, SIGHUP) ending it after DoKillGrace.
// newNet asks for a new network namespace with loopback up: rootless, the
// spec asks the sandbox for it; as root, Do makes it on the locked thread
// that starts the sandbox, which is then born in it, and the spec leaves
// the gofer and init in the sandbox's.
func Do(conf *config.Config, id, cwd string, spec *specs.Spec, newNet bool, sigs <-chan os.Signal) (int, error) {
	type result struct {
		status int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		// This thread may end up in its own network namespace: it is
		// never unlocked, so it exits with the goroutine.
		runtime.LockOSThread()
		if newNet && !conf.Rootless {
			if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
				done <- result{0, fmt.Errorf("creating a network namespace: %w", err)}
				return
			}
			if err := specutils.LoopbackUp(); err != nil {
				done <- result{0, err}
				return
			}
		}
		fwd := make(chan os.Signal, 16)
		stop := make(chan struct{})
		defer close(stop)
		go relayDoSignals(conf.RootDir, id, sigs, fwd, stop)
		status, err := Run(conf, CreateArgs{ID: id, Bundle: cwd, Spec: spec, Attached: true}, false, fwd)
		done <- result{status, err}
	}()
	r := <-done
	return r.status, r.err
}

// relayDoSignals forwards sigs to fwd (which Run forwards to the
// container's init) and kills the container when an interrupting signal
// has not ended it within DoKillGrace, or on the second one.
func relayDoSignals(root, id string, sigs <-chan os.Signal, fwd chan<- os.Signal, stop <-chan struct{}) {
	var timer <-chan time.Time
	interrupts := 0
	kill := func() {
		c, err := Load(root, id)
		if err != nil {
			return
		}
		if err := c.Signal(unix.SIGKILL, true); err != nil {
			log.Debugf("killing container %s: %v", id, err)
		}
	}
	for {
		select {
		case <-stop:
			return
		case <-timer:
			kill()
		case s := <-sigs:
			select {
			case fwd <- s:
			default:
			}
			switch s {
			case unix.SIGINT, unix.SIGTERM, unix.SIGHUP:
				interrupts++
				if interrupts > 1 {
					kill()
				} else {
					timer = time.After(DoKillGrace)
				}
			}
		}
	}
}
