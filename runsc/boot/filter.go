package boot

import (
	"fmt"

	"golang.org/x/sys/unix"
	"runsc.dev/runsc/runsc/specutils/seccomp"
)

// sandboxSyscalls is everything the sandbox does once it serves: the Go
// runtime (threads, memory, signals, timers, its poller) and unix-socket
// I/O on fds it already holds. Nothing that names a path: no open, no
// rename/unlink/link/mkdir, no mount, no ptrace, no process_vm_*, no
// execve, no socket creation (CVE-2018-16359: a compromised sandbox must
// not be able to touch the host filesystem).
var sandboxSyscalls = []uintptr{
	unix.SYS_ACCEPT4,
	unix.SYS_CLOCK_GETTIME,
	unix.SYS_CLOCK_NANOSLEEP,
	unix.SYS_CLOSE,
	unix.SYS_EPOLL_CREATE1,
	unix.SYS_EPOLL_CTL,
	unix.SYS_EPOLL_PWAIT,
	unix.SYS_EVENTFD2,
	unix.SYS_EXIT,
	unix.SYS_EXIT_GROUP,
	unix.SYS_FSTAT,
	unix.SYS_FUTEX,
	unix.SYS_GETEUID,
	unix.SYS_GETPID,
	unix.SYS_GETRANDOM,
	unix.SYS_GETSOCKOPT,
	unix.SYS_GETTID,
	unix.SYS_GETUID,
	unix.SYS_MADVISE,
	unix.SYS_MMAP,
	unix.SYS_MUNMAP,
	unix.SYS_NANOSLEEP,
	unix.SYS_PIPE2,
	unix.SYS_READ,
	unix.SYS_RECVMSG,
	unix.SYS_RESTART_SYSCALL,
	unix.SYS_RT_SIGACTION,
	unix.SYS_RT_SIGPROCMASK,
	unix.SYS_RT_SIGRETURN,
	unix.SYS_SCHED_GETAFFINITY,
	unix.SYS_SCHED_YIELD,
	unix.SYS_SENDMSG,
	unix.SYS_SHUTDOWN,
	unix.SYS_SIGALTSTACK,
	unix.SYS_TGKILL,
	unix.SYS_WAIT4,
	unix.SYS_WAITID,
	unix.SYS_WRITE,
}

// sandboxRules allow what the sandbox needs of broader syscalls: clone only
// for new threads (never a new process), fcntl only to duplicate an fd or
// read and set fd and status flags.
var sandboxRules = []seccomp.SyscallRule{
	{Nr: unix.SYS_CLONE, Args: []seccomp.Cond{{Index: 0, Op: seccomp.OpMaskedEqual, Value: unix.CLONE_THREAD, ValueTwo: unix.CLONE_THREAD}}},
	{Nr: unix.SYS_FCNTL, Args: []seccomp.Cond{{Index: 1, Op: seccomp.OpEqual, Value: unix.F_DUPFD_CLOEXEC}}},
	{Nr: unix.SYS_FCNTL, Args: []seccomp.Cond{{Index: 1, Op: seccomp.OpEqual, Value: unix.F_GETFD}}},
	{Nr: unix.SYS_FCNTL, Args: []seccomp.Cond{{Index: 1, Op: seccomp.OpEqual, Value: unix.F_SETFD}}},
	{Nr: unix.SYS_FCNTL, Args: []seccomp.Cond{{Index: 1, Op: seccomp.OpEqual, Value: unix.F_GETFL}}},
	{Nr: unix.SYS_FCNTL, Args: []seccomp.Cond{{Index: 1, Op: seccomp.OpEqual, Value: unix.F_SETFL}}},
}

// SandboxFilter returns the sandbox's seccomp filter: the allowlist above,
// EPERM for everything else, on every thread (TSYNC).
func SandboxFilter() (*seccomp.Program, error) {
	p, err := seccomp.AllowList(sandboxSyscalls, seccomp.ActionErrno(unix.EPERM), sandboxRules...)
	if err != nil {
		return nil, fmt.Errorf("building sandbox filter: %w", err)
	}
	p.Flags = unix.SECCOMP_FILTER_FLAG_TSYNC
	return p, nil
}

// InstallSandboxFilter sets no_new_privs and installs SandboxFilter on
// every thread.
func InstallSandboxFilter() error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("setting no_new_privs: %w", err)
	}
	p, err := SandboxFilter()
	if err != nil {
		return err
	}
	if _, err := p.Load(p.Flags); err != nil {
		return fmt.Errorf("installing sandbox filter: %w", err)
	}
	return nil
}
