//go:build root

package root

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"runsc.dev/runsc/runsc/specutils"
	"runsc.dev/runsc/runsc/test/testutil"
)

// The rootless tests run runsc as nobody (65534, no groups), through
// setpriv, with a private XDG_RUNTIME_DIR: state lands in
// $XDG_RUNTIME_DIR/runsc, and every runsc process is unprivileged.

const nobodyID = 65534

// unprivileged is runsc run as nobody, from a copy of the binary nobody
// can read, with state under a fresh XDG_RUNTIME_DIR.
type unprivileged struct {
	bin, xdg string
}

func newUnprivileged(t *testing.T) *unprivileged {
	t.Helper()
	testutil.RequireRoot(t)
	if b, err := os.ReadFile("/proc/sys/user/max_user_namespaces"); err != nil || strings.TrimSpace(string(b)) == "0" {
		t.Skip("user namespaces are disabled (user.max_user_namespaces)")
	}
	if b, err := os.ReadFile("/proc/sys/kernel/unprivileged_userns_clone"); err == nil && strings.TrimSpace(string(b)) == "0" {
		t.Skip("unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone)")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("setpriv is not installed")
	}
	dir, err := os.MkdirTemp("/var/tmp", "runsc-rootless-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "runsc")
	data, err := os.ReadFile(testutil.Binary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	u := &unprivileged{bin: bin, xdg: filepath.Join(dir, "xdg")}
	for _, d := range []string{u.xdg, u.home()} {
		os.Mkdir(d, 0o700)
		os.Chown(d, nobodyID, nobodyID)
	}
	t.Cleanup(func() {
		entries, _ := os.ReadDir(filepath.Join(u.xdg, "runsc"))
		for _, e := range entries {
			u.cmd(u.home(), "delete", "--force", e.Name()).Run()
			t.Errorf("rootless container %q left behind", e.Name())
		}
	})
	return u
}

// home is a directory nobody owns, outside /tmp.
func (u *unprivileged) home() string { return filepath.Join(filepath.Dir(u.bin), "home") }

func (u *unprivileged) cmd(dir string, args ...string) *exec.Cmd {
	all := append([]string{"--reuid=" + strconv.Itoa(nobodyID), "--regid=" + strconv.Itoa(nobodyID), "--clear-groups",
		"env", "XDG_RUNTIME_DIR=" + u.xdg, u.bin}, args...)
	c := exec.Command("setpriv", all...)
	c.Dir = dir
	return c
}

func (u *unprivileged) run(t *testing.T, dir string, args ...string) testutil.Result {
	t.Helper()
	c := u.cmd(dir, args...)
	// Files, not pipes: a created container holds runsc's stdio.
	outF, err := os.CreateTemp("", "runsc-rootless-out")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(outF.Name())
	defer outF.Close()
	errF, err := os.CreateTemp("", "runsc-rootless-err")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(errF.Name())
	defer errF.Close()
	c.Stdout, c.Stderr = outF, errF
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { c.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		c.Process.Kill()
		<-done
		t.Fatalf("runsc %v as nobody timed out", args)
	}
	out, _ := os.ReadFile(outF.Name())
	errb, _ := os.ReadFile(errF.Name())
	return testutil.Result{Stdout: string(out), Stderr: string(errb), Code: c.ProcessState.ExitCode()}
}

// TestRootlessDo checks `runsc do` as nobody: the caller is root of the
// container's user namespace, writes (in the caller's own directory and
// in /etc) land in the overlay, the network is loopback only, and the exit
// status is the command's.
func TestRootlessDo(t *testing.T) {
	testutil.Audit(t)
	u := newUnprivileged(t)
	res := u.run(t, u.home(), "do", "sh", "-c",
		"id -u; echo x > ./hostile && cat ./hostile; echo y > /etc/runsc-rootless-hostile && cat /etc/runsc-rootless-hostile; ls /sys/class/net; exit 3")
	if res.Code != 3 || res.Stdout != "0\nx\ny\nlo\n" {
		t.Fatalf("rootless do: code %d stdout %q stderr %q", res.Code, res.Stdout, res.Stderr)
	}
	for _, p := range []string{filepath.Join(u.home(), "hostile"), "/etc/runsc-rootless-hostile"} {
		if _, err := os.Lstat(p); err == nil {
			os.Remove(p)
			t.Errorf("%s was written on the host", p)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(u.xdg, "runsc")); len(entries) != 0 {
		t.Errorf("state left under XDG_RUNTIME_DIR: %v", entries)
	}
}

// TestRootlessSandboxPosture checks the rootless sandbox's documented
// posture from the host: it runs as the caller, in its own user namespace,
// with no capabilities (bounding set empty), no_new_privs and seccomp, in
// the minimal chroot.
func TestRootlessSandboxPosture(t *testing.T) {
	testutil.Audit(t)
	u := newUnprivileged(t)
	c := u.cmd(u.home(), "do", "sleep", "1718")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		c.Process.Kill()
		c.Wait()
		// runsc do was killed: clean up as its user would.
		entries, _ := os.ReadDir(filepath.Join(u.xdg, "runsc"))
		for _, e := range entries {
			u.run(t, u.home(), "delete", "--force", e.Name())
		}
	}()
	var sb int
	deadline := time.Now().Add(20 * time.Second)
	for sb == 0 {
		if time.Now().After(deadline) {
			t.Fatal("sandbox did not appear")
		}
		time.Sleep(20 * time.Millisecond)
		out, _ := exec.Command("pgrep", "-f", "^sleep 1718$").Output()
		if len(strings.TrimSpace(string(out))) == 0 {
			continue
		}
		entries, _ := os.ReadDir(filepath.Join(u.xdg, "runsc"))
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(u.xdg, "runsc", e.Name(), "state.json"))
			var st struct {
				Sandbox struct{ PID int } `json:"sandbox"`
			}
			if err == nil && json.Unmarshal(b, &st) == nil {
				sb = st.Sandbox.PID
			}
		}
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", sb))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Uid": "65534\t65534\t65534\t65534", "CapPrm": "0000000000000000", "CapEff": "0000000000000000",
		"CapBnd": "0000000000000000", "CapAmb": "0000000000000000", "NoNewPrivs": "1", "Seccomp": "2",
	}
	for _, l := range strings.Split(string(status), "\n") {
		k, v, _ := strings.Cut(l, ":")
		if w, ok := want[k]; ok {
			if strings.TrimSpace(v) != w {
				t.Errorf("sandbox %s: %q, want %q", k, strings.TrimSpace(v), w)
			}
			delete(want, k)
		}
	}
	if len(want) != 0 {
		t.Errorf("sandbox status lacks %v", want)
	}
	sbUser, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", sb))
	hostUser, _ := os.Readlink("/proc/self/ns/user")
	if sbUser == hostUser {
		t.Errorf("rootless sandbox is in the host's user namespace %s", hostUser)
	}
	uidMap, _ := os.ReadFile(fmt.Sprintf("/proc/%d/uid_map", sb))
	if f := strings.Fields(string(uidMap)); len(f) != 3 || f[0] != "0" || f[1] != "65534" || f[2] != "1" {
		t.Errorf("sandbox uid_map %q, want 0 65534 1", uidMap)
	}
	entries, _ := os.ReadDir(fmt.Sprintf("/proc/%d/root/", sb))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "proc runsc" {
		t.Errorf("sandbox root holds %v, want [proc runsc]", names)
	}
}

// TestRootlessRun checks `runsc run` and create/start/state/delete as
// nobody on a bundle from `runsc spec --rootless`.
func TestRootlessRun(t *testing.T) {
	testutil.Audit(t)
	u := newUnprivileged(t)
	b := testutil.NewBundle(t, "sh", "-c", "id -u; exit 4")
	// The bundle must be reachable by nobody, outside the test's 0700 dir.
	bundle := filepath.Join(u.home(), "bundle")
	if out, err := exec.Command("cp", "-a", b.Dir, bundle).CombinedOutput(); err != nil {
		t.Fatalf("copying bundle: %v %s", err, out)
	}
	exec.Command("chown", "-R", fmt.Sprintf("%d:%d", nobodyID, nobodyID), bundle).Run()
	spec := specutils.DefaultSpec(true, nobodyID, nobodyID)
	spec.Root.Path = "rootfs"
	spec.Process.Terminal = false
	spec.Process.Args = []string{"sh", "-c", "id -u; exit 4"}
	data, _ := json.Marshal(spec)
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	res := u.run(t, bundle, "run", "rl-run")
	if res.Code != 4 || res.Stdout != "0\n" {
		t.Fatalf("rootless run: code %d stdout %q stderr %q", res.Code, res.Stdout, res.Stderr)
	}

	spec.Process.Args = []string{"sleep", "1000"}
	data, _ = json.Marshal(spec)
	os.WriteFile(filepath.Join(bundle, "config.json"), data, 0o644)
	for _, step := range [][]string{{"create", "rl-life"}, {"start", "rl-life"}, {"state", "rl-life"}, {"kill", "rl-life", "KILL"}} {
		if res := u.run(t, bundle, step...); res.Code != 0 {
			u.run(t, bundle, "delete", "--force", "rl-life")
			t.Fatalf("rootless %v: code %d stderr %q", step, res.Code, res.Stderr)
		} else if step[0] == "state" && !strings.Contains(res.Stdout, `"running"`) {
			t.Errorf("state after start: %s", res.Stdout)
		}
	}
	if res := u.run(t, bundle, "wait", "rl-life"); res.Code != 137 {
		t.Errorf("wait after SIGKILL: code %d stderr %q", res.Code, res.Stderr)
	}
	if res := u.run(t, bundle, "delete", "rl-life"); res.Code != 0 {
		t.Errorf("delete: code %d stderr %q", res.Code, res.Stderr)
	}
	if entries, _ := os.ReadDir(filepath.Join(u.xdg, "runsc")); len(entries) != 0 {
		t.Errorf("state left under XDG_RUNTIME_DIR: %v", entries)
	}
}
