package cgroup

import (
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

const (
	// DefaultParent is the cgroup under which containers without a
	// linux.cgroupsPath are placed, as /runsc/<container id>.
	DefaultParent = "/runsc"
	// DefaultSlice is the parent slice of systemd-style paths that name no
	// slice.
	DefaultSlice = "system.slice"
	// DefaultScopePrefix prefixes the scope unit of systemd-style paths
	// when linux.cgroupsPath is empty.
	DefaultScopePrefix = "runsc"
)

// pathKind says what a cgroup path is relative to.
type pathKind int

const (
	// absPath is relative to each hierarchy's root.
	absPath pathKind = iota
	// relPath is relative to the runtime's own cgroup.
	relPath
	// systemdPath is relative to init's cgroup, minus "init.scope".
	systemdPath
)

// ExpandSlice turns a systemd slice name into its cgroup path: systemd nests
// slices by dash-separated prefix, so "a-b.slice" is "/a.slice/a-b.slice".
// "-.slice" is the root slice.
func ExpandSlice(slice string) (string, error) {
	const suffix = ".slice"
	if len(slice) <= len(suffix) || !strings.HasSuffix(slice, suffix) || strings.Contains(slice, "/") {
		return "", fmt.Errorf("invalid slice name %q", slice)
	}
	name := strings.TrimSuffix(slice, suffix)
	if name == "-" {
		return "/", nil
	}
	var p, prefix string
	for _, comp := range strings.Split(name, "-") {
		if comp == "" {
			return "", fmt.Errorf("invalid slice name %q", slice)
		}
		p += "/" + prefix + comp + suffix
		prefix += comp + "-"
	}
	return p, nil
}

// SystemdPath maps a systemd-style cgroupsPath "slice:prefix:name" to the
// cgroupfs path systemd would use, as runc's cgroupfs fallback does:
// "system.slice:docker:abc" is "/system.slice/docker-abc.scope". An empty
// slice means DefaultSlice; a name ending in ".slice" is used as a slice
// unit instead of a scope. An empty cgroupsPath is
// "DefaultSlice:DefaultScopePrefix:<id>".
func SystemdPath(cgroupsPath, id string) (string, error) {
	slice, prefix, name := DefaultSlice, DefaultScopePrefix, id
	if cgroupsPath != "" {
		parts := strings.Split(cgroupsPath, ":")
		if len(parts) != 3 {
			return "", fmt.Errorf("linux.cgroupsPath %q: expected \"slice:prefix:name\" for systemd cgroups", cgroupsPath)
		}
		slice, prefix, name = parts[0], parts[1], parts[2]
		if slice == "" {
			slice = DefaultSlice
		}
	}
	if name == "" || strings.Contains(name, "/") || strings.Contains(prefix, "/") {
		return "", fmt.Errorf("linux.cgroupsPath %q: invalid unit name", cgroupsPath)
	}
	parent, err := ExpandSlice(slice)
	if err != nil {
		return "", fmt.Errorf("linux.cgroupsPath %q: %w", cgroupsPath, err)
	}
	unit := name
	if !strings.HasSuffix(name, ".slice") {
		if prefix != "" {
			unit = prefix + "-" + name
		}
		unit += ".scope"
	}
	return path.Join(parent, unit), nil
}

// innerPath converts linux.cgroupsPath into a cleaned path and says what it
// is relative to.
func innerPath(cgroupsPath, id string, systemd bool) (pathKind, string, error) {
	if id != "" && (strings.Contains(id, "/") || id == "." || id == "..") {
		return 0, "", fmt.Errorf("invalid container id %q", id)
	}
	if systemd {
		p, err := SystemdPath(cgroupsPath, id)
		return systemdPath, p, err
	}
	if cgroupsPath == "" {
		if id == "" {
			return 0, "", fmt.Errorf("linux.cgroupsPath is empty and no container id was given")
		}
		return absPath, path.Join(DefaultParent, id), nil
	}
	if path.IsAbs(cgroupsPath) {
		return absPath, path.Clean(cgroupsPath), nil
	}
	p := path.Clean(cgroupsPath)
	if p == ".." || strings.HasPrefix(p, "../") {
		return 0, "", fmt.Errorf("linux.cgroupsPath %q escapes the runtime's cgroup", cgroupsPath)
	}
	return relPath, "/" + p, nil
}

// base returns the cgroup (relative to the mount root) under which a path of
// the given kind is placed for one controller.
func base(kind pathKind, m Mount, self, init string) string {
	var cg string
	switch kind {
	case relPath:
		cg = self
	case systemdPath:
		cg = strings.TrimSuffix(path.Clean("/"+init), "init.scope")
	default:
		return "/"
	}
	cg = path.Clean("/" + cg)
	root := path.Clean("/" + m.Root)
	rel, err := filepath.Rel(root, cg)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		debugf("cgroup: %s is outside mount root %s; using the mount root", cg, root)
		return "/"
	}
	return path.Join("/", rel)
}

// resolved is the outcome of path resolution.
type resolved struct {
	paths   map[string]string // v1 controller -> directory
	mounts  map[string]string // v1 controller -> mountpoint
	unified string            // cgroup2 directory, "" if no cgroup2 mount
}

// resolve maps linux.cgroupsPath to a directory in every hierarchy:
//   - absolute paths are taken relative to each hierarchy's root;
//   - relative paths are placed under the calling process's own cgroup in
//     each hierarchy (as runc does);
//   - an empty path is DefaultParent/<id>;
//   - with systemd set, "slice:prefix:name" is mapped by SystemdPath and
//     placed under init's cgroup.
func (h *Host) resolve(cgroupsPath, id string, systemd bool) (*resolved, error) {
	kind, inner, err := innerPath(cgroupsPath, id, systemd)
	if err != nil {
		return nil, err
	}
	if inner == "/" && kind == absPath {
		return nil, fmt.Errorf("linux.cgroupsPath %q is the root cgroup", cgroupsPath)
	}
	r := &resolved{paths: map[string]string{}, mounts: map[string]string{}}
	ctrls := make([]string, 0, len(h.V1))
	for c := range h.V1 {
		ctrls = append(ctrls, c)
	}
	sort.Strings(ctrls)
	for _, c := range ctrls {
		m := h.V1[c]
		dir := filepath.Join(m.Mountpoint, base(kind, m, h.Self[c], h.Init[c]), inner)
		if filepath.Clean(dir) == filepath.Clean(m.Mountpoint) {
			return nil, fmt.Errorf("linux.cgroupsPath %q resolves to the root of the %s hierarchy", cgroupsPath, c)
		}
		r.paths[c] = dir
		r.mounts[c] = m.Mountpoint
	}
	if h.V2 != nil {
		r.unified = filepath.Join(h.V2.Mountpoint, base(kind, *h.V2, h.Self[""], h.Init[""]), inner)
		if filepath.Clean(r.unified) == filepath.Clean(h.V2.Mountpoint) {
			return nil, fmt.Errorf("linux.cgroupsPath %q resolves to the cgroup2 root", cgroupsPath)
		}
	}
	return r, nil
}
