package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// cmdTimeout bounds one runtime command; beyond it the command is killed
// and counted as a failure.
const cmdTimeout = 60 * time.Second

// runtime is one OCI runtime under test, with a --root of its own.
type runtime struct {
	// Name is "runsc" or "runc".
	Name string
	// Bin is the runtime binary.
	Bin string
	// Root is the runtime's private state root.
	Root string
	// CgParent is the cgroup under which every container of this
	// runtime is placed, as <CgParent>/<id>.
	CgParent string
	// LongLived says whether the runtime keeps processes of its own per
	// container (runsc: sandbox and gofer; runc: none).
	LongLived bool

	mu sync.Mutex
	// live are the ids that may exist: a create was started and no delete
	// has succeeded since. Teardown deletes them.
	live map[string]bool
}

// result is one command's outcome.
type result struct {
	Took time.Duration
	Err  error
}

// run runs the runtime with args (after --root) and returns how long it
// took and, if it failed, why. The command has no stdin, its output goes
// to a temp file (a created container holds the runtime's stdio, so a pipe
// would not reach EOF), and it runs in its own process group so that a
// Ctrl-C meant for this tool does not hit it.
func (r *runtime) run(args ...string) result {
	out, err := os.CreateTemp("", "load-out")
	if err != nil {
		return result{Err: err}
	}
	defer os.Remove(out.Name())
	defer out.Close()
	cmd := exec.Command(r.Bin, append([]string{"--root", r.Root}, args...)...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return result{Err: fmt.Errorf("%s %s: %w", r.Name, args[0], err)}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var werr error
	select {
	case werr = <-done:
	case <-time.After(cmdTimeout):
		cmd.Process.Kill()
		<-done
		werr = fmt.Errorf("timed out after %v", cmdTimeout)
	}
	took := time.Since(start)
	if werr != nil {
		msg, _ := os.ReadFile(out.Name())
		return result{Took: took, Err: fmt.Errorf("%s %s: %v: %s", r.Name, strings.Join(args, " "), werr, bytes.TrimSpace(msg))}
	}
	return result{Took: took}
}

// track records that id may exist (on) or is gone (off).
func (r *runtime) track(id string, on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.live == nil {
		r.live = map[string]bool{}
	}
	if on {
		r.live[id] = true
	} else {
		delete(r.live, id)
	}
}

// liveIDs lists the ids that may still exist.
func (r *runtime) liveIDs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for id := range r.live {
		ids = append(ids, id)
	}
	return ids
}

// pidFile is where container id's pid file goes.
func (r *runtime) pidFile(bundles, id string) string {
	return filepath.Join(bundles, id, "pid")
}

// readPid reads a pid file.
func readPid(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}
