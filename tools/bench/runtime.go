package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// nsexecArg is the hidden first argument under which the bench binary acts
// as the mount-namespace wrapper for runtimes that refuse the hybrid cgroup
// layout (crun): see nsexecMain.
const nsexecArg = "__bench_nsexec"

// hybridUnified is the cgroup v2 mount of a hybrid host that the wrapper
// detaches in its private mount namespace.
const hybridUnified = "/sys/fs/cgroup/unified"

// Runtime is one OCI runtime under test, with its own state root.
type Runtime struct {
	// Name labels the runtime in the output ("runsc", "runc", "crun").
	Name string `json:"name"`
	// Path is the runtime binary.
	Path string `json:"path"`
	// Version is the first line of `Path --version`.
	Version string `json:"version"`
	// Size is the binary's size in bytes.
	Size int64 `json:"size"`
	// Wrapped means every invocation goes through the mount-namespace
	// wrapper, whose measured cost is subtracted.
	Wrapped bool `json:"wrapped"`
	// Root is the runtime's private --root.
	Root string `json:"-"`
	// ExecUnsupported is set when the runtime has no exec subcommand.
	ExecUnsupported bool `json:"exec_unsupported,omitempty"`

	self string // the bench binary, for the wrapper

	mu   sync.Mutex
	live map[string]bool // container ids that may exist
	seq  int
}

// argv returns the command line of one invocation with global flags.
func (r *Runtime) argv(args ...string) []string {
	a := []string{r.Path, "--root", r.Root}
	if r.Wrapped {
		a = append([]string{r.self, nsexecArg}, a...)
	}
	return append(a, args...)
}

// newID returns a fresh container id and records it as possibly live.
func (r *Runtime) newID(kind string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	id := fmt.Sprintf("bench-%s-%s-%d", r.Name, kind, r.seq)
	if r.live == nil {
		r.live = map[string]bool{}
	}
	r.live[id] = true
	return id
}

// gone forgets a container that was deleted.
func (r *Runtime) gone(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.live, id)
}

// liveIDs returns the ids that may still exist.
func (r *Runtime) liveIDs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for id := range r.live {
		ids = append(ids, id)
	}
	return ids
}

// Invoker runs commands with stdin and stdout on /dev/null and stderr in a
// private file: files, not pipes, since a created container inherits the
// runtime's stdio and a pipe would stay open as long as it lives.
type Invoker struct {
	devnull *os.File
	errf    *os.File
}

// NewInvoker opens the files of one sequential stream of invocations.
func NewInvoker(dir string) (*Invoker, error) {
	dn, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", os.DevNull, err)
	}
	ef, err := os.CreateTemp(dir, "stderr-")
	if err != nil {
		dn.Close()
		return nil, fmt.Errorf("creating stderr file: %w", err)
	}
	return &Invoker{devnull: dn, errf: ef}, nil
}

// Close releases the invoker's files.
func (iv *Invoker) Close() {
	iv.devnull.Close()
	iv.errf.Close()
	os.Remove(iv.errf.Name())
}

// Run runs argv and returns its wall time, from just before the fork to
// just after the reap. A failure carries the tail of stderr.
func (iv *Invoker) Run(argv []string) (time.Duration, error) {
	iv.errf.Truncate(0)
	iv.errf.Seek(0, io.SeekStart)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = iv.devnull, iv.devnull, iv.errf
	// Own process group: a terminal's Ctrl-C reaches the bench alone,
	// which then cleans up instead of leaving half-created containers.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return d, fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, iv.stderrTail())
	}
	return d, nil
}

// Output runs argv for a command that leaves no process behind and
// returns its stdout.
func (iv *Invoker) Output(argv []string) ([]byte, error) {
	iv.errf.Truncate(0)
	iv.errf.Seek(0, io.SeekStart)
	cmd := exec.Command(argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = iv.devnull, &out, iv.errf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, iv.stderrTail())
	}
	return out.Bytes(), nil
}

func (iv *Invoker) stderrTail() string {
	b, _ := os.ReadFile(iv.errf.Name())
	s := strings.TrimSpace(string(b))
	if len(s) > 600 {
		s = "..." + s[len(s)-600:]
	}
	return s
}

// create creates container id from bundle and returns the pid in the pid
// file, which after the runtime exits is an orphan reparented to the bench
// (a child subreaper).
func (r *Runtime) create(iv *Invoker, bundle, id string) (time.Duration, int, error) {
	pidFile := filepath.Join(filepath.Dir(r.Root), "pid-"+id)
	defer os.Remove(pidFile)
	d, err := iv.Run(r.argv("create", "--bundle", bundle, "--pid-file", pidFile, id))
	if err != nil {
		return d, 0, err
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return d, 0, fmt.Errorf("reading pid file of %s: %w", id, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return d, 0, fmt.Errorf("bad pid file of %s: %q", id, b)
	}
	return d, pid, nil
}

// delete deletes a stopped container.
func (r *Runtime) delete(iv *Invoker, id string) (time.Duration, error) {
	d, err := iv.Run(r.argv("delete", id))
	if err == nil {
		r.gone(id)
	}
	return d, err
}

// statePid returns the pid that `state` reports: the container's init.
func (r *Runtime) statePid(iv *Invoker, id string) (int, error) {
	out, err := iv.Output(r.argv("state", id))
	if err != nil {
		return 0, err
	}
	var st struct {
		Pid int `json:"pid"`
	}
	if err := json.Unmarshal(out, &st); err != nil {
		return 0, fmt.Errorf("parsing state of %s: %w", id, err)
	}
	return st.Pid, nil
}

var subcommandLine = regexp.MustCompile(`(?m)^\s+exec\s`)

// hasExec reports whether an exec failure means the runtime has no exec
// subcommand: its error says so, or its help lists no exec.
func (r *Runtime) hasExec(iv *Invoker, execErr error) bool {
	msg := strings.ToLower(execErr.Error())
	if strings.Contains(msg, "unknown command") || strings.Contains(msg, "unknown subcommand") {
		return false
	}
	out, _ := iv.Output([]string{r.Path, "help"})
	return subcommandLine.Match(out)
}

// waitPid waits for pid to exit: with wait4 when it is the bench's child
// (reparented orphan), else by polling a pidfd.
func waitPid(pid int) error {
	for {
		var ws unix.WaitStatus
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if err == nil {
			return nil
		}
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if !errors.Is(err, unix.ECHILD) {
			return fmt.Errorf("waiting for %d: %w", pid, err)
		}
		break
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	defer unix.Close(fd)
	for {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, -1); err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("polling pidfd of %d: %w", pid, err)
		}
		if fds[0].Revents != 0 {
			return nil
		}
	}
}

// cleanup force-deletes every container that may still exist and reports
// what it found.
func (r *Runtime) cleanup(iv *Invoker) []string {
	var msgs []string
	for _, id := range r.liveIDs() {
		iv.Run(r.argv("kill", id, "KILL"))
		if _, err := iv.Run(r.argv("delete", "--force", id)); err != nil {
			if _, serr := iv.Output(r.argv("state", id)); serr == nil {
				msgs = append(msgs, fmt.Sprintf("%s: could not delete %s: %v", r.Name, id, err))
				continue
			}
		}
		r.gone(id)
	}
	return msgs
}

// nsexecMain is the wrapper: in a new mount namespace whose mounts no
// longer propagate back, it detaches the cgroup v2 hierarchy of a hybrid
// host and executes argv. Unsharing on a locked thread and execve from that
// same thread keeps the namespace; Go needs no other thread for it.
func nsexecMain(argv []string) {
	fail := func(format string, a ...any) {
		fmt.Fprintf(os.Stderr, "bench nsexec: "+format+"\n", a...)
		os.Exit(127)
	}
	if len(argv) == 0 {
		fail("no command")
	}
	lockOSThread()
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		fail("unshare(CLONE_NEWNS): %v", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		fail("making / a slave: %v", err)
	}
	if err := unix.Unmount(hybridUnified, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		fail("umount -l %s: %v", hybridUnified, err)
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		fail("%v", err)
	}
	fail("exec %s: %v", path, unix.Exec(path, argv, os.Environ()))
}
