package container

import (
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"runsc.dev/runsc/pkg/log"
)

// parseProcNSPath splits /proc/<pid>/ns/<type> (<pid> digits, <type> of
// [a-z_]) into its pid and type; ok is false for any other path. (Not a
// regexp: see cgroup's validPageSize.)
func parseProcNSPath(p string) (pid int, typ string, ok bool) {
	rest, found := strings.CutPrefix(p, "/proc/")
	if !found {
		return 0, "", false
	}
	digits, typ, found := strings.Cut(rest, "/ns/")
	if !found || digits == "" || typ == "" || strings.Trim(digits, "0123456789") != "" || strings.Trim(typ, "abcdefghijklmnopqrstuvwxyz_") != "" {
		return 0, "", false
	}
	pid, err := strconv.Atoi(digits)
	if err != nil {
		return 0, "", false
	}
	return pid, typ, true
}

// redirectNamespaces rewrites namespace paths that name a runsc process of
// another container (/proc/<pid>/ns/<type>, as containerd's CRI and
// `docker --net=container:` build them from the pid-file PID) to that
// container's init. The pid-file process is the sandbox, which lives in the
// host's namespaces: joining its namespaces would put a pod's containers
// in the host's uts, ipc and pid namespaces.
func redirectNamespaces(root, self string, spec *specs.Spec) error {
	if spec.Linux == nil {
		return nil
	}
	var byRunscPID map[int]int // sandbox or gofer PID -> init PID
	for i, ns := range spec.Linux.Namespaces {
		pid, typ, ok := parseProcNSPath(ns.Path)
		if !ok {
			continue
		}
		if byRunscPID == nil {
			byRunscPID = runscPIDs(root, self)
		}
		init, ok := byRunscPID[pid]
		if !ok {
			continue
		}
		if init == 0 {
			return fmt.Errorf("linux.namespaces[%d].path %q: that container is not running", i, ns.Path)
		}
		spec.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/%s", init, typ)
		log.Debugf("namespace %s: %s is a runsc sandbox, joining its container's init: %s", ns.Type, ns.Path, spec.Linux.Namespaces[i].Path)
	}
	return nil
}

// runscPIDs maps the sandbox and gofer PIDs of every live container under
// root but self (being created, and locked by us) to its init's PID (0 if
// the container has stopped).
func runscPIDs(root, self string) map[int]int {
	out := map[int]int{}
	ids, _ := List(root)
	for _, id := range ids {
		if id == self {
			continue
		}
		c, err := Load(root, id)
		if err != nil {
			continue
		}
		init := 0
		if c.Init.Alive() {
			init = c.Init.PID
		}
		for _, p := range []int{c.Sandbox.PID, c.Gofer.PID} {
			if p > 0 {
				out[p] = init
			}
		}
	}
	return out
}
