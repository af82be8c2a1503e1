package specutils

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ipcSysctls are the kernel.* sysctls that belong to the IPC namespace.
var ipcSysctls = map[string]bool{
	"kernel.msgmax": true, "kernel.msgmnb": true, "kernel.msgmni": true,
	"kernel.sem": true, "kernel.shmall": true, "kernel.shmmax": true,
	"kernel.shmmni": true, "kernel.shm_rmid_forced": true,
}

// utsSysctls are the sysctls that belong to the UTS namespace.
var utsSysctls = map[string]bool{"kernel.hostname": true, "kernel.domainname": true}

// validateSysctls allows only sysctls that are namespaced by a namespace
// the container does not share with the host, as runc does: the IPC ones
// (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*) with an IPC
// namespace, kernel.hostname and kernel.domainname with a UTS namespace,
// and net.* with a network namespace that is not the host's. Anything else
// (vm.swappiness, kernel.panic...) would change the host.
func validateSysctls(l *specs.Linux) error {
	if len(l.Sysctl) == 0 {
		return nil
	}
	has := func(t specs.LinuxNamespaceType) (string, bool) {
		for _, ns := range l.Namespaces {
			if ns.Type == t {
				return ns.Path, true
			}
		}
		return "", false
	}
	for key := range l.Sysctl {
		field := fmt.Sprintf("linux.sysctl[%q]", key)
		// Keys may be written kernel/shmmax or kernel.shmmax.
		name := strings.ReplaceAll(key, "/", ".")
		if name == "" || strings.Contains(name, "..") || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.ContainsAny(name, "\x00 \t\n") {
			return invalid(field, "is not a sysctl name")
		}
		switch {
		case ipcSysctls[name] || strings.HasPrefix(name, "fs.mqueue."):
			if _, ok := has(specs.IPCNamespace); !ok {
				return invalid(field, "is not allowed in the host's IPC namespace (add an ipc namespace)")
			}
		case utsSysctls[name]:
			if _, ok := has(specs.UTSNamespace); !ok {
				return invalid(field, "is not allowed in the host's UTS namespace (add a uts namespace)")
			}
		case strings.HasPrefix(name, "net."):
			path, ok := has(specs.NetworkNamespace)
			if !ok {
				return invalid(field, "is not allowed in the host's network namespace (add a network namespace)")
			}
			if path != "" {
				host, err := isHostNetNS(path)
				if err != nil {
					return invalid(field, "checking the network namespace %q: %v", path, err)
				}
				if host {
					return invalid(field, "is not allowed: the network namespace %q is the host's", path)
				}
			}
		default:
			return invalid(field, "is not namespaced: it would change the host (only IPC, UTS and net.* sysctls are allowed)")
		}
	}
	return nil
}

// isHostNetNS reports whether the namespace file path is runsc's own
// network namespace.
func isHostNetNS(path string) (bool, error) {
	var a, b unix.Stat_t
	if err := unix.Stat(path, &a); err != nil {
		return false, err
	}
	if err := unix.Stat("/proc/self/ns/net", &b); err != nil {
		return false, err
	}
	return a.Dev == b.Dev && a.Ino == b.Ino, nil
}
