package cgroup

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
	"runsc.dev/runsc/pkg/osthread"
)

// This file starts processes inside the container's cgroup from their first
// instruction, instead of moving them in afterwards.
//
// Moving a process (a write to cgroup.procs, or of another task's id to a
// v1 tasks file) takes the kernel's global cgroup_threadgroup_rwsem for
// writing, and the first writer after a quiet period waits for an RCU grace
// period: 7-10 ms on these hosts, once per container and on its critical
// path. Two moves escape that lock (kernel/cgroup/cgroup.c,
// cgroup_procs_write_start: "If we migrate a single thread ... [that] is
// `current` ... we can skip the global lock"):
//   - v1: a thread writing "0" to a hierarchy's tasks file moves only
//     itself; the children it then forks inherit its cgroups;
//   - v2: clone3(CLONE_INTO_CGROUP) creates the child in a cgroup2
//     directory given by fd.
// Spawn combines the two on a thread of its own, which exits afterwards.

// Spawn runs start on an OS thread that has been moved into the container's
// v1 cgroups, passing the container's cgroup2 directory opened O_PATH for
// CLONE_INTO_CGROUP (syscall.SysProcAttr UseCgroupFD and CgroupFD), or -1
// when there is none. start must fork its children from the calling
// goroutine and return their PIDs, or fail having left none. The children
// are then born in the container's cgroup in every hierarchy. The thread is
// never reused (osthread.Throwaway), so start must not rely on anything
// tied to it (a Pdeathsig would fire at once).
//
// If the thread cannot be placed, or the spawn fails with a cgroup fd, start
// is called again with -1 and the children are moved in with Join (the
// slow path). The cgroup must have been made (Create) first.
func (c *Cgroup) Spawn(start func(cgroupFD int) ([]int, error)) error {
	return c.SpawnWith(nil, start)
}

// SpawnWith is Spawn with the cgroup's files already open (ThreadFiles,
// nil: Spawn opens what it needs by path), which saves a path lookup per
// hierarchy.
func (c *Cgroup) SpawnWith(files []*os.File, start func(cgroupFD int) ([]int, error)) error {
	var err error
	// The thread is thrown away afterwards instead of going back to the
	// scheduler from inside the container's cgroup.
	osthread.Throwaway(func() { err = c.spawnOnThread(files, start) })
	return err
}

// SpawnPrepared is Spawn's fast path alone, with prepare run on the
// thread between its entering the container's v1 cgroups (files, as
// ThreadFiles opens them; nil when there is no cgroup) and start, which
// gets the cgroup2 directory (or -1): for per-thread state the children
// must be born with that leaves paths unusable afterwards (a mount
// namespace and a root of their own). There is no slow path: on an error
// from any step, start has left nothing running, and the caller may fall
// back to Spawn. The thread is thrown away, as Spawn's is.
func SpawnPrepared(files []*os.File, prepare func() error, start func(cgroupFD int) error) error {
	var err error
	osthread.Throwaway(func() {
		tasks, fd := splitThreadFiles(files)
		if err = EnterThread(tasks); err != nil {
			return
		}
		if err = prepare(); err != nil {
			return
		}
		err = start(fd)
	})
	return err
}

// splitThreadFiles returns ThreadFiles' tasks files and the cgroup2
// directory's fd (-1 when there is none).
func splitThreadFiles(files []*os.File) (tasks []*os.File, cgroup2 int) {
	cgroup2 = -1
	for _, f := range files {
		switch f.Name() {
		case TasksFileName:
			tasks = append(tasks, f)
		case Cgroup2DirName:
			cgroup2 = int(f.Fd())
		}
	}
	return tasks, cgroup2
}

func (c *Cgroup) spawnOnThread(files []*os.File, start func(cgroupFD int) ([]int, error)) error {
	if files != nil {
		tasks, fd := splitThreadFiles(files)
		if err := EnterThread(tasks); err == nil {
			if _, err := start(fd); err == nil {
				return nil
			} else {
				debugf("cgroup: spawning into %s: %v; retrying, then joining", c.Unified, err)
			}
		} else {
			debugf("cgroup: %v", err)
		}
		return c.spawnJoin(start)
	}
	placed := c.enterThread() == nil
	fd := -1
	if placed && c.Unified != "" {
		var err error
		if fd, err = unix.Open(c.Unified, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
			debugf("cgroup: opening %s for CLONE_INTO_CGROUP: %v", c.Unified, err)
			placed, fd = false, -1
		} else {
			defer unix.Close(fd)
		}
	}
	if placed {
		_, err := start(fd)
		if err == nil {
			return nil
		}
		debugf("cgroup: spawning into %s: %v; retrying, then joining", c.Unified, err)
	}
	return c.spawnJoin(start)
}

// spawnJoin is Spawn's slow path: start outside the cgroup, then Join.
func (c *Cgroup) spawnJoin(start func(cgroupFD int) ([]int, error)) error {
	pids, err := start(-1)
	if err != nil {
		return err
	}
	for _, pid := range pids {
		if err := c.Join(pid); err != nil {
			return err
		}
	}
	return nil
}

// enterThread moves the calling thread alone into the container's
// directory of every v1 hierarchy. The caller has locked the thread.
func (c *Cgroup) enterThread() error {
	seen := map[string]bool{}
	for _, d := range c.Paths {
		if seen[d] {
			continue
		}
		seen[d] = true
		if err := writeFile(d, "tasks", "0"); err != nil {
			debugf("cgroup: moving thread %d into %s: %v", unix.Gettid(), d, err)
			return fmt.Errorf("moving thread into %s: %w", d, err)
		}
	}
	return nil
}

// Prepare creates the container's cgroup and writes the resources given to
// New: what Apply does before it moves a process in. On failure the
// directories it made are removed.
func (c *Cgroup) Prepare() error {
	if err := c.Create(); err != nil {
		return err
	}
	if err := c.Set(c.Resources); err != nil {
		if derr := c.Rollback(); derr != nil {
			debugf("cgroup: cleanup after failed prepare: %v", derr)
		}
		return err
	}
	return nil
}

// Names of the files ThreadFiles returns, as a control message carries
// them.
const (
	TasksFileName  = "cgroup-tasks"
	Cgroup2DirName = "cgroup2-dir"
)

// ThreadFiles opens what a process born outside the container's cgroup
// needs to start children in it the way Spawn does: the tasks file of
// every v1 directory, write-only (named TasksFileName), and the cgroup2
// directory O_PATH (Cgroup2DirName) for CLONE_INTO_CGROUP. A v1 tasks
// write is checked against the credentials of the file's opener, so the
// process writing "0" (EnterThread) need not be allowed to open it.
func (c *Cgroup) ThreadFiles() (_ []*os.File, retErr error) {
	var files []*os.File
	defer func() {
		if retErr != nil {
			for _, f := range files {
				f.Close()
			}
		}
	}()
	seen := map[string]bool{}
	for _, d := range c.Paths {
		if seen[d] {
			continue
		}
		seen[d] = true
		fd, err := unix.Open(filepath.Join(d, "tasks"), unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("opening %s/tasks: %w", d, err)
		}
		files = append(files, os.NewFile(uintptr(fd), TasksFileName))
	}
	if c.Unified != "" {
		fd, err := unix.Open(c.Unified, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("opening %s: %w", c.Unified, err)
		}
		files = append(files, os.NewFile(uintptr(fd), Cgroup2DirName))
	}
	return files, nil
}

// EnterThread moves the calling thread, which the caller has locked, into
// the v1 cgroups whose tasks files (from ThreadFiles) are given: writing
// "0" moves only the writer, without the global lock a process move takes.
// Its children are then born there; the thread should not run anything
// else afterwards.
func EnterThread(tasks []*os.File) error {
	for _, f := range tasks {
		if _, err := unix.Pwrite(int(f.Fd()), []byte("0"), 0); err != nil {
			return fmt.Errorf("moving thread into a cgroup: %w", err)
		}
	}
	return nil
}
