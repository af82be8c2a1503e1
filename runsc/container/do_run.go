package container

import (
	"os"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/pkg/log"
	"runsc.dev/runsc/runsc/config"
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
func Do(conf *config.Config, id, cwd string, spec *specs.Spec, sigs <-chan os.Signal) (int, error) {
	fwd := make(chan os.Signal, 16)
	stop := make(chan struct{})
	defer close(stop)
	go relayDoSignals(conf.RootDir, id, sigs, fwd, stop)
	return Run(conf, CreateArgs{ID: id, Bundle: cwd, Spec: spec, Attached: true}, false, fwd)
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
