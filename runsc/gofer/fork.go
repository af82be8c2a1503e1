package gofer

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The container's init is, when it can be (see forkedInitUnsupported), a
// child the gofer forks without executing anything: no second Go runtime
// starts on the way to the container's process (about 1 ms of CPU and
// page faults here, and a multi-threaded execve that must kill its
// threads first). Between fork and execve the child may make only raw
// system calls: it has one thread, a copy of the parent's memory taken
// mid-flight, and a poisoned stack guard (any call that could grow the
// stack or allocate aborts). Everything it needs is therefore prepared by
// the gofer as an initProgram of plain values and pointers, and the child
// runs it in one function, the way package syscall's forkAndExecInChild
// (and gVisor's ptrace stubs) do, reporting each failure as a step and an
// errno on a pipe.
//
// An init that goes on to execve without waiting for start (autoStart,
// `runsc run`) is forked with CLONE_VM|CLONE_VFORK, as package syscall
// starts every process: it runs on the gofer's memory and on the stack of
// the gofer's thread, which the kernel holds until the child's execve (or
// exit). A copy would cost the fork its page tables (the gofer's whole
// Go heap and binary), both processes a copy-on-write fault for each page
// either writes next, and init's execve the teardown of the copy, all on
// the way to the container's process. An init that waits for its start
// byte cannot hold the gofer's thread that long, and is forked with a
// copy. Whatever init changes of its mm while it shares ours is ours too:
// PR_SET_DUMPABLE (the gofer makes itself undumpable first, for both
// kinds); oom_score_adj is not (a vfork child's is its own).

// beforeFork, afterFork and afterForkInChild are the runtime's hooks
// around a fork, as package syscall uses them: signals blocked and the
// stack guard poisoned in the parent until afterFork; in the child, Go's
// signal handlers reset to the default and the signal mask restored.
//
//go:linkname beforeFork syscall.runtime_BeforeFork
func beforeFork()

//go:linkname afterFork syscall.runtime_AfterFork
func afterFork()

//go:linkname afterForkInChild syscall.runtime_AfterForkInChild
func afterForkInChild()

// cloneArgs is struct clone_args (linux/sched.h), as far as CLONE_INTO_CGROUP.
type cloneArgs struct {
	flags      uint64
	pidfd      uint64
	childTID   uint64
	parentTID  uint64
	exitSignal uint64
	stack      uint64
	stackSize  uint64
	tls        uint64
	setTID     uint64
	setTIDSize uint64
	cgroup     uint64
}

// newMount is a filesystem the child mounts itself (fsopen, fsmount,
// move_mount onto target): procfs and cgroup2 take the pid and cgroup
// namespaces of their mounter, which only init is in.
type newMount struct {
	fstype *byte
	attrs  uintptr // MOUNT_ATTR_*
	target int     // O_PATH descriptor of the destination
}

// cmsgAlign and cmsgData lay out a control message as unix.CmsgLen and
// unix.CmsgSpace do, for the child, which may call no function: its data
// starts at cmsgData, and its space is rounded up to cmsgAlign.
const (
	cmsgAlign = int(unsafe.Sizeof(uintptr(0)))
	cmsgData  = (unix.SizeofCmsghdr + cmsgAlign - 1) &^ (cmsgAlign - 1)
)

// rlimit is one process.rlimits entry.
type rlimit struct {
	resource uintptr
	lim      unix.Rlimit
}

// Status records the child writes on its status socket.
const (
	statusReady = 1
	statusError = 2
	// statusNamespaces comes first, with the child's namespaces attached
	// (SCM_RIGHTS, initProgram.nsNames' order); index is their count.
	statusNamespaces = 3
)

type statusRecord struct {
	kind, step, index, errno uint32
}

// Steps of the child, for errors (initProgram.describe).
const (
	stepProtect = iota
	stepSetsid
	stepMount
	stepReadonly
	stepMask
	stepRlimit
	stepOOM
	stepStdio
	stepCwd
	stepReady
	stepSched
	stepIOPrio
	stepPersonality
	stepBounding
	stepCloseRange
	stepSeccomp
	stepKeepCaps
	stepGroups
	stepGID
	stepUID
	stepCaps
	stepNoNewPrivs
	stepExec
	stepNamespaces
)

// initProgram is everything the forked init does, in order, between
// clone3 and execve. Every pointer in it is kept alive by the gofer until
// the child has reported Ready (the child runs on a copy of memory, but
// the copy is taken at clone3).
type initProgram struct {
	clone cloneArgs
	name  *byte // the child's comm

	// statusFd (a stream socket) and startFd (a pipe's read end) are the
	// child's ends of its two channels to the gofer, both close-on-exec
	// and above 4 (the child moves them to 3 and 4).
	statusFd, startFd int
	// autoStart (`runsc run`): the child goes on after Ready instead of
	// waiting for the start byte, which it needs only to be started later.
	autoStart bool

	// The child's namespaces, which exec'd processes join, are opened by
	// the child itself first thing, in hostProc (the host's procfs, O_PATH)
	// as thread-self/ns/<name> for each of nsNames, and sent to the gofer
	// on nsMsg (a statusNamespaces record, nsRec, and the descriptors in
	// nsOob's SCM_RIGHTS message, whose header the gofer fills but for its
	// length). Opening its own needs no access to it from the gofer, which
	// therefore holds nothing back between Ready and the start. A name from
	// nsOptional on is skipped if missing (a kernel without it).
	hostProc   int
	nsNames    []*byte
	nsOptional int
	nsRec      statusRecord
	nsIov      unix.Iovec
	nsMsg      unix.Msghdr
	nsOob      []byte

	// mounts are made first, then readonly and masked paths (resolved in
	// rootFd, the container's "/", as FinalizeRootfs does) under them.
	mounts    []newMount
	rootFd    int
	how       unix.OpenHow
	readonly  []*byte // relative to rootFd
	masked    []*byte
	devNullFd int // the container's /dev/null, verified, for masks
	tmpfs     *byte
	empty     *byte
	maskAttrs uintptr

	rlimits []rlimit
	// oomPath and oomValue write process.oomScoreAdj (oomPath nil: none).
	oomPath  *byte
	oomValue []byte
	// stdio are dup'd onto 0, 1 and 2 (each above 2).
	stdio [3]int
	cwd   *byte

	sched       *unix.SchedAttr
	ioprio      int // -1: none
	personality int // -1: none

	// dropBounding drops every capability not in bounding, as
	// specutils.Caps.DropBounding does when CAP_SETPCAP is effective.
	dropBounding bool
	bounding     uint64
	lastCap      int
	capHdr       unix.CapUserHeader
	capData      [2]unix.CapUserData
	ambient      uint64

	groups    []uint32
	setGroups bool
	uid, gid  int
	umask     int // -1: none

	noNewPrivs bool
	// filter is loaded before the credentials change without
	// no_new_privs (it then needs CAP_SYS_ADMIN), last otherwise.
	filter      *unix.SockFprog
	filterFlags uintptr
	filterEarly bool

	path       *byte
	argv, envv []*byte // nil-terminated
}

// forkInit forks the container's init and runs p in it. It returns the
// child's PID in the parent; the child never returns.
//
// No allocation, no call that is not a raw system call, and no stack
// growth may happen between beforeFork and the child's execve or exit:
// every variable is declared first, and the function is never inlined so
// that its frame is whole before the fork.
//
//go:noinline
//go:norace
//go:nocheckptr
func forkInit(p *initProgram) (int, error) {
	var (
		r1     uintptr
		err1   syscall.Errno
		rec    statusRecord
		i, try int
		fd     uintptr
		tree   uintptr
		fsfd   uintptr
		st     unix.Stat_t
		attr   unix.MountAttr
		buf    [1]byte
		c      uintptr
		path   *byte
		n      int
		cmsg   *unix.Cmsghdr
	)
	beforeFork()
	r1, err1 = rawClone3(uintptr(unsafe.Pointer(&p.clone)), unsafe.Sizeof(p.clone))
	if err1 != 0 || r1 != 0 {
		afterFork()
		if err1 != 0 {
			return 0, err1
		}
		return int(r1), nil
	}

	// In the child.
	afterForkInChild()

	// Die with the gofer's thread that forked us, and stay undumpable
	// until execve (CVE-2016-9962; see protectSelf).
	rec.step = stepProtect
	if _, _, err1 = syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0, 0); err1 != 0 {
		goto fail
	}
	if _, _, err1 = syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_DUMPABLE, 0, 0, 0, 0, 0); err1 != 0 {
		goto fail
	}
	// Shown as runsc-init until execve, not as the gofer it was forked
	// from (its command line stays the gofer's).
	syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_NAME, uintptr(unsafe.Pointer(p.name)), 0, 0, 0, 0)
	rec.step = stepSetsid
	if _, _, err1 = syscall.RawSyscall(unix.SYS_SETSID, 0, 0, 0); err1 != 0 {
		goto fail
	}

	// Our namespaces, to the gofer (see initProgram.hostProc). The
	// descriptors go into the SCM_RIGHTS data after its header, and are
	// closed once sent.
	rec.step = stepNamespaces
	cmsg = (*unix.Cmsghdr)(unsafe.Pointer(&p.nsOob[0]))
	for i = 0; i < len(p.nsNames); i++ {
		rec.index = uint32(i)
		fd, _, err1 = syscall.RawSyscall6(unix.SYS_OPENAT, uintptr(p.hostProc), uintptr(unsafe.Pointer(p.nsNames[i])), unix.O_RDONLY|unix.O_CLOEXEC, 0, 0, 0)
		if err1 == unix.ENOENT && i >= p.nsOptional {
			continue
		}
		if err1 != 0 {
			goto fail
		}
		*(*int32)(unsafe.Pointer(&p.nsOob[cmsgData+4*n])) = int32(fd)
		n++
	}
	cmsg.Len = uint64(cmsgData + 4*n)
	p.nsMsg.Controllen = uint64(cmsgData + (4*n+cmsgAlign-1)&^(cmsgAlign-1))
	p.nsRec.kind, p.nsRec.index = statusNamespaces, uint32(n)
	if _, _, err1 = syscall.RawSyscall(unix.SYS_SENDMSG, uintptr(p.statusFd), uintptr(unsafe.Pointer(&p.nsMsg)), 0); err1 != 0 {
		goto fail
	}
	for i = 0; i < n; i++ {
		syscall.RawSyscall(unix.SYS_CLOSE, uintptr(*(*int32)(unsafe.Pointer(&p.nsOob[cmsgData+4*i]))), 0, 0)
	}
	rec.index = 0

	rec.step = stepMount
	for i = 0; i < len(p.mounts); i++ {
		rec.index = uint32(i)
		if fsfd, _, err1 = syscall.RawSyscall(unix.SYS_FSOPEN, uintptr(unsafe.Pointer(p.mounts[i].fstype)), unix.FSOPEN_CLOEXEC, 0); err1 != 0 {
			goto fail
		}
		if _, _, err1 = syscall.RawSyscall6(unix.SYS_FSCONFIG, fsfd, unix.FSCONFIG_CMD_CREATE, 0, 0, 0, 0); err1 != 0 {
			goto fail
		}
		if fd, _, err1 = syscall.RawSyscall(unix.SYS_FSMOUNT, fsfd, unix.FSMOUNT_CLOEXEC, p.mounts[i].attrs); err1 != 0 {
			goto fail
		}
		if _, _, err1 = syscall.RawSyscall6(unix.SYS_MOVE_MOUNT, fd, uintptr(unsafe.Pointer(p.empty)), uintptr(p.mounts[i].target), uintptr(unsafe.Pointer(p.empty)), unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH, 0); err1 != 0 {
			goto fail
		}
		syscall.RawSyscall(unix.SYS_CLOSE, fd, 0, 0)
		syscall.RawSyscall(unix.SYS_CLOSE, fsfd, 0, 0)
	}

	// The readonly paths, then the masked ones, resolved in the root
	// (FinalizeRootfs): a read-only path gets a recursive bind of itself
	// whose top mount is made read-only (readonlyPath); a masked directory
	// a read-only tmpfs, anything else a bind of the container's /dev/null
	// (maskPath). A missing path is skipped.
	for i = 0; i < len(p.readonly)+len(p.masked); i++ {
		if i < len(p.readonly) {
			rec.step, rec.index, path = stepReadonly, uint32(i), p.readonly[i]
		} else {
			rec.step, rec.index, path = stepMask, uint32(i-len(p.readonly)), p.masked[i-len(p.readonly)]
		}
		for try = 0; ; try++ {
			fd, _, err1 = syscall.RawSyscall6(unix.SYS_OPENAT2, uintptr(p.rootFd), uintptr(unsafe.Pointer(path)), uintptr(unsafe.Pointer(&p.how)), unsafe.Sizeof(p.how), 0, 0)
			if err1 != unix.EAGAIN || try == 32 {
				break
			}
		}
		if err1 == unix.ENOENT {
			continue
		}
		if err1 != 0 {
			goto fail
		}
		if rec.step == stepReadonly {
			if tree, _, err1 = syscall.RawSyscall6(unix.SYS_OPEN_TREE, fd, uintptr(unsafe.Pointer(p.empty)), unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, 0, 0, 0); err1 != 0 {
				goto fail
			}
			attr = unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
			if _, _, err1 = syscall.RawSyscall6(unix.SYS_MOUNT_SETATTR, tree, uintptr(unsafe.Pointer(p.empty)), unix.AT_EMPTY_PATH, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr), 0); err1 != 0 {
				goto fail
			}
		} else {
			if _, _, err1 = syscall.RawSyscall(unix.SYS_FSTAT, fd, uintptr(unsafe.Pointer(&st)), 0); err1 != 0 {
				goto fail
			}
			if st.Mode&unix.S_IFMT == unix.S_IFDIR {
				if fsfd, _, err1 = syscall.RawSyscall(unix.SYS_FSOPEN, uintptr(unsafe.Pointer(p.tmpfs)), unix.FSOPEN_CLOEXEC, 0); err1 != 0 {
					goto fail
				}
				if _, _, err1 = syscall.RawSyscall6(unix.SYS_FSCONFIG, fsfd, unix.FSCONFIG_CMD_CREATE, 0, 0, 0, 0); err1 != 0 {
					goto fail
				}
				if tree, _, err1 = syscall.RawSyscall(unix.SYS_FSMOUNT, fsfd, unix.FSMOUNT_CLOEXEC, p.maskAttrs); err1 != 0 {
					goto fail
				}
				syscall.RawSyscall(unix.SYS_CLOSE, fsfd, 0, 0)
			} else if tree, _, err1 = syscall.RawSyscall6(unix.SYS_OPEN_TREE, uintptr(p.devNullFd), uintptr(unsafe.Pointer(p.empty)), unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH, 0, 0, 0); err1 != 0 {
				goto fail
			}
		}
		if _, _, err1 = syscall.RawSyscall6(unix.SYS_MOVE_MOUNT, tree, uintptr(unsafe.Pointer(p.empty)), fd, uintptr(unsafe.Pointer(p.empty)), unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH, 0); err1 != 0 {
			goto fail
		}
		syscall.RawSyscall(unix.SYS_CLOSE, tree, 0, 0)
		syscall.RawSyscall(unix.SYS_CLOSE, fd, 0, 0)
	}

	rec.step = stepRlimit
	for i = 0; i < len(p.rlimits); i++ {
		rec.index = uint32(i)
		if _, _, err1 = syscall.RawSyscall6(unix.SYS_PRLIMIT64, 0, p.rlimits[i].resource, uintptr(unsafe.Pointer(&p.rlimits[i].lim)), 0, 0, 0); err1 != 0 {
			goto fail
		}
	}
	if p.oomPath != nil {
		rec.step = stepOOM
		if fd, _, err1 = syscall.RawSyscall6(unix.SYS_OPENAT, uintptr(p.rootFd), uintptr(unsafe.Pointer(p.oomPath)), unix.O_WRONLY|unix.O_CLOEXEC, 0, 0, 0); err1 != 0 {
			goto fail
		}
		if _, _, err1 = syscall.RawSyscall(unix.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p.oomValue[0])), uintptr(len(p.oomValue))); err1 != 0 {
			goto fail
		}
		syscall.RawSyscall(unix.SYS_CLOSE, fd, 0, 0)
	}
	rec.step = stepStdio
	for i = 0; i < 3; i++ {
		if _, _, err1 = syscall.RawSyscall(unix.SYS_DUP3, uintptr(p.stdio[i]), uintptr(i), 0); err1 != 0 {
			goto fail
		}
	}
	// Every descriptor but stdio and our two pipes (moved to 3 and 4) is
	// the gofer's: closed now, before any path is resolved, so that no
	// /proc/self/fd/N of the cwd or of the process can reach one
	// (CVE-2024-21626). The pipes stay close-on-exec.
	if _, _, err1 = syscall.RawSyscall(unix.SYS_DUP3, uintptr(p.statusFd), 3, unix.O_CLOEXEC); err1 != 0 {
		goto fail
	}
	p.statusFd = 3
	if _, _, err1 = syscall.RawSyscall(unix.SYS_DUP3, uintptr(p.startFd), 4, unix.O_CLOEXEC); err1 != 0 {
		goto fail
	}
	p.startFd = 4
	if _, _, err1 = syscall.RawSyscall(unix.SYS_CLOSE_RANGE, 5, ^uintptr(0), 0); err1 != 0 {
		goto fail
	}
	rec.step = stepCwd
	if _, _, err1 = syscall.RawSyscall(unix.SYS_CHDIR, uintptr(unsafe.Pointer(p.cwd)), 0, 0); err1 != 0 {
		goto fail
	}

	// The bounding set, while we hold CAP_SETPCAP (CVE-2022-29162:
	// inheritable and ambient stay empty unless asked). It only bounds
	// what execve and capset may grant later, so it is dropped before
	// Ready, as runc's init drops it before it waits for start: its ~40
	// prctl calls are off the way from start to the process.
	rec.step = stepBounding
	if p.dropBounding {
		for i = 0; i <= p.lastCap; i++ {
			if p.bounding&(1<<uint(i)) != 0 {
				continue
			}
			rec.index = uint32(i)
			if _, _, err1 = syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, uintptr(i), 0, 0, 0, 0); err1 != 0 && err1 != unix.EINVAL {
				goto fail
			}
		}
	}

	// Created: report Ready, and (unless autoStart) wait for the start
	// byte, which the sandbox's start has the gofer send (EOF: the gofer
	// gave up on us; forkedInit.relayStart).
	rec.kind, rec.step = statusReady, stepReady
	if _, _, err1 = syscall.RawSyscall(unix.SYS_WRITE, uintptr(p.statusFd), uintptr(unsafe.Pointer(&rec)), unsafe.Sizeof(rec)); err1 != 0 {
		goto fail
	}
	rec.kind = 0
	for !p.autoStart {
		c, _, err1 = syscall.RawSyscall(unix.SYS_READ, uintptr(p.startFd), uintptr(unsafe.Pointer(&buf[0])), 1)
		if err1 == unix.EINTR {
			continue
		}
		if err1 != 0 || c == 0 {
			syscall.RawSyscall(unix.SYS_EXIT_GROUP, 1, 0, 0)
		}
		break
	}

	// The process's attributes, in execProcess's order.
	if p.sched != nil {
		rec.step = stepSched
		if _, _, err1 = syscall.RawSyscall(unix.SYS_SCHED_SETATTR, 0, uintptr(unsafe.Pointer(p.sched)), 0); err1 != 0 {
			goto fail
		}
	}
	if p.ioprio >= 0 {
		rec.step = stepIOPrio
		if _, _, err1 = syscall.RawSyscall(unix.SYS_IOPRIO_SET, 1 /* IOPRIO_WHO_PROCESS */, 0, uintptr(p.ioprio)); err1 != 0 {
			goto fail
		}
	}
	if p.personality >= 0 {
		rec.step = stepPersonality
		if _, _, err1 = syscall.RawSyscall(unix.SYS_PERSONALITY, uintptr(p.personality), 0, 0); err1 != 0 {
			goto fail
		}
	}
	// No runtime descriptor crosses execve (CVE-2024-21626).
	rec.step = stepCloseRange
	if _, _, err1 = syscall.RawSyscall(unix.SYS_CLOSE_RANGE, 3, ^uintptr(0), unix.CLOSE_RANGE_CLOEXEC); err1 != 0 {
		goto fail
	}
	if p.filter != nil && p.filterEarly {
		rec.step = stepSeccomp
		if _, _, err1 = syscall.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, p.filterFlags, uintptr(unsafe.Pointer(p.filter))); err1 != 0 {
			goto fail
		}
	}
	rec.step = stepKeepCaps
	if _, _, err1 = syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_KEEPCAPS, 1, 0, 0, 0, 0); err1 != 0 {
		goto fail
	}
	if p.setGroups {
		rec.step = stepGroups
		if len(p.groups) == 0 {
			_, _, err1 = syscall.RawSyscall(unix.SYS_SETGROUPS, 0, 0, 0)
		} else {
			_, _, err1 = syscall.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(p.groups)), uintptr(unsafe.Pointer(&p.groups[0])), 0)
		}
		if err1 != 0 {
			goto fail
		}
	}
	rec.step = stepGID
	if _, _, err1 = syscall.RawSyscall(unix.SYS_SETRESGID, uintptr(p.gid), uintptr(p.gid), uintptr(p.gid)); err1 != 0 {
		goto fail
	}
	rec.step = stepUID
	if _, _, err1 = syscall.RawSyscall(unix.SYS_SETRESUID, uintptr(p.uid), uintptr(p.uid), uintptr(p.uid)); err1 != 0 {
		goto fail
	}
	if p.umask >= 0 {
		syscall.RawSyscall(unix.SYS_UMASK, uintptr(p.umask), 0, 0)
	}
	rec.step = stepKeepCaps
	if _, _, err1 = syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_KEEPCAPS, 0, 0, 0, 0, 0); err1 != 0 {
		goto fail
	}
	rec.step = stepCaps
	if _, _, err1 = syscall.RawSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&p.capHdr)), uintptr(unsafe.Pointer(&p.capData[0])), 0); err1 != 0 {
		goto fail
	}
	// The ambient set is exactly what was asked: cleared in one call,
	// then raised capability by capability (errors ignored, as
	// specutils.Caps.Apply does).
	syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0, 0)
	for i = 0; i <= p.lastCap && p.ambient != 0; i++ {
		if p.ambient&(1<<uint(i)) != 0 {
			syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(i), 0, 0, 0)
		}
	}
	if p.noNewPrivs {
		rec.step = stepNoNewPrivs
		if _, _, err1 = syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0); err1 != 0 {
			goto fail
		}
	}
	// The filter is loaded last, just before execve.
	if p.filter != nil && !p.filterEarly {
		rec.step = stepSeccomp
		if _, _, err1 = syscall.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, p.filterFlags, uintptr(unsafe.Pointer(p.filter))); err1 != 0 {
			goto fail
		}
	}
	rec.step = stepExec
	_, _, err1 = syscall.RawSyscall(unix.SYS_EXECVE, uintptr(unsafe.Pointer(p.path)), uintptr(unsafe.Pointer(&p.argv[0])), uintptr(unsafe.Pointer(&p.envv[0])))

fail:
	rec.kind, rec.errno = statusError, uint32(err1)
	syscall.RawSyscall(unix.SYS_WRITE, uintptr(p.statusFd), uintptr(unsafe.Pointer(&rec)), unsafe.Sizeof(rec))
	for {
		syscall.RawSyscall(unix.SYS_EXIT_GROUP, 1, 0, 0)
	}
}
