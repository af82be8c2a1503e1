// Package sysfile opens, reads and writes small files (procfs, cgroupfs,
// runsc's state) with plain system calls.
//
// package os registers every file it opens with the Go runtime's netpoller:
// an os.Open of a regular file costs fcntl(F_GETFL), fcntl(F_SETFL),
// epoll_ctl (refused for a disk file) and two more fcntl to undo it, and a
// procfs or cgroupfs file, which epoll accepts, an epoll_ctl more to
// deregister it at close. create opens about 60 such files, the gofer 20:
// some 250 system calls per container that nothing here needs. Errors are
// *fs.PathError, as package os returns them, so errors.Is(err,
// fs.ErrNotExist) and the like work the same.
package sysfile

import (
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// maxRead bounds ReadFile: the files read this way are small.
const maxRead = 64 << 20

// open is open(2) with O_CLOEXEC, retried on EINTR.
func open(path string, flags int, mode uint32) (int, error) {
	for {
		fd, err := unix.Open(path, flags|unix.O_CLOEXEC, mode)
		if err != unix.EINTR {
			if err != nil {
				return -1, &fs.PathError{Op: "open", Path: path, Err: err}
			}
			return fd, nil
		}
	}
}

// Open opens path as os.OpenFile does (flags as for it; O_CLOEXEC is
// added), without the netpoller: the file's reads and writes are plain
// blocking system calls.
func Open(path string, flags int, mode os.FileMode) (*os.File, error) {
	fd, err := open(path, flags, uint32(mode.Perm()))
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), path), nil
}

// ReadFile returns the contents of path, as os.ReadFile does.
func ReadFile(path string) ([]byte, error) {
	fd, err := open(path, unix.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	// procfs and cgroupfs report a size of 0 (or 4096): grow as needed.
	b := make([]byte, 0, 512)
	for {
		if len(b) == cap(b) {
			if len(b) >= maxRead {
				return nil, &fs.PathError{Op: "read", Path: path, Err: unix.EFBIG}
			}
			b = append(b, 0)[:len(b)]
		}
		n, err := unix.Read(fd, b[len(b):cap(b)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return b, nil
		}
		b = b[:len(b)+n]
	}
}

// WriteFile writes data to path in one write(2) at offset 0, opening it
// with flags (O_WRONLY is added; O_CREAT creates it with mode). A short
// write is an error (io.ErrShortWrite's errno, EIO, under a PathError).
func WriteFile(path string, data []byte, flags int, mode os.FileMode) error {
	fd, err := open(path, flags|unix.O_WRONLY, uint32(mode.Perm()))
	if err != nil {
		return err
	}
	werr := write(fd, path, data)
	if err := unix.Close(fd); err != nil && werr == nil {
		werr = &fs.PathError{Op: "close", Path: path, Err: err}
	}
	return werr
}

// write writes data to fd (opened from path) with one write(2), as a
// control file needs: a cgroup control file takes one value per write.
func write(fd int, path string, data []byte) error {
	for {
		n, err := unix.Write(fd, data)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return &fs.PathError{Op: "write", Path: path, Err: err}
		}
		if n != len(data) {
			return &fs.PathError{Op: "write", Path: path, Err: unix.EIO}
		}
		return nil
	}
}
