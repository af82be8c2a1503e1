package cgroup

import (
	"reflect"
	"strings"
	"testing"
)

// Mount tables as found on real machines.
const (
	mountinfoHybrid = `22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`
	mountinfoV1 = `25 30 0:23 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
26 25 0:24 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd
28 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,cpu,cpuacct
29 25 0:27 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,net_cls,net_prio
30 25 0:28 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,memory
31 25 0:29 /docker/abc /sys/fs/cgroup/cpuset\040x rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,cpuset,clone_children
`
	mountinfoV2 = `24 30 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`
	// Named v1 hierarchies alone do not make a host hybrid.
	mountinfoV2NamedV1 = mountinfoV2 + `40 24 0:37 / /run/systemd-compat rw,relatime - cgroup cgroup rw,name=systemd
`
)

func TestParseMountInfo(t *testing.T) {
	mounts, err := ParseMountInfo(strings.NewReader(mountinfoV1))
	if err != nil {
		t.Fatal(err)
	}
	want := []Mount{
		{Mountpoint: "/sys/fs/cgroup/systemd", Root: "/", Version: 1, Controllers: []string{"name=systemd"}},
		{Mountpoint: "/sys/fs/cgroup/cpu,cpuacct", Root: "/", Version: 1, Controllers: []string{"cpu", "cpuacct"}},
		{Mountpoint: "/sys/fs/cgroup/net_cls,net_prio", Root: "/", Version: 1, Controllers: []string{"net_cls", "net_prio"}},
		{Mountpoint: "/sys/fs/cgroup/memory", Root: "/", Version: 1, Controllers: []string{"memory"}},
		{Mountpoint: "/sys/fs/cgroup/cpuset x", Root: "/docker/abc", Version: 1, Controllers: []string{"cpuset"}},
	}
	if !reflect.DeepEqual(mounts, want) {
		t.Errorf("got  %+v\nwant %+v", mounts, want)
	}
	if _, err := ParseMountInfo(strings.NewReader("1 2 3\n")); err == nil {
		t.Error("malformed line accepted")
	}
}

func TestDetectMode(t *testing.T) {
	for _, tc := range []struct {
		name, mountinfo string
		want            Mode
	}{
		{"v1", mountinfoV1, Legacy},
		{"v2", mountinfoV2, Unified},
		{"hybrid", mountinfoHybrid, Hybrid},
		{"v2 with named v1", mountinfoV2NamedV1, Unified},
	} {
		mounts, err := ParseMountInfo(strings.NewReader(tc.mountinfo))
		if err != nil {
			t.Fatal(err)
		}
		got, err := DetectMode(mounts)
		if err != nil || got != tc.want {
			t.Errorf("%s: DetectMode = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	if _, err := DetectMode(nil); err == nil {
		t.Error("no cgroup mounts: want error")
	}
}

func TestParseProcCgroup(t *testing.T) {
	got, err := ParseProcCgroup(strings.NewReader("9:name=systemd:/\n4:memory:/process_api/x\n2:cpu,cpuacct:/a\n0::/b\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"name=systemd": "/", "memory": "/process_api/x", "cpu": "/a", "cpuacct": "/a", "": "/b"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if _, err := ParseProcCgroup(strings.NewReader("bogus\n")); err == nil {
		t.Error("malformed line accepted")
	}
}

func TestDetectHostFake(t *testing.T) {
	for _, tc := range []struct {
		mode     Mode
		v1       []string
		v2, ctrl bool
	}{
		{Legacy, []string{"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "hugetlb", "memory", "name=systemd", "net_cls", "net_prio", "pids", "rdma"}, false, false},
		{Hybrid, []string{"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "name=systemd", "pids"}, true, true},
		{Unified, nil, true, true},
	} {
		f := newFakeHost(t, tc.mode, nil)
		h := f.host
		if h.Mode != tc.mode {
			t.Errorf("%s: mode %q", tc.mode, h.Mode)
		}
		got := sortedKeys(h.V1)
		if len(got) != len(tc.v1) || (len(got) > 0 && !reflect.DeepEqual(got, tc.v1)) {
			t.Errorf("%s: v1 controllers %v, want %v", tc.mode, got, tc.v1)
		}
		if (h.V2 != nil) != tc.v2 {
			t.Errorf("%s: v2 mount %v", tc.mode, h.V2)
		}
		if tc.mode == Hybrid && !reflect.DeepEqual(h.V2Controllers, []string{"hugetlb"}) {
			t.Errorf("hybrid: v2 controllers %v", h.V2Controllers)
		}
		if h.Init["memory"] != "/init.scope" && tc.mode != Unified {
			t.Errorf("%s: init cgroup %v", tc.mode, h.Init)
		}
	}
}
