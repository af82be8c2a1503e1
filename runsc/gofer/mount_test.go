package gofer

import (
	"os"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestCheckProcMount(t *testing.T) {
	dirFd, err := unix.Open(t.TempDir(), unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dirFd)
	procFd, err := unix.Open("/proc", unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(procFd)
	procSubFd, err := unix.Open("/proc/self", unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(procSubFd)

	for _, tc := range []struct {
		dest   string
		fstype string
		bind   bool
		src    int
		ok     bool
	}{
		{"/proc", "proc", false, -1, true},
		{"/proc/", "proc", false, -1, true},
		{"/proc", "tmpfs", false, -1, false},
		{"/proc", "sysfs", false, -1, false},
		{"/proc", "bind", true, dirFd, false},
		{"/proc", "bind", true, procFd, true},
		{"/proc", "bind", true, procSubFd, false},
		{"/proc/sys", "proc", false, -1, false},
		{"/proc/self", "tmpfs", false, -1, false},
		{"/proc/sys/kernel/core_pattern", "bind", true, dirFd, false},
		{"/proc/1/attr/current", "bind", true, dirFd, false},
		{"/proc/./sys/../kcore", "bind", true, dirFd, false},
		{"/proc/cpuinfo", "bind", true, dirFd, true},
		{"/proc/meminfo", "bind", true, dirFd, true},
		{"/proc/diskstats", "bind", true, dirFd, true},
		{"/proc/stat", "bind", true, dirFd, true},
		{"/proc/swaps", "bind", true, dirFd, true},
		{"/proc/uptime", "bind", true, dirFd, true},
		{"/proc/loadavg", "bind", true, dirFd, true},
		{"/proc/slabinfo", "bind", true, dirFd, true},
		{"/proc/net/dev", "bind", true, dirFd, true},
		{"/proc/sys/kernel/ns_last_pid", "bind", true, dirFd, true},
		{"/proc/cpuinfo/x", "bind", true, dirFd, false},
		{"/procfoo", "tmpfs", false, -1, true},
		{"/sys", "sysfs", false, -1, true},
		{"/", "bind", true, dirFd, true},
		{"/data/proc", "tmpfs", false, -1, true},
		{"proc/sys", "tmpfs", false, -1, false},
	} {
		err := checkProcMount(tc.dest, tc.fstype, tc.bind, tc.src)
		if (err == nil) != tc.ok {
			t.Errorf("checkProcMount(%q, %q, bind=%v) = %v, want ok=%v", tc.dest, tc.fstype, tc.bind, err, tc.ok)
		}
	}
}

const sampleMountInfo = `22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
40 27 0:37 / /var/lib/with\040space rw,relatime shared:5 master:2 - tmpfs tmp\134fs rw
41 40 0:38 /sub /var/lib/with\040space/rootfs ro,nosuid - overlay overlay rw,lowerdir=/a
`

func TestParseMountInfo(t *testing.T) {
	mounts, err := parseMountInfo(strings.NewReader(sampleMountInfo))
	if err != nil {
		t.Fatal(err)
	}
	if len(mounts) != 5 {
		t.Fatalf("parsed %d mounts, want 5", len(mounts))
	}
	want := mountInfo{
		id: 40, parent: 27, major: 0, minor: 37, root: "/", mountpoint: "/var/lib/with space",
		options: "rw,relatime", optional: []string{"shared:5", "master:2"}, fstype: "tmpfs", source: `tmp\fs`, superOption: "rw",
	}
	if !reflect.DeepEqual(mounts[3], want) {
		t.Errorf("mounts[3] = %+v, want %+v", mounts[3], want)
	}
	if !mounts[1].isShared() || mounts[0].isShared() {
		t.Errorf("isShared wrong")
	}
	for _, tc := range []struct{ path, want string }{
		{"/var/lib/with space/rootfs", "/var/lib/with space/rootfs"},
		{"/var/lib/with space/rootfs/x", "/var/lib/with space/rootfs"},
		{"/var/lib/with space/other", "/var/lib/with space"},
		{"/var/lib/with spacer", "/"},
		{"/proc/1", "/proc"},
		{"/home", "/"},
	} {
		m, ok := parentMount(mounts, tc.path)
		if !ok || m.mountpoint != tc.want {
			t.Errorf("parentMount(%q) = %q, %v; want %q", tc.path, m.mountpoint, ok, tc.want)
		}
	}
	if _, err := parseMountInfo(strings.NewReader("1 2 3\n")); err == nil {
		t.Errorf("parseMountInfo accepted a malformed line")
	}
	// The live table parses.
	if _, err := readMountInfo(); err != nil {
		t.Errorf("readMountInfo: %v", err)
	}
}

func TestParseCgroupHierarchies(t *testing.T) {
	in := "12:name=systemd:/\n11:cpu,cpuacct:/a\n10:memory:/b\n9:cpu,cpuacct:/a\n0::/\n"
	got, err := parseCgroupHierarchies(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"name=systemd", "cpu,cpuacct", "memory"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseCgroupHierarchies = %q, want %q", got, want)
	}
	if got, _ := parseCgroupHierarchies(strings.NewReader("0::/\n")); len(got) != 0 {
		t.Errorf("a cgroup v2 only file gave hierarchies %q", got)
	}
	if _, err := parseCgroupHierarchies(strings.NewReader("garbage\n")); err == nil {
		t.Errorf("parseCgroupHierarchies accepted garbage")
	}
	for in, want := range map[string]string{"name=systemd": "systemd", "cpu,cpuacct": "cpu,cpuacct", "net_cls,net_prio": "net_cls,net_prio", "pids": "pids"} {
		if got := cgroupDirName(in); got != want {
			t.Errorf("cgroupDirName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDeviceMode(t *testing.T) {
	mode := os.FileMode(0o620)
	for _, tc := range []struct {
		d    specs.LinuxDevice
		want uint32
		ok   bool
	}{
		{specs.LinuxDevice{Type: "c"}, unix.S_IFCHR | 0o666, true},
		{specs.LinuxDevice{Type: "u"}, unix.S_IFCHR | 0o666, true},
		{specs.LinuxDevice{Type: "b", FileMode: &mode}, unix.S_IFBLK | 0o620, true},
		{specs.LinuxDevice{Type: "p"}, unix.S_IFIFO | 0o666, true},
		{specs.LinuxDevice{Type: "x"}, 0, false},
	} {
		got, err := deviceMode(&tc.d)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("deviceMode(%+v) = %#o, %v; want %#o", tc.d, got, err, tc.want)
		}
	}
}

func TestNeedsDevSetup(t *testing.T) {
	for _, tc := range []struct {
		mounts []specs.Mount
		want   bool
	}{
		{nil, true},
		{[]specs.Mount{{Destination: "/dev", Type: "tmpfs"}}, true},
		{[]specs.Mount{{Destination: "/dev", Type: "bind", Source: "/dev"}}, false},
		{[]specs.Mount{{Destination: "/dev/", Type: "none", Source: "/dev", Options: []string{"rbind"}}}, false},
		{[]specs.Mount{{Destination: "/dev/shm", Type: "bind", Source: "/dev/shm"}}, true},
	} {
		if got := needsDevSetup(&specs.Spec{Mounts: tc.mounts}); got != tc.want {
			t.Errorf("needsDevSetup(%+v) = %v, want %v", tc.mounts, got, tc.want)
		}
	}
}

func TestFormatIDMap(t *testing.T) {
	got := formatIDMap([]specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}, {ContainerID: 65536, HostID: 5, Size: 1}})
	if want := "0 100000 65536\n65536 5 1\n"; got != want {
		t.Errorf("formatIDMap = %q, want %q", got, want)
	}
}

func TestMountName(t *testing.T) {
	if got := mountName(&specs.Mount{Type: "proc", Source: "proc"}); got != "proc" {
		t.Errorf("mountName = %q", got)
	}
	if got := mountName(&specs.Mount{Type: "tmpfs"}); got != "tmpfs" {
		t.Errorf("mountName = %q", got)
	}
}
