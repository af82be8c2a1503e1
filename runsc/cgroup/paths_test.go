package cgroup

import (
	"strings"
	"testing"
)

func TestExpandSlice(t *testing.T) {
	for in, want := range map[string]string{
		"system.slice":      "/system.slice",
		"a-b.slice":         "/a.slice/a-b.slice",
		"a-b-c.slice":       "/a.slice/a-b.slice/a-b-c.slice",
		"machine-foo.slice": "/machine.slice/machine-foo.slice",
		"-.slice":           "/",
	} {
		if got, err := ExpandSlice(in); err != nil || got != want {
			t.Errorf("ExpandSlice(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"foo", ".slice", "a--b.slice", "-a.slice", "a-.slice", "a/b.slice"} {
		if got, err := ExpandSlice(bad); err == nil {
			t.Errorf("ExpandSlice(%q) = %q, want error", bad, got)
		}
	}
}

func TestSystemdPath(t *testing.T) {
	for _, tc := range []struct{ in, id, want string }{
		{"system.slice:docker:abc", "x", "/system.slice/docker-abc.scope"},
		{"machine-foo.slice:libpod:abc", "x", "/machine.slice/machine-foo.slice/libpod-abc.scope"},
		{":runsc:abc", "x", "/system.slice/runsc-abc.scope"},
		{"", "cid", "/system.slice/runsc-cid.scope"},
		{"a.slice::b", "x", "/a.slice/b.scope"},
		{"user.slice:p:my-sub.slice", "x", "/user.slice/my-sub.slice"},
		{"-.slice:p:n", "x", "/p-n.scope"},
	} {
		if got, err := SystemdPath(tc.in, tc.id); err != nil || got != tc.want {
			t.Errorf("SystemdPath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"a:b", "a.slice:p:", "a:b:c:d", "notaslice:p:n", "a.slice:p:x/y"} {
		if got, err := SystemdPath(bad, "id"); err == nil {
			t.Errorf("SystemdPath(%q) = %q, want error", bad, got)
		}
	}
}

func TestResolve(t *testing.T) {
	f := newFakeHost(t, Hybrid, map[string]string{"memory": "/process_api/xyz", "": "/user/me"})
	for _, tc := range []struct {
		name, path, id string
		systemd        bool
		memory, cpu    string
		unified        string
	}{
		{"absolute", "/foo/bar", "id", false, "memory/foo/bar", "cpu/foo/bar", "unified/foo/bar"},
		{"relative", "foo/bar", "id", false, "memory/process_api/xyz/foo/bar", "cpu/foo/bar", "unified/user/me/foo/bar"},
		{"empty", "", "c1", false, "memory/runsc/c1", "cpu/runsc/c1", "unified/runsc/c1"},
		{"systemd", "system.slice:docker:abc", "id", true, "memory/system.slice/docker-abc.scope", "cpu/system.slice/docker-abc.scope", "unified/system.slice/docker-abc.scope"},
		{"systemd nested", "a-b.slice:p:n", "id", true, "memory/a.slice/a-b.slice/p-n.scope", "cpu/a.slice/a-b.slice/p-n.scope", "unified/a.slice/a-b.slice/p-n.scope"},
		{"systemd empty", "", "c2", true, "memory/system.slice/runsc-c2.scope", "cpu/system.slice/runsc-c2.scope", "unified/system.slice/runsc-c2.scope"},
		{"unclean", "/a/../b//c/", "id", false, "memory/b/c", "cpu/b/c", "unified/b/c"},
	} {
		c, err := NewOnHost(f.host, nil, tc.path, tc.id, tc.systemd)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		for ctrl, want := range map[string]string{"memory": tc.memory, "cpu": tc.cpu, "": tc.unified, "cpuacct": strings.Replace(tc.cpu, "cpu/", "cpuacct/", 1)} {
			if got := c.Path(ctrl); got != f.path(want) {
				t.Errorf("%s: Path(%q) = %q, want %q", tc.name, ctrl, got, f.path(want))
			}
		}
		// hugetlb is not a v1 controller on this host: it lives in the
		// unified tree.
		if got := c.Path("hugetlb"); got != c.Path("") {
			t.Errorf("%s: hugetlb path %q, want the unified %q", tc.name, got, c.Path(""))
		}
		if got := c.Path("net_cls"); got != "" {
			t.Errorf("%s: net_cls path %q, want none", tc.name, got)
		}
	}
	for _, bad := range []struct {
		path, id string
	}{{"../escape", "id"}, {"/", "id"}, {"", ""}, {"/x", "a/b"}, {"", ".."}} {
		if _, err := NewOnHost(f.host, nil, bad.path, bad.id, false); err == nil {
			t.Errorf("path %q id %q: want error", bad.path, bad.id)
		}
	}
}

func TestResolveMountRoot(t *testing.T) {
	// A hierarchy whose mount shows the sub-tree /docker/abc: the
	// runtime's own cgroup /docker/abc/sub is "sub" below the mountpoint.
	h := &Host{
		Mode: Legacy,
		V1:   map[string]Mount{"memory": {Mountpoint: "/sys/fs/cgroup/memory", Root: "/docker/abc", Version: 1, Controllers: []string{"memory"}}},
		Self: map[string]string{"memory": "/docker/abc/sub"},
		Init: map[string]string{"memory": "/elsewhere/init.scope"},
	}
	r, err := h.resolve("rel", "id", false)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.paths["memory"]; got != "/sys/fs/cgroup/memory/sub/rel" {
		t.Errorf("relative: %q", got)
	}
	// init's cgroup is outside the mounted sub-tree: use the mount root.
	r, err = h.resolve("system.slice:x:y", "id", true)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.paths["memory"]; got != "/sys/fs/cgroup/memory/system.slice/x-y.scope" {
		t.Errorf("systemd: %q", got)
	}
}
