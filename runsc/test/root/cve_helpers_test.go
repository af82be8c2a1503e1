//go:build root

package root

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"runsc.dev/runsc/runsc/test/testutil"
)

// needExec skips t until `runsc exec` exists.
func needExec(t *testing.T, r *testutil.Runtime) {
	t.Helper()
	res := r.Run(t, "exec")
	out := res.Stdout + res.Stderr
	if strings.Contains(out, "not understood") || strings.Contains(out, "unknown command") || strings.Contains(out, "Usage: runsc <flags> <subcommand>") {
		t.Skip("needs exec")
	}
}

// fileSHA256 returns the hex sha256 of the file at p.
func fileSHA256(t *testing.T, p string) string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// treeDigest describes everything under dir (names, types, modes, sizes,
// link targets, contents, mtimes): two equal digests mean the tree was not
// touched.
func treeDigest(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		line := fmt.Sprintf("%s %v %d %d", rel, fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			line += " -> " + target
		case fi.Mode().IsRegular():
			line += " " + fileSHA256(t, p)
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// canaryDir makes a host directory holding one file, outside any bundle.
func canaryDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "canary"), []byte("untouched\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// canaryFile makes a host file with known content.
func canaryFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "canary-file")
	if err := os.WriteFile(p, []byte("host file, must stay byte-identical\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// readPidFile reads a pid file.
func readPidFile(t *testing.T, p string) int {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("pid file %q: %v", data, err)
	}
	return pid
}

// childPids returns the PIDs whose parent is pid.
func childPids(t *testing.T, pid int) []int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, f := range strings.Fields(string(data)) {
		n, _ := strconv.Atoi(f)
		out = append(out, n)
	}
	return out
}

// descendants returns every process under pid (not pid itself).
// runscTree returns the sandbox, the gofer (its sibling, init's parent)
// and their descendants, init included: every process of container id.
func runscTree(t *testing.T, r *testutil.Runtime, id string, sandbox int) []int {
	t.Helper()
	gofer, _ := goferAndInit(t, r, id)
	return append(append([]int{sandbox, gofer}, descendants(t, sandbox)...), descendants(t, gofer)...)
}

func descendants(t *testing.T, pid int) []int {
	t.Helper()
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", p, p))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(data)) {
			n, _ := strconv.Atoi(f)
			out = append(out, n)
			queue = append(queue, n)
		}
	}
	return out
}

// procStatus returns field key of /proc/<pid>/status.
func procStatus(t *testing.T, pid int, key string) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	return statusLine(string(data), key)
}

// statusLine returns the value of key in a /proc/*/status text, or "".
func statusLine(status, key string) string {
	for _, l := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(l, key+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// createBundle creates a container from b with a pid file, registering a
// forced delete, and returns the sandbox PID.
func createBundle(t *testing.T, r *testutil.Runtime, b *testutil.Bundle, id string) int {
	t.Helper()
	pidFile := filepath.Join(b.Dir, "pid-"+id)
	t.Cleanup(func() { r.Run(t, "delete", "--force", id) })
	r.MustRun(t, "create", "--bundle", b.Dir, "--pid-file", pidFile, id)
	return readPidFile(t, pidFile)
}

// waitFor polls state until id has status want.
func waitFor(t *testing.T, r *testutil.Runtime, id, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if st := r.State(t, id); string(st.Status) == want {
			return
		} else if time.Now().After(deadline) {
			t.Fatalf("%s: status %q, want %q", id, st.Status, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// specMemfds lists the host fds that are runsc's spec memfd, held by
// processes whose command line names root (runsc passes --root to its
// children): other runtimes' containers on the host hold theirs.
func specMemfds(root string) []string {
	var out []string
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		if _, err := strconv.Atoi(p.Name()); err != nil {
			continue
		}
		if cmdline, err := os.ReadFile(filepath.Join("/proc", p.Name(), "cmdline")); err != nil || !strings.Contains(string(cmdline), root) {
			continue
		}
		fds, _ := os.ReadDir(filepath.Join("/proc", p.Name(), "fd"))
		for _, fd := range fds {
			target, _ := os.Readlink(filepath.Join("/proc", p.Name(), "fd", fd.Name()))
			if strings.HasPrefix(target, "/memfd:runsc-spec") {
				out = append(out, p.Name()+"/"+fd.Name())
			}
		}
	}
	return out
}

// runCmd is testutil.RunCmd.
func runCmd(t *testing.T, cmd *exec.Cmd, timeout time.Duration) testutil.Result {
	t.Helper()
	return testutil.RunCmd(t, cmd, timeout)
}

// capBits names the capabilities by bit number.
var capBits = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"}

// capNames decodes a /proc status capability mask, leaving out except.
func capNames(t *testing.T, hexMask string, except string) []string {
	t.Helper()
	mask, err := strconv.ParseUint(hexMask, 16, 64)
	if err != nil {
		t.Fatalf("capability mask %q: %v", hexMask, err)
	}
	var out []string
	for i, name := range capBits {
		if mask&(1<<i) != 0 && name != except {
			out = append(out, name)
		}
	}
	return out
}

// knownBug skips t for a bug the test found and that is reported, unless
// RUNSC_STRICT=1: the skip names the fix; delete the call once it lands.
func knownBug(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("RUNSC_STRICT") == "1" {
		t.Errorf("known bug: "+format, args...)
		return
	}
	t.Skipf("known bug, needs a fix: "+format, args...)
}
