package gofer

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/runsc/specutils"
	"runsc.dev/runsc/runsc/specutils/seccomp"
)

// cstrings makes the NUL-terminated strings of an initProgram, keeping
// the first failure (a string holding a NUL).
type cstrings struct{ err error }

func (c *cstrings) of(s string) *byte {
	b, err := unix.BytePtrFromString(s)
	if err != nil && c.err == nil {
		c.err = fmt.Errorf("%q: %w", s, err)
	}
	return b
}

// programFromSpec starts init's program with what the spec alone says
// about the process (as execProcess and prepare read it): seccomp,
// capabilities, credentials, scheduling, personality, rlimits,
// oom_score_adj, cwd, argv and env. It fails, before anything is done on
// the host, where those would.
func programFromSpec(spec *specs.Spec) (*initProgram, error) {
	p := spec.Process
	prog := &initProgram{ioprio: -1, personality: -1, umask: -1, rootFd: -1, devNullFd: -1}
	if spec.Linux != nil && spec.Linux.Seccomp != nil {
		filter, err := seccomp.Compile(spec.Linux.Seccomp)
		if err != nil {
			return nil, fmt.Errorf("linux.seccomp: %w", err)
		}
		if filter.UsesNotify {
			return nil, errors.New("linux.seccomp: notify actions need a listenerPath")
		}
		flags, fprog, err := filter.LoadArgs(filter.Flags)
		if err != nil {
			return nil, fmt.Errorf("linux.seccomp: %w", err)
		}
		// Without no_new_privs, loading needs CAP_SYS_ADMIN: before the
		// credentials change.
		prog.filter, prog.filterFlags, prog.filterEarly = fprog, uintptr(flags), !p.NoNewPrivileges
	}
	caps, err := specutils.CapsFromSpec(p.Capabilities)
	if err != nil {
		return nil, err
	}
	if err := prog.setCaps(caps); err != nil {
		return nil, err
	}
	if p.User.UID == ^uint32(0) || p.User.GID == ^uint32(0) {
		return nil, fmt.Errorf("process.user: uid/gid 4294967295 is not a valid id")
	}
	prog.setGroups = true
	prog.groups = append(prog.groups, p.User.AdditionalGids...)
	prog.uid, prog.gid = int(p.User.UID), int(p.User.GID)
	if p.User.Umask != nil {
		prog.umask = int(*p.User.Umask)
	}
	prog.noNewPrivs = p.NoNewPrivileges
	if p.Scheduler != nil {
		if prog.sched, err = specutils.SchedAttr(p.Scheduler); err != nil {
			return nil, err
		}
	}
	if p.IOPriority != nil {
		if prog.ioprio, err = specutils.IOPriority(p.IOPriority); err != nil {
			return nil, err
		}
	}
	if spec.Linux != nil && spec.Linux.Personality != nil {
		persona, err := specutils.Personality(spec.Linux.Personality)
		if err != nil {
			return nil, err
		}
		prog.personality = int(persona)
	}
	for _, r := range p.Rlimits {
		res, ok := specutils.RlimitResource(r.Type)
		if !ok {
			return nil, fmt.Errorf("process.rlimits: unknown type %q", r.Type)
		}
		prog.rlimits = append(prog.rlimits, rlimit{resource: uintptr(res), lim: unix.Rlimit{Cur: r.Soft, Max: r.Hard}})
	}
	var c cstrings
	prog.empty, prog.tmpfs, prog.name = c.of(""), c.of("tmpfs"), c.of("runsc-init")
	if p.OOMScoreAdj != nil {
		// Relative to rootFd: init's own procfs, once mounted.
		prog.oomPath, prog.oomValue = c.of("proc/self/oom_score_adj"), []byte(strconv.Itoa(*p.OOMScoreAdj))
	}
	prog.cwd = c.of(p.Cwd)
	for _, s := range p.Args {
		prog.argv = append(prog.argv, c.of(s))
	}
	prog.argv = append(prog.argv, nil)
	for _, s := range p.Env {
		prog.envv = append(prog.envv, c.of(s))
	}
	prog.envv = append(prog.envv, nil)
	if c.err != nil {
		return nil, fmt.Errorf("process: %w", c.err)
	}
	return prog, nil
}

// setRootfs completes the program with what is left of the rootfs for
// init (prepareRootfsForked) and the executable's resolved path.
func (prog *initProgram) setRootfs(rootfs *forkedRootfs, path string) error {
	var c cstrings
	prog.how = unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: inRoot}
	prog.maskAttrs = unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC
	for _, m := range rootfs.mounts {
		prog.mounts = append(prog.mounts, newMount{fstype: c.of(m.fstype), attrs: m.attrs, target: m.fd})
	}
	for _, r := range rootfs.readonly {
		prog.readonly = append(prog.readonly, c.of(relInRoot(filepath.Clean("/"+r))))
	}
	for _, m := range rootfs.masked {
		prog.masked = append(prog.masked, c.of(relInRoot(filepath.Clean("/"+m))))
	}
	prog.path = c.of(path)
	return c.err
}
