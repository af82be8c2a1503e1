// Package boot is what runs inside the sandbox process (runsc-sandbox):
// once it sits in its minimal chroot as nobody under a seccomp filter, it
// serves the container's control socket, relays requests to the gofer (its
// sibling, started by create) and exits with the container's status.
package boot

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"runsc.dev/runsc/pkg/log"
	"runsc.dev/runsc/runsc/control"
)

// Indexes of the files in the sandbox's boot message from create; as
// root, the host binary (sandbox.Binary) follows.
const (
	BootListener = iota
	BootGofer
	BootInit
)

// Indexes of the files the sandbox hands its serving phase (across its
// re-exec when rootless); the handoff message's GoferPID is the gofer's.
const (
	HandoffCreate = iota // the boot socket to `runsc create`
	HandoffListener
	HandoffGofer
	HandoffInit
	HandoffExitFile
	HandoffDebugLog // Present when --debug-log is set.
)

// Server is the sandbox after set-up: it owns the control listener, the
// connection to the gofer, and until start the one to init.
type Server struct {
	listener *control.Listener
	gofer    *control.Conn
	goferPID int
	// initConn is init's socket until it execve's the container's process.
	initConn *control.Conn
	// autoStart is set for `runsc run` (Message.Start): init starts on
	// its own after Ready, and WaitReady reports the outcome to create.
	autoStart bool
	startMu   sync.Mutex
	exitFile  *os.File
	owner     uint32

	// goferMu serialises requests to the gofer: one in flight at a time.
	goferMu sync.Mutex
	// replies carries the gofer's replies to the request in flight; its
	// Exited events go to the reader loop instead.
	replies chan *control.Message

	// pending counts requests not yet answered: the sandbox answers them
	// (a start racing with a container that exits at once, every wait)
	// before it exits. inflight is its count, which spares the exit a
	// goroutine and a timer when nothing is pending, the usual case.
	pending  sync.WaitGroup
	inflight atomic.Int32

	mu      sync.Mutex
	initPID int
	exited  bool
	status  int
	waiters []chan int
	// execs holds the exit status of exec'd processes by host PID, and
	// execWaiters those waiting for one.
	execs       map[int]int
	execWaiters map[int][]chan int
}

// NewServer takes the handoff: the listener, the gofer's and init's
// sockets and the exit-status file.
func NewServer(h *control.Message, owner uint32) (*Server, error) {
	if len(h.Files) <= HandoffExitFile {
		return nil, fmt.Errorf("handoff message has %d files, want %d", len(h.Files), HandoffExitFile+1)
	}
	ln, err := control.FileListener(h.Files[HandoffListener])
	if err != nil {
		return nil, err
	}
	gofer, err := control.FileConn(h.Files[HandoffGofer])
	if err != nil {
		return nil, err
	}
	initConn, err := control.FileConn(h.Files[HandoffInit])
	if err != nil {
		return nil, err
	}
	return &Server{
		listener:    ln,
		gofer:       gofer,
		goferPID:    h.GoferPID,
		initConn:    initConn,
		autoStart:   h.Start,
		exitFile:    h.Files[HandoffExitFile],
		owner:       owner,
		replies:     make(chan *control.Message, 1),
		execs:       map[int]int{},
		execWaiters: map[int][]chan int{},
	}, nil
}

// WaitReady relays the gofer's first message, Ready (with init's PID) or
// Error, to `runsc create`. The sandbox is set up by then: create returns
// with it in its chroot, as nobody, under its seccomp filter. With
// autoStart it then answers create as start would: Ack once init has
// execve'd the container's process, or init's Error.
func (s *Server) WaitReady(create *control.Conn) error {
	defer create.Close()
	m, err := s.gofer.Recv()
	if err != nil {
		err = fmt.Errorf("gofer: %w", err)
		create.Send(control.ErrorMessage(err))
		return err
	}
	if m.Type == control.Ready {
		m.GoferPID = s.goferPID
		s.initPID = m.PID
	}
	if err := create.Send(m); err != nil {
		return err
	}
	if m.Type != control.Ready {
		return fmt.Errorf("creating container: %w", m.AsError())
	}
	if s.autoStart {
		// A failed start is create's to report (it destroys the
		// container); the sandbox serves on either way.
		create.Reply(nil, s.start())
	}
	return nil
}

// Serve answers control requests until the container exits, and returns
// its status.
func (s *Server) Serve() int {
	go s.acceptLoop()
	status := s.readGofer()
	s.finish(status)
	if s.inflight.Load() == 0 {
		return status
	}
	done := make(chan struct{})
	go func() { s.pending.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
	}
	return status
}

// readGofer reads the gofer's messages until the container's exit.
func (s *Server) readGofer() int {
	for {
		m, err := s.gofer.Recv()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				log.Warningf("reading from gofer: %v", err)
			}
			// The gofer is gone, and the container with it (pdeathsig).
			return 128 + 9
		}
		if m.Type == control.Exited {
			if m.PID == s.initPID {
				return m.Status
			}
			s.execExited(m.PID, m.Status)
			continue
		}
		select {
		case s.replies <- m:
		default:
			log.Warningf("unexpected %q from gofer", m.Type)
		}
	}
}

// finish records the exit status and releases every waiter.
func (s *Server) finish(status int) {
	// The status file is written before anyone is told: a wait that races
	// with the sandbox's exit reads it.
	fmt.Fprintf(s.exitFile, "%d\n", status)
	s.exitFile.Close()
	s.mu.Lock()
	s.exited, s.status = true, status
	for _, w := range s.waiters {
		notify(w, status)
	}
	s.waiters = nil
	s.mu.Unlock()
}

func (s *Server) acceptLoop() {
	for {
		c, err := s.listener.Accept()
		if err != nil {
			return
		}
		go s.handle(c)
	}
}

// handle serves one client connection.
func (s *Server) handle(c *control.Conn) {
	defer c.Close()
	if err := control.CheckPeer(c, s.owner); err != nil {
		log.Warningf("control socket: %v", err)
		return
	}
	for {
		req, err := c.Recv()
		if err != nil {
			return
		}
		s.pending.Add(1)
		s.inflight.Add(1)
		switch req.Type {
		case control.Start:
			c.Reply(nil, s.start())
		case control.Exec:
			resp, err := s.callGofer(req)
			c.Reply(resp, err)
		case control.Wait:
			st := 0
			if req.PID == 0 || req.PID == s.initPID {
				st = s.wait()
			} else {
				st = s.waitExec(req.PID)
			}
			c.Reply(&control.Message{Status: st}, nil)
		default:
			c.Reply(nil, fmt.Errorf("unknown request %q", req.Type))
		}
		s.inflight.Add(-1)
		s.pending.Done()
		for _, f := range req.Files {
			f.Close()
		}
	}
}

// start asks init to execve the container's process, straight on their
// socket (with autoStart, init needs no asking): EOF (init's end closed by
// execve) is success.
func (s *Server) start() error {
	s.startMu.Lock()
	defer s.startMu.Unlock()
	if s.initConn == nil {
		return errors.New("the container was started already")
	}
	c := s.initConn
	s.initConn = nil
	defer c.Close()
	if !s.autoStart {
		if err := c.Send(&control.Message{Type: control.Start}); err != nil {
			return fmt.Errorf("starting container: %w", err)
		}
	}
	m, err := c.Recv()
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return fmt.Errorf("starting container: %w", err)
	case m.Type == control.Error:
		return m.AsError()
	}
	return fmt.Errorf("starting container: unexpected %q from init", m.Type)
}

// callGofer forwards a request to the gofer and returns its reply.
func (s *Server) callGofer(req *control.Message) (*control.Message, error) {
	s.goferMu.Lock()
	defer s.goferMu.Unlock()
	if err := s.gofer.Send(req); err != nil {
		return nil, err
	}
	resp := <-s.replies
	if resp.Type == control.Error {
		return nil, resp.AsError()
	}
	return resp, nil
}

// execExited records an exec'd process's status and wakes its waiters.
func (s *Server) execExited(pid, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.execs[pid] = status
	for _, w := range s.execWaiters[pid] {
		notify(w, status)
	}
	delete(s.execWaiters, pid)
}

// waitExec blocks until the exec'd process pid has exited, or the
// container has (its processes die with it: 128+SIGKILL).
func (s *Server) waitExec(pid int) int {
	s.mu.Lock()
	if st, ok := s.execs[pid]; ok {
		delete(s.execs, pid)
		s.mu.Unlock()
		return st
	}
	if s.exited {
		s.mu.Unlock()
		return 128 + 9
	}
	ch := make(chan int, 1)
	s.execWaiters[pid] = append(s.execWaiters[pid], ch)
	s.waiters = append(s.waiters, ch)
	s.mu.Unlock()
	st := <-ch
	s.mu.Lock()
	delete(s.execs, pid)
	s.mu.Unlock()
	return st
}

// notify hands status to a waiter unless it already has one (an exec
// waiter is also released when the whole container exits).
func notify(w chan int, status int) {
	select {
	case w <- status:
	default:
	}
}

// wait blocks until the container has exited.
func (s *Server) wait() int {
	s.mu.Lock()
	if s.exited {
		s.mu.Unlock()
		return s.status
	}
	ch := make(chan int, 1)
	s.waiters = append(s.waiters, ch)
	s.mu.Unlock()
	return <-ch
}
