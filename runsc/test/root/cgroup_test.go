//go:build root

package root

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/runsc/test/testutil"
)

// readCgroup reads a file of the container's cgroup in a v1 hierarchy.
func readCgroup(t *testing.T, controller, path, file string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", controller, path, file))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

func requireV1(t *testing.T, controllers ...string) {
	t.Helper()
	for _, c := range controllers {
		if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", c, "cgroup.procs")); err != nil {
			t.Skipf("no v1 %s hierarchy on this host", c)
		}
	}
}

// TestCgroupLifecycle: resources set at create are in the cgroup files;
// the sandbox (pid-file process), the gofer and the container's processes
// are all in cgroup.procs; update changes limits and a bad update leaves
// them alone; pause freezes every process; delete removes the cgroup.
func TestCgroupLifecycle(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	requireV1(t, "memory", "pids", "cpu", "freezer")
	r := testutil.NewRuntime(t)
	cgPath := fmt.Sprintf("/runsc-roottest/cg-%d", os.Getpid())
	// delete removes the container's cgroup and, like runc, leaves its
	// parent: the test removes that.
	t.Cleanup(func() {
		dirs, _ := filepath.Glob("/sys/fs/cgroup/*/runsc-roottest")
		for _, d := range dirs {
			os.Remove(d)
		}
	})
	b := testutil.NewBundle(t, "sleep", "1000")
	limit, pids, shares := int64(64<<20), int64(77), uint64(512)
	b.Spec.Linux.CgroupsPath = cgPath
	b.Spec.Linux.Resources = &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: &limit},
		Pids:   &specs.LinuxPids{Limit: &pids},
		CPU:    &specs.LinuxCPU{Shares: &shares},
	}
	b.Save(t)
	pidFile := filepath.Join(b.Dir, "pid")
	r.MustRun(t, "run", "--detach", "--bundle", b.Dir, "--pid-file", pidFile, "cg")
	defer r.Run(t, "delete", "--force", "cg")

	if got := readCgroup(t, "memory", cgPath, "memory.limit_in_bytes"); got != strconv.FormatInt(limit, 10) {
		t.Errorf("memory.limit_in_bytes = %s", got)
	}
	if got := readCgroup(t, "pids", cgPath, "pids.max"); got != "77" {
		t.Errorf("pids.max = %s", got)
	}
	if got := readCgroup(t, "cpu", cgPath, "cpu.shares"); got != "512" {
		t.Errorf("cpu.shares = %s", got)
	}

	// Every runsc process of the container and the container itself.
	data, _ := os.ReadFile(pidFile)
	sandbox, _ := strconv.Atoi(string(data))
	gofer, init := goferAndInit(t, r, "cg")
	for _, ctrl := range []string{"memory", "pids", "cpu", "freezer"} {
		procs := strings.Fields(readCgroup(t, ctrl, cgPath, "cgroup.procs"))
		for _, want := range []int{sandbox, gofer, init} {
			found := false
			for _, p := range procs {
				if p == strconv.Itoa(want) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s cgroup.procs %v lacks pid %d", ctrl, procs, want)
			}
		}
	}

	// update, per flag and as JSON on stdin; a bad value changes nothing.
	r.MustRun(t, "update", "--memory", "128m", "--pids-limit", "99", "cg")
	if got := readCgroup(t, "memory", cgPath, "memory.limit_in_bytes"); got != strconv.Itoa(128<<20) {
		t.Errorf("after update memory.limit_in_bytes = %s", got)
	}
	if got := readCgroup(t, "pids", cgPath, "pids.max"); got != "99" {
		t.Errorf("after update pids.max = %s", got)
	}
	cmd := r.Cmd("update", "--resources", "-", "cg")
	cmd.Stdin = strings.NewReader(`{"cpu":{"shares":1024}}`)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("update --resources -: %v %s", err, out)
	}
	if got := readCgroup(t, "cpu", cgPath, "cpu.shares"); got != "1024" {
		t.Errorf("after update cpu.shares = %s", got)
	}
	if res := r.Run(t, "update", "--cpuset-cpus", "999", "cg"); res.Code == 0 {
		t.Error("update with a CPU that does not exist succeeded")
	}
	if got := readCgroup(t, "pids", cgPath, "pids.max"); got != "99" {
		t.Errorf("a failed update changed pids.max to %s", got)
	}

	// events --stats: runc's JSON shape, with this cgroup's numbers.
	var ev struct {
		Type string `json:"type"`
		ID   string `json:"id"`
		Data struct {
			Pids struct {
				Current uint64 `json:"current"`
				Limit   uint64 `json:"limit"`
			} `json:"pids"`
			Memory struct {
				Usage struct {
					Limit uint64 `json:"limit"`
				} `json:"usage"`
			} `json:"memory"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(r.MustRun(t, "events", "--stats", "cg")), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != "stats" || ev.ID != "cg" || ev.Data.Pids.Limit != 99 || ev.Data.Pids.Current < 3 || ev.Data.Memory.Usage.Limit != 128<<20 {
		t.Errorf("events --stats: %+v", ev)
	}

	// pause freezes every process; resume thaws them.
	r.MustRun(t, "pause", "cg")
	if st := r.State(t, "cg"); st.Status != "paused" {
		t.Errorf("after pause: %s", st.Status)
	}
	if got := readCgroup(t, "freezer", cgPath, "freezer.state"); got != "FROZEN" {
		t.Errorf("freezer.state = %s", got)
	}
	r.MustRun(t, "resume", "cg")
	if st := r.State(t, "cg"); st.Status != "running" {
		t.Errorf("after resume: %s", st.Status)
	}

	r.MustRun(t, "delete", "--force", "cg")
	for _, ctrl := range []string{"memory", "pids", "cpu", "freezer"} {
		if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", ctrl, cgPath)); !os.IsNotExist(err) {
			t.Errorf("%s cgroup left after delete: %v", ctrl, err)
		}
	}
}

// TestExec: exec runs in every namespace of the container, its status is
// exec's, ps lists it, and exec --detach leaves a pid-file process that
// exits with the exec'd process's status.
func TestExec(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	b := testutil.NewBundle(t, "sleep", "1000")
	r.MustRun(t, "run", "--detach", "--bundle", b.Dir, "ex")
	defer r.Run(t, "delete", "--force", "ex")
	init := r.State(t, "ex").Pid

	res := r.Run(t, "exec", "ex", "sh", "-c", "for n in pid net mnt ipc uts cgroup time; do readlink /proc/self/ns/$n; done; exit 4")
	if res.Code != 4 {
		t.Fatalf("exec: %+v", res)
	}
	var want []string
	// Init sends the gofer its namespaces itself (forkedInit.waitReady).
	for _, ns := range []string{"pid", "net", "mnt", "ipc", "uts", "cgroup", "time"} {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", init, ns))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, l)
	}
	if got := strings.Fields(res.Stdout); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("exec namespaces %v, init's %v", got, want)
	}

	// --user and --cwd and --env.
	res = r.Run(t, "exec", "--user", "1000:1001", "--cwd", "/tmp", "--env", "X=y", "ex", "sh", "-c", "id -u; id -g; pwd; echo $X")
	if res.Code != 0 || res.Stdout != "1000\n1001\n/tmp\ny\n" {
		t.Errorf("exec --user --cwd --env: %+v", res)
	}
	// --cap adds to bounding/effective/permitted only (CVE-2022-29162).
	res = r.Run(t, "exec", "--cap", "CAP_SYS_ADMIN", "ex", "grep", "-E", "^Cap(Inh|Amb|Eff)", "/proc/self/status")
	if res.Code != 0 || !strings.Contains(res.Stdout, "CapInh:\t0000000000000000") || !strings.Contains(res.Stdout, "CapAmb:\t0000000000000000") {
		t.Errorf("exec --cap: %+v", res)
	}
	if res := r.Run(t, "exec", "ex", "/no/such/binary"); res.Code != 1 || !strings.Contains(res.Stderr, "/no/such/binary") {
		t.Errorf("exec of a missing binary: %+v", res)
	}

	// As containerd's shim does, become a subreaper: the pid-file process
	// of exec --detach is then ours to reap, with its exit status.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	defer unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
	pidFile := filepath.Join(b.Dir, "exec.pid")
	r.MustRun(t, "exec", "--detach", "--pid-file", pidFile, "ex", "sh", "-c", "sleep 0.3; exit 9")
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	proxy, _ := strconv.Atoi(string(data))
	var pids []int
	if err := json.Unmarshal([]byte(r.MustRun(t, "ps", "--format", "json", "ex")), &pids); err != nil {
		t.Fatal(err)
	}
	sort.Ints(pids)
	if len(pids) < 2 || pids[0] != init && !contains(pids, init) {
		t.Errorf("ps: %v (init %d)", pids, init)
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(proxy, &ws, 0, nil); err != nil {
		t.Fatalf("reaping the pid-file process %d: %v", proxy, err)
	}
	if ws.ExitStatus() != 9 {
		t.Errorf("pid-file process exited with %v, want 9", ws)
	}
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
