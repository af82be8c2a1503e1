//go:build root

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// crictlVersion is the cri-tools release built when crictl is not in $PATH.
const crictlVersion = "v1.34.0"

var (
	crictlOnce sync.Once
	crictlPath string
	crictlErr  error
)

// crictl returns a crictl binary: $CRICTL, one in $PATH, or one built once
// per machine into the user cache dir through the Go module proxy.
func crictl(t *testing.T) string {
	t.Helper()
	crictlOnce.Do(func() {
		if p := os.Getenv("CRICTL"); p != "" {
			crictlPath = p
			return
		}
		if p, err := exec.LookPath("crictl"); err == nil {
			crictlPath = p
			return
		}
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		bin := filepath.Join(cache, "runsc-e2e", "crictl-"+crictlVersion)
		crictlPath = filepath.Join(bin, "crictl")
		if _, err := os.Stat(crictlPath); err == nil {
			return
		}
		cmd := exec.Command("go", "install", "sigs.k8s.io/cri-tools/cmd/crictl@"+crictlVersion)
		cmd.Env = append(os.Environ(), "GOBIN="+bin, "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			crictlErr = fmt.Errorf("go install crictl@%s: %v\n%s", crictlVersion, err, out)
		}
	})
	if crictlErr != nil {
		t.Skipf("no crictl: %v", crictlErr)
	}
	return crictlPath
}

// cri drives a containerd's CRI plugin through crictl.
type cri struct {
	c      *containerd
	bin    string
	config string
}

// newCRI returns a crictl client of c, with a CNI bridge network private
// to the test (no masquerading: no iptables rules are made).
func newCRI(t *testing.T, c *containerd) *cri {
	t.Helper()
	bridge := uniqueName("e2e")
	conflist := fmt.Sprintf(`{"cniVersion": "1.0.0", "name": %q, "plugins": [
		{"type": "bridge", "bridge": %q, "isGateway": false, "ipMasq": false,
		 "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.250.77.0/24"}]], "dataDir": %q}}]}`,
		bridge, bridge, filepath.Join(c.dir, "cni-ipam"))
	if err := os.WriteFile(filepath.Join(c.cniConf, "10-e2e.conflist"), []byte(conflist), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if exec.Command("ip", "link", "show", bridge).Run() == nil {
			tryCmd(cleanupTimeout, "ip", "link", "del", bridge)
		}
	})
	r := &cri{c: c, bin: crictl(t), config: filepath.Join(c.dir, "crictl.yaml")}
	cfg := fmt.Sprintf("runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\ntimeout: 60\n", c.sock, c.sock)
	if err := os.WriteFile(r.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	// Pods are removed before containerd stops.
	t.Cleanup(func() { tryCmd(2*cleanupTimeout, r.bin, "--config", r.config, "rmp", "--all", "--force") })
	return r
}

// run runs crictl.
func (r *cri) run(t *testing.T, args ...string) result {
	t.Helper()
	return runCmd(t, clientTimeout, exec.Command(r.bin, append([]string{"--config", r.config}, args...)...))
}

// must runs crictl and fails t unless it exits 0; it returns stdout,
// trimmed.
func (r *cri) must(t *testing.T, args ...string) string {
	t.Helper()
	res := r.run(t, args...)
	if res.Code != 0 {
		t.Fatalf("crictl %s: %v", strings.Join(args, " "), res)
	}
	return strings.TrimSpace(res.Stdout)
}

// writeJSON writes v as JSON to dir/name and returns the path.
func writeJSON(t *testing.T, dir, name string, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// netnsEntries lists /run/netns, where CRI pins pod network namespaces.
func netnsEntries() map[string]bool {
	out := map[string]bool{}
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		out[e.Name()] = true
	}
	return out
}

// nsOf returns the namespace link of pid for kind (net, uts, ipc, pid).
func nsOf(t *testing.T, pid int, kind string) string {
	t.Helper()
	l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, kind))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestCRI runs a pod through containerd's CRI plugin with crictl for each
// runtime handler: runp, create, start, exec, logs, stop, rm, stopp, rmp.
func TestCRI(t *testing.T) {
	c := startContainerd(t)
	r := newCRI(t, c)
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip (iproute2) is not installed")
	}
	before := netnsEntries()
	for _, rt := range runtimes {
		t.Run(rt+"/pod(runsc_exec)", func(t *testing.T) { criPod(t, r, rt) })
	}
	for n := range netnsEntries() {
		if !before[n] {
			t.Errorf("network namespace /run/netns/%s left behind", n)
		}
	}
}

// inspect decodes `crictl inspect[p] id` and returns its info.pid and
// status.
func (r *cri) inspect(t *testing.T, verb, id string) (pid int, status map[string]any) {
	t.Helper()
	var out struct {
		Status map[string]any `json:"status"`
		Info   struct {
			Pid int `json:"pid"`
		} `json:"info"`
	}
	if err := json.Unmarshal([]byte(r.must(t, verb, "-o", "json", id)), &out); err != nil {
		t.Fatalf("crictl %s %s: %v", verb, id, err)
	}
	return out.Info.Pid, out.Status
}

func criPod(t *testing.T, r *cri, rt string) {
	dir := t.TempDir()
	uid := uniqueName("uid-")
	pod := writeJSON(t, dir, "pod.json", map[string]any{
		"metadata":      map[string]any{"name": "e2e-" + rt, "namespace": "default", "uid": uid, "attempt": 0},
		"hostname":      "e2e-pod",
		"log_directory": filepath.Join(dir, "logs"),
		"linux":         map[string]any{"cgroup_parent": "/" + r.c.cgroupParent + "/pod-" + uid},
	})
	ctr := writeJSON(t, dir, "ctr.json", map[string]any{
		"metadata": map[string]any{"name": "c1"},
		"image":    map[string]any{"image": ctrImage},
		"command":  []string{"sh", "-c", `echo started; trap "exit 0" TERM; while :; do sleep 0.1; done`},
		"log_path": "c1.log",
		"linux":    map[string]any{},
	})

	podID := r.must(t, "runp", "--runtime", rt, pod)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			tryCmd(cleanupTimeout, r.bin, "--config", r.config, "stopp", podID)
			tryCmd(cleanupTimeout, r.bin, "--config", r.config, "rmp", "-f", podID)
		}
	})
	podPid, podStatus := r.inspect(t, "inspectp", podID)
	if podStatus["state"] != "SANDBOX_READY" {
		t.Errorf("pod state %v, want SANDBOX_READY", podStatus["state"])
	}
	if ip, _ := podStatus["network"].(map[string]any)["ip"].(string); !strings.HasPrefix(ip, "10.250.77.") {
		t.Errorf("pod IP %q, want one from the CNI bridge 10.250.77.0/24", ip)
	}

	cid := r.must(t, "create", podID, ctr, pod)
	r.must(t, "start", cid)
	cpid, st := r.inspect(t, "inspect", cid)
	if st["state"] != "CONTAINER_RUNNING" {
		t.Errorf("container state %v, want CONTAINER_RUNNING", st["state"])
	}
	// The container joined the pod's network, UTS, IPC and (CRI's default,
	// NamespaceMode POD) pid namespaces by path.
	for _, kind := range []string{"net", "uts", "ipc", "pid"} {
		if a, b := nsOf(t, podPid, kind), nsOf(t, cpid, kind); a != b {
			t.Errorf("%s namespace: pod %s, container %s; want shared", kind, a, b)
		}
	}
	if msg := eventually(10*time.Second, func() string {
		if res := r.run(t, "logs", cid); !strings.Contains(res.Stdout, "started") {
			return fmt.Sprintf("crictl logs: %v", res)
		}
		return ""
	}); msg != "" {
		t.Error(msg)
	}

	if res := r.run(t, "exec", "-s", cid, "sh", "-c", "hostname; cat /proc/1/cmdline"); res.Code != 0 || !strings.HasPrefix(res.Stdout, "e2e-pod\n/bin/sleep\x001000000\x00") {
		t.Errorf("crictl exec -s: %v\nwant the pod hostname and the pause process as PID 1", res)
	}
	if res := r.run(t, "exec", "-s", cid, "sh", "-c", "exit 3"); res.Code == 0 || !strings.Contains(res.Stderr, "exited with 3") {
		t.Errorf("crictl exec exit 3: %v, want a failure naming exit status 3", res)
	}

	r.must(t, "stop", "--timeout", "30", cid)
	_, st = r.inspect(t, "inspect", cid)
	if st["state"] != "CONTAINER_EXITED" || st["exitCode"] != float64(0) {
		t.Errorf("after crictl stop: state %v exit %v, want CONTAINER_EXITED 0 (the TERM trap ran)", st["state"], st["exitCode"])
	}
	if !waitGone(cpid, 5*time.Second) {
		t.Errorf("container pid %d alive after crictl stop", cpid)
	}
	r.must(t, "rm", cid)
	r.must(t, "stopp", podID)
	_, podStatus = r.inspect(t, "inspectp", podID)
	if podStatus["state"] != "SANDBOX_NOTREADY" {
		t.Errorf("pod state after stopp %v, want SANDBOX_NOTREADY", podStatus["state"])
	}
	if !waitGone(podPid, 5*time.Second) {
		t.Errorf("pod pid %d alive after crictl stopp", podPid)
	}
	r.must(t, "rmp", podID)
	stopped = true
	if out := r.must(t, "pods", "-q"); strings.Contains(out, podID) {
		t.Errorf("pod %s still listed after rmp", podID)
	}
}
