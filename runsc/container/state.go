package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
	"runsc.dev/runsc/pkg/fastjson"
)

// Sentinel errors; callers check them with errors.Is. Their texts carry the
// phrases containerd's shim matches ("does not exist", "container not
// running").
var (
	ErrNotExist   = errors.New("does not exist")
	ErrExist      = errors.New("already exists")
	ErrNotRunning = errors.New("container not running")
	ErrInvalidID  = errors.New("invalid container id")
)

const (
	stateFile   = "state.json"
	lockFile    = "lock"
	socketFile  = "sandbox.sock"
	exitFile    = "exit-status"
	maxIDLength = 1024
)

var idRegexp = regexp.MustCompile(`^[A-Za-z0-9_+.-]+$`)

// ValidateID checks a container id: [A-Za-z0-9_+.-], not "." or "..".
func ValidateID(id string) error {
	if id == "" || id == "." || id == ".." || len(id) > maxIDLength || !idRegexp.MatchString(id) {
		return fmt.Errorf("%w %q: want 1 to %d of [A-Za-z0-9_+.-], not . or ..", ErrInvalidID, printable(id), maxIDLength)
	}
	return nil
}

// printable shortens and escapes an id for an error message.
func printable(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// stateDir is the directory of container id under root.
func stateDir(root, id string) string { return filepath.Join(root, id) }

// lock is a flock held on <state dir>/lock.
type lock struct{ f *os.File }

// takeLock locks dir's lock file, exclusively or shared. It creates the
// file when create is set (only `create` does: a missing lock file means a
// missing container).
func takeLock(dir string, exclusive, create bool) (*lock, error) {
	flags := os.O_RDONLY
	if create {
		flags |= os.O_CREATE
	}
	f, err := os.OpenFile(filepath.Join(dir, lockFile), flags, 0o600)
	if errors.Is(err, os.ErrNotExist) && !create {
		// A create killed between its mkdir and this file leaves the
		// directory alone: a container without state (stopped, for
		// delete to remove), not a missing one.
		if _, serr := os.Stat(dir); serr == nil {
			f, err = os.OpenFile(filepath.Join(dir, lockFile), os.O_RDONLY|os.O_CREATE, 0o600)
		}
	}
	if err != nil {
		return nil, err
	}
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking container state: %w", err)
	}
	return &lock{f: f}, nil
}

func (l *lock) release() {
	if l != nil && l.f != nil {
		l.f.Close() // Closing drops the flock.
		l.f = nil
	}
}

// save writes the container's state atomically: a temp file renamed over
// state.json, so a reader never sees a torn file. It is not fsynced (nor is
// runc's): the state describes processes that do not outlive the machine,
// and a crash of the process that writes it is covered by the rename, the
// page cache holding the data. An fsync cost 1-3 ms on the create and start
// paths.
func (c *Container) save() error {
	b, err := fastjson.Marshal(c)
	if err != nil {
		return fmt.Errorf("encoding state: %w", err)
	}
	return writeFileAtomic(filepath.Join(c.dir, stateFile), b, 0o600)
}

// writeFileAtomic writes data to path through a temp file and a rename:
// readers see the old file or the new one.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("renaming %s: %w", path, err)
	}
	return nil
}

// loadState reads dir's state.json. A missing or unreadable file is not an
// error here: it is what a create killed half-way leaves, and the caller
// treats the container as stopped so that delete can clean it up.
func loadState(dir string) (*Container, error) {
	c := &Container{}
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
		c.broken = "no state file"
	case err != nil:
		return nil, fmt.Errorf("reading state: %w", err)
	default:
		if err := fastjson.Unmarshal(b, c); err != nil {
			c = &Container{broken: fmt.Sprintf("corrupt state file: %v", err)}
		}
	}
	c.dir = dir
	return c, nil
}

// readExitStatus reads the status the sandbox recorded when the container
// exited.
func readExitStatus(dir string) (int, bool) {
	b, err := os.ReadFile(filepath.Join(dir, exitFile))
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n < 0 || n > 255 {
		return 0, false
	}
	return n, true
}
