package cgroup

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
	"runsc.dev/runsc/pkg/log"
	"runsc.dev/runsc/pkg/sysfile"
)

// debugf logs settings that are ignored and operations that are retried.
func debugf(format string, args ...any) {
	log.Debugf(format, args...)
}

// Filesystem hooks. Tests replace them to emulate cgroupfs on plain files:
// mkdir must populate control files, rmdir must remove them, and writeHook
// (nil outside tests) observes every write and may fail it.
var (
	mkdir     = os.Mkdir
	rmdir     = unix.Rmdir
	writeHook func(path, value string) error
)

// writeFile writes value to a control file. Control files always exist in
// cgroupfs, so the file is never created: a missing file means a missing
// controller or feature and yields ENOENT.
func writeFile(dir, file, value string) error {
	if h := writeHook; h != nil {
		if err := h(filepath.Join(dir, file), value); err != nil {
			return err
		}
	}
	return sysfile.WriteFile(filepath.Join(dir, file), []byte(value), os.O_TRUNC, 0)
}

func readFile(dir, file string) (string, error) {
	b, err := sysfile.ReadFile(filepath.Join(dir, file))
	return string(b), err
}

// readTrimmed reads a control file and trims surrounding white space.
func readTrimmed(dir, file string) (string, error) {
	s, err := readFile(dir, file)
	return strings.TrimSpace(s), err
}

// parseUint parses a control file value; "max" is math.MaxUint64 and
// negative values (v1 "-1") are clamped to 0.
func parseUint(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	if s == "max" {
		return math.MaxUint64, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		if i, ierr := strconv.ParseInt(s, 10, 64); ierr == nil && i < 0 {
			return 0, nil
		}
		return 0, fmt.Errorf("parsing %q: %w", s, err)
	}
	return v, nil
}

// readUint reads a single-number control file.
func readUint(dir, file string) (uint64, error) {
	s, err := readFile(dir, file)
	if err != nil {
		return 0, err
	}
	v, err := parseUint(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", filepath.Join(dir, file), err)
	}
	return v, nil
}

// parseKeyValue parses a "key value" line of a flat-keyed file.
func parseKeyValue(line string) (string, uint64, error) {
	k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
	if !ok {
		return "", 0, fmt.Errorf("malformed line %q", line)
	}
	n, err := parseUint(v)
	if err != nil {
		return "", 0, err
	}
	return k, n, nil
}

// readKeyValues reads a flat-keyed file (memory.stat, cpu.stat, ...).
func readKeyValues(dir, file string) (map[string]uint64, error) {
	s, err := readFile(dir, file)
	if err != nil {
		return nil, err
	}
	out := make(map[string]uint64)
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, err := parseKeyValue(line)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, file), err)
		}
		out[k] = v
	}
	return out, nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// op is one step of applying resources: a write of value to a control file,
// or (when action is set) another operation such as attaching an eBPF
// program. Plans of ops are built and validated before anything is written.
type op struct {
	// field names the linux.resources field the op implements; it starts
	// every error message.
	field string
	dir   string
	file  string
	value string
	// optional ops are skipped with a debug log when the file is absent.
	optional bool
	// tolerate reports errors that are logged and ignored.
	tolerate func(error) bool
	// deferEINVAL retries the write after the rest of the plan when the
	// kernel first refuses it with EINVAL (ordering of period/quota).
	deferEINVAL bool
	// ctrl is the cgroup2 controller the file belongs to; it is enabled
	// in the parents' cgroup.subtree_control before the plan runs.
	ctrl string
	// action, when set, replaces the file write; desc describes it.
	action func() error
	desc   string
}

// String describes the op for logs and test failures.
func (o op) String() string {
	if o.action != nil {
		return o.field + ": " + o.desc
	}
	return o.file + "=" + o.value
}

// run performs one op, writing through w.
func (o op) run(w *writer) error {
	if o.action != nil {
		if err := o.action(); err != nil {
			return fmt.Errorf("%s: %s: %w", o.field, o.desc, err)
		}
		return nil
	}
	err := w.write(o.dir, o.file, o.value)
	switch {
	case err == nil:
		return nil
	case o.optional && errors.Is(err, fs.ErrNotExist):
		debugf("cgroup: %s: %s not present, not setting it", o.field, o.file)
		return nil
	case o.tolerate != nil && o.tolerate(err):
		debugf("cgroup: %s: ignoring error writing %q to %s: %v", o.field, o.value, o.file, err)
		return nil
	}
	return fmt.Errorf("%s: writing %q to %s: %w", o.field, o.value, filepath.Join(o.dir, o.file), err)
}

// execute runs a plan in order, retrying deferEINVAL ops that failed with
// EINVAL once the rest of the plan has been written.
func execute(ops []op) error {
	var w writer
	defer w.close()
	var deferred []op
	for _, o := range ops {
		err := o.run(&w)
		if err != nil && o.deferEINVAL && errors.Is(err, unix.EINVAL) {
			debugf("cgroup: %s: EINVAL, retrying after the other settings", o.field)
			deferred = append(deferred, o)
			continue
		}
		if err != nil {
			return err
		}
	}
	for _, o := range deferred {
		if err := o.run(&w); err != nil {
			return err
		}
	}
	return nil
}

// writer writes the values of a plan's ops, keeping the last control file
// open: consecutive ops on one file (a device rule each, on devices.allow)
// are one write(2) each on one open file, as the kernel reads every write
// of a control file on its own.
type writer struct {
	path string
	f    *os.File
}

// write writes value to dir/file, like writeFile.
func (w *writer) write(dir, file, value string) error {
	path := filepath.Join(dir, file)
	if h := writeHook; h != nil {
		if err := h(path, value); err != nil {
			return err
		}
	}
	if w.f == nil || w.path != path {
		w.close()
		f, err := sysfile.Open(path, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			return err
		}
		w.path, w.f = path, f
	}
	if _, err := w.f.WriteString(value); err != nil {
		// The file is reopened for the next op: a failed write can leave
		// it in any state.
		w.close()
		return err
	}
	return nil
}

func (w *writer) close() {
	if w.f != nil {
		w.f.Close()
		w.f, w.path = nil, ""
	}
}

// preflight checks that every non-optional file of a plan exists when its
// cgroup directory already exists. Files of cgroup2 controllers that will be
// enabled before the plan runs are not checked.
func preflight(ops []op, willEnable func(dir, ctrl string) bool) error {
	// Each directory and file is looked at once: a device rule is an op
	// on the same devices.allow as the one before.
	dirs := map[string]bool{}
	checked := map[string]bool{}
	for _, o := range ops {
		if o.action != nil || o.optional {
			continue
		}
		live, ok := dirs[o.dir]
		if !ok {
			live = isDir(o.dir)
			dirs[o.dir] = live
		}
		if !live {
			continue
		}
		if o.ctrl != "" && willEnable(o.dir, o.ctrl) {
			continue
		}
		p := filepath.Join(o.dir, o.file)
		if checked[p] {
			continue
		}
		if !exists(p) {
			return fmt.Errorf("%s: %s does not exist (controller or kernel feature not available)", o.field, p)
		}
		checked[p] = true
	}
	return nil
}
