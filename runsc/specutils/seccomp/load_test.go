// Copyright 2025 The runsc Authors.
// SPDX-License-Identifier: Apache-2.0

package seccomp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The tests that install filters do it in a child process: the test binary
// run again with childEnv naming the scenario. The children set no_new_privs,
// which lets an unprivileged process install filters.
const (
	childEnv     = "SECCOMP_TEST_CHILD"
	childSockEnv = "SECCOMP_TEST_SOCK"
	childSkip    = 77 // exit code: seccomp not available
)

func TestMain(m *testing.M) {
	if name := os.Getenv(childEnv); name != "" {
		os.Exit(runChild(name))
	}
	os.Exit(m.Run())
}

var children = map[string]func() error{
	"errno":     childErrno,
	"docker":    childDocker,
	"notify":    childNotify,
	"allowlist": childAllowList,
}

func runChild(name string) int {
	f, ok := children[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "unknown child %q\n", name)
		return 1
	}
	runtime.LockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		fmt.Fprintf(os.Stderr, "prctl(PR_SET_NO_NEW_PRIVS): %v\n", err)
		return childSkip
	}
	if err := f(); err != nil {
		if errors.Is(err, errSkip) {
			fmt.Fprintln(os.Stderr, err)
			return childSkip
		}
		fmt.Fprintf(os.Stderr, "child %s: %v\n", name, err)
		return 1
	}
	return 0
}

var errSkip = errors.New("seccomp(2) unavailable")

// load loads p, turning "seccomp unavailable" errors into errSkip.
func load(p *Program, flags uint) (int, error) {
	fd, err := p.Load(flags)
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EACCES) {
		return -1, fmt.Errorf("%w: %v", errSkip, err)
	}
	return fd, err
}

func runChildTest(t *testing.T, name string, env ...string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childEnv+"="+name), env...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == childSkip {
		t.Skipf("seccomp unavailable: %s", out)
	}
	if err != nil {
		t.Fatalf("child %s: %v\n%s", name, err, out)
	}
}

func TestLoadErrnoUname(t *testing.T)     { runChildTest(t, "errno") }
func TestLoadDockerProfile(t *testing.T)  { runChildTest(t, "docker") }
func TestLoadAllowList(t *testing.T)      { runChildTest(t, "allowlist") }
func TestLoadNotifyListener(t *testing.T) { runChildTest(t, "notify", childSockEnv+"="+sockPath(t)) }

func sockPath(t *testing.T) string {
	dir, err := os.MkdirTemp("", "seccomp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "agent.sock")
}

func expectErrno(what string, err, want error) error {
	if !errors.Is(err, want) {
		return fmt.Errorf("%s: got error %v, want %v", what, err, want)
	}
	return nil
}

// onOtherThread runs f on a new locked OS thread.
func onOtherThread(f func() error) error {
	ch := make(chan error)
	go func() {
		runtime.LockOSThread()
		ch <- f()
	}()
	return <-ch
}

func childErrno() error {
	var s specs.LinuxSeccomp
	if err := json.Unmarshal([]byte(`{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_TSYNC"],
		"syscalls": [{"names": ["uname"], "action": "SCMP_ACT_ERRNO"}]}`), &s); err != nil {
		return err
	}
	p, err := Compile(&s)
	if err != nil {
		return err
	}
	if _, err := load(p, p.Flags); err != nil {
		return err
	}
	var u unix.Utsname
	if err := expectErrno("uname", unix.Uname(&u), unix.EPERM); err != nil {
		return err
	}
	// TSYNC installed the filter on the other threads too.
	if err := onOtherThread(func() error { return expectErrno("uname on another thread", unix.Uname(&u), unix.EPERM) }); err != nil {
		return err
	}
	if unix.Getpid() != os.Getpid() {
		return errors.New("getpid broken")
	}
	return nil
}

func childDocker() error {
	b, err := os.ReadFile("testdata/docker-default.json")
	if err != nil {
		return err
	}
	var s specs.LinuxSeccomp
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	p, err := Compile(&s)
	if err != nil {
		return err
	}
	p.Flags |= unix.SECCOMP_FILTER_FLAG_TSYNC
	if err := Install(p); err != nil {
		if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EACCES) {
			return fmt.Errorf("%w: %v", errSkip, err)
		}
		return err
	}
	var errs []error
	check := func(err error) { errs = append(errs, err) }
	check(expectErrno("mount", unix.Mount("none", os.TempDir(), "tmpfs", 0, ""), unix.EPERM))
	check(expectErrno("unshare(CLONE_NEWUSER)", unix.Unshare(unix.CLONE_NEWUSER), unix.EPERM))
	_, _, e := unix.Syscall(unix.SYS_CLONE3, 0, 0, 0)
	check(expectErrno("clone3", e, unix.ENOSYS))
	_, _, e = unix.Syscall(unix.SYS_PERSONALITY, 5, 0, 0)
	check(expectErrno("personality(5)", e, unix.EPERM))
	if _, _, e := unix.Syscall(unix.SYS_PERSONALITY, 0xffffffff, 0, 0); e != 0 {
		check(fmt.Errorf("personality(0xffffffff): %v", e))
	}
	_, err = unix.Socket(unix.AF_VSOCK, unix.SOCK_STREAM, 0)
	check(expectErrno("socket(AF_VSOCK)", err, unix.EPERM))
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		check(fmt.Errorf("uname: %v", err))
	}
	// The Go runtime keeps working: threads, GC, and fork+exec.
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			_ = make([]byte, 1<<20)
		}()
	}
	wg.Wait()
	runtime.GC()
	if out, err := exec.Command("/bin/sh", "-c", "echo ok").Output(); err != nil || strings.TrimSpace(string(out)) != "ok" {
		check(fmt.Errorf("exec /bin/sh: %q, %v", out, err))
	}
	return errors.Join(errs...)
}

func childAllowList() error {
	var nrs []uintptr
	for _, e := range sysTableX86_64 {
		if e.nr != unix.SYS_UNAME {
			nrs = append(nrs, uintptr(e.nr))
		}
	}
	// uname is only allowed with a NULL buffer (which fails with EFAULT).
	p, err := AllowList(nrs, ActionErrno(unix.EXDEV), SyscallRule{Nr: unix.SYS_UNAME, Args: []Cond{{Index: 0, Op: OpEqual, Value: 0}}})
	if err != nil {
		return err
	}
	if _, err := load(p, unix.SECCOMP_FILTER_FLAG_TSYNC); err != nil {
		return err
	}
	var u unix.Utsname
	if err := expectErrno("uname(&buf)", unix.Uname(&u), unix.EXDEV); err != nil {
		return err
	}
	_, _, e := unix.Syscall(unix.SYS_UNAME, 0, 0, 0)
	return expectErrno("uname(NULL)", e, unix.EFAULT)
}

// seccompNotif and seccompNotifResp mirror struct seccomp_notif and struct
// seccomp_notif_resp.
type seccompNotif struct {
	ID    uint64
	Pid   uint32
	Flags uint32
	Data  struct {
		Nr   int32
		Arch uint32
		IP   uint64
		Args [6]uint64
	}
}

type seccompNotifResp struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

func ioctl(fd int, req uint, arg unsafe.Pointer) error {
	for {
		_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(arg))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return e
		}
		return nil
	}
}

// agent is a seccomp agent: it receives the container process state and the
// listener from NotifyListener, then fails every notified syscall with
// EXDEV.
func agent(l *net.UnixListener, states chan<- error) {
	conn, err := l.AcceptUnix()
	if err != nil {
		states <- err
		return
	}
	buf, oob := make([]byte, 64<<10), make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	conn.Close()
	if err != nil {
		states <- err
		return
	}
	fd, err := parseRights(oob[:oobn])
	if err != nil {
		states <- err
		return
	}
	var st specs.ContainerProcessState
	if err := json.Unmarshal(buf[:n], &st); err != nil {
		states <- err
		return
	}
	if len(st.Fds) != 1 || st.Fds[0] != specs.SeccompFdName || st.Metadata != "meta" ||
		st.Version != specs.Version || st.State.ID != "ctr" || st.Pid != os.Getpid() {
		states <- fmt.Errorf("bad container process state %+v", st)
		return
	}
	states <- nil
	for {
		var req seccompNotif
		if err := ioctl(fd, unix.SECCOMP_IOCTL_NOTIF_RECV, unsafe.Pointer(&req)); err != nil {
			return
		}
		resp := seccompNotifResp{ID: req.ID, Error: -int32(unix.EXDEV)}
		if req.Data.Nr != unix.SYS_UNAME {
			resp.Error = -int32(unix.EINVAL)
		}
		_ = ioctl(fd, unix.SECCOMP_IOCTL_NOTIF_SEND, unsafe.Pointer(&resp)) // ENOENT if interrupted
	}
}

func parseRights(oob []byte) (int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return -1, err
	}
	if len(msgs) != 1 {
		return -1, fmt.Errorf("%d control messages, want 1", len(msgs))
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil {
		return -1, err
	}
	if len(fds) != 1 {
		return -1, fmt.Errorf("%d fds, want 1", len(fds))
	}
	return fds[0], nil
}

func childNotify() error {
	path := os.Getenv(childSockEnv)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return err
	}
	defer l.Close()
	states := make(chan error, 1)
	go agent(l, states)

	s := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow, ListenerPath: path, ListenerMetadata: "meta",
		Syscalls: []specs.LinuxSyscall{{Names: []string{"uname"}, Action: specs.ActNotify}},
	}
	p, err := Compile(s)
	if err != nil {
		return err
	}
	if !p.UsesNotify {
		return errors.New("UsesNotify is false")
	}
	if err := Install(p); err == nil {
		return errors.New("Install accepted a notify filter")
	}
	// Without TSYNC: only this (locked) thread gets the filter.
	fd, err := load(p, p.Flags)
	if err != nil {
		return err
	}
	if fd < 0 {
		return fmt.Errorf("listener fd %d", fd)
	}
	state := specs.ContainerProcessState{Pid: os.Getpid(), Metadata: s.ListenerMetadata, State: specs.State{ID: "ctr"}}
	if err := NotifyListener(state, fd, s.ListenerPath); err != nil {
		return err
	}
	if err := <-states; err != nil {
		return err
	}
	var u unix.Utsname
	return expectErrno("notified uname", unix.Uname(&u), unix.EXDEV)
}

func TestNotifyListener(t *testing.T) {
	path := sockPath(t)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])

	type result struct {
		msg []byte
		fd  int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		conn, err := l.AcceptUnix()
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer conn.Close()
		buf, oob := make([]byte, 64<<10), make([]byte, unix.CmsgSpace(4))
		n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
		if err != nil {
			ch <- result{err: err}
			return
		}
		fd, err := parseRights(oob[:oobn])
		ch <- result{buf[:n], fd, err}
	}()
	state := specs.ContainerProcessState{Pid: 42, Fds: []string{"junk", "more"}, Metadata: "m",
		State: specs.State{Version: "1.0.0", ID: "c1", Status: specs.StateCreating, Bundle: "/b"}}
	if err := NotifyListener(state, p[1], path); err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	defer unix.Close(r.fd)
	var got specs.ContainerProcessState
	if err := json.Unmarshal(r.msg, &got); err != nil {
		t.Fatalf("bad JSON %q: %v", r.msg, err)
	}
	want := state
	want.Fds, want.Version = []string{"seccompFd"}, specs.Version
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("state %+v, want %+v", got, want)
	}
	// The fd received is the pipe's write end.
	if _, err := unix.Write(r.fd, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2)
	if n, err := unix.Read(p[0], buf); err != nil || string(buf[:n]) != "hi" {
		t.Errorf("read %q, %v", buf[:n], err)
	}

	if err := NotifyListener(state, p[1], filepath.Join(t.TempDir(), "none.sock")); err == nil {
		t.Error("NotifyListener to a missing socket succeeded")
	}
	if err := NotifyListener(state, p[1], ""); err == nil {
		t.Error("NotifyListener without path succeeded")
	}
}

// TestLoadErrors checks the errors Load and Install report before calling
// seccomp(2); nothing is installed in the test process.
func TestLoadErrors(t *testing.T) {
	if _, err := (&Program{}).Load(0); err == nil {
		t.Error("Load of an empty program succeeded")
	}
	if err := Install(nil); err == nil {
		t.Error("Install(nil) succeeded")
	}
	long := &Program{Filter: make([]unix.SockFilter, maxInsns+1)}
	if _, err := long.Load(0); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("Load of a long program: %v", err)
	}
	p, err := AllowList(nil, ActionAllow)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Load(1 << 20); !errors.Is(err, ErrUnknownFlag) {
		t.Errorf("Load with an unknown flag: %v, want ErrUnknownFlag", err)
	}
	p.UsesNotify = true
	if err := Install(p); err == nil || !strings.Contains(err.Error(), "SCMP_ACT_NOTIFY") {
		t.Errorf("Install of a notify program: %v", err)
	}
}
