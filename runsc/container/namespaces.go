package container

import (
	"fmt"
	"regexp"
	"strconv"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"runsc.dev/runsc/pkg/log"
)

// procNSPath is compiled on first use: package init runs in every runsc
// process.
var procNSPath = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^/proc/(\d+)/ns/([a-z_]+)$`) })

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
		m := procNSPath().FindStringSubmatch(ns.Path)
		if m == nil {
			continue
		}
		if byRunscPID == nil {
			byRunscPID = runscPIDs(root, self)
		}
		pid, _ := strconv.Atoi(m[1])
		init, ok := byRunscPID[pid]
		if !ok {
			continue
		}
		if init == 0 {
			return fmt.Errorf("linux.namespaces[%d].path %q: that container is not running", i, ns.Path)
		}
		spec.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/%s", init, m[2])
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
