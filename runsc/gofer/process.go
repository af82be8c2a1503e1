package gofer

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/pkg/log"
	"runsc.dev/runsc/pkg/sysfile"
	"runsc.dev/runsc/runsc/specutils"
	"runsc.dev/runsc/runsc/specutils/seccomp"
)

// execProcess applies the process's user, capabilities, no_new_privs and
// seccomp filter, in runc's order, and execve's it. It returns only on
// failure.
func execProcess(spec *specs.Spec, path string) error {
	p := spec.Process
	var filter *seccomp.Program
	if spec.Linux != nil && spec.Linux.Seccomp != nil {
		var err error
		if filter, err = seccomp.Compile(spec.Linux.Seccomp); err != nil {
			return fmt.Errorf("linux.seccomp: %w", err)
		}
	}
	caps, err := specutils.CapsFromSpec(p.Capabilities)
	if err != nil {
		return err
	}
	// Scheduling and personality first, while we hold CAP_SYS_NICE; they
	// are inherited across execve.
	if p.Scheduler != nil {
		attr, err := specutils.SchedAttr(p.Scheduler)
		if err != nil {
			return err
		}
		if err := unix.SchedSetAttr(0, attr, 0); err != nil {
			return fmt.Errorf("process.scheduler: %w", err)
		}
	}
	if p.IOPriority != nil {
		if err := specutils.SetIOPriority(p.IOPriority); err != nil {
			return err
		}
	}
	if spec.Linux != nil && spec.Linux.Personality != nil {
		persona, err := specutils.Personality(spec.Linux.Personality)
		if err != nil {
			return err
		}
		if _, _, errno := unix.Syscall(unix.SYS_PERSONALITY, persona, 0, 0); errno != 0 {
			return fmt.Errorf("linux.personality: %w", errno)
		}
	}
	// The bounding set is dropped first, while we still hold CAP_SETPCAP,
	// and ambient and inheritable stay empty unless asked (CVE-2022-29162).
	if err := caps.DropBounding(); err != nil {
		return fmt.Errorf("process.capabilities.bounding: %w", err)
	}
	// No runtime fd crosses execve (CVE-2024-21626): everything past
	// stdio becomes close-on-exec. Before any seccomp filter: a profile
	// need not allow close_range.
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fmt.Errorf("close_range: %w", err)
	}
	// Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it
	// now, before the capabilities go.
	if filter != nil && !p.NoNewPrivileges {
		if err := loadFilter(spec, filter); err != nil {
			return err
		}
		filter = nil
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("keepcaps: %w", err)
	}
	if err := setUser(p.User); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("keepcaps: %w", err)
	}
	if err := caps.Apply(); err != nil {
		return fmt.Errorf("process.capabilities: %w", err)
	}
	if p.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("process.noNewPrivileges: %w", err)
		}
	}
	if p.ApparmorProfile != "" || p.SelinuxLabel != "" {
		log.Debugf("apparmorProfile/selinuxLabel ignored: no LSM support in runsc (as runc does without the LSM)")
	}
	// The filter is loaded last, just before execve.
	if filter != nil {
		if err := loadFilter(spec, filter); err != nil {
			return err
		}
	}
	if err := unix.Exec(path, p.Args, p.Env); err != nil {
		return fmt.Errorf("exec %q: %w", p.Args[0], err)
	}
	return nil
}

func loadFilter(spec *specs.Spec, filter *seccomp.Program) error {
	fd, err := filter.Load(filter.Flags)
	if err != nil {
		return fmt.Errorf("linux.seccomp: %w", err)
	}
	if fd >= 0 {
		defer unix.Close(fd)
		state := specs.ContainerProcessState{
			Version:  specs.Version,
			Fds:      []string{specs.SeccompFdName},
			Pid:      unix.Getpid(),
			Metadata: spec.Linux.Seccomp.ListenerMetadata,
			State:    specs.State{Version: specs.Version, Status: specs.StateCreating, Pid: unix.Getpid(), Annotations: spec.Annotations},
		}
		if err := seccomp.NotifyListener(state, fd, spec.Linux.Seccomp.ListenerPath); err != nil {
			return fmt.Errorf("linux.seccomp.listenerPath: %w", err)
		}
	}
	return nil
}

// setUser switches to the process's user and groups.
func setUser(u specs.User) error {
	if u.UID == ^uint32(0) || u.GID == ^uint32(0) {
		return fmt.Errorf("process.user: uid/gid 4294967295 is not a valid id")
	}
	gids := make([]int, 0, len(u.AdditionalGids))
	for _, g := range u.AdditionalGids {
		gids = append(gids, int(g))
	}
	if err := unix.Setgroups(gids); err != nil && !(len(gids) == 0 && setgroupsDenied()) {
		// In a user namespace whose gid map an unprivileged runsc wrote
		// (rootless), setgroups is denied: with no groups asked for,
		// there is nothing to set.
		return fmt.Errorf("process.user.additionalGids: %w", err)
	}
	if err := unix.Setresgid(int(u.GID), int(u.GID), int(u.GID)); err != nil {
		return fmt.Errorf("process.user.gid %d: %w", u.GID, err)
	}
	if err := unix.Setresuid(int(u.UID), int(u.UID), int(u.UID)); err != nil {
		return fmt.Errorf("process.user.uid %d: %w", u.UID, err)
	}
	if u.Umask != nil {
		unix.Umask(int(*u.Umask))
	}
	return nil
}

// setgroupsDenied reports whether /proc/self/setgroups says "deny".
func setgroupsDenied() bool {
	b, err := sysfile.ReadFile("/proc/self/setgroups")
	return err == nil && strings.TrimSpace(string(b)) == "deny"
}
