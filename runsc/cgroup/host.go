package cgroup

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"runsc.dev/runsc/pkg/mountinfo"
	"runsc.dev/runsc/pkg/sysfile"
)

// Mode is the layout of the cgroup hierarchies on a host.
type Mode string

const (
	// Legacy is cgroup v1 only: one hierarchy per controller (or group of
	// controllers), no cgroup2 mount.
	Legacy Mode = "v1"
	// Hybrid has v1 controller hierarchies plus a cgroup2 tree (usually at
	// /sys/fs/cgroup/unified) holding the controllers not bound to v1.
	Hybrid Mode = "hybrid"
	// Unified is pure cgroup v2: a single cgroup2 hierarchy.
	Unified Mode = "v2"
)

// Mount is one cgroup or cgroup2 filesystem mount found in mountinfo.
type Mount struct {
	// Mountpoint is where the hierarchy is mounted.
	Mountpoint string `json:"mountpoint"`
	// Root is the cgroup of the hierarchy that is mounted at Mountpoint
	// (the fourth mountinfo field, "/" unless a sub-tree is bind-mounted).
	Root string `json:"root"`
	// Version is 1 for "cgroup" and 2 for "cgroup2" mounts.
	Version int `json:"version"`
	// Controllers lists the v1 controllers of the hierarchy, including named
	// hierarchies such as "name=systemd". Empty for cgroup2.
	Controllers []string `json:"controllers,omitempty"`
}

// HostConfig names the files DetectHost reads. Empty fields select the real
// /proc files; tests point them at a fake tree.
type HostConfig struct {
	// MountInfo defaults to /proc/self/mountinfo.
	MountInfo string
	// SelfCgroup defaults to /proc/self/cgroup; relative cgroupsPath values
	// are resolved under the cgroups listed there.
	SelfCgroup string
	// InitCgroup defaults to /proc/1/cgroup; systemd-style paths are
	// resolved under init's cgroup (minus "init.scope"), as runc does.
	InitCgroup string
}

// Host describes the cgroup hierarchies of a machine.
type Host struct {
	// Mode is the detected layout.
	Mode Mode
	// V1 maps each mounted v1 controller (and "name=systemd") to its mount.
	V1 map[string]Mount
	// V2 is the cgroup2 mount, nil if there is none.
	V2 *Mount
	// V2Controllers lists the controllers available in the cgroup2 root
	// (its cgroup.controllers). In hybrid mode these are the controllers
	// that are not bound to a v1 hierarchy.
	V2Controllers []string
	// Self maps controllers to the cgroup of the calling process ("" is
	// the cgroup2 entry).
	Self map[string]string
	// Init maps controllers to the cgroup of PID 1.
	Init map[string]string
}

// v1Options are super-block options of v1 cgroup mounts that are not
// controller names.
var v1Options = map[string]bool{
	"rw": true, "ro": true, "noprefix": true, "clone_children": true,
	"xattr": true, "cpuset_v2_mode": true, "favordynmods": true,
	"nofavordynmods": true, "none": true, "all": true,
}

// ParseMountInfo returns the cgroup and cgroup2 mounts listed in a
// mountinfo file (proc(5) format).
func ParseMountInfo(r io.Reader) ([]Mount, error) {
	var mounts []Mount
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		fields := strings.Split(line, " ")
		sep := -1
		for i := 6; i < len(fields); i++ {
			if fields[i] == "-" {
				sep = i
				break
			}
		}
		if len(fields) < 7 || sep < 0 || sep+2 >= len(fields) {
			return nil, fmt.Errorf("mountinfo line %d: malformed: %q", n, line)
		}
		fstype := fields[sep+1]
		if fstype != "cgroup" && fstype != "cgroup2" {
			continue
		}
		m := Mount{
			Root:       mountinfo.Unescape(fields[3]),
			Mountpoint: mountinfo.Unescape(fields[4]),
			Version:    1,
		}
		if fstype == "cgroup2" {
			m.Version = 2
		} else if sep+3 < len(fields) {
			for _, opt := range strings.Split(fields[sep+3], ",") {
				if opt == "" || v1Options[opt] {
					continue
				}
				if strings.Contains(opt, "=") && !strings.HasPrefix(opt, "name=") {
					continue // release_agent=..., etc.
				}
				m.Controllers = append(m.Controllers, opt)
			}
		}
		mounts = append(mounts, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading mountinfo: %w", err)
	}
	return mounts, nil
}

// DetectMode classifies a set of cgroup mounts. A v1 mount counts only if it
// carries at least one real controller (not just a named hierarchy such as
// name=systemd).
func DetectMode(mounts []Mount) (Mode, error) {
	hasV1, hasV2 := false, false
	for _, m := range mounts {
		if m.Version == 2 {
			hasV2 = true
			continue
		}
		for _, c := range m.Controllers {
			if !strings.HasPrefix(c, "name=") {
				hasV1 = true
			}
		}
	}
	switch {
	case hasV1 && hasV2:
		return Hybrid, nil
	case hasV1:
		return Legacy, nil
	case hasV2:
		return Unified, nil
	}
	return "", fmt.Errorf("no cgroup or cgroup2 filesystem is mounted")
}

// ParseProcCgroup parses a /proc/<pid>/cgroup file into a map from
// controller to cgroup path. The cgroup2 entry ("0::/path") has key "".
func ParseProcCgroup(r io.Reader) (map[string]string, error) {
	out := make(map[string]string)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("malformed cgroup line %q", line)
		}
		if parts[1] == "" {
			out[""] = parts[2]
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			out[c] = parts[2]
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading cgroup file: %w", err)
	}
	return out, nil
}

// DetectHost inspects the cgroup mounts and the cgroups of the calling
// process and of PID 1.
func DetectHost(cfg HostConfig) (*Host, error) {
	if cfg.MountInfo == "" {
		cfg.MountInfo = "/proc/self/mountinfo"
	}
	if cfg.SelfCgroup == "" {
		cfg.SelfCgroup = "/proc/self/cgroup"
	}
	if cfg.InitCgroup == "" {
		cfg.InitCgroup = "/proc/1/cgroup"
	}
	data, err := sysfile.ReadFile(cfg.MountInfo)
	if err != nil {
		return nil, fmt.Errorf("reading mount table: %w", err)
	}
	mounts, err := ParseMountInfo(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	mode, err := DetectMode(mounts)
	if err != nil {
		return nil, err
	}
	h := &Host{Mode: mode, V1: make(map[string]Mount)}
	for _, m := range mounts {
		if m.Version == 2 {
			if h.V2 == nil {
				m := m
				h.V2 = &m
			}
			continue
		}
		for _, c := range m.Controllers {
			if strings.HasPrefix(c, "name=") && c != "name=systemd" {
				continue
			}
			if _, ok := h.V1[c]; !ok {
				h.V1[c] = m
			}
		}
	}
	if h.V2 != nil {
		ctrls, err := sysfile.ReadFile(filepath.Join(h.V2.Mountpoint, "cgroup.controllers"))
		if err != nil {
			return nil, fmt.Errorf("reading cgroup2 controllers: %w", err)
		}
		h.V2Controllers = strings.Fields(string(ctrls))
	}
	if h.Self, err = readProcCgroup(cfg.SelfCgroup); err != nil {
		return nil, err
	}
	if h.Init, err = readProcCgroup(cfg.InitCgroup); err != nil {
		debugf("cgroup: ignoring init cgroup: %v", err)
		h.Init = map[string]string{}
	}
	return h, nil
}

func readProcCgroup(path string) (map[string]string, error) {
	data, err := sysfile.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading process cgroups: %w", err)
	}
	return ParseProcCgroup(bytes.NewReader(data))
}

// hasV2Controller reports whether ctrl is available in the cgroup2 root.
func (h *Host) hasV2Controller(ctrl string) bool {
	for _, c := range h.V2Controllers {
		if c == ctrl {
			return true
		}
	}
	return false
}
