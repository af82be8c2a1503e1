package boot

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"runsc.dev/runsc/pkg/log"
	"runsc.dev/runsc/runsc/control"
)

// Indexes of the files the sandbox hands itself across its re-exec.
const (
	HandoffCreate = iota // the boot socket to `runsc create`
	HandoffListener
	HandoffGofer
	HandoffSpec
	HandoffExitFile
	HandoffDebugLog // Present when --debug-log is set.
)

// Server is the sandbox after set-up: it owns the control listener and
// the connection to the gofer.
type Server struct {
	listener *control.Listener
	gofer    *control.Conn
	goferPID int
	exitFile *os.File
	owner    uint32

	// goferMu serialises requests to the gofer: one in flight at a time.
	goferMu sync.Mutex
	// replies carries the gofer's replies to the request in flight; its
	// Exited events go to the reader loop instead.
	replies chan *control.Message

	// pending counts Wait requests not yet answered: the sandbox answers
	// them all before it exits.
	pending sync.WaitGroup

	mu      sync.Mutex
	exited  bool
	status  int
	waiters []chan int
}

// NewServer takes the handed-off files: the listener, the gofer socket and
// the exit-status file.
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
	return &Server{
		listener: ln,
		gofer:    gofer,
		goferPID: h.GoferPID,
		exitFile: h.Files[HandoffExitFile],
		owner:    owner,
		replies:  make(chan *control.Message, 1),
	}, nil
}

// WaitReady relays the gofer's Ready (or Error) to `runsc create`.
func (s *Server) WaitReady(create *control.Conn) error {
	defer create.Close()
	m, err := s.gofer.Recv()
	if err != nil {
		err = fmt.Errorf("gofer: %w", err)
		create.Send(&control.Message{Type: control.Error, Err: err.Error()})
		return err
	}
	if m.Type == control.Ready {
		m.GoferPID = s.goferPID
	}
	if err := create.Send(m); err != nil {
		return err
	}
	if m.Type != control.Ready {
		return fmt.Errorf("creating container: %s", m.Err)
	}
	return nil
}

// Serve answers control requests until the container exits, and returns
// its status.
func (s *Server) Serve() int {
	go s.acceptLoop()
	status := s.readGofer()
	s.finish(status)
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
			return m.Status
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
		w <- status
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
		switch req.Type {
		case control.Start, control.Exec:
			resp, err := s.callGofer(req)
			c.Reply(resp, err)
		case control.Wait:
			s.pending.Add(1)
			c.Reply(&control.Message{Status: s.wait()}, nil)
			s.pending.Done()
		default:
			c.Reply(nil, fmt.Errorf("unknown request %q", req.Type))
		}
		for _, f := range req.Files {
			f.Close()
		}
	}
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
		return nil, errors.New(resp.Err)
	}
	return resp, nil
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
