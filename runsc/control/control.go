// Package control is runsc's one request/response protocol. Every runsc
// socket carries it: `runsc create` and the sandbox (the boot handshake),
// runsc commands and the sandbox's control socket, the sandbox and the
// gofer, the gofer and the container's init.
//
// A Message is one JSON object preceded by its length (4 bytes, big
// endian), sent with a single sendmsg so that file descriptors ride with it
// as SCM_RIGHTS. Stream sockets are used so that large exec requests (argv
// and env near ARG_MAX) are not bounded by a datagram size.
package control

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/pkg/fastjson"
)

// Type says what a Message is.
type Type string

// Message types. Requests flow from runsc commands towards the container's
// init; each is answered by Ack (with any result fields set) or Error.
const (
	// Boot carries a process's startup state: create -> sandbox, twice
	// (first the runsc binary to bind into its chroot, which it sets up
	// with; then the control listener and its sockets to the gofer and to
	// init), create -> gofer
	// (spec, stdio, console, init's socket, idmapped mounts, cgroup files,
	// network namespace; and Gofer), gofer -> init (spec, console, its
	// socket to the sandbox, idmapped mounts), and the sandbox to its
	// serving phase (across its re-exec, rootless).
	Boot Type = "boot"
	// Cgroup: create -> gofer, after a Boot with GoferBoot.CgroupLater,
	// once the container's cgroup exists with its limits: its files
	// (cgroup.ThreadFiles). The gofer starts on the rootfs meanwhile.
	Cgroup Type = "cgroup"
	// Ready: init -> gofer -> sandbox -> create. The container is created;
	// InitPID (host PID) and GoferPID are set.
	Ready Type = "ready"
	// Start asks init to execve the container's process: runsc start ->
	// sandbox (which checks its peer), then sandbox -> init on their own
	// socket. Init does not reply: its end is close-on-exec, so EOF
	// means execve succeeded; an Error is its failure. The sandbox then
	// answers start.
	Start Type = "start"
	// Exec asks the gofer to start Process inside the container; Files
	// carry its stdio (and console socket). The Ack has PID.
	Exec Type = "exec"
	// Wait asks for the exit status of the container (PID 0) or of an
	// exec'd process (PID set); the Ack has Status.
	Wait Type = "wait"
	// Exited: gofer -> sandbox. A process the gofer started has exited.
	Exited Type = "exited"
	// Ack is a successful reply.
	Ack Type = "ack"
	// Error is a failed reply; Err holds the message.
	Error Type = "error"
)

// Message is the one struct of the protocol.
type Message struct {
	Type Type `json:"type"`
	// Err is set on Error.
	Err string `json:"err,omitempty"`
	// Code is set on Error when the error is one a receiver acts on
	// (CodeNotFound; see ErrorMessage and AsError).
	Code string `json:"code,omitempty"`
	// PID is a host PID (Ready's init, Exec's result, Wait's target).
	PID int `json:"pid,omitempty"`
	// GoferPID is set on Ready.
	GoferPID int `json:"goferPid,omitempty"`
	// Status is a wait status: the exit code, or 128+N for signal N.
	Status int `json:"status,omitempty"`
	// ID is the container id (boot messages).
	ID string `json:"id,omitempty"`
	// Bundle is the bundle directory (boot messages).
	Bundle string `json:"bundle,omitempty"`
	// Terminal is set on a boot message whose last file is the console
	// socket.
	Terminal bool `json:"terminal,omitempty"`
	// Start, on the boot messages of `runsc run` (create -> gofer ->
	// init, create -> sandbox), starts the container as soon as it is
	// created: init execve's the user's process right after Ready instead
	// of waiting for the sandbox's Start, and the sandbox reports the
	// outcome to create on their boot socket. It saves create's round trip
	// through the sandbox and init's wake-up.
	Start bool `json:"start,omitempty"`
	// StartTime is PID's start time from /proc/<pid>/stat (Ready: init's,
	// read by the gofer that forked it, before init can have exited).
	StartTime uint64 `json:"startTime,omitempty"`
	// Process is the process to run for Exec.
	Process *specs.Process `json:"process,omitempty"`
	// Gofer is set on the gofer's boot message (create -> gofer).
	Gofer *GoferBoot `json:"gofer,omitempty"`
	// Files are passed as SCM_RIGHTS; FileNames says what each is.
	Files     []*os.File `json:"-"`
	FileNames []string   `json:"files,omitempty"`
}

// GoferBoot is what the gofer needs from the spec to start init, sent by
// create with the gofer's boot message so that the gofer need not decode
// the spec first (a cold decode of a whole spec costs about 1 ms: Go's
// encoding/json builds the codecs of every type the spec can hold).
type GoferBoot struct {
	// Namespaces are the spec's linux.namespaces.
	Namespaces []specs.LinuxNamespace `json:"namespaces,omitempty"`
	// RootfsOverlay is the spec's rootfs overlay annotation (`runsc do`),
	// "" without: the gofer then prepares root.path before init builds the
	// rootfs from it.
	RootfsOverlay string `json:"rootfsOverlay,omitempty"`
	// CgroupLater says that the cgroup's files follow in a Cgroup
	// message instead of coming with the boot message.
	CgroupLater bool `json:"cgroupLater,omitempty"`
	// TimerSlack is create's timer slack (PR_GET_TIMERSLACK, ns), which
	// the container's processes get: the gofer itself starts with a
	// coarser one (sandbox.HelperTimerSlack). 0: leave it.
	TimerSlack uint64 `json:"timerSlack,omitempty"`
}

// MaxMessageSize bounds one message (an exec's argv and env near ARG_MAX fit).
const MaxMessageSize = 16 << 20

// maxFiles bounds the fds accepted with one message.
const maxFiles = 32

// ErrTooLarge is returned for a message over MaxMessageSize.
var ErrTooLarge = errors.New("control message too large")

// Conn is one end of a control socket: a unix stream socket used through
// raw syscalls. (runsc does not link package net: it would pull in cgo's
// resolver and make the binary dynamic, and the sandbox's chroot has no
// libc.) The socket is non-blocking and waited on through the Go runtime's
// netpoller (an os.File's RawConn), as package net does: a goroutine
// waiting in Recv or Accept holds no thread. A blocked recvmsg would keep
// its thread, and with it the process's only P (the helpers run with
// GOMAXPROCS=1) until sysmon takes the P back, 20 us to 10 ms later, and
// starts yet another thread for the goroutines left: a gofer waiting on
// the sandbox wrote init's start byte 0.5 ms late that way.
type Conn struct {
	fd int
	// f owns fd and rc waits on it; both nil if fd could not be made
	// pollable, and blocking syscalls are used instead.
	f      *os.File
	rc     syscall.RawConn
	closed atomic.Bool
}

// NewConn wraps a connected unix stream socket fd; the Conn owns it.
func NewConn(fd int) *Conn {
	c := &Conn{fd: fd}
	c.f, c.rc = pollable(fd, "control")
	return c
}

// pollable puts fd in non-blocking mode and hands it to the netpoller,
// returning the file that now owns it and its RawConn; nil, nil (fd left
// as it was) if either fails.
func pollable(fd int, name string) (*os.File, syscall.RawConn) {
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, nil
	}
	// NewFile registers a non-blocking fd with the netpoller.
	f := os.NewFile(uintptr(fd), name)
	rc, err := f.SyscallConn()
	if err != nil {
		// Not ours any more to close: f keeps it until Close.
		return f, nil
	}
	return f, rc
}

// wait runs op until it stops returning EAGAIN, through rc when there is
// one (parking the goroutine on the netpoller while the socket is not
// ready), else straight. write selects writability. EINTR is retried.
func wait(rc syscall.RawConn, fd int, write bool, op func(fd int) error) error {
	if rc == nil {
		for {
			if err := op(fd); err != unix.EINTR {
				return err
			}
		}
	}
	var opErr error
	f := func(fd uintptr) bool {
		for {
			opErr = op(int(fd))
			if opErr != unix.EINTR {
				return opErr != unix.EAGAIN
			}
		}
	}
	var err error
	if write {
		err = rc.Write(f)
	} else {
		err = rc.Read(f)
	}
	if err != nil {
		return err
	}
	return opErr
}

// FileConn wraps a socket inherited as f; f is closed.
func FileConn(f *os.File) (*Conn, error) {
	defer f.Close()
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if t, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE); err != nil || t != unix.SOCK_STREAM {
		unix.Close(fd)
		return nil, fmt.Errorf("control socket fd %d is not a stream socket", f.Fd())
	}
	return NewConn(fd), nil
}

// Pair returns a connected pair: a Conn for this process and a file for a
// child (close-on-exec is cleared by os/exec when passed in ExtraFiles).
func Pair() (*Conn, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("creating socket pair: %w", err)
	}
	return NewConn(fds[0]), os.NewFile(uintptr(fds[1]), "control-peer"), nil
}

// Fd returns the socket's descriptor, for poll(2); the Conn keeps it.
func (c *Conn) Fd() int { return c.fd }

// InitConn names (in Message.FileNames) init's end of the socket between
// the sandbox and init, on which the sandbox relays start: created by
// create, passed create -> gofer -> init (the sandbox's end goes in its own
// boot message).
const InitConn = "init-conn"

// NetNS names (in Message.FileNames) the network namespace create may make
// for the container and send with the gofer's boot message: init joins it
// instead of cloning a new one.
const NetNS = "netns"

// File returns the file of m named name, or nil: by Message.FileNames in a
// received message, by the files' own names in one being built.
func (m *Message) File(name string) *os.File {
	for i, f := range m.Files {
		n := f.Name()
		if len(m.FileNames) == len(m.Files) {
			n = m.FileNames[i]
		}
		if n == name {
			return f
		}
	}
	return nil
}

// Close closes this fd of the socket. Other dups of it (in children, or
// from File) stay connected.
func (c *Conn) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	if c.f != nil {
		// Also wakes a Recv parked on the socket: it returns io.EOF.
		return c.f.Close()
	}
	return unix.Close(c.fd)
}

// Shutdown shuts the connection down for every holder of it, waking any
// reader blocked on it.
func (c *Conn) Shutdown() error {
	return unix.Shutdown(c.fd, unix.SHUT_RDWR)
}

// File returns a duplicate of the socket as a file, to hand it to another
// process, which may use it with plain blocking syscalls: the socket (the
// duplicate shares its open file description) is put back in blocking
// mode. c still works, now blocking; FileConn on the other side makes it
// non-blocking again.
func (c *Conn) File() (*os.File, error) {
	fd, err := unix.FcntlInt(uintptr(c.fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("dup control socket: %w", err)
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("dup control socket: %w", err)
	}
	return os.NewFile(uintptr(fd), "control"), nil
}

// Send writes m with its files in one sendmsg.
func (c *Conn) Send(m *Message) error {
	m.FileNames = m.FileNames[:0]
	var fds []int
	for _, f := range m.Files {
		fds = append(fds, int(f.Fd()))
		m.FileNames = append(m.FileNames, f.Name())
	}
	b, err := fastjson.Marshal(m)
	if err != nil {
		return fmt.Errorf("encoding control message: %w", err)
	}
	if len(b) > MaxMessageSize {
		return ErrTooLarge
	}
	buf := make([]byte, 4+len(b))
	binary.BigEndian.PutUint32(buf, uint32(len(b)))
	copy(buf[4:], b)
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	for len(buf) > 0 {
		var n int
		err := wait(c.rc, c.fd, true, func(fd int) (err error) {
			n, err = unix.SendmsgN(fd, buf, oob, nil, unix.MSG_NOSIGNAL)
			return err
		})
		if err != nil {
			return fmt.Errorf("sending control message: %w", err)
		}
		buf, oob = buf[n:], nil
	}
	for _, f := range m.Files {
		runtime.KeepAlive(f)
	}
	return nil
}

// read fills b completely.
func (c *Conn) read(b []byte) error {
	for len(b) > 0 {
		var n int
		err := wait(c.rc, c.fd, false, func(fd int) (err error) {
			n, err = unix.Read(fd, b)
			return err
		})
		if err != nil {
			return err
		}
		if n == 0 {
			return io.ErrUnexpectedEOF
		}
		b = b[n:]
	}
	return nil
}

// Recv reads one message; files sent with it are in m.Files. io.EOF means
// the peer closed the socket between messages.
func (c *Conn) Recv() (*Message, error) {
	hdr := make([]byte, 4)
	oob := make([]byte, unix.CmsgSpace(maxFiles*4))
	var n, oobn int
	err := wait(c.rc, c.fd, false, func(fd int) (err error) {
		n, oobn, _, _, err = unix.Recvmsg(fd, hdr, oob, unix.MSG_CMSG_CLOEXEC)
		return err
	})
	if err != nil {
		if c.closed.Load() {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("receiving control message: %w", err)
	}
	if n == 0 {
		return nil, io.EOF
	}
	files, err := ParseRights(oob[:oobn])
	if err != nil {
		return nil, err
	}
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	if err := c.read(hdr[n:]); err != nil {
		closeAll()
		return nil, fmt.Errorf("receiving control message header: %w", err)
	}
	size := binary.BigEndian.Uint32(hdr)
	if size > MaxMessageSize {
		closeAll()
		return nil, ErrTooLarge
	}
	body := make([]byte, size)
	if err := c.read(body); err != nil {
		closeAll()
		return nil, fmt.Errorf("receiving control message body: %w", err)
	}
	m, err := Decode(body)
	if err != nil {
		closeAll()
		return nil, err
	}
	m.Files = files
	return m, nil
}

// Decode parses a message body (exported for the fuzz target).
func Decode(body []byte) (*Message, error) {
	var m Message
	if err := fastjson.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("decoding control message: %w", err)
	}
	if m.Type == "" {
		return nil, errors.New("decoding control message: no type")
	}
	return &m, nil
}

// ParseRights returns the descriptors an SCM_RIGHTS control message
// (received with MSG_CMSG_CLOEXEC) carries, as files the caller owns.
func ParseRights(oob []byte) ([]*os.File, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("parsing control message rights: %w", err)
	}
	var files []*os.File
	for _, msg := range msgs {
		fds, err := unix.ParseUnixRights(&msg)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			files = append(files, os.NewFile(uintptr(fd), "received"))
		}
	}
	return files, nil
}

// Call sends req and returns the reply, turning an Error reply into a Go
// error.
func (c *Conn) Call(req *Message) (*Message, error) {
	if err := c.Send(req); err != nil {
		return nil, err
	}
	resp, err := c.Recv()
	if err != nil {
		return nil, err
	}
	if resp.Type == Error {
		return resp, resp.AsError()
	}
	return resp, nil
}

// Reply answers a request: Ack with the given fields, or Error when err is
// set.
func (c *Conn) Reply(resp *Message, err error) error {
	if err != nil {
		return c.Send(ErrorMessage(err))
	}
	if resp == nil {
		resp = &Message{}
	}
	resp.Type = Ack
	return c.Send(resp)
}

// PeerCred returns the credentials of the socket's peer.
func (c *Conn) PeerCred() (*unix.Ucred, error) {
	return unix.GetsockoptUcred(c.fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
}
