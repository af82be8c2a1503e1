//go:build root

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"runsc.dev/runsc/runsc/test/testutil"
)

// ctrImage is the image the ctr and CRI tests run; its default command
// sleeps, so it also serves as the CRI pause image.
const ctrImage = "docker.io/library/busybox:e2e"

// containerd is a containerd private to one test: its own root, state,
// socket, namespace and cgroup parent, and a CRI plugin whose runtime
// handlers "runc" and "runsc" run Debian's runc and the runsc under test
// through the runc v2 shim.
type containerd struct {
	dir, sock string
	// ns is the containerd namespace of ctr commands.
	ns string
	// cgroupParent holds every container's cgroup.
	cgroupParent string
	// cniConf is the CNI configuration directory ("" for none).
	cniConf string
}

// containerdConfig is containerd's config.toml (version 2, containerd 1.6).
// CAP_SYS_RESOURCE is missing on these hosts: restrict_oom_score_adj keeps
// the CRI plugin from raising oom_score_adj.
const containerdConfig = `version = 2
root = "{{dir}}/root"
state = "{{dir}}/state"
oom_score = 0
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "{{dir}}/containerd.sock"

[ttrpc]
  address = "{{dir}}/containerd.sock.ttrpc"

[debug]
  level = "info"

[plugins."io.containerd.internal.v1.opt"]
  path = "{{dir}}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  restrict_oom_score_adj = true
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  sandbox_image = "{{image}}"
  enable_selinux = false
  disable_apparmor = true

[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  BinaryName = "{{runc}}"
  Root = "{{dir}}/runc-root"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runsc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runsc.options]
  BinaryName = "{{runsc}}"
  Root = "{{dir}}/runsc-root"

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "{{cni}}"
`

// startContainerd starts a private containerd, imports ctrImage into the
// ctr namespace and CRI's k8s.io namespace, and registers the teardown:
// tasks and containers removed, daemon stopped, shims, mounts and cgroups
// checked.
func startContainerd(t *testing.T) *containerd {
	t.Helper()
	requireTools(t, "containerd", "containerd", "ctr")
	runsc := testutil.Binary(t)
	dir := scratchDir(t)
	c := &containerd{
		dir:          dir,
		sock:         filepath.Join(dir, "containerd.sock"),
		ns:           uniqueName("runsc-e2e-"),
		cgroupParent: uniqueName("runsc-e2e-ctr-"),
		cniConf:      filepath.Join(dir, "cni"),
	}
	cleanupCgroups(t, c.cgroupParent)
	// ctr's containers keep their runtime state under the runc shim's
	// default root, per namespace: it must be empty at the end.
	shimRoot := filepath.Join("/run/containerd/runc", c.ns)
	t.Cleanup(func() {
		if entries, _ := os.ReadDir(shimRoot); len(entries) > 0 {
			t.Errorf("runtime state left in %s: %v", shimRoot, entries)
		}
		os.RemoveAll(shimRoot)
	})
	auditProcs(t, dir+"/", c.cgroupParent)
	auditProcs(t, shimRoot, "")
	if err := os.MkdirAll(c.cniConf, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := strings.NewReplacer("{{dir}}", dir, "{{image}}", ctrImage, "{{runc}}", runcBinary, "{{runsc}}", runsc, "{{cni}}", c.cniConf).Replace(containerdConfig)
	confPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "containerd.log")
	dumpOnFailure(t, "containerd", logPath)
	cmd, done := startDaemon(t, logPath, "containerd", "--config", confPath)
	t.Cleanup(func() { stopDaemon(t, cmd, done, "containerd") })
	t.Cleanup(c.removeAll)
	waitSocket(t, c.sock, done, logPath)

	archive := filepath.Join(dir, "image.tar")
	ociArchive(t, archive, busyboxRootfs(t), ociImage{Name: ctrImage, Cmd: []string{"/bin/sleep", "1000000"}})
	for _, ns := range []string{c.ns, "k8s.io"} {
		if res := c.ctrNS(t, ns, "images", "import", archive); res.Code != 0 {
			t.Fatalf("ctr -n %s images import: %v", ns, res)
		}
	}
	return c
}

// removeAll kills and deletes every task and container of the test's
// namespace.
func (c *containerd) removeAll() {
	ctr := c.try
	ids := strings.Fields(ctr("containers", "ls", "-q"))
	for _, id := range ids {
		ctr("tasks", "kill", "-s", "SIGKILL", id)
	}
	for _, id := range ids {
		for i := 0; i < 50; i++ {
			if !strings.Contains(ctr("tasks", "ls"), id) {
				break
			}
			ctr("tasks", "rm", "-f", id)
			time.Sleep(100 * time.Millisecond)
		}
		ctr("containers", "rm", id)
	}
}

// try runs ctr in the test's namespace for teardown: bounded, never
// failing.
func (c *containerd) try(args ...string) string {
	return tryCmd(cleanupTimeout, "ctr", append([]string{"--address", c.sock, "-n", c.ns}, args...)...)
}

// taskRunning reports whether `ctr task ls` lists id as running or paused,
// for teardown.
func (c *containerd) taskRunning(id string) bool {
	for _, l := range strings.Split(c.try("tasks", "ls"), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == id {
			return f[2] == "RUNNING" || f[2] == "PAUSED"
		}
	}
	return false
}

// ctrNS runs ctr against c in namespace ns.
func (c *containerd) ctrNS(t *testing.T, ns string, args ...string) result {
	t.Helper()
	return runCmd(t, clientTimeout, exec.Command("ctr", append([]string{"--address", c.sock, "-n", ns}, args...)...))
}

// ctr runs ctr against c in the test's namespace.
func (c *containerd) ctr(t *testing.T, args ...string) result {
	t.Helper()
	return c.ctrNS(t, c.ns, args...)
}

// must runs ctr and fails t unless it exits 0.
func (c *containerd) must(t *testing.T, args ...string) string {
	t.Helper()
	res := c.ctr(t, args...)
	if res.Code != 0 {
		t.Fatalf("ctr %s: %v", strings.Join(args, " "), res)
	}
	return res.Stdout
}

// taskStatus returns the STATUS column of `ctr task ls` for id, and its
// PID.
func (c *containerd) taskStatus(t *testing.T, id string) (string, int) {
	t.Helper()
	for _, l := range strings.Split(c.must(t, "tasks", "ls"), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == id {
			return f[2], atoi(t, f[1])
		}
	}
	return "", 0
}

// binaryOf maps a runtime name to the binary ctr --runc-binary gets.
func binaryOf(t *testing.T, rt string) string {
	if rt == "runsc" {
		return testutil.Binary(t)
	}
	return runcBinary
}

// ctrFlows are the flows run against each runtime through ctr. The names
// say which runsc commands they rely on.
var ctrFlows = []struct {
	name string
	run  func(t *testing.T, c *containerd, rt string)
}{
	{"run_rm_output_and_exit_code", ctrRunRm},
	{"run_d_kill_rm", ctrKill},
	{"task_exec(runsc_exec)", ctrExec},
	{"task_ps(runsc_ps)", ctrPs},
	{"task_pause_resume(runsc_pause_resume)", ctrPause},
	{"task_metrics_cgroup", ctrMetrics},
}

// TestContainerd runs every ctr flow against runc (the reference) and
// runsc through one private containerd, the runc v2 shim and
// --runc-binary.
func TestContainerd(t *testing.T) {
	c := startContainerd(t)
	t.Logf("%s", strings.TrimSpace(c.must(t, "version")))
	for _, rt := range runtimes {
		t.Run(rt, func(t *testing.T) {
			for _, f := range ctrFlows {
				t.Run(f.name, func(t *testing.T) { f.run(t, c, rt) })
			}
		})
	}
	t.Run("runsc/chroot", func(t *testing.T) {
		id := c.runDetached(t, "runsc", "sleep", "1000")
		_, pid := c.taskStatus(t, id)
		checkSandboxChroot(t, pid)
	})
}

// runDetached starts `ctr run -d` of runtime rt running args, removed when
// t ends; it returns the container id.
func (c *containerd) runDetached(t *testing.T, rt string, args ...string) string {
	t.Helper()
	id := uniqueName(rt + "-")
	cg := "/" + c.cgroupParent + "/" + id
	c.must(t, append([]string{"run", "-d", "--null-io", "--runc-binary", binaryOf(t, rt), "--cgroup", cg, ctrImage, id}, args...)...)
	t.Cleanup(func() {
		c.try("tasks", "kill", "-s", "SIGKILL", id)
		eventually(10*time.Second, func() string {
			if c.taskRunning(id) {
				return "running"
			}
			return ""
		})
		c.try("tasks", "rm", "-f", id)
		c.try("containers", "rm", id)
	})
	if st, pid := c.taskStatus(t, id); st != "RUNNING" || pid <= 0 {
		t.Fatalf("task %s is %q with pid %d after ctr run -d, want RUNNING", id, st, pid)
	}
	return id
}

func ctrRunRm(t *testing.T, c *containerd, rt string) {
	id := uniqueName(rt + "-")
	res := c.ctr(t, "run", "--rm", "--runc-binary", binaryOf(t, rt), "--cgroup", "/"+c.cgroupParent+"/"+id, ctrImage, id, "sh", "-c", "echo out; echo err >&2; exit 3")
	if res.Code != 3 || res.Stdout != "out\n" || res.Stderr != "err\n" {
		t.Errorf("ctr run --rm: %v\nwant exit 3, stdout out, stderr err", res)
	}
	if out := c.must(t, "containers", "ls", "-q"); strings.Contains(out, id) {
		t.Errorf("container %s still listed after ctr run --rm", id)
	}
}

func ctrKill(t *testing.T, c *containerd, rt string) {
	id := c.runDetached(t, rt, "sleep", "1000")
	_, pid := c.taskStatus(t, id)
	c.must(t, "tasks", "kill", "-s", "SIGKILL", id)
	if msg := eventually(10*time.Second, func() string {
		if st, _ := c.taskStatus(t, id); st != "STOPPED" {
			return fmt.Sprintf("task %s is %q after SIGKILL, want STOPPED", id, st)
		}
		return ""
	}); msg != "" {
		t.Fatal(msg)
	}
	if !waitGone(pid, 5*time.Second) {
		t.Errorf("pid %d alive after kill", pid)
	}
	c.must(t, "tasks", "rm", id)
	if st, _ := c.taskStatus(t, id); st != "" {
		t.Errorf("task %s still listed (%s) after ctr task rm", id, st)
	}
	c.must(t, "containers", "rm", id)
}

func ctrExec(t *testing.T, c *containerd, rt string) {
	id := c.runDetached(t, rt, "sleep", "1000")
	res := c.ctr(t, "tasks", "exec", "--exec-id", "e1", id, "sh", "-c", "echo hi; cat /proc/1/cmdline; echo; echo err >&2; exit 4")
	if res.Code != 4 || res.Stdout != "hi\nsleep\x001000\x00\n" || res.Stderr != "err\n" {
		t.Errorf("ctr task exec: %v\nwant exit 4, hi and PID 1's cmdline sleep 1000 on stdout, err on stderr", res)
	}
	if res := c.ctr(t, "tasks", "exec", "--exec-id", "e2", "--user", "65534", id, "id", "-u"); res.Code != 0 || res.Stdout != "65534\n" {
		t.Errorf("ctr task exec --user 65534 id -u: %v", res)
	}
}

func ctrPs(t *testing.T, c *containerd, rt string) {
	id := c.runDetached(t, rt, "sleep", "1000")
	res := c.ctr(t, "tasks", "ps", id)
	if res.Code != 0 {
		t.Fatalf("ctr task ps: %v", res)
	}
	found := false
	for _, l := range strings.Split(strings.TrimSpace(res.Stdout), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + f[0] + "/cmdline")
		if err != nil {
			t.Errorf("ctr task ps lists pid %s, not a host process: %v", f[0], err)
		}
		found = found || string(cmdline) == "sleep\x001000\x00"
	}
	if !found {
		t.Errorf("ctr task ps does not list the host pid of sleep 1000: %v", res)
	}
}

func ctrPause(t *testing.T, c *containerd, rt string) {
	id := c.runDetached(t, rt, "sleep", "1000")
	freezer := filepath.Join("/sys/fs/cgroup/freezer", c.cgroupParent, id, "freezer.state")
	c.must(t, "tasks", "pause", id)
	if st, _ := c.taskStatus(t, id); st != "PAUSED" {
		t.Errorf("task %s is %q after pause, want PAUSED", id, st)
	}
	if got := readTrim(t, freezer); got != "FROZEN" {
		t.Errorf("%s = %s after pause, want FROZEN", freezer, got)
	}
	c.must(t, "tasks", "resume", id)
	if st, _ := c.taskStatus(t, id); st != "RUNNING" {
		t.Errorf("task %s is %q after resume, want RUNNING", id, st)
	}
	if got := readTrim(t, freezer); got != "THAWED" {
		t.Errorf("%s = %s after resume, want THAWED", freezer, got)
	}
}

func ctrMetrics(t *testing.T, c *containerd, rt string) {
	id := c.runDetached(t, rt, "sleep", "1000")
	_, pid := c.taskStatus(t, id)
	// The shim reads metrics from the cgroup of the pid-file process.
	if cg := cgroupPath(t, pid, "memory"); cg != filepath.Join("/sys/fs/cgroup/memory", c.cgroupParent, id) {
		t.Errorf("task pid %d in memory cgroup %s, want /%s/%s", pid, cg, c.cgroupParent, id)
	}
	res := c.ctr(t, "tasks", "metrics", id)
	if res.Code != 0 || !strings.Contains(res.Stdout, "memory.usage_in_bytes") {
		t.Errorf("ctr task metrics: %v", res)
	}
}
