package gofer

import (
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseMountOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []string
		want mountOptions
	}{
		{name: "empty"},
		{
			name: "docker dev",
			opts: []string{"nosuid", "strictatime", "mode=755", "size=65536k"},
			want: mountOptions{flags: unix.MS_NOSUID | unix.MS_STRICTATIME, data: "mode=755,size=65536k"},
		},
		{
			name: "devpts",
			opts: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"},
			want: mountOptions{flags: unix.MS_NOSUID | unix.MS_NOEXEC, data: "newinstance,ptmxmode=0666,mode=0620,gid=5"},
		},
		{
			name: "ro then rw",
			opts: []string{"ro", "rw"},
			want: mountOptions{cleared: unix.MS_RDONLY},
		},
		{
			name: "rw then ro",
			opts: []string{"rw", "ro"},
			want: mountOptions{flags: unix.MS_RDONLY},
		},
		{
			name: "clearing flags",
			opts: []string{"suid", "dev", "exec", "async", "atime", "diratime", "norelatime", "nostrictatime", "nomand"},
			want: mountOptions{cleared: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_SYNCHRONOUS |
				unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME | unix.MS_STRICTATIME | unix.MS_MANDLOCK},
		},
		{
			name: "setting flags",
			opts: []string{"nosuid", "nodev", "noexec", "sync", "dirsync", "remount", "mand", "noatime", "nodiratime", "relatime", "defaults"},
			want: mountOptions{flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_SYNCHRONOUS | unix.MS_DIRSYNC |
				unix.MS_REMOUNT | unix.MS_MANDLOCK | unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME},
		},
		{
			name: "bind",
			opts: []string{"bind", "ro"},
			want: mountOptions{flags: unix.MS_BIND | unix.MS_RDONLY},
		},
		{
			name: "rbind with propagation",
			opts: []string{"rbind", "rprivate", "slave"},
			want: mountOptions{flags: unix.MS_BIND | unix.MS_REC, propagation: []uintptr{unix.MS_PRIVATE | unix.MS_REC, unix.MS_SLAVE}},
		},
		{
			name: "all propagations",
			opts: []string{"private", "shared", "slave", "unbindable", "rprivate", "rshared", "rslave", "runbindable"},
			want: mountOptions{propagation: []uintptr{unix.MS_PRIVATE, unix.MS_SHARED, unix.MS_SLAVE, unix.MS_UNBINDABLE,
				unix.MS_PRIVATE | unix.MS_REC, unix.MS_SHARED | unix.MS_REC, unix.MS_SLAVE | unix.MS_REC, unix.MS_UNBINDABLE | unix.MS_REC}},
		},
		{
			name: "recursive attributes",
			opts: []string{"rbind", "rro", "rnosuid", "rnodev", "rnoexec"},
			want: mountOptions{flags: unix.MS_BIND | unix.MS_REC,
				recSet: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC},
		},
		{
			name: "recursive clear",
			opts: []string{"rro", "rrw", "rsuid", "rdev", "rexec", "rdiratime"},
			want: mountOptions{recClr: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC | unix.MOUNT_ATTR_NODIRATIME},
		},
		{
			name: "recursive atime",
			opts: []string{"rnoatime"},
			want: mountOptions{recSet: unix.MOUNT_ATTR_NOATIME, recClr: unix.MOUNT_ATTR__ATIME},
		},
		{
			name: "recursive strictatime",
			opts: []string{"rstrictatime"},
			want: mountOptions{recSet: unix.MOUNT_ATTR_STRICTATIME, recClr: unix.MOUNT_ATTR__ATIME},
		},
		{
			name: "recursive relatime",
			opts: []string{"rrelatime"},
			want: mountOptions{recSet: unix.MOUNT_ATTR_RELATIME, recClr: unix.MOUNT_ATTR__ATIME},
		},
		{
			name: "idmap",
			opts: []string{"bind", "idmap"},
			want: mountOptions{flags: unix.MS_BIND, idmap: true},
		},
		{
			name: "ridmap",
			opts: []string{"rbind", "ridmap"},
			want: mountOptions{flags: unix.MS_BIND | unix.MS_REC, idmap: true, recursiveIdmap: true},
		},
		{
			name: "tmpcopyup",
			opts: []string{"tmpcopyup", "size=1m"},
			want: mountOptions{copyUp: true, data: "size=1m"},
		},
		{
			name: "tmpfs data",
			opts: []string{"size=10m", "mode=1777", "uid=1000", "gid=1000", "nr_inodes=100"},
			want: mountOptions{data: "size=10m,mode=1777,uid=1000,gid=1000,nr_inodes=100"},
		},
		{
			name: "misc flags",
			opts: []string{"acl", "iversion", "lazytime", "silent", "nosymfollow"},
			want: mountOptions{flags: unix.MS_POSIXACL | unix.MS_I_VERSION | unix.MS_LAZYTIME | unix.MS_SILENT | unix.MS_NOSYMFOLLOW},
		},
		{
			name: "misc clears",
			opts: []string{"acl", "noacl", "loud", "noiversion", "nolazytime", "symfollow"},
			want: mountOptions{cleared: unix.MS_POSIXACL | unix.MS_SILENT | unix.MS_I_VERSION | unix.MS_LAZYTIME | unix.MS_NOSYMFOLLOW},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := parseMountOptions(tc.opts)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("parseMountOptions(%q) =\n %+v\nwant\n %+v", tc.opts, got, tc.want)
			}
		})
	}
}

func TestParsePropagation(t *testing.T) {
	for s, want := range map[string]uintptr{
		"shared":      unix.MS_SHARED,
		"rslave":      unix.MS_SLAVE | unix.MS_REC,
		"private":     unix.MS_PRIVATE,
		"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
	} {
		got, err := parsePropagation(s)
		if err != nil || got != want {
			t.Errorf("parsePropagation(%q) = %#x, %v; want %#x", s, got, err, want)
		}
	}
	if _, err := parsePropagation("sideways"); err == nil {
		t.Errorf("parsePropagation(%q) succeeded", "sideways")
	}
}

func TestStatfsToMountFlags(t *testing.T) {
	for _, tc := range []struct {
		st   int64
		want uintptr
	}{
		{0, unix.MS_STRICTATIME},
		{unix.ST_RDONLY | unix.ST_RELATIME, unix.MS_RDONLY | unix.MS_RELATIME},
		{unix.ST_NOSUID | unix.ST_NODEV | unix.ST_NOEXEC | unix.ST_NOATIME, unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NOATIME},
		{unix.ST_NODIRATIME | unix.ST_RELATIME | stNoSymfollow, unix.MS_NODIRATIME | unix.MS_RELATIME | unix.MS_NOSYMFOLLOW},
		{unix.ST_MANDLOCK | unix.ST_SYNCHRONOUS, unix.MS_MANDLOCK | unix.MS_SYNCHRONOUS | unix.MS_STRICTATIME},
	} {
		st := unix.Statfs_t{Flags: tc.st}
		if got := statfsToMountFlags(&st); got != tc.want {
			t.Errorf("statfsToMountFlags(%#x) = %#x, want %#x", tc.st, got, tc.want)
		}
	}
}
