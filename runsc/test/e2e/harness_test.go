//go:build root

package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"runsc.dev/runsc/runsc/test/testutil"
)

// runcBinary is Debian's runc, the reference every flow is compared with.
const runcBinary = "/usr/sbin/runc"

// runtimes are the runtimes every flow runs against: the reference first.
var runtimes = []string{"runc", "runsc"}

// requireTools skips t unless it runs as root and every named command is
// installed; pkg names the Debian package to install.
func requireTools(t *testing.T, pkg string, cmds ...string) {
	t.Helper()
	testutil.RequireRoot(t)
	for _, c := range cmds {
		if _, err := exec.LookPath(c); err != nil {
			t.Skipf("%s is not installed (no %s in $PATH): apt-get install %s, or run tools/setup.sh", pkg, c, pkg)
		}
	}
	if _, err := os.Stat(runcBinary); err != nil {
		t.Skipf("runc is not installed (%s): apt-get install runc", runcBinary)
	}
}

// uniqueName returns prefix plus a random suffix: the name of this run's
// cgroup parents, namespaces and bridges.
func uniqueName(prefix string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// result is the outcome of one client command.
type result struct {
	Stdout, Stderr string
	Code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
}

// Timeouts of client commands. A wedged runtime makes the shim, and so
// every client call about that container, hang: calls give up early, and
// teardown calls even earlier, so that teardown (which kills what is
// left) runs before `go test -timeout` panics and skips it.
const (
	clientTimeout   = 45 * time.Second
	cleanupTimeout  = 15 * time.Second
	deadlineReserve = 2 * time.Minute
)

// capTimeout shortens timeout so that a test ends deadlineReserve before
// the test binary's deadline.
func capTimeout(t testing.TB, timeout time.Duration) time.Duration {
	if dt, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if d, ok := dt.Deadline(); ok {
			if left := time.Until(d) - deadlineReserve; left < timeout {
				timeout = max(left, 5*time.Second)
			}
		}
	}
	return timeout
}

// tryCmd runs cmd with a timeout, killing it then, for teardown: it never
// fails the test. Output is discarded.
func tryCmd(timeout time.Duration, name string, args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = time.Second
	out, _ := cmd.Output()
	return string(out)
}

// runCmd runs cmd with a timeout (capped by the test deadline). Output goes
// through files, not pipes: a client may leave a daemon-side child holding
// them.
func runCmd(t testing.TB, timeout time.Duration, cmd *exec.Cmd) result {
	t.Helper()
	timeout = capTimeout(t, timeout)
	var files [2]*os.File
	for i := range files {
		f, err := os.CreateTemp("", "e2e-out")
		if err != nil {
			t.Fatal(err)
		}
		defer os.Remove(f.Name())
		defer f.Close()
		files[i] = f
	}
	cmd.Stdout, cmd.Stderr = files[0], files[1]
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %v: %v", cmd.Args, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		cmd.Process.Kill()
		<-done
		out, _ := os.ReadFile(files[0].Name())
		errb, _ := os.ReadFile(files[1].Name())
		t.Fatalf("%s timed out after %v\nstdout: %s\nstderr: %s", strings.Join(cmd.Args, " "), timeout, out, errb)
	}
	out, _ := os.ReadFile(files[0].Name())
	errb, _ := os.ReadFile(files[1].Name())
	return result{Stdout: string(out), Stderr: string(errb), Code: cmd.ProcessState.ExitCode()}
}

// scratchDir makes a short-named directory under /tmp (unix socket paths
// are limited to 108 bytes) that is removed when t ends, after any mount
// left under it is detached and reported.
func scratchDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "e2e")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() {
		if left := unmountUnder(dir); len(left) > 0 {
			t.Errorf("mounts left under %s (detached now): %s", dir, strings.Join(left, " "))
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("removing %s: %v", dir, err)
		}
	})
	return dir
}

// mountsUnder lists the mount points at or below dir, deepest first.
func mountsUnder(dir string) []string {
	data, _ := os.ReadFile("/proc/self/mountinfo")
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			out = append(out, f[4])
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// unmountUnder detaches every mount at or below dir and returns them.
func unmountUnder(dir string) []string {
	left := mountsUnder(dir)
	for _, m := range left {
		unix.Unmount(m, unix.MNT_DETACH)
	}
	return left
}

// cgroupRoots are the mounted cgroup hierarchies (v1 controllers and the
// v2 tree of a hybrid host).
func cgroupRoots() []string {
	var out []string
	data, _ := os.ReadFile("/proc/self/mountinfo")
	for _, l := range strings.Split(string(data), "\n") {
		before, after, ok := strings.Cut(l, " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(before), strings.Fields(after)
		if len(f) > 4 && len(g) > 0 && (g[0] == "cgroup" || g[0] == "cgroup2") {
			out = append(out, f[4])
		}
	}
	return out
}

// cleanupCgroups removes, when t ends, the cgroup directory name (a path
// relative to each hierarchy's root) in every hierarchy, deepest first.
// Directories the runtimes should have removed may be left by the parents
// they created; a cgroup still holding a process is an error.
func cleanupCgroups(t *testing.T, name string) {
	t.Cleanup(func() {
		for _, root := range cgroupRoots() {
			top := filepath.Join(root, name)
			var dirs []string
			filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.IsDir() {
					dirs = append(dirs, p)
				}
				return nil
			})
			for i := len(dirs) - 1; i >= 0; i-- {
				if err := rmdirRetry(dirs[i]); err != nil {
					procs, _ := os.ReadFile(filepath.Join(dirs[i], "cgroup.procs"))
					t.Errorf("cgroup %s left behind: %v (procs %q)", dirs[i], err, strings.TrimSpace(string(procs)))
				}
			}
		}
	})
}

// rmdirRetry removes a cgroup directory, retrying while its last tasks
// are still exiting.
func rmdirRetry(dir string) error {
	var err error
	for i := 0; i < 50; i++ {
		if err = syscall.Rmdir(dir); err == nil || errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

// waitGone waits until pid no longer exists (or is a zombie).
func waitGone(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return true
		}
		if i := bytes.LastIndexByte(data, ')'); i > 0 && len(data) > i+2 && data[i+2] == 'Z' {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// stopDaemon sends SIGTERM to a daemon started by the test and waits for
// it, killing it after a grace period.
func stopDaemon(t *testing.T, cmd *exec.Cmd, done <-chan struct{}, name string) {
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Errorf("%s did not exit on SIGTERM; killing it", name)
		cmd.Process.Kill()
		<-done
	}
}

// startDaemon starts a daemon whose output goes to logPath; it is killed
// if the test binary dies (Pdeathsig). The channel closes when it exits.
func startDaemon(t *testing.T, logPath string, name string, args ...string) (*exec.Cmd, <-chan struct{}) {
	t.Helper()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	logf.Close()
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	return cmd, done
}

// waitSocket waits until a daemon listens on sock, failing with its log.
func waitSocket(t *testing.T, sock string, done <-chan struct{}, logPath string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			log, _ := os.ReadFile(logPath)
			t.Fatalf("daemon exited before listening on %s; log:\n%s", sock, tail(string(log), 4000))
		default:
		}
		if fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0); err == nil {
			err = unix.Connect(fd, &unix.SockaddrUnix{Name: sock})
			unix.Close(fd)
			if err == nil {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _ := os.ReadFile(logPath)
	t.Fatalf("no daemon listening on %s after 30s; log:\n%s", sock, tail(string(log), 4000))
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// dumpOnFailure logs the tail of a daemon's log if t failed.
func dumpOnFailure(t *testing.T, name, logPath string) {
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(logPath)
			t.Logf("%s log (tail):\n%s", name, tail(string(log), 6000))
		}
	})
}

// busyboxRootfs returns a directory holding busybox-static and its
// applets, /etc/passwd and /etc/group.
func busyboxRootfs(t *testing.T) string {
	t.Helper()
	root := testutil.NewBundle(t).Rootfs()
	os.Remove(filepath.Join(root, "..", "config.json"))
	return root
}

// tarDir writes the tree at dir as an uncompressed tar (symlinks kept,
// owned by root) to w.
func tarDir(dir string, w io.Writer) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if d.Type()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		hdr.Name, hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = rel, 0, 0, "root", "root"
		if d.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if d.Type().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(tw, f)
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// ociImage is one image of an OCI archive.
type ociImage struct {
	Name string   // full reference, e.g. docker.io/library/busybox:e2e
	Cmd  []string // the image config's Cmd
}

// ociArchive writes an OCI image-layout tar at path holding images that
// share one layer, the tree at rootfs. Each is named by the annotation
// `ctr images import` reads.
func ociArchive(t *testing.T, path, rootfs string, images ...ociImage) {
	t.Helper()
	var layer bytes.Buffer
	if err := tarDir(rootfs, &layer); err != nil {
		t.Fatal(err)
	}
	blobs := map[string][]byte{}
	add := func(data []byte) map[string]any {
		sum := sha256.Sum256(data)
		d := "sha256:" + hex.EncodeToString(sum[:])
		blobs[d] = data
		return map[string]any{"digest": d, "size": len(data)}
	}
	mustJSON := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	layerDesc := add(layer.Bytes())
	layerDesc["mediaType"] = "application/vnd.oci.image.layer.v1.tar"
	var manifests []any
	for _, img := range images {
		cfg := add(mustJSON(map[string]any{
			"architecture": "amd64",
			"os":           "linux",
			"config":       map[string]any{"Cmd": img.Cmd, "Env": []string{"PATH=/bin"}, "WorkingDir": "/"},
			"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{layerDesc["digest"].(string)}},
		}))
		cfg["mediaType"] = "application/vnd.oci.image.config.v1+json"
		man := add(mustJSON(map[string]any{
			"schemaVersion": 2,
			"mediaType":     "application/vnd.oci.image.manifest.v1+json",
			"config":        cfg,
			"layers":        []any{layerDesc},
		}))
		man["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
		man["platform"] = map[string]any{"architecture": "amd64", "os": "linux"}
		man["annotations"] = map[string]string{"io.containerd.image.name": img.Name, "org.opencontainers.image.ref.name": img.Name}
		manifests = append(manifests, man)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	write := func(name string, data []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	write("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))
	write("index.json", mustJSON(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests}))
	names := make([]string, 0, len(blobs))
	for d := range blobs {
		names = append(names, d)
	}
	sort.Strings(names)
	for _, d := range names {
		write("blobs/sha256/"+strings.TrimPrefix(d, "sha256:"), blobs[d])
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

// cgroupPath returns pid's cgroup path in the hierarchy of controller
// ("" for the v2 tree) and the hierarchy's mount point.
func cgroupPath(t *testing.T, pid int, controller string) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatalf("reading cgroup of %d: %v", pid, err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == controller {
				mount := "/sys/fs/cgroup/" + controller
				if controller == "" {
					mount = "/sys/fs/cgroup/unified"
				}
				return filepath.Join(mount, parts[2])
			}
		}
	}
	t.Fatalf("pid %d has no %q cgroup in %q", pid, controller, data)
	return ""
}

// readTrim reads a small file and trims it.
func readTrim(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// atoi parses a decimal integer, failing t if it is not one.
func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

// eventually retries f every 50ms until it returns "" or timeout passes,
// then returns its last complaint.
func eventually(timeout time.Duration, f func() string) string {
	deadline := time.Now().Add(timeout)
	for {
		msg := f()
		if msg == "" || time.Now().After(deadline) {
			return msg
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkSandboxChroot checks the minimal root of a runsc sandbox process
// from the host's /proc: root and cwd resolve to /, and the root holds
// exactly proc and runsc.
func checkSandboxChroot(t *testing.T, pid int) {
	t.Helper()
	for _, link := range []string{"root", "cwd"} {
		got, err := os.Readlink(fmt.Sprintf("/proc/%d/%s", pid, link))
		if err != nil {
			t.Fatal(err)
		}
		if got != "/" {
			t.Errorf("sandbox %d %s = %q, want /", pid, link, got)
		}
	}
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/root", pid))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if strings.Join(names, " ") != "proc runsc" {
		t.Errorf("sandbox %d root holds %v, want exactly [proc runsc]", pid, names)
	}
	comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if !strings.HasPrefix(string(comm), "runsc-sandbox") {
		t.Errorf("pid %d is %q, want the runsc-sandbox process", pid, strings.ReplaceAll(string(comm), "\x00", " "))
	}
}

// ownedProcs lists the processes whose command line mentions marker or
// whose cgroup path holds cgroupName: what a test's daemons started.
func ownedProcs(marker, cgroupName string) map[int]string {
	out := map[int]string{}
	self := os.Getpid()
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || len(cmdline) == 0 {
			continue // Gone, or a zombie.
		}
		cg, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
		if strings.Contains(string(cmdline), marker) || (cgroupName != "" && strings.Contains(string(cg), cgroupName)) {
			out[pid] = strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
	return out
}

// auditProcs fails t if, once everything else is torn down, a process of
// its daemons (see ownedProcs) is still alive; such processes are killed.
// Registered before the daemons start, it runs after they stop.
func auditProcs(t *testing.T, marker, cgroupName string) {
	t.Cleanup(func() {
		var left map[int]string
		eventually(5*time.Second, func() string {
			if left = ownedProcs(marker, cgroupName); len(left) > 0 {
				return "left"
			}
			return ""
		})
		for pid, cmdline := range left {
			t.Errorf("process left behind (killed now): %d %s", pid, cmdline)
			syscall.Kill(pid, syscall.SIGKILL)
		}
		if len(left) > 0 {
			time.Sleep(200 * time.Millisecond)
		}
	})
}
