package boot

import (
	"testing"

	"golang.org/x/sys/unix"
	"runsc.dev/runsc/runsc/specutils/seccomp"
)

const x86 = unix.AUDIT_ARCH_X86_64

// atFdcwd is AT_FDCWD as the kernel sees it in a 64-bit argument.
var atFdcwd = uint64(0xffffffffffffff9c)

// denied is every syscall a compromised sandbox could use to reach the
// host's filesystem or another process (CVE-2018-16359), by name.
var denied = map[string]uint32{
	"rename": unix.SYS_RENAME, "renameat": unix.SYS_RENAMEAT, "renameat2": unix.SYS_RENAMEAT2,
	"unlink": unix.SYS_UNLINK, "unlinkat": unix.SYS_UNLINKAT, "rmdir": unix.SYS_RMDIR,
	"link": unix.SYS_LINK, "linkat": unix.SYS_LINKAT, "symlink": unix.SYS_SYMLINK, "symlinkat": unix.SYS_SYMLINKAT,
	"mkdir": unix.SYS_MKDIR, "mkdirat": unix.SYS_MKDIRAT, "mknod": unix.SYS_MKNOD, "mknodat": unix.SYS_MKNODAT,
	"open": unix.SYS_OPEN, "openat": unix.SYS_OPENAT, "openat2": unix.SYS_OPENAT2, "creat": unix.SYS_CREAT,
	"open_by_handle_at": unix.SYS_OPEN_BY_HANDLE_AT, "truncate": unix.SYS_TRUNCATE,
	"chmod": unix.SYS_CHMOD, "fchmodat": unix.SYS_FCHMODAT, "chown": unix.SYS_CHOWN, "fchownat": unix.SYS_FCHOWNAT,
	"mount": unix.SYS_MOUNT, "umount2": unix.SYS_UMOUNT2, "open_tree": unix.SYS_OPEN_TREE, "move_mount": unix.SYS_MOVE_MOUNT,
	"fsopen": unix.SYS_FSOPEN, "pivot_root": unix.SYS_PIVOT_ROOT, "chroot": unix.SYS_CHROOT,
	"ptrace": unix.SYS_PTRACE, "process_vm_readv": unix.SYS_PROCESS_VM_READV, "process_vm_writev": unix.SYS_PROCESS_VM_WRITEV,
	"pidfd_getfd": unix.SYS_PIDFD_GETFD, "kcmp": unix.SYS_KCMP,
	"execve": unix.SYS_EXECVE, "execveat": unix.SYS_EXECVEAT, "fork": unix.SYS_FORK, "vfork": unix.SYS_VFORK, "clone3": unix.SYS_CLONE3,
	"socket": unix.SYS_SOCKET, "socketpair": unix.SYS_SOCKETPAIR, "connect": unix.SYS_CONNECT, "bind": unix.SYS_BIND,
	"setns": unix.SYS_SETNS, "unshare": unix.SYS_UNSHARE, "setuid": unix.SYS_SETUID, "setresuid": unix.SYS_SETRESUID,
	"bpf": unix.SYS_BPF, "init_module": unix.SYS_INIT_MODULE, "kexec_load": unix.SYS_KEXEC_LOAD,
	"memfd_create": unix.SYS_MEMFD_CREATE, "userfaultfd": unix.SYS_USERFAULTFD, "io_uring_setup": unix.SYS_IO_URING_SETUP,
	"kill": unix.SYS_KILL, "prctl": unix.SYS_PRCTL, "seccomp": unix.SYS_SECCOMP,
}

// allowed is what the sandbox must keep to serve.
var allowed = map[string]uint32{
	"read": unix.SYS_READ, "write": unix.SYS_WRITE, "futex": unix.SYS_FUTEX,
	"recvmsg": unix.SYS_RECVMSG, "sendmsg": unix.SYS_SENDMSG, "close": unix.SYS_CLOSE,
	"accept4": unix.SYS_ACCEPT4, "epoll_pwait": unix.SYS_EPOLL_PWAIT, "mmap": unix.SYS_MMAP,
	"exit_group": unix.SYS_EXIT_GROUP, "wait4": unix.SYS_WAIT4, "rt_sigreturn": unix.SYS_RT_SIGRETURN,
}

// argSets are argument vectors a denied syscall is tried with, so that a
// rule on some argument cannot let one through: zero, all ones, and the
// values that matter for open (O_RDONLY, O_WRONLY|O_CREAT, O_PATH).
var argSets = [][6]uint64{
	{},
	{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)},
	{atFdcwd, 0, unix.O_RDONLY},
	{atFdcwd, 0, unix.O_WRONLY | unix.O_CREAT | unix.O_TRUNC, 0o644},
	{atFdcwd, 0, unix.O_PATH},
	{0, unix.O_RDONLY},
	{0, unix.O_RDWR},
	{unix.CLONE_THREAD, 0, 0},
	{unix.AF_UNIX, unix.SOCK_STREAM, 0},
}

func sandboxFilter(t *testing.T) *seccomp.Program {
	t.Helper()
	p, err := SandboxFilter()
	if err != nil {
		t.Fatal(err)
	}
	if p.Flags&unix.SECCOMP_FILTER_FLAG_TSYNC == 0 {
		t.Errorf("sandbox filter flags %#x lack TSYNC", p.Flags)
	}
	return p
}

// TestSandboxFilterDenies decodes the sandbox's filter (CVE-2018-16359) and
// shows that every path, mount, ptrace, process-memory, exec and socket
// syscall fails with EPERM, whatever its arguments.
func TestSandboxFilterDenies(t *testing.T) {
	p := sandboxFilter(t)
	for name, nr := range denied {
		for _, args := range argSets {
			act, err := p.EvaluateErr(nr, x86, args)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if act != seccomp.ActionErrno(unix.EPERM) {
				t.Errorf("%s%v: %v, want errno EPERM", name, args, act)
			}
		}
	}
}

// TestSandboxFilterAllows checks the syscalls the sandbox serves with.
func TestSandboxFilterAllows(t *testing.T) {
	p := sandboxFilter(t)
	for name, nr := range allowed {
		if act := p.Evaluate(nr, x86, [6]uint64{}); act != seccomp.ActionAllow {
			t.Errorf("%s: %v, want allow", name, act)
		}
	}
}

// TestSandboxFilterRules checks the argument rules: clone only for threads,
// fcntl only for the fd and status flag commands.
func TestSandboxFilterRules(t *testing.T) {
	p := sandboxFilter(t)
	thread := uint64(unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND | unix.CLONE_THREAD | unix.CLONE_SYSVSEM)
	for _, tc := range []struct {
		name string
		nr   uint32
		args [6]uint64
		want seccomp.Action
	}{
		{"clone thread", unix.SYS_CLONE, [6]uint64{thread}, seccomp.ActionAllow},
		{"clone process", unix.SYS_CLONE, [6]uint64{uint64(unix.SIGCHLD)}, seccomp.ActionErrno(unix.EPERM)},
		{"clone newuser", unix.SYS_CLONE, [6]uint64{unix.CLONE_NEWUSER}, seccomp.ActionErrno(unix.EPERM)},
		{"fcntl dupfd_cloexec", unix.SYS_FCNTL, [6]uint64{3, unix.F_DUPFD_CLOEXEC}, seccomp.ActionAllow},
		{"fcntl getfl", unix.SYS_FCNTL, [6]uint64{3, unix.F_GETFL}, seccomp.ActionAllow},
		{"fcntl setlk", unix.SYS_FCNTL, [6]uint64{3, unix.F_SETLK}, seccomp.ActionErrno(unix.EPERM)},
		{"fcntl setown", unix.SYS_FCNTL, [6]uint64{3, unix.F_SETOWN}, seccomp.ActionErrno(unix.EPERM)},
	} {
		if got := p.Evaluate(tc.nr, x86, tc.args); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestSandboxFilterOtherABIs checks that no syscall is allowed through the
// i386 or x32 ABIs, where the numbers mean other syscalls.
func TestSandboxFilterOtherABIs(t *testing.T) {
	p := sandboxFilter(t)
	for nr := uint32(0); nr < 460; nr++ {
		if act := p.Evaluate(nr, unix.AUDIT_ARCH_I386, [6]uint64{}); act == seccomp.ActionAllow {
			t.Errorf("i386 syscall %d allowed", nr)
		}
		if act := p.Evaluate(nr|0x40000000, x86, [6]uint64{}); act == seccomp.ActionAllow {
			t.Errorf("x32 syscall %d allowed", nr)
		}
	}
	// Every allowed x86_64 syscall is one of the listed ones.
	listed := map[uint32]bool{unix.SYS_CLONE: true, unix.SYS_FCNTL: true}
	for _, nr := range sandboxSyscalls {
		listed[uint32(nr)] = true
	}
	for nr := uint32(0); nr < 1024; nr++ {
		if p.Evaluate(nr, x86, [6]uint64{}) == seccomp.ActionAllow && !listed[nr] {
			t.Errorf("x86_64 syscall %d allowed but not in the allowlist", nr)
		}
	}
}
