// Package cgroup places containers in Linux control groups and applies the
// OCI linux.resources to them, on cgroup v1, pure cgroup v2 and hybrid
// hosts (v1 controllers plus a cgroup2 tree), without systemd.
//
// A Cgroup is created from the spec with New, which detects the host layout
// from /proc/self/mountinfo and resolves linux.cgroupsPath in every
// hierarchy. Create makes the directories, Set (after Validate) writes the
// resources, Join moves processes in, and Destroy removes the directories.
// A Cgroup is JSON-serialisable so that a runtime can store it in its state
// file and operate on it from another process.
//
// Settings are validated before anything is written: every write is first
// collected into a plan whose values and target files are checked, so a
// bad value leaves the previous limits in place.
package cgroup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/pkg/fastjson"
	"runsc.dev/runsc/pkg/log"
)

// Cgroup is the set of cgroup directories of one container, one per
// hierarchy. Its fields are exported for JSON serialisation; use the
// methods to operate on it.
type Cgroup struct {
	// ID is the container id.
	ID string `json:"id,omitempty"`
	// CgroupsPath is linux.cgroupsPath as given.
	CgroupsPath string `json:"cgroupsPath,omitempty"`
	// Systemd records whether CgroupsPath uses the "slice:prefix:name" form.
	Systemd bool `json:"systemd,omitempty"`
	// Mode is the host's cgroup layout.
	Mode Mode `json:"mode"`
	// Paths maps each v1 controller to the container's directory.
	Paths map[string]string `json:"paths,omitempty"`
	// Mounts maps each v1 controller to its hierarchy's mountpoint.
	Mounts map[string]string `json:"mounts,omitempty"`
	// Unified is the container's cgroup2 directory ("" without cgroup2).
	Unified string `json:"unified,omitempty"`
	// UnifiedMount is the cgroup2 mountpoint.
	UnifiedMount string `json:"unifiedMount,omitempty"`
	// UnifiedControllers are the controllers available in the cgroup2 root.
	UnifiedControllers []string `json:"unifiedControllers,omitempty"`
	// Created lists the directories Create made, parents first.
	Created []string `json:"created,omitempty"`
	// Resources are the resources given to New, updated by Set.
	Resources *specs.LinuxResources `json:"resources,omitempty"`
}

// DestroyTimeout bounds how long Destroy keeps retrying rmdir while the
// processes of the cgroup exit.
var DestroyTimeout = 5 * time.Second

// New returns the Cgroup for a container on this host. res is the spec's
// linux.resources (may be nil), cgroupsPath its linux.cgroupsPath, id the
// container id (used for empty paths) and systemd selects the
// "slice:prefix:name" path syntax. Nothing is created; the resources are
// checked as far as possible without the cgroup existing.
func New(res *specs.LinuxResources, cgroupsPath, id string, systemd bool) (*Cgroup, error) {
	defer log.Span("cgroup/new")()
	h, err := DetectHost(HostConfig{})
	if err != nil {
		return nil, fmt.Errorf("detecting cgroups: %w", err)
	}
	return NewOnHost(h, res, cgroupsPath, id, systemd)
}

// NewOnHost is New with an explicit host description.
func NewOnHost(h *Host, res *specs.LinuxResources, cgroupsPath, id string, systemd bool) (*Cgroup, error) {
	r, err := h.resolve(cgroupsPath, id, systemd)
	if err != nil {
		return nil, err
	}
	c := &Cgroup{
		ID:                 id,
		CgroupsPath:        cgroupsPath,
		Systemd:            systemd,
		Mode:               h.Mode,
		Paths:              r.paths,
		Mounts:             r.mounts,
		Unified:            r.unified,
		UnifiedControllers: h.V2Controllers,
		Resources:          res,
	}
	if h.V2 != nil {
		c.UnifiedMount = h.V2.Mountpoint
	}
	if res != nil {
		if _, err := c.validate(res); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Path returns the directory of the container in the hierarchy handling a
// controller ("memory", "cpu", "blkio" or "io", "freezer", ...); "" or
// "unified" returns the cgroup2 directory. It returns "" if no hierarchy
// handles the controller.
func (c *Cgroup) Path(controller string) string {
	v1, v2 := controller, controller
	switch controller {
	case "", "unified":
		return c.Unified
	case "blkio", "io":
		v1, v2 = "blkio", "io"
	case "cpuacct":
		v2 = "cpu"
	}
	dir, _, _ := c.route(v1, v2)
	return dir
}

// route returns the directory that handles a controller, known as v1 in
// cgroup v1 and v2 in cgroup v2, and whether it is a cgroup2 directory.
// Freezer and devices have no cgroup2 controller: the cgroup2 core provides
// them.
func (c *Cgroup) route(v1, v2 string) (string, bool, bool) {
	if d, ok := c.Paths[v1]; ok {
		return d, false, true
	}
	if c.Unified == "" {
		return "", false, false
	}
	if v1 == "freezer" || v1 == "devices" || containsStr(c.UnifiedControllers, v2) {
		return c.Unified, true, true
	}
	return "", false, false
}

// dirs returns every directory of the container, sorted and unique.
func (c *Cgroup) dirs() []string {
	set := map[string]bool{}
	for _, d := range c.Paths {
		set[d] = true
	}
	if c.Unified != "" {
		set[c.Unified] = true
	}
	out := make([]string, 0, len(set))
	for d := range set {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// isMount reports whether dir is a hierarchy root, which is never created
// or removed.
func (c *Cgroup) isMount(dir string) bool {
	for _, m := range c.Mounts {
		if filepath.Clean(m) == filepath.Clean(dir) {
			return true
		}
	}
	return c.UnifiedMount != "" && filepath.Clean(c.UnifiedMount) == filepath.Clean(dir)
}

// Create makes the container's directory in every hierarchy. An existing
// directory is reused only if it holds no processes and is not frozen. On
// v1 it copies cpuset.cpus/mems into new cpuset cgroups (the kernel leaves
// them empty); on pure v2 it enables the available controllers down the
// path.
func (c *Cgroup) Create() error {
	defer log.Span("cgroup/create")()
	dirs := c.dirs()
	for _, d := range dirs {
		if c.isMount(d) {
			return fmt.Errorf("refusing to use hierarchy root %s as a container cgroup", d)
		}
		if !isDir(d) {
			continue
		}
		pids, err := procsRecursive(d)
		if err != nil {
			return err
		}
		if len(pids) > 0 {
			return fmt.Errorf("cgroup %s already exists and has processes %v", d, pids)
		}
	}
	if state, err := c.FreezerState(); err == nil && state != Thawed {
		return fmt.Errorf("cgroup %s already exists and is %s", c.Path("freezer"), strings.ToLower(string(state)))
	}
	var created []string
	for _, d := range dirs {
		made, err := mkdirAll(d)
		created = append(created, made...)
		if err != nil {
			c.rollback(created)
			return fmt.Errorf("creating cgroup: %w", err)
		}
	}
	if d, ok := c.Paths["cpuset"]; ok {
		if err := ensureCpuset(c.Mounts["cpuset"], d); err != nil {
			c.rollback(created)
			return err
		}
	}
	if c.Mode == Unified && c.Unified != "" {
		enableControllers(c.UnifiedMount, c.Unified, c.UnifiedControllers)
	}
	for _, d := range created {
		if !containsStr(c.Created, d) {
			c.Created = append(c.Created, d)
		}
	}
	return nil
}

// rollback removes directories made by a failed Create, newest first.
func (c *Cgroup) rollback(created []string) {
	for i := len(created) - 1; i >= 0; i-- {
		if err := rmdir(created[i]); err != nil {
			debugf("cgroup: rollback of %s: %v", created[i], err)
		}
	}
}

// mkdirAll creates dir and missing parents, returning the ones it made. A
// parent removed concurrently (by another container's Destroy) is recreated.
func mkdirAll(dir string) ([]string, error) {
	var made []string
	for try := 0; ; try++ {
		m, err := mkdirAllOnce(dir)
		made = append(made, m...)
		if err == nil || !errors.Is(err, fs.ErrNotExist) || try == 2 {
			return made, err
		}
	}
}

func mkdirAllOnce(dir string) ([]string, error) {
	// Usually only the container's own directory is missing: one mkdir.
	switch err := mkdir(filepath.Clean(dir), 0o755); {
	case err == nil:
		return []string{filepath.Clean(dir)}, nil
	case errors.Is(err, fs.ErrExist) && isDir(dir):
		return nil, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	var missing []string
	for d := filepath.Clean(dir); !isDir(d); d = filepath.Dir(d) {
		if d == "/" || d == "." {
			break
		}
		missing = append(missing, d)
	}
	var made []string
	for i := len(missing) - 1; i >= 0; i-- {
		err := mkdir(missing[i], 0o755)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return made, err
		}
		made = append(made, missing[i])
	}
	return made, nil
}

// ensureCpuset fills empty cpuset.cpus and cpuset.mems from the parent for
// every level from the hierarchy root down to dir, as runc does: v1 cpuset
// cgroups start empty and refuse processes until both are set. runsc's own
// parent (DefaultParent) gets cgroup.clone_children set once, so that the
// kernel fills the next containers' directories under it as it makes them:
// dir is then checked alone (two reads, where filling it costs eight file
// operations more). Other parents are left as they are.
func ensureCpuset(root, dir string) error {
	if full, err := cpusetFull(dir); err != nil || full {
		return err
	}
	levels := append(ancestors(root, dir), dir)
	for i := 1; i < len(levels); i++ {
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			cur, err := readTrimmed(levels[i], f)
			if err != nil {
				return fmt.Errorf("cpuset: %w", err)
			}
			if cur != "" {
				continue
			}
			parent, err := readTrimmed(levels[i-1], f)
			if err != nil {
				return fmt.Errorf("cpuset: %w", err)
			}
			if err := writeFile(levels[i], f, parent); err != nil {
				return fmt.Errorf("cpuset: copying %s from %s: %w", f, levels[i-1], err)
			}
		}
	}
	if parent := filepath.Dir(dir); filepath.Base(parent) == path.Base(DefaultParent) && parent != root {
		// Best effort: without it, the next container fills its
		// directory as this one did.
		if err := writeFile(parent, "cgroup.clone_children", "1"); err != nil {
			debugf("cgroup: setting clone_children on %s: %v", parent, err)
		}
	}
	return nil
}

// cpusetFull reports whether both cpuset.cpus and cpuset.mems of dir are
// set: then every ancestor's are (a cpuset is a subset of its parent's).
func cpusetFull(dir string) (bool, error) {
	for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
		cur, err := readTrimmed(dir, f)
		if err != nil {
			return false, fmt.Errorf("cpuset: %w", err)
		}
		if cur == "" {
			return false, nil
		}
	}
	return true, nil
}

// IsRoot reports whether the container's cgroup is the root of a
// hierarchy (linux.cgroupsPath "/"), which holds every other process too.
func (c *Cgroup) IsRoot() bool {
	for _, d := range c.dirs() {
		if c.isMount(d) {
			return true
		}
	}
	return false
}

// Join moves the process pid into the container's cgroup in every
// hierarchy, including the cgroup2 tree of a hybrid host.
func (c *Cgroup) Join(pid int) error {
	for _, d := range c.dirs() {
		if err := writeFile(d, "cgroup.procs", strconv.Itoa(pid)); err != nil {
			return fmt.Errorf("joining pid %d to %s: %w", pid, d, err)
		}
	}
	return nil
}

// Apply creates the cgroup, applies the resources given to New and moves
// pid in. If any step fails, the directories it created are removed.
func (c *Cgroup) Apply(pid int) error {
	if err := c.Prepare(); err != nil {
		return err
	}
	if err := c.Join(pid); err != nil {
		if derr := c.Rollback(); derr != nil {
			debugf("cgroup: cleanup after failed apply: %v", derr)
		}
		return err
	}
	return nil
}

// plan collects the writes implementing res, in runc's order, validating
// values on the way. Unified settings come last so they can override.
func (c *Cgroup) plan(r *specs.LinuxResources) ([]op, error) {
	var ops []op
	add := func(o []op, err error) error {
		ops = append(ops, o...)
		return err
	}
	unavailable := func(field, ctrl string) error {
		return fmt.Errorf("%s: the %s cgroup controller is not available on this host", field, ctrl)
	}
	if cpu := r.CPU; cpu != nil && (cpu.Cpus != "" || cpu.Mems != "") {
		dir, v2, ok := c.route("cpuset", "cpuset")
		switch {
		case !ok:
			return nil, unavailable("linux.resources.cpu.cpus/mems", "cpuset")
		case v2:
			if err := add(planCpusetV2(dir, cpu)); err != nil {
				return nil, err
			}
		default:
			if err := add(planCpusetV1(dir, cpu)); err != nil {
				return nil, err
			}
		}
	}
	if cpu := r.CPU; cpu != nil && (cpu.Shares != nil || cpu.Quota != nil || cpu.Period != nil || cpu.Burst != nil ||
		cpu.RealtimeRuntime != nil || cpu.RealtimePeriod != nil || cpu.Idle != nil) {
		dir, v2, ok := c.route("cpu", "cpu")
		switch {
		case !ok:
			return nil, unavailable("linux.resources.cpu", "cpu")
		case v2:
			if err := add(planCPUV2(dir, cpu)); err != nil {
				return nil, err
			}
		default:
			ops = append(ops, planCPUV1(dir, cpu)...)
		}
	}
	if p := r.Pids; p != nil && p.Limit != nil {
		dir, v2, ok := c.route("pids", "pids")
		if !ok {
			return nil, unavailable("linux.resources.pids.limit", "pids")
		}
		o := op{field: "linux.resources.pids.limit", dir: dir, file: "pids.max", value: pidsValue(*p.Limit)}
		if v2 {
			o.ctrl = "pids"
		}
		ops = append(ops, o)
	}
	if m := r.Memory; m != nil {
		dir, v2, ok := c.route("memory", "memory")
		switch {
		case !ok:
			return nil, unavailable("linux.resources.memory", "memory")
		case v2:
			if err := add(planMemoryV2(dir, m)); err != nil {
				return nil, err
			}
		default:
			if err := add(planMemoryV1(dir, c.Mounts["memory"], m)); err != nil {
				return nil, err
			}
		}
	}
	if b := r.BlockIO; b != nil {
		dir, v2, ok := c.route("blkio", "io")
		switch {
		case !ok:
			return nil, unavailable("linux.resources.blockIO", "blkio/io")
		case v2:
			ops = append(ops, planIOV2(dir, b)...)
		default:
			ops = append(ops, planBlkioV1(dir, c.Mounts["blkio"], b)...)
		}
	}
	if len(r.HugepageLimits) > 0 {
		dir, v2, ok := c.route("hugetlb", "hugetlb")
		switch {
		case !ok:
			return nil, unavailable("linux.resources.hugepageLimits", "hugetlb")
		case v2:
			ops = append(ops, planHugetlbV2(dir, r.HugepageLimits)...)
		default:
			ops = append(ops, planHugetlbV1(dir, r.HugepageLimits)...)
		}
	}
	if n := r.Network; n != nil {
		if err := add(planNetworkV1(c, n)); err != nil {
			return nil, err
		}
	}
	if len(r.Rdma) > 0 {
		dir, v2, ok := c.route("rdma", "rdma")
		if !ok {
			return nil, unavailable("linux.resources.rdma", "rdma")
		}
		for _, dev := range sortedKeys(r.Rdma) {
			if line := rdmaLine(dev, r.Rdma[dev]); line != "" {
				o := op{field: fmt.Sprintf("linux.resources.rdma[%q]", dev), dir: dir, file: "rdma.max", value: line}
				if v2 {
					o.ctrl = "rdma"
				}
				ops = append(ops, o)
			}
		}
	}
	if err := add(c.planDevices(r.Devices)); err != nil {
		return nil, err
	}
	if err := add(planUnified(c, r.Unified)); err != nil {
		return nil, err
	}
	return ops, nil
}

// validate checks res and returns the plan that implements it.
func (c *Cgroup) validate(res *specs.LinuxResources) ([]op, error) {
	if err := validateValues(res); err != nil {
		return nil, err
	}
	ops, err := c.plan(res)
	if err != nil {
		return nil, err
	}
	if err := preflight(ops, c.willEnable); err != nil {
		return nil, err
	}
	return ops, nil
}

// Validate checks res against the host and the cgroup's current state
// without writing anything: value ranges, controller availability, the
// existence of every control file that would be written, device rules,
// and checkBeforeUpdate against current usage.
func (c *Cgroup) Validate(res *specs.LinuxResources) error {
	if res == nil {
		return nil
	}
	_, err := c.validate(res)
	return err
}

// Set validates every setting of res, then writes them all (an update: only
// the settings present in res change). The applied settings are merged
// into c.Resources.
func (c *Cgroup) Set(res *specs.LinuxResources) error {
	if res == nil {
		return nil
	}
	ops, err := c.validate(res)
	if err != nil {
		return err
	}
	var ctrls []string
	for _, o := range ops {
		if o.ctrl != "" && !containsStr(ctrls, o.ctrl) {
			ctrls = append(ctrls, o.ctrl)
		}
	}
	if len(ctrls) > 0 {
		enableControllers(c.UnifiedMount, c.Unified, ctrls)
	}
	if err := execute(ops); err != nil {
		return err
	}
	merged, err := mergeResources(c.Resources, res)
	if err != nil {
		return err
	}
	c.Resources = merged
	return nil
}

// mergeResources overlays upd on cur: objects merge key by key, other
// values (including lists) are replaced.
func mergeResources(cur, upd *specs.LinuxResources) (*specs.LinuxResources, error) {
	if cur == nil || cur == upd {
		return upd, nil
	}
	toMap := func(r *specs.LinuxResources) (map[string]any, error) {
		b, err := fastjson.Marshal(r)
		if err != nil {
			return nil, err
		}
		m := map[string]any{}
		return m, fastjson.Unmarshal(b, &m)
	}
	a, err := toMap(cur)
	if err != nil {
		return nil, fmt.Errorf("merging resources: %w", err)
	}
	b, err := toMap(upd)
	if err != nil {
		return nil, fmt.Errorf("merging resources: %w", err)
	}
	var merge func(dst, src map[string]any)
	merge = func(dst, src map[string]any) {
		for k, v := range src {
			if sm, ok := v.(map[string]any); ok {
				if dm, ok := dst[k].(map[string]any); ok {
					merge(dm, sm)
					continue
				}
			}
			dst[k] = v
		}
	}
	merge(a, b)
	out, err := fastjson.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("merging resources: %w", err)
	}
	var r specs.LinuxResources
	if err := fastjson.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("merging resources: %w", err)
	}
	return &r, nil
}

// procsRecursive returns the pids in dir and all its descendants.
func procsRecursive(dir string) ([]int, error) {
	var pids []int
	var walk func(dir string) error
	walk = func(dir string) error {
		s, err := readFile(dir, "cgroup.procs")
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed while walking
		}
		if err != nil {
			return err
		}
		for _, f := range strings.Fields(s) {
			pid, err := strconv.Atoi(f)
			if err != nil {
				return fmt.Errorf("parsing %s/cgroup.procs: %w", dir, err)
			}
			pids = append(pids, pid)
		}
		// A directory's link count is 2 plus its subdirectories (kernfs
		// keeps it too): list it, dozens of control files, only for
		// sub-cgroups.
		var st unix.Stat_t
		if err := unix.Stat(dir, &st); err != nil || st.Nlink <= 2 {
			return nil
		}
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, e := range entries {
			if e.IsDir() {
				if err := walk(filepath.Join(dir, e.Name())); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(dir); err != nil {
		return nil, fmt.Errorf("listing processes of %s: %w", dir, err)
	}
	return pids, nil
}

// Procs returns the pids of every process in the container's cgroups and
// their descendants, in all hierarchies, sorted and unique.
func (c *Cgroup) Procs() ([]int, error) {
	set := map[int]bool{}
	for _, d := range c.dirs() {
		pids, err := procsRecursive(d)
		if err != nil {
			return nil, err
		}
		for _, p := range pids {
			set[p] = true
		}
	}
	out := make([]int, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Ints(out)
	return out, nil
}

// Destroy removes the container's directory (and any sub-cgroups) in every
// hierarchy. Like runc, it leaves the parents in place: they are shared
// with other containers (Docker's /docker, a pod's slice), and removing
// and recreating them around every container costs two cgroupfs
// operations per hierarchy and races with the other containers' creates.
// While the cgroups still hold exiting processes, rmdir is retried with
// backoff for up to DestroyTimeout; no process is killed. Destroying a
// removed cgroup is a no-op.
func (c *Cgroup) Destroy() error {
	var errs []error
	for _, d := range c.dirs() {
		if c.isMount(d) {
			continue
		}
		if err := removeTree(d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// RemoveIfEmpty removes the container's directory in every hierarchy,
// once, without retrying: it reports whether they are all gone. Since a
// cgroup holding a live process cannot be removed, success also proves
// that none was left, which is cheaper to learn this way than by reading
// every hierarchy's cgroup.procs (Procs).
func (c *Cgroup) RemoveIfEmpty() bool {
	gone := true
	for _, d := range c.dirs() {
		if c.isMount(d) {
			continue
		}
		if err := removeOnce(d); err != nil && !errors.Is(err, unix.ENOENT) {
			gone = false
		}
	}
	return gone
}

// Rollback undoes a Create that did not lead to a container: Destroy, and
// then the parents that Create made, if they are empty, so that a failed
// create leaves no cgroup behind.
func (c *Cgroup) Rollback() error {
	if err := c.Destroy(); err != nil {
		return err
	}
	var errs []error
	leaves := c.dirs()
	var parents []string
	for _, d := range c.Created {
		if !containsStr(leaves, d) && !c.isMount(d) {
			parents = append(parents, d)
		}
	}
	sort.Slice(parents, func(i, j int) bool { return len(parents[i]) > len(parents[j]) })
	for _, d := range parents {
		err := rmdir(d)
		switch {
		case err == nil, errors.Is(err, unix.ENOENT):
		case errors.Is(err, unix.EBUSY), errors.Is(err, unix.ENOTEMPTY), errors.Is(err, unix.EEXIST):
			debugf("cgroup: leaving parent %s in place: %v", d, err)
		default:
			errs = append(errs, fmt.Errorf("removing cgroup %s: %w", d, err))
		}
	}
	if len(errs) == 0 {
		c.Created = nil
	}
	return errors.Join(errs...)
}

// removeTree removes dir and its sub-cgroups, deepest first, retrying with
// backoff while they are busy.
func removeTree(dir string) error {
	deadline := time.Now().Add(DestroyTimeout)
	delay := time.Millisecond // Processes usually drain within a few ms.
	for {
		err := removeOnce(dir)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) && !errors.Is(err, unix.ENOTEMPTY) || time.Now().After(deadline) {
			return fmt.Errorf("removing cgroup %s: %w", dir, err)
		}
		time.Sleep(delay)
		delay = min(2*delay, 500*time.Millisecond)
	}
}

func removeOnce(dir string) error {
	// A leaf first: control files do not keep a cgroup from being removed,
	// and listing them costs more than the rmdir.
	err := rmdir(dir)
	if err == nil || !errors.Is(err, unix.EBUSY) && !errors.Is(err, unix.ENOTEMPTY) {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := removeOnce(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, unix.ENOENT) {
				return err
			}
		}
	}
	return rmdir(dir)
}
