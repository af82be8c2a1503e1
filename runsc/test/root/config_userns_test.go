//go:build root

package root

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/runsc/test/testutil"
)

// usernsBundle is a bundle whose path and runsc binary a user namespace's
// root (an unprivileged host user) can reach.
func usernsBundle(t *testing.T, r *testutil.Runtime, script string) *testutil.Bundle {
	t.Helper()
	b := testutil.NewBundle(t, "sh", "-c", script)
	for _, d := range []string{filepath.Dir(b.Dir), filepath.Dir(r.Bin)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// ownerOf returns "uid:gid" of path (not following a last symlink).
func ownerOf(t *testing.T, path string) string {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	return strconv.Itoa(int(st.Uid)) + ":" + strconv.Itoa(int(st.Gid))
}

// rootMountOptions returns the per-mount options of "/" in a mountinfo.
func rootMountOptions(mountinfo string) string {
	for _, l := range lines(mountinfo) {
		if f := strings.Fields(l); len(f) > 5 && f[4] == "/" {
			return f[5]
		}
	}
	return ""
}

// TestConfigIdmappedRootfs checks that a container with a user namespace
// mapping its root to host 100000 sees an image owned by host root as its
// own (an idmapped mount of the rootfs, made by the sandbox), without the
// image being chowned, and that what it writes lands on the host as host
// root (the mount's idmapping), seen as 100000 through the container's
// mount.
func TestConfigIdmappedRootfs(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	maps := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	b := usernsBundle(t, r, "stat -c %u:%g /bin/busybox /etc/passwd /; touch /tmp/made && stat -c %u:%g /tmp/made; id -u; cat /proc/self/mountinfo")
	usernsMaps(b, maps, maps)
	if before := ownerOf(t, filepath.Join(b.Rootfs(), "bin", "busybox")); before != "0:0" {
		t.Fatalf("test rootfs owned by %s, want host root", before)
	}
	pid, text := runReporting(t, r, b, "idmap")
	got := lines(text)
	if len(got) < 6 || got[0] != "0:0" || got[1] != "0:0" || got[2] != "0:0" || got[3] != "0:0" || got[4] != "0" {
		t.Fatalf("inside: %q, want 0:0 for busybox, /etc/passwd, / and /tmp/made, id 0", got)
	}
	if opts := rootMountOptions(text); !strings.Contains(","+opts+",", ",idmapped,") {
		t.Errorf("/ mount options %q lack idmapped", opts)
	}
	// The image was not chowned; the new file is host root's on disk
	// (what the idmapped mount maps container 0 back to) and 100000's
	// through the container's mount.
	for p, want := range map[string]string{
		filepath.Join(b.Rootfs(), "bin", "busybox"):        "0:0",
		filepath.Join(b.Rootfs(), "tmp", "made"):           "0:0",
		"/proc/" + strconv.Itoa(pid) + "/root/tmp/made":    "100000:100000",
		"/proc/" + strconv.Itoa(pid) + "/root/bin/busybox": "100000:100000",
	} {
		if got := ownerOf(t, p); got != want {
			t.Errorf("%s owned by %s, want %s", p, got, want)
		}
	}
	if uids := statusFields(procStatusText(t, pid), "Uid")["Uid"]; uids != "100000 100000 100000 100000" {
		t.Errorf("host view of the container's uids: %q", uids)
	}
}

// procStatusText reads /proc/<pid>/status.
func procStatusText(t *testing.T, pid int) string {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// runReporting starts b's script detached, with its output going to
// /tmp/report in the container, followed by a sleep; it returns the
// container's pid once the report is complete, and deletes the container
// when the test ends.
func runReporting(t *testing.T, r *testutil.Runtime, b *testutil.Bundle, id string) (int, string) {
	t.Helper()
	script := b.Spec.Process.Args[len(b.Spec.Process.Args)-1]
	b.Spec.Process.Args = []string{"sh", "-c", "{ " + script + "; } >/tmp/report.part 2>&1; mv /tmp/report.part /tmp/report; exec sleep 1000"}
	b.Save(t)
	r.MustRun(t, "run", "--detach", "--bundle", b.Dir, id)
	t.Cleanup(func() { r.Run(t, "delete", "--force", id) })
	pid := r.State(t, id).Pid
	report := filepath.Join(b.Rootfs(), "tmp", "report")
	deadline := time.Now().Add(20 * time.Second)
	for {
		data, err := os.ReadFile(report)
		if err == nil {
			return pid, string(data)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no report from the container: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestConfigUsernsMappings runs a container in a user namespace with
// several uid and gid ranges as user 1000: inside, its uid_map and
// gid_map are the spec's; from the host its ids are the mapped ones.
func TestConfigUsernsMappings(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	b := usernsBundle(t, r, "inspect")
	withInspect(t, b)
	usernsMaps(b,
		[]specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 1000}, {ContainerID: 1000, HostID: 200000, Size: 1000}},
		[]specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 1000}, {ContainerID: 1000, HostID: 300000, Size: 2000}})
	b.Spec.Process.User = specs.User{UID: 1000, GID: 1001, AdditionalGids: []uint32{2500}}
	pid, out := runReporting(t, r, b, "usermaps")
	rep := parseInspect(t, out)
	if got := idMapFields(rep.UIDMap); strings.Join(got, "|") != "0 100000 1000|1000 200000 1000" {
		t.Errorf("uid_map inside: %q", got)
	}
	if got := idMapFields(rep.GIDMap); strings.Join(got, "|") != "0 100000 1000|1000 300000 2000" {
		t.Errorf("gid_map inside: %q", got)
	}
	if rep.UID != 1000 || rep.EUID != 1000 || rep.GID != 1001 || rep.EGID != 1001 || len(rep.Groups) != 1 || rep.Groups[0] != 2500 {
		t.Errorf("ids inside: uid %d euid %d gid %d egid %d groups %v", rep.UID, rep.EUID, rep.GID, rep.EGID, rep.Groups)
	}
	checkFields(t, "host view", statusFields(procStatusText(t, pid), "Uid", "Gid", "Groups"), map[string]string{
		"Uid": "200000 200000 200000 200000", "Gid": "300001 300001 300001 300001", "Groups": "301500",
	})
	hostMap, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/uid_map")
	if err != nil || strings.Join(idMapFields(string(hostMap)), "|") != "0 100000 1000|1000 200000 1000" {
		t.Errorf("host /proc/%d/uid_map: %q %v", pid, hostMap, err)
	}
	// The host root-owned image appears owned by the container's root.
	if !strings.Contains(","+rootMountOptions(rep.Mountinfo)+",", ",idmapped,") {
		t.Errorf("/ is not idmapped: %q", rootMountOptions(rep.Mountinfo))
	}
}

// TestConfigIdmapSkippedForMappedOwner checks that a rootfs already owned
// by the container's root (an image chowned for the mapping) is bound as
// it is, not idmapped (which would show it as unmapped ids).
func TestConfigIdmapSkippedForMappedOwner(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	maps := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	b := usernsBundle(t, r, "stat -c %u:%g /bin/busybox /; touch /tmp/made && stat -c %u:%g /tmp/made; cat /proc/self/mountinfo")
	usernsMaps(b, maps, maps)
	err := filepath.Walk(b.Rootfs(), func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, 100000, 100000)
	})
	if err != nil {
		t.Fatal(err)
	}
	_, text := runReporting(t, r, b, "chowned")
	if got := lines(text); len(got) < 3 || got[0] != "0:0" || got[1] != "0:0" || got[2] != "0:0" {
		t.Fatalf("inside: %q, want 0:0 for busybox, / and /tmp/made", got)
	}
	if opts := rootMountOptions(text); strings.Contains(","+opts+",", ",idmapped,") {
		t.Errorf("/ of a rootfs owned by the mapped root is idmapped: %q", opts)
	}
	if got := ownerOf(t, filepath.Join(b.Rootfs(), "tmp", "made")); got != "100000:100000" {
		t.Errorf("file made by the container is %s on the host, want 100000:100000", got)
	}
}

// TestConfigUsernsReadonlyRootAndIdmapBind checks an idmapped rootfs made
// read-only, and a host directory bound with the idmap option.
func TestConfigUsernsReadonlyRootAndIdmapBind(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	maps := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	b := usernsBundle(t, r, "touch /new 2>&1; stat -c %u:%g /bin/busybox /data/file; touch /data/made && stat -c %u:%g /data/made")
	usernsMaps(b, maps, maps)
	b.Spec.Root.Readonly = true
	host := t.TempDir()
	os.Chmod(host, 0o755)
	if err := os.WriteFile(filepath.Join(host, "file"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: host, Options: []string{"rbind", "rw", "idmap"}})
	b.Spec.Process.Args = []string{"sh", "-c", b.Spec.Process.Args[2] + " >/dev/shm/report 2>&1; cat /dev/shm/report"}
	b.Save(t)
	res := r.Run(t, "run", "--bundle", b.Dir, "roidmap")
	want := "touch: /new: Read-only file system\n0:0\n0:0\n0:0\n"
	if res.Code != 0 || res.Stdout != want {
		t.Errorf("run: exit %d stdout %q stderr %q; want %q", res.Code, res.Stdout, res.Stderr, want)
	}
	if got := ownerOf(t, filepath.Join(host, "made")); got != "0:0" {
		t.Errorf("file made through the idmapped bind is %s on the host, want 0:0", got)
	}
}
