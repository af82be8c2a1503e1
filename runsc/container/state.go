package container

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/pkg/fastjson"
	"runsc.dev/runsc/pkg/log"
	"runsc.dev/runsc/pkg/sysfile"
	"runsc.dev/runsc/runsc/cgroup"
	"runsc.dev/runsc/runsc/control"
	"runsc.dev/runsc/runsc/specutils"
)

// Sentinel errors; callers check them with errors.Is. Their texts carry the
// phrases containerd's shim matches ("does not exist", "container not
// running").
var (
	ErrNotExist   = errors.New("does not exist")
	ErrExist      = errors.New("already exists")
	ErrNotRunning = errors.New("container not running")
	ErrInvalidID  = errors.New("invalid container id")
	// ErrExecutableNotFound: process.args[0] does not exist or is not in
	// the container's $PATH (create fails with it; `runsc do` exits 127).
	ErrExecutableNotFound = control.ErrExecutableNotFound
)

const (
	configFile  = "container.json"
	stateFile   = "state.json"
	lockFile    = "lock"
	socketFile  = "sandbox.sock"
	exitFile    = "exit-status"
	maxIDLength = 1024
)

// ValidateID checks a container id: [A-Za-z0-9_+.-], not "." or "..".
func ValidateID(id string) error {
	if id == "" || id == "." || id == ".." || len(id) > maxIDLength || !idChars(id) {
		return fmt.Errorf("%w %q: want 1 to %d of [A-Za-z0-9_+.-], not . or ..", ErrInvalidID, printable(id), maxIDLength)
	}
	return nil
}

// idChars reports whether id is made of [A-Za-z0-9_+.-] only.
func idChars(id string) bool {
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '+', c == '.', c == '-':
		default:
			return false
		}
	}
	return true
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
	f, err := sysfile.Open(filepath.Join(dir, lockFile), flags, 0o600)
	if errors.Is(err, os.ErrNotExist) && !create {
		// A create killed between its mkdir and this file leaves the
		// directory alone: a container without state (stopped, for
		// delete to remove), not a missing one.
		if _, serr := os.Stat(dir); serr == nil {
			f, err = sysfile.Open(filepath.Join(dir, lockFile), os.O_RDONLY|os.O_CREATE, 0o600)
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

// The state is two files, each written under the exclusive flock and read
// under a shared one:
//   - container.json: what create decided (spec, bundle, owner, cgroup),
//     written through a temp file renamed into place at create, and again
//     only by update;
//   - state.json: what changes (the PIDs, started), small, written in
//     place at offset 0 and padded with spaces to the file's size, so it
//     never shrinks and needs no truncation. It is one page: a write of
//     one page is applied whole even if the writer is killed (the kernel
//     checks fatal signals between pages), and a reader holds the lock.
// On this ext4 a rename over an existing file cost ~0.5 ms (auto_da_alloc
// flushes the new file's data), twice on the critical path of create and
// once on start's; the in-place write costs microseconds. Neither is
// fsynced (nor is runc's state): the processes named do not outlive the
// machine.

// configRecord is the container.json record.
type configRecord struct {
	ID      string         `json:"id"`
	Bundle  string         `json:"bundle"`
	Spec    *specs.Spec    `json:"spec"`
	Created time.Time      `json:"created"`
	Owner   int            `json:"owner"`
	Cgroup  *cgroup.Cgroup `json:"cgroup,omitempty"`
}

// procsRecord is the state.json record.
type procsRecord struct {
	Sandbox specutils.Proc `json:"sandbox"`
	Gofer   specutils.Proc `json:"gofer"`
	Init    specutils.Proc `json:"init"`
	Started bool           `json:"started"`
}

// saveConfig writes container.json (create, update).
func (c *Container) saveConfig() error {
	defer log.Span("state/save-config")()
	b, err := fastjson.Marshal(&configRecord{ID: c.ID, Bundle: c.Bundle, Spec: c.Spec, Created: c.Created, Owner: c.Owner, Cgroup: c.Cgroup})
	if err != nil {
		return fmt.Errorf("encoding state: %w", err)
	}
	return writeFileAtomic(filepath.Join(c.dir, configFile), b, 0o600)
}

// save writes state.json in place (see above).
func (c *Container) save() error {
	defer log.Span("state/save")()
	b, err := fastjson.Marshal(&procsRecord{Sandbox: c.Sandbox, Gofer: c.Gofer, Init: c.Init, Started: c.Started})
	if err != nil {
		return fmt.Errorf("encoding state: %w", err)
	}
	f, err := sysfile.Open(filepath.Join(c.dir, stateFile), os.O_WRONLY|os.O_CREATE|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("writing state: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > int64(len(b)) {
		b = append(b, bytes.Repeat([]byte{' '}, int(fi.Size())-len(b))...)
	}
	if _, err := f.WriteAt(b, 0); err != nil {
		return fmt.Errorf("writing state: %w", err)
	}
	return nil
}

// createTemp creates a new file, mode 0600, next to path and named after
// it, as os.CreateTemp does (without registering it with the netpoller).
func createTemp(path string) (*os.File, error) {
	for try := 0; ; try++ {
		name := fmt.Sprintf("%s/.%s.tmp%d-%d", filepath.Dir(path), filepath.Base(path), os.Getpid(), time.Now().UnixNano())
		f, err := sysfile.Open(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) && try < 10 {
			continue
		}
		return f, err
	}
}

// writeFileAtomic writes data to path through a temp file and a rename:
// readers see the old file or the new one.
func writeFileAtomic(path string, data []byte, mode os.FileMode) (retErr error) {
	tmp, err := createTemp(path)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		// Once renamed, the temporary name is gone: removed on failure only.
		if retErr != nil {
			unix.Unlink(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// createTemp makes the file 0600.
	if mode != 0o600 {
		if err := tmp.Chmod(mode); err != nil {
			tmp.Close()
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// rename(2) itself: os.Rename first stats the target, to refuse a
	// directory there, which rename(2) refuses too (EISDIR).
	if err := unix.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("renaming %s: %w", path, err)
	}
	return nil
}

// loadState reads dir's container.json and state.json. A missing or
// unreadable file is not an error here: it is what a create killed
// half-way leaves (or a hostile one), and the caller treats the container
// as stopped so that delete can clean it up: with the cgroup, if
// container.json names one, which delete sweeps.
func loadState(dir string) (*Container, error) {
	c := &Container{dir: dir}
	var cf configRecord
	b, err := sysfile.ReadFile(filepath.Join(dir, configFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
		c.broken = "no state file"
		return c, nil
	case err != nil:
		return nil, fmt.Errorf("reading state: %w", err)
	}
	if err := fastjson.Unmarshal(b, &cf); err != nil {
		c.broken = fmt.Sprintf("corrupt state file: %v", err)
		return c, nil
	}
	c.ID, c.Bundle, c.Spec, c.Created, c.Owner, c.Cgroup = cf.ID, cf.Bundle, cf.Spec, cf.Created, cf.Owner, cf.Cgroup
	var p procsRecord
	b, err = sysfile.ReadFile(filepath.Join(dir, stateFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
		// create saves container.json first: no process was started.
	case err != nil:
		return nil, fmt.Errorf("reading state: %w", err)
	default:
		if err := fastjson.Unmarshal(b, &p); err != nil {
			// The PIDs are lost, not the cgroup: delete still sweeps it.
			c.broken = fmt.Sprintf("corrupt state file: %v", err)
		}
	}
	c.Sandbox, c.Gofer, c.Init, c.Started = p.Sandbox, p.Gofer, p.Init, p.Started
	return c, nil
}

// readExitStatus reads the status the sandbox recorded when the container
// exited.
func readExitStatus(dir string) (int, bool) {
	b, err := sysfile.ReadFile(filepath.Join(dir, exitFile))
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n < 0 || n > 255 {
		return 0, false
	}
	return n, true
}
