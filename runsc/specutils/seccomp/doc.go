// Copyright 2025 The runsc Authors.
// SPDX-License-Identifier: Apache-2.0

// Package seccomp compiles OCI seccomp configurations (linux.seccomp in a
// runtime-spec config.json) to classic BPF and installs them with the
// seccomp(2) system call. It is written in pure Go: no cgo and no libseccomp.
//
// # Compiling
//
// [Compile] turns a [specs.LinuxSeccomp] into a [Program]. The generated
// filter follows the semantics that runc (through libseccomp) gives the same
// configuration, so that profiles written for runc, such as Docker's default
// profile, behave the same way:
//
//   - Actions: SCMP_ACT_KILL (an alias of SCMP_ACT_KILL_THREAD),
//     SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP,
//     SCMP_ACT_ERRNO (errnoRet, EPERM by default), SCMP_ACT_TRACE (errnoRet
//     is the tracer's message data, EPERM by default as in runc),
//     SCMP_ACT_ALLOW, SCMP_ACT_LOG and SCMP_ACT_NOTIFY
//     (SECCOMP_RET_USER_NOTIF). errnoRet on any other action is an error, as
//     the runtime spec requires. SCMP_ACT_NOTIFY needs listenerPath and cannot
//     be the default action.
//   - Architectures: the native x86_64 ABI is always in the filter (the
//     spec's list names additional architectures, and libseccomp always keeps
//     the native one); SCMP_ARCH_X86 adds the i386 ABI (AUDIT_ARCH_I386) and
//     SCMP_ARCH_X32 the x32 ABI (AUDIT_ARCH_X86_64 with __X32_SYSCALL_BIT set
//     in the syscall number). Other valid SCMP_ARCH_* names are ignored, since
//     no such syscall can reach an x86_64 kernel; unknown names are errors.
//   - Bad architecture: a syscall made through an ABI that is not in the
//     filter (i386 or x32 when not listed) gets SECCOMP_RET_KILL_PROCESS.
//     libseccomp documents SCMP_ACT_KILL (kill the thread) as its default
//     bad-architecture action; this package kills the whole process instead,
//     so that a multi-threaded process is never left running without the
//     thread that tried the foreign ABI. Syscall number -1 (what a tracer
//     sets to skip a syscall) is never treated as a bad x32 number and gets
//     the default action, as in libseccomp.
//   - Syscall names are resolved, for each ABI in the filter, against tables
//     covering every x86_64, x32 and i386 syscall of Linux 6.x (generated
//     from golang.org/x/sys/unix by mksyscalls.go). A name known to none of
//     the ABIs of the filter is skipped with a debug message, as runc does.
//   - Arguments: every SCMP_CMP_* operator, as unsigned 64-bit comparisons
//     done on both 32-bit halves of seccomp_data.args for x86_64 and x32.
//     For i386 only the low 32 bits are compared and the value is truncated
//     to 32 bits, like libseccomp does for 32-bit ABIs. SCMP_CMP_MASKED_EQ
//     matches when (arg & value) == (valueTwo & value). Conditions on
//     different argument indexes of one rule must all match (AND). As in
//     runc, when one rule has several conditions on the same argument index,
//     each of its conditions becomes a rule of its own (OR).
//   - Several rules for one syscall: rules with conditions are tried in the
//     order of the configuration and the first whose conditions all match
//     decides; if none matches, the unconditional rule of that syscall (if
//     any) applies, else the default action. Two unconditional rules with
//     different actions for the same syscall are an error.
//   - Flags: SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_FILTER_FLAG_LOG,
//     SECCOMP_FILTER_FLAG_SPEC_ALLOW and SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
//     are kept in [Program.Flags] and passed to seccomp(2) at load time;
//     any other flag is an error.
//
// Unlike runc, the filter does not return ENOSYS for syscalls newer than the
// profile; they get the default action. Unlike libseccomp, rules for the
// i386 socket and System V IPC syscalls (socket, semop, ...) are not also
// applied to their multiplexed forms socketcall(2) and ipc(2): a profile
// that allows those (as Docker's does) allows every call they multiplex.
//
// The filter is laid out as a check of seccomp_data.arch, then for each ABI a
// binary search over ranges of syscall numbers, then the argument checks of
// the syscalls that have conditional rules. Conditional jumps whose target
// is farther than 255 instructions go through an unconditional jump
// (trampoline), so filters of any length up to the kernel's 4096-instruction
// limit are valid. [Program.String] and [Disassemble] print a filter back in
// readable form.
//
// # Loading
//
// [Program.Load] and [Install] install a filter with
// seccomp(SECCOMP_SET_MODE_FILTER). They do not set no_new_privs: the caller
// must call prctl(PR_SET_NO_NEW_PRIVS, 1) first (or hold CAP_SYS_ADMIN).
// Without SECCOMP_FILTER_FLAG_TSYNC a filter applies to the calling OS thread
// only (and the threads it creates later), so a Go caller should either use
// TSYNC or lock its goroutine to the thread with runtime.LockOSThread. A
// program that uses SCMP_ACT_NOTIFY is loaded with
// SECCOMP_FILTER_FLAG_NEW_LISTENER and Load returns the listener file
// descriptor, which [NotifyListener] sends to the seccomp agent listening on
// the configuration's listenerPath.
//
// # Allow lists
//
// [AllowList] builds the filter for a process of the runtime itself, from a
// list of syscall numbers and optional per-argument restrictions.
//
// # Logging
//
// The package logs through the [Debugf] hook, which is
// runsc.dev/runsc/pkg/log.Debugf by default.
package seccomp
