//go:build root

package root

import "golang.org/x/sys/unix"

// mkfifo makes a FIFO at p.
func mkfifo(p string) error { return unix.Mkfifo(p, 0o644) }
