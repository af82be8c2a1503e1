// Package container is the lifecycle of one container: create, start,
// signal, wait and destroy, over a state store under --root (one directory
// per container, a flock around every load-modify-save, state written
// atomically, PIDs kept with their start times).
package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/pkg/log"
	"runsc.dev/runsc/pkg/sysfile"
	"runsc.dev/runsc/runsc/cgroup"
	"runsc.dev/runsc/runsc/sandbox"
	"runsc.dev/runsc/runsc/specutils"
)

// Status is a container's OCI status.
type Status string

// OCI statuses (runtime.md "State").
const (
	Creating Status = "creating"
	Created  Status = "created"
	Running  Status = "running"
	Paused   Status = "paused"
	Stopped  Status = "stopped"
)

// Container is one container's persistent state (stored in two files: see
// state.go).
type Container struct {
	// ID is the container id.
	ID string
	// Bundle is the absolute bundle path.
	Bundle string
	// Spec is the normalised spec the container was created from.
	Spec *specs.Spec
	// Created is when create began.
	Created time.Time
	// Owner is the uid that created the container.
	Owner int
	// Sandbox is the pid-file process (runsc-sandbox).
	Sandbox specutils.Proc
	// Gofer is the container's agent (runsc-gofer).
	Gofer specutils.Proc
	// Init is the container's init: runsc init until start, then the
	// user's process.
	Init specutils.Proc
	// Started is set once start has made init execve the user's process.
	Started bool
	// Cgroup is the container's cgroup; nil when runsc manages none
	// (rootless).
	Cgroup *cgroup.Cgroup

	// Status is recomputed on every load, never stored.
	Status Status

	dir        string
	broken     string           // why the state could not be read, if it could not
	sandboxCmd *sandbox.Sandbox // set in the process that started the sandbox
	// autoStarted is set by a Create that starts the container itself
	// (CreateArgs.start): awaitStart, not Start, completes it.
	autoStarted bool
	// dirID is the state directory's identity when Create made it.
	dirID [2]uint64
}

// Load reads container id's state under root and recomputes its status.
func Load(root, id string) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	dir := stateDir(root, id)
	l, err := takeLock(dir, false, false)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("container %q %w", id, ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("loading container %q: %w", id, err)
	}
	defer l.release()
	return loadLocked(dir, id)
}

func loadLocked(dir, id string) (*Container, error) {
	c, err := loadState(dir)
	if err != nil {
		return nil, fmt.Errorf("loading container %q: %w", id, err)
	}
	if c.broken != "" || c.ID != id {
		// A create killed before it wrote state, or a hostile/corrupt
		// file: report stopped and let delete clean up. No PID from such
		// a file is ever signalled; the cgroup of an intact
		// container.json is kept for delete to sweep.
		keep := c.ID == id
		if c.broken == "" {
			c.broken = "state file names another container"
		}
		log.Warningf("container %q: %s", id, c.broken)
		old := *c
		*c = Container{ID: id, dir: dir, broken: c.broken}
		if keep {
			c.Bundle, c.Spec, c.Created, c.Owner, c.Cgroup = old.Bundle, old.Spec, old.Created, old.Owner, old.Cgroup
		}
	}
	c.verifyProcs()
	c.refreshStatus()
	return c, nil
}

// verifyProcs forgets every stored PID that does not name this
// container's process as the process tree says it must be: the sandbox is
// a runsc-sandbox serving this id, the gofer (its sibling) a runsc-gofer
// serving it, the init the gofer's child. A PID that fails is never
// signalled nor reported.
func (c *Container) verifyProcs() {
	if c.Sandbox.Alive() && !isRunscOf(c.Sandbox.PID, "runsc-sandbox", c.ID) {
		log.Debugf("container %q: pid %d is not its sandbox; ignoring the stored pids", c.ID, c.Sandbox.PID)
		c.Sandbox, c.Gofer, c.Init = specutils.Proc{}, specutils.Proc{}, specutils.Proc{}
		return
	}
	if c.Gofer.Alive() && !isRunscOf(c.Gofer.PID, "runsc-gofer", c.ID) {
		c.Gofer, c.Init = specutils.Proc{}, specutils.Proc{}
	}
	if c.Init.Alive() && specutils.ParentOf(c.Init.PID) != c.Gofer.PID {
		c.Init = specutils.Proc{}
	}
}

// isRunscOf reports whether pid is the runsc helper name (argv[0]) for
// container id (its last argument).
func isRunscOf(pid int, name, id string) bool {
	path := fmt.Sprintf("/proc/%d/cmdline", pid)
	b, err := sysfile.ReadFile(path)
	// Empty while the process is in execve (a rootless sandbox
	// re-executes itself).
	for try := 0; err == nil && len(b) == 0 && try < 100; try++ {
		time.Sleep(200 * time.Microsecond)
		b, err = sysfile.ReadFile(path)
	}
	if err != nil {
		return false
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	return len(args) > 1 && args[0] == name && args[len(args)-1] == id
}

// refreshStatus recomputes Status from the kernel's view of the PIDs.
func (c *Container) refreshStatus() {
	switch {
	case c.broken != "" || !c.Init.Alive():
		c.Status = Stopped
	case !c.Started:
		c.Status = Created
	case c.frozen():
		c.Status = Paused
	default:
		c.Status = Running
	}
}

// frozen reports whether the container's cgroup is frozen (pause).
func (c *Container) frozen() bool {
	return c.Cgroup != nil && c.Cgroup.Paused()
}

// List returns the ids of all containers under root.
func List(root string) ([]string, error) {
	entries, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() && ValidateID(e.Name()) == nil {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

// State returns the OCI state of the container (runtime.md "State").
func (c *Container) State() specs.State {
	s := specs.State{
		Version: specs.Version,
		ID:      c.ID,
		Status:  specs.ContainerState(c.Status),
		Bundle:  c.Bundle,
	}
	if c.Spec != nil {
		s.Annotations = c.Spec.Annotations
	}
	// The OCI state's pid is the container process on the host; once it is
	// gone there is none.
	if c.Status != Stopped {
		s.Pid = c.Init.PID
	}
	return s
}

// Signal sends sig to the container's init or, with all, to every process
// of the container. The kernel is asked directly, after checking each PID's
// start time.
func (c *Container) Signal(sig unix.Signal, all bool) error {
	if c.Status == Stopped {
		return fmt.Errorf("signalling container %q: %w", c.ID, ErrNotRunning)
	}
	if !all {
		if err := c.Init.Signal(sig); err != nil {
			if errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("signalling container %q: %w", c.ID, ErrNotRunning)
			}
			return fmt.Errorf("signalling container %q: %w", c.ID, err)
		}
		return nil
	}
	pids, err := c.Processes()
	if err != nil {
		return err
	}
	for _, p := range pids {
		if err := p.Signal(sig); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("signalling pid %d of container %q: %w", p.PID, c.ID, err)
		}
	}
	return nil
}

// Processes returns the host processes of the container. With a pid
// namespace of its own, they are the processes of that namespace; a
// container that joined another's (or the host's) pid namespace owns only
// what is in its cgroup, less the runsc processes serving it; without
// either, just init. A joined namespace is never scanned: it holds other
// containers' processes, or the whole host's.
func (c *Container) Processes() ([]specutils.Proc, error) {
	if !c.Init.Exists() {
		return nil, nil
	}
	if path, ok := specutils.HasNamespace(c.Spec, specs.PIDNamespace); ok && path == "" {
		return specutils.ProcsInPIDNamespaceOf(c.Init.PID)
	}
	if c.Cgroup == nil {
		return []specutils.Proc{c.Init}, nil
	}
	pids, err := c.Cgroup.Procs()
	if err != nil {
		return nil, fmt.Errorf("listing processes of container %q: %w", c.ID, err)
	}
	var out []specutils.Proc
	for _, pid := range pids {
		if pid == c.Sandbox.PID || pid == c.Gofer.PID || pid == os.Getpid() {
			continue
		}
		if p, err := specutils.NewProc(pid); err == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// waitGone waits up to d for every given process to exit, on pidfds
// (poll(2) wakes at each exit) rather than by polling /proc. A zombie is
// waited for too: the one /proc shows can be a thread-group leader whose
// other threads are still exiting, and still in the cgroup (a v1 cgroup
// holds threads); its pidfd is readable only once they are all gone.
func waitGone(d time.Duration, procs ...specutils.Proc) bool {
	deadline := time.Now().Add(d)
	var fds []unix.PollFd
	defer func() {
		for _, f := range fds {
			unix.Close(int(f.Fd))
		}
	}()
	for _, p := range procs {
		if !p.Exists() {
			continue
		}
		fd, err := unix.PidfdOpen(p.PID, 0)
		if err != nil {
			if errors.Is(err, unix.ESRCH) {
				continue
			}
			return waitGonePolling(deadline, procs)
		}
		// The pidfd pins the PID: check it still names p.
		if !p.Exists() {
			unix.Close(fd)
			continue
		}
		fds = append(fds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
	}
	for {
		pending := fds[:0]
		for _, f := range fds {
			if f.Revents == 0 {
				pending = append(pending, f)
			} else {
				unix.Close(int(f.Fd))
			}
		}
		fds = pending
		if len(fds) == 0 {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		if _, err := unix.Poll(fds, int(left.Milliseconds())+1); err != nil && err != unix.EINTR {
			return waitGonePolling(deadline, procs)
		}
	}
}

// waitGonePolling is waitGone without pidfds.
func waitGonePolling(deadline time.Time, procs []specutils.Proc) bool {
	for {
		alive := false
		for _, p := range procs {
			if p.Alive() {
				alive = true
			}
		}
		if !alive {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
}

// Destroy stops the container if force is set (refusing a running one
// otherwise) and removes every trace of it: processes, state directory.
// It is idempotent.
func (c *Container) Destroy(force bool) error {
	l, err := takeLock(c.dir, true, false)
	if errors.Is(err, os.ErrNotExist) {
		return nil // Already destroyed.
	}
	if err != nil {
		return fmt.Errorf("deleting container %q: %w", c.ID, err)
	}
	defer l.release()
	cur := c
	if !c.ownsDir() {
		if cur, err = loadLocked(c.dir, c.ID); err != nil {
			return err
		}
	}
	if (cur.Status == Running || cur.Status == Paused) && !force {
		return fmt.Errorf("cannot delete container %q that is %s: stop it first or use --force", c.ID, cur.Status)
	}
	defer log.Span("delete")()
	// The first round kills the processes the state knows of and tries to
	// remove the cgroup before sweeping it (see Cgroup.RemoveIfEmpty):
	// that is all a container that exited needs. A process can still land
	// in the cgroup after a sweep (an exec racing this delete): sweep and
	// remove again before giving up.
	for attempt := 0; ; attempt++ {
		sweep := attempt > 0
		end := log.Span("delete/kill")
		err := cur.killAll(sweep)
		end()
		if err != nil {
			return err
		}
		if cur.Cgroup == nil {
			break
		}
		end = log.Span("delete/cgroup")
		if !sweep {
			gone := cur.Cgroup.RemoveIfEmpty()
			end()
			if gone {
				break
			}
			continue
		}
		err = cur.Cgroup.Destroy()
		end()
		if err == nil {
			break
		}
		if attempt == 3 {
			return fmt.Errorf("deleting container %q: %w", c.ID, err)
		}
		log.Debugf("deleting container %q: %v; sweeping again", c.ID, err)
	}
	// The directory is renamed away first, atomically: a command racing
	// this delete then finds no container, instead of finding a half
	// removed one (and re-creating its lock file under RemoveAll). '#' is
	// never in an id, so List never shows the doomed name.
	doomed := filepath.Join(filepath.Dir(c.dir), fmt.Sprintf("#deleting-%d-%d", os.Getpid(), time.Now().UnixNano()))
	if err := os.Rename(c.dir, doomed); err != nil {
		return fmt.Errorf("removing state of container %q: %w", c.ID, err)
	}
	if err := os.RemoveAll(doomed); err != nil {
		return fmt.Errorf("removing state of container %q: %w", c.ID, err)
	}
	if cur.Spec != nil && cur.Spec.Hooks != nil {
		st := cur.State()
		st.Status = specs.StateStopped
		// The spec: a failing poststop hook is logged, and delete goes on.
		if err := specutils.RunHooks("poststop", cur.Spec.Hooks.Poststop, st); err != nil {
			log.Warningf("%v", err)
		}
	}
	return nil
}

// ownsDir reports whether c is the container that this process created
// (`runsc run`) and its state directory still the one Create made: c then
// knows all a reload would tell delete (the PIDs, the cgroup), and more
// surely. Anything else (another delete and create of the same id in
// between) reloads.
func (c *Container) ownsDir() bool {
	if c.sandboxCmd == nil || c.dirID == ([2]uint64{}) {
		return false
	}
	id, err := dirID(c.dir)
	return err == nil && id == c.dirID
}

// dirID identifies a directory by device and inode.
func dirID(dir string) ([2]uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return [2]uint64{}, err
	}
	return [2]uint64{st.Dev, st.Ino}, nil
}

// killAll SIGKILLs the container's processes and the runsc processes
// serving it, and, with sweep, every process in its cgroup, and waits for
// them to be gone.
func (c *Container) killAll(sweep bool) error {
	procs, _ := c.Processes()
	procs = append(procs, c.Init, c.Gofer, c.Sandbox)
	for _, p := range procs {
		p.Signal(unix.SIGKILL)
	}
	// And whatever is in the container's cgroup: a sandbox started by a
	// create killed before it saved its PID, a process the state lost.
	// (Create refused a cgroup that had processes: all in it are ours. A
	// hierarchy's root, which holds the host's, is never swept.)
	if sweep && c.Cgroup != nil && !c.Cgroup.IsRoot() {
		if pids, err := c.Cgroup.Procs(); err == nil {
			for _, pid := range pids {
				if pid == os.Getpid() {
					// The thread that spawned the sandbox into the
					// cgroup, exiting (cgroup.Spawn).
					continue
				}
				if p, err := specutils.NewProc(pid); err == nil {
					p.Signal(unix.SIGKILL)
					procs = append(procs, p)
				}
			}
		}
	}
	// A frozen task dies only once thawed.
	if c.frozen() {
		c.Cgroup.Thaw()
	}
	if !waitGone(5*time.Second, procs...) {
		return fmt.Errorf("container %q: processes did not exit after SIGKILL", c.ID)
	}
	return nil
}

// socketPath is the sandbox's control socket.
func (c *Container) socketPath() string { return filepath.Join(c.dir, socketFile) }

// describe is a short form for logs.
func (c *Container) describe() string {
	return fmt.Sprintf("%s (sandbox %d, init %d, %s)", c.ID, c.Sandbox.PID, c.Init.PID, strings.ToLower(string(c.Status)))
}
