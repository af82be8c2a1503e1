package control

import (
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestCloseWakesRecv checks that closing a Conn wakes a Recv parked on it
// (through the netpoller) with io.EOF.
func TestCloseWakesRecv(t *testing.T) {
	c, peer, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	got := make(chan error, 1)
	go func() {
		_, err := c.Recv()
		got <- err
	}()
	time.Sleep(20 * time.Millisecond)
	c.Close()
	select {
	case err := <-got:
		if !errors.Is(err, io.EOF) {
			t.Errorf("Recv after Close: %v, want io.EOF", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake Recv")
	}
}

// TestConnNonBlockingAndHandOver checks that a Conn's socket is
// non-blocking, that File hands it over in blocking mode (for a process
// that uses it with plain system calls), and that messages with files
// still cross it both ways.
func TestConnNonBlockingAndHandOver(t *testing.T) {
	c, peer, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if fl, err := unix.FcntlInt(uintptr(c.Fd()), unix.F_GETFL, 0); err != nil || fl&unix.O_NONBLOCK == 0 {
		t.Errorf("Conn's fd flags %#x (%v), want O_NONBLOCK", fl, err)
	}
	other, err := FileConn(peer)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	// A message bigger than a socket buffer's worth waits for the reader
	// through the netpoller instead of failing with EAGAIN.
	big := &Message{Type: Ack, Err: string(make([]byte, 1<<20))}
	done := make(chan error, 1)
	go func() { done <- c.Send(big) }()
	m, err := other.Recv()
	if err != nil || len(m.Err) != len(big.Err) {
		t.Fatalf("Recv of a 1 MiB message: %v (%d bytes)", err, len(m.Err))
	}
	if err := <-done; err != nil {
		t.Fatalf("Send of a 1 MiB message: %v", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := other.Send(&Message{Type: Ack, Files: []*os.File{w}}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	m, err = c.Recv()
	if err != nil || len(m.Files) != 1 {
		t.Fatalf("Recv with a file: %v, %d files", err, len(m.Files))
	}
	m.Files[0].Close()
	f, err := c.File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if fl, err := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0); err != nil || fl&unix.O_NONBLOCK != 0 {
		t.Errorf("File's fd flags %#x (%v), want blocking", fl, err)
	}
	// c shares the now blocking socket: it still works.
	if err := other.Send(&Message{Type: Ack}); err != nil {
		t.Fatal(err)
	}
	if m, err := c.Recv(); err != nil || m.Type != Ack {
		t.Fatalf("Recv after File: %v %v", m, err)
	}
}
