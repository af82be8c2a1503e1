package control

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// maxSunPath is the longest path a sockaddr_un holds.
const maxSunPath = 107

// shortPath returns a path for a socket that fits in sockaddr_un: long
// paths go through /proc/self/fd of an open directory (the kernel resolves
// it), never through an abstract socket, which a host-network container
// could reach (CVE-2020-15257). The returned func releases the directory.
func shortPath(path string) (string, func(), error) {
	if len(path) <= maxSunPath {
		return path, func() {}, nil
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return "", nil, fmt.Errorf("opening socket directory: %w", err)
	}
	p := fmt.Sprintf("/proc/self/fd/%d/%s", dir.Fd(), filepath.Base(path))
	if len(p) > maxSunPath {
		dir.Close()
		return "", nil, fmt.Errorf("socket name %q is too long", filepath.Base(path))
	}
	return p, func() { dir.Close() }, nil
}

// Listener is a listening unix stream socket, non-blocking and waited on
// through the netpoller like a Conn.
type Listener struct {
	fd int
	f  *os.File
	rc syscall.RawConn
}

// newListener wraps the listening socket fd; the Listener owns it.
func newListener(fd int) *Listener {
	l := &Listener{fd: fd}
	l.f, l.rc = pollable(fd, "listener")
	return l
}

// Listen creates a listening unix socket at path.
func Listen(path string) (*Listener, error) {
	p, done, err := shortPath(path)
	if err != nil {
		return nil, err
	}
	defer done()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: p}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("binding control socket: %w", err)
	}
	if err := unix.Listen(fd, 128); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("listening on control socket: %w", err)
	}
	return newListener(fd), nil
}

// FileListener wraps a listening socket inherited as f; f is closed.
func FileListener(f *os.File) (*Listener, error) {
	defer f.Close()
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("control listener: %w", err)
	}
	return newListener(fd), nil
}

// File returns a duplicate of the listening socket named name (the name a
// control message gives it), to pass to a child: back in blocking mode, as
// Conn.File.
func (l *Listener) File(name string) (*os.File, error) {
	fd, err := unix.FcntlInt(uintptr(l.fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("dup control listener: %w", err)
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("dup control listener: %w", err)
	}
	return os.NewFile(uintptr(fd), name), nil
}

// Accept waits for a connection.
func (l *Listener) Accept() (*Conn, error) {
	for {
		var fd int
		err := wait(l.rc, l.fd, false, func(lfd int) (err error) {
			fd, _, err = unix.Accept4(lfd, unix.SOCK_CLOEXEC)
			return err
		})
		if err == unix.ECONNABORTED {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("accepting control connection: %w", err)
		}
		return NewConn(fd), nil
	}
}

// Close closes the listener, waking an Accept waiting on it.
func (l *Listener) Close() error {
	if l.f != nil {
		return l.f.Close()
	}
	return unix.Close(l.fd)
}

// Dial connects to the unix socket at path.
func Dial(path string) (*Conn, error) {
	p, done, err := shortPath(path)
	if err != nil {
		return nil, err
	}
	defer done()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	for {
		err = unix.Connect(fd, &unix.SockaddrUnix{Name: p})
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("connecting to control socket: %w", err)
	}
	return NewConn(fd), nil
}

// CheckPeer refuses a peer whose uid is neither 0 nor allowed.
func CheckPeer(c *Conn, allowed uint32) error {
	cred, err := c.PeerCred()
	if err != nil {
		return fmt.Errorf("reading peer credentials: %w", err)
	}
	if cred.Uid != 0 && cred.Uid != allowed {
		return fmt.Errorf("peer uid %d is not allowed", cred.Uid)
	}
	return nil
}
