package container

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
	"runsc.dev/runsc/pkg/log"
	"runsc.dev/runsc/runsc/config"
)

// Run creates and starts a container, then (unless detach) waits for it,
// forwarding the signals that arrive on sigs to its init, deletes it and
// returns its exit status.
func Run(conf *config.Config, args CreateArgs, detach bool, sigs <-chan os.Signal) (int, error) {
	args.start = true
	c, err := Create(conf, args)
	if err != nil {
		return 0, err
	}
	if c.autoStarted {
		err = c.awaitStart()
	} else {
		err = Start(conf.RootDir, args.ID)
	}
	if err != nil {
		c.Destroy(true)
		return 0, err
	}
	if detach {
		return 0, nil
	}
	c.Started, c.Status = true, Running
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case s := <-sigs:
				if err := c.Init.Signal(s.(unix.Signal)); err != nil {
					log.Debugf("forwarding %v: %v", s, err)
				}
			case <-done:
				return
			}
		}
	}()
	end := log.Span("run/wait")
	status, err := c.Wait()
	end()
	// The gofer is our child too (the sandbox's sibling), and gone or going
	// with the container: reaped first, it is one process delete no longer
	// reads from /proc, signals and polls for.
	c.sandboxCmd.GoferProcess.Kill()
	c.sandboxCmd.GoferProcess.Wait()
	if derr := c.Destroy(true); derr != nil && err == nil {
		err = fmt.Errorf("cleaning up: %w", derr)
	}
	return status, err
}
