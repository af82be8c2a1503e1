//go:build root

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"runsc.dev/runsc/runsc/test/testutil"
)

// dockerImage is the image every docker test runs: busybox-static, made by
// `docker import` of a rootfs the test builds.
const dockerImage = "busybox:e2e"

// dockerd is a Docker daemon private to one test: its own data root, exec
// root, socket, cgroup parent and daemon.json (made by `runsc install`).
type dockerd struct {
	dir, sock, config string
	// cgroupParent holds every container's cgroup.
	cgroupParent string
	cmd          *exec.Cmd
	env          []string
}

// startDockerd starts a dockerd with runsc registered through `runsc
// install`, imports dockerImage, and registers the teardown: containers
// removed, daemon stopped, mounts and cgroups checked and removed.
func startDockerd(t *testing.T) *dockerd {
	t.Helper()
	requireTools(t, "docker.io", "dockerd", "docker")
	runsc := testutil.Binary(t)
	dir := scratchDir(t)
	d := &dockerd{
		dir:          dir,
		sock:         filepath.Join(dir, "docker.sock"),
		config:       filepath.Join(dir, "daemon.json"),
		cgroupParent: uniqueName("runsc-e2e-docker-"),
	}
	cleanupCgroups(t, d.cgroupParent)
	auditProcs(t, dir, d.cgroupParent)
	d.env = append(os.Environ(), "DOCKER_HOST=unix://"+d.sock, "DOCKER_CONFIG="+filepath.Join(dir, "client"))

	// Settings for this sandboxed host (no bridge, no iptables rules) come
	// first; `runsc install` must keep them.
	base := fmt.Sprintf(`{"bridge": "none", "iptables": false, "ip-masq": false, "cgroup-parent": "/%s",
		"exec-opts": ["native.cgroupdriver=cgroupfs"], "log-driver": "json-file"}`, d.cgroupParent)
	if err := os.WriteFile(d.config, []byte(base), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := runCmd(t, time.Minute, exec.Command(runsc, "install", "--config-file", d.config)); res.Code != 0 {
		t.Fatalf("runsc install: %v", res)
	}
	logPath := filepath.Join(dir, "dockerd.log")
	dumpOnFailure(t, "dockerd", logPath)
	cmd, done := startDaemon(t, logPath, "dockerd",
		"--config-file", d.config,
		"--data-root", filepath.Join(dir, "data"),
		"--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "dockerd.pid"),
		"-H", "unix://"+d.sock)
	d.cmd = cmd
	t.Cleanup(func() { stopDaemon(t, cmd, done, "dockerd") })
	t.Cleanup(d.removeAll)
	waitSocket(t, d.sock, done, logPath)

	rootfs := busyboxRootfs(t)
	imp := exec.Command("docker", "import", "-", dockerImage)
	imp.Env = d.env
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	imp.Stdin = pr
	go func() { tarDir(rootfs, pw); pw.Close() }()
	res := runCmd(t, 2*time.Minute, imp)
	pr.Close()
	if res.Code != 0 {
		t.Fatalf("docker import: %v", res)
	}
	return d
}

// removeAll force-removes every container of the daemon.
func (d *dockerd) removeAll() {
	if ids := strings.Fields(d.try("ps", "-aq")); len(ids) > 0 {
		d.try(append([]string{"rm", "-f"}, ids...)...)
	}
}

// try runs the docker client for teardown: bounded, never failing.
func (d *dockerd) try(args ...string) string {
	return tryCmd(cleanupTimeout, "docker", append([]string{"-H", "unix://" + d.sock}, args...)...)
}

// docker runs the docker client against d.
func (d *dockerd) docker(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command("docker", args...)
	cmd.Env = d.env
	return runCmd(t, clientTimeout, cmd)
}

// must runs the docker client and fails t unless it exits 0.
func (d *dockerd) must(t *testing.T, args ...string) string {
	t.Helper()
	res := d.docker(t, args...)
	if res.Code != 0 {
		t.Fatalf("docker %s: %v", strings.Join(args, " "), res)
	}
	return res.Stdout
}

// runDetached starts a container of runtime rt running args and removes it
// when t ends; it returns the container id.
func (d *dockerd) runDetached(t *testing.T, rt string, args ...string) string {
	t.Helper()
	id := strings.TrimSpace(d.must(t, append([]string{"run", "-d", "--runtime=" + rt, dockerImage}, args...)...))
	t.Cleanup(func() { d.try("rm", "-f", id) })
	return id
}

// inspect returns one field of docker inspect, given as a Go template.
func (d *dockerd) inspect(t *testing.T, id, format string) string {
	t.Helper()
	return strings.TrimSpace(d.must(t, "inspect", "-f", format, id))
}

// pid returns the container's .State.Pid: runc's container init, runsc's
// sandbox (the pid-file process).
func (d *dockerd) pid(t *testing.T, id string) int {
	t.Helper()
	pid := atoi(t, d.inspect(t, id, "{{.State.Pid}}"))
	if pid <= 0 {
		t.Fatalf("container %s has pid %d", id, pid)
	}
	return pid
}

// sleeper is a container process that exits 143 on SIGTERM.
var sleeper = []string{"sh", "-c", `trap "exit 143" TERM; echo started; while :; do sleep 0.1; done`}

// waitLog waits until the container's log holds want.
func (d *dockerd) waitLog(t *testing.T, id, want string, count int) {
	t.Helper()
	if msg := eventually(15*time.Second, func() string {
		res := d.docker(t, "logs", id)
		if n := strings.Count(res.Stdout, want); n < count {
			return fmt.Sprintf("docker logs %s holds %q %d times, want %d: %v", id, want, n, count, res)
		}
		return ""
	}); msg != "" {
		t.Fatal(msg)
	}
}

// dockerFlows are the flows run against each runtime. The names say which
// runsc commands they rely on.
var dockerFlows = []struct {
	name string
	run  func(t *testing.T, d *dockerd, rt string)
}{
	{"run_rm_output_and_exit_codes", dockerRunRm},
	{"kill_137", dockerKill},
	{"stop_143", dockerStop},
	{"logs", dockerLogs},
	{"rm_f", dockerRmF},
	{"restart", dockerRestart},
	{"stats_cgroup", dockerStats},
	{"exec(runsc_exec)", dockerExec},
	{"exec_tty(runsc_exec_console)", dockerExecTTY},
	{"top(runsc_ps)", dockerTop},
	{"pause_unpause(runsc_pause_resume)", dockerPause},
	{"update_memory(runsc_update)", dockerUpdate},
}

// TestDocker runs every docker flow against runc (the reference) and runsc,
// through one private dockerd.
func TestDocker(t *testing.T) {
	d := startDockerd(t)
	info := d.must(t, "info", "--format", "{{json .Runtimes}}")
	if !strings.Contains(info, `"runsc"`) {
		t.Fatalf("runsc is not among dockerd's runtimes after runsc install: %s", info)
	}
	t.Logf("docker %s", strings.TrimSpace(d.must(t, "version", "--format", "{{.Server.Version}}")))
	for _, rt := range runtimes {
		t.Run(rt, func(t *testing.T) {
			for _, f := range dockerFlows {
				t.Run(f.name, func(t *testing.T) { f.run(t, d, rt) })
			}
		})
	}
	t.Run("runsc/chroot", func(t *testing.T) { dockerChroot(t, d) })
}

func dockerRunRm(t *testing.T, d *dockerd, rt string) {
	for _, c := range []struct {
		args           []string
		stdout, stderr string
		code           int
	}{
		{[]string{"echo", "hello"}, "hello\n", "", 0},
		{[]string{"sh", "-c", "echo out; echo err >&2; exit 3"}, "out\n", "err\n", 3},
		// PID 1 ignores signals it has no handler for, even SIGKILL from
		// inside its namespace.
		{[]string{"sh", "-c", "kill -9 $$; echo survived"}, "survived\n", "", 0},
		{[]string{"cat", "/proc/1/cmdline"}, "cat\x00/proc/1/cmdline\x00", "", 0},
		{[]string{"id", "-u"}, "0\n", "", 0},
	} {
		res := d.docker(t, append([]string{"run", "--rm", "--runtime=" + rt, dockerImage}, c.args...)...)
		if res.Code != c.code || res.Stdout != c.stdout || res.Stderr != c.stderr {
			t.Errorf("docker run --rm %q: got %v\nwant exit %d, stdout %q, stderr %q", c.args, res, c.code, c.stdout, c.stderr)
		}
	}
	// A missing binary fails as with runc: exit 127 and a message.
	res := d.docker(t, "run", "--rm", "--runtime="+rt, dockerImage, "/no/such/binary")
	if res.Code != 127 || !strings.Contains(res.Stderr, "no such file or directory") {
		t.Errorf("docker run of a missing binary: %v\nwant exit 127 and 'no such file or directory'", res)
	}
}

func dockerKill(t *testing.T, d *dockerd, rt string) {
	id := d.runDetached(t, rt, "sleep", "1000")
	pid := d.pid(t, id)
	d.must(t, "kill", id)
	if got := strings.TrimSpace(d.must(t, "wait", id)); got != "137" {
		t.Errorf("docker wait after docker kill = %s, want 137", got)
	}
	if got := d.inspect(t, id, "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 137" {
		t.Errorf("state after kill %q, want exited 137", got)
	}
	if !waitGone(pid, 5*time.Second) {
		t.Errorf("pid %d still alive after docker kill", pid)
	}
}

func dockerStop(t *testing.T, d *dockerd, rt string) {
	id := d.runDetached(t, rt, sleeper...)
	d.waitLog(t, id, "started", 1)
	d.must(t, "stop", "-t", "30", id)
	if got := d.inspect(t, id, "{{.State.Status}} {{.State.ExitCode}}"); got != "exited 143" {
		t.Errorf("state after docker stop %q, want exited 143 (the trap ran)", got)
	}
}

func dockerLogs(t *testing.T, d *dockerd, rt string) {
	id := d.runDetached(t, rt, "sh", "-c", "echo one; echo two >&2; echo three")
	if got := strings.TrimSpace(d.must(t, "wait", id)); got != "0" {
		t.Errorf("docker wait = %s, want 0", got)
	}
	res := d.docker(t, "logs", id)
	if res.Code != 0 || res.Stdout != "one\nthree\n" || res.Stderr != "two\n" {
		t.Errorf("docker logs: %v\nwant stdout one,three and stderr two", res)
	}
}

func dockerRmF(t *testing.T, d *dockerd, rt string) {
	id := d.runDetached(t, rt, "sleep", "1000")
	pid := d.pid(t, id)
	d.must(t, "rm", "-f", id)
	if !waitGone(pid, 10*time.Second) {
		t.Errorf("pid %d still alive after docker rm -f", pid)
	}
	if out := d.must(t, "ps", "-aq", "--no-trunc"); strings.Contains(out, id) {
		t.Errorf("container %s still listed after rm -f: %s", id, out)
	}
}

func dockerRestart(t *testing.T, d *dockerd, rt string) {
	id := d.runDetached(t, rt, sleeper...)
	d.waitLog(t, id, "started", 1)
	pid := d.pid(t, id)
	d.must(t, "restart", "-t", "30", id)
	d.waitLog(t, id, "started", 2)
	if got := d.inspect(t, id, "{{.State.Status}}"); got != "running" {
		t.Errorf("state after restart %q, want running", got)
	}
	if pid2 := d.pid(t, id); pid2 == pid {
		t.Errorf("pid %d unchanged after restart", pid)
	}
	if !waitGone(pid, 5*time.Second) {
		t.Errorf("old pid %d still alive after restart", pid)
	}
}

func dockerStats(t *testing.T, d *dockerd, rt string) {
	id := d.runDetached(t, rt, sleeper...)
	d.waitLog(t, id, "started", 1)
	pid := d.pid(t, id)
	// The shim reads stats from the cgroup of the pid-file process: it must
	// be the container's cgroup, under the daemon's cgroup parent.
	if cg := cgroupPath(t, pid, "memory"); !strings.Contains(cg, "/"+d.cgroupParent+"/") || !strings.HasSuffix(cg, id) {
		t.Errorf("pid %d is in memory cgroup %s, want /%s/%s", pid, cg, d.cgroupParent, id)
	}
	out := d.must(t, "stats", "--no-stream", "--format", "{{.PIDs}}|{{.MemUsage}}", id)
	pids, mem, _ := strings.Cut(strings.TrimSpace(out), "|")
	if n := atoi(t, pids); n < 2 {
		t.Errorf("docker stats PIDs = %d, want >= 2 (sh and sleep)", n)
	}
	if strings.HasPrefix(mem, "0B") {
		t.Errorf("docker stats memory usage %q, want > 0", mem)
	}
}

func dockerExec(t *testing.T, d *dockerd, rt string) {
	id := d.runDetached(t, rt, "sleep", "1000")
	if res := d.docker(t, "exec", id, "echo", "hi"); res.Code != 0 || res.Stdout != "hi\n" {
		t.Errorf("docker exec echo hi: %v", res)
	}
	if res := d.docker(t, "exec", id, "sh", "-c", "echo err >&2; exit 5"); res.Code != 5 || res.Stderr != "err\n" {
		t.Errorf("docker exec exit 5: %v\nwant exit 5 and stderr err", res)
	}
	// The exec'd process shares the container's pid namespace, root and
	// hostname.
	if res := d.docker(t, "exec", id, "cat", "/proc/1/cmdline"); res.Stdout != "sleep\x001000\x00" {
		t.Errorf("docker exec cat /proc/1/cmdline: %v", res)
	}
	host := d.inspect(t, id, "{{.Config.Hostname}}")
	if res := d.docker(t, "exec", id, "hostname"); strings.TrimSpace(res.Stdout) != host {
		t.Errorf("docker exec hostname: %v, want %s", res, host)
	}
	if res := d.docker(t, "exec", "-u", "65534:65534", "-w", "/tmp", "-e", "X=y", id, "sh", "-c", `echo $(id -u):$(id -g):$PWD:$X`); strings.TrimSpace(res.Stdout) != "65534:65534:/tmp:y" {
		t.Errorf("docker exec -u -w -e: %v, want 65534:65534:/tmp:y", res)
	}
	if res := d.docker(t, "exec", id, "/no/such/binary"); res.Code != 126 && res.Code != 127 {
		t.Errorf("docker exec of a missing binary: %v, want exit 126 or 127", res)
	}
	// A detached exec runs on after the client returns.
	d.must(t, "exec", "-d", id, "sh", "-c", "echo detached > /tmp/d")
	if msg := eventually(10*time.Second, func() string {
		if res := d.docker(t, "exec", id, "cat", "/tmp/d"); res.Stdout != "detached\n" {
			return fmt.Sprintf("docker exec -d did not run: %v", res)
		}
		return ""
	}); msg != "" {
		t.Error(msg)
	}
}

func dockerExecTTY(t *testing.T, d *dockerd, rt string) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script (util-linux) is not installed")
	}
	id := d.runDetached(t, rt, "sleep", "1000")
	cmd := exec.Command("script", "-qec", "docker exec -it "+id+" sh -c 'tty; stty size; echo tty-ok; exit 4'", "/dev/null")
	cmd.Env = d.env
	res := runCmd(t, clientTimeout, cmd)
	if res.Code != 4 || !strings.Contains(res.Stdout, "/dev/pts/") || !strings.Contains(res.Stdout, "tty-ok") {
		t.Errorf("docker exec -it under script: %v\nwant exit 4, a /dev/pts tty and tty-ok", res)
	}
}

func dockerTop(t *testing.T, d *dockerd, rt string) {
	id := d.runDetached(t, rt, "sleep", "1000")
	res := d.docker(t, "top", id, "-o", "pid,args")
	if res.Code != 0 || !strings.Contains(res.Stdout, "sleep 1000") {
		t.Fatalf("docker top: %v\nwant a line with sleep 1000", res)
	}
	// Every PID listed is a host process of the container.
	for _, l := range strings.Split(strings.TrimSpace(res.Stdout), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + f[0] + "/cmdline")
		if err != nil {
			t.Errorf("docker top lists pid %s, not a host process: %v", f[0], err)
		} else if f[1] == "sleep" && string(cmdline) != "sleep\x001000\x00" {
			t.Errorf("docker top pid %s is %q, not sleep 1000", f[0], cmdline)
		}
	}
}

func dockerPause(t *testing.T, d *dockerd, rt string) {
	id := d.runDetached(t, rt, sleeper...)
	d.waitLog(t, id, "started", 1)
	freezer := filepath.Join(cgroupPath(t, d.pid(t, id), "freezer"), "freezer.state")
	d.must(t, "pause", id)
	if got := d.inspect(t, id, "{{.State.Status}}"); got != "paused" {
		t.Errorf("state after pause %q, want paused", got)
	}
	if got := readTrim(t, freezer); got != "FROZEN" {
		t.Errorf("%s = %s after pause, want FROZEN", freezer, got)
	}
	d.must(t, "unpause", id)
	if got := d.inspect(t, id, "{{.State.Status}}"); got != "running" {
		t.Errorf("state after unpause %q, want running", got)
	}
	if got := readTrim(t, freezer); got != "THAWED" {
		t.Errorf("%s = %s after unpause, want THAWED", freezer, got)
	}
	d.must(t, "stop", "-t", "30", id)
	if got := d.inspect(t, id, "{{.State.ExitCode}}"); got != "143" {
		t.Errorf("exit code after unpause and stop %s, want 143", got)
	}
}

func dockerUpdate(t *testing.T, d *dockerd, rt string) {
	id := d.runDetached(t, rt, "sleep", "1000")
	limit := filepath.Join(cgroupPath(t, d.pid(t, id), "memory"), "memory.limit_in_bytes")
	d.must(t, "update", "--memory", "64m", "--memory-swap", "128m", id)
	if got := readTrim(t, limit); got != "67108864" {
		t.Errorf("%s = %s after docker update --memory 64m, want 67108864", limit, got)
	}
	if got := d.inspect(t, id, "{{.HostConfig.Memory}}"); got != "67108864" {
		t.Errorf("HostConfig.Memory = %s, want 67108864", got)
	}
	d.must(t, "update", "--pids-limit", "50", id)
	pidsMax := filepath.Join(cgroupPath(t, d.pid(t, id), "pids"), "pids.max")
	if got := readTrim(t, pidsMax); got != "50" {
		t.Errorf("%s = %s after docker update --pids-limit 50, want 50", pidsMax, got)
	}
}

// dockerChroot is gVisor's TestChroot through Docker: the PID docker
// inspect reports is runsc's sandbox, confined to its minimal root.
func dockerChroot(t *testing.T, d *dockerd) {
	id := d.runDetached(t, "runsc", "sleep", "1000")
	checkSandboxChroot(t, d.pid(t, id))
}

// TestDockerInstall checks runsc install and uninstall against a live
// dockerd: a runtime with runtime args appears after SIGHUP, runs
// containers, and disappears after uninstall and SIGHUP.
func TestDockerInstall(t *testing.T) {
	d := startDockerd(t)
	runsc := testutil.Binary(t)
	name := "runsc-debug"
	debugDir := filepath.Join(d.dir, "debug") + "/"
	if err := os.Mkdir(debugDir, 0o755); err != nil {
		t.Fatal(err)
	}
	res := runCmd(t, time.Minute, exec.Command(runsc, "install", "--config-file", d.config, "--runtime", name, "--", "--debug", "--debug-log="+debugDir))
	if res.Code != 0 || !strings.Contains(res.Stdout, "SIGHUP") && !strings.Contains(res.Stdout, "-HUP") {
		t.Fatalf("runsc install: %v\nwant success and a reload hint", res)
	}
	runtimesOf := func() map[string]any {
		var rts map[string]any
		out := d.must(t, "info", "--format", "{{json .Runtimes}}")
		if err := json.Unmarshal([]byte(out), &rts); err != nil {
			t.Fatalf("docker info runtimes %q: %v", out, err)
		}
		return rts
	}
	reload := func(want bool) {
		t.Helper()
		if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		if msg := eventually(10*time.Second, func() string {
			if _, ok := runtimesOf()[name]; ok != want {
				return fmt.Sprintf("runtime %s present=%v after SIGHUP, want %v", name, ok, want)
			}
			return ""
		}); msg != "" {
			t.Fatal(msg)
		}
	}
	reload(true)
	if res := d.docker(t, "run", "--rm", "--runtime="+name, dockerImage, "echo", "installed"); res.Code != 0 || res.Stdout != "installed\n" {
		t.Errorf("docker run --runtime=%s: %v", name, res)
	}
	// The runtime args reached runsc: it wrote debug logs.
	if entries, _ := os.ReadDir(debugDir); len(entries) == 0 {
		t.Errorf("no debug logs in %s: runtimeArgs were not passed", debugDir)
	}
	res = runCmd(t, time.Minute, exec.Command(runsc, "uninstall", "--config-file", d.config, "--runtime", name))
	if res.Code != 0 {
		t.Fatalf("runsc uninstall: %v", res)
	}
	reload(false)
	if _, ok := runtimesOf()["runsc"]; !ok {
		t.Errorf("uninstall of %s removed the runsc runtime too", name)
	}
	data, _ := os.ReadFile(d.config)
	for _, key := range []string{`"bridge"`, `"cgroup-parent"`, `"exec-opts"`, `"runsc"`} {
		if !strings.Contains(string(data), key) {
			t.Errorf("daemon.json lost %s:\n%s", key, data)
		}
	}
}
