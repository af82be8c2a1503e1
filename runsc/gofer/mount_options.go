package gofer

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// mountOptions is a spec mount's options split into what the kernel takes
// as flags and what it takes as data, as runc's parseMountOptions does.
type mountOptions struct {
	// flags are the MS_* flags to set.
	flags uintptr
	// cleared are the MS_* flags explicitly cleared ("rw", "suid", ...):
	// a bind mount is remounted when any is set, even with no flag to set.
	cleared uintptr
	// propagation are MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE
	// (possibly with MS_REC), each applied by a separate mount(2) call
	// after the mount, in the order given.
	propagation []uintptr
	// recSet and recClr are MOUNT_ATTR_* applied with
	// mount_setattr(AT_RECURSIVE) after the mount ("rro", "rnosuid"...).
	recSet, recClr uint64
	// idmap asks for an idmapped mount; recursiveIdmap ("ridmap") applies
	// it to every submount of a recursive bind as well.
	idmap, recursiveIdmap bool
	// copyUp is runc's "tmpcopyup" extension: a tmpfs starts with a copy
	// of what the directory it covers held.
	copyUp bool
	// data is the comma-separated filesystem-specific options.
	data string
}

// mountFlag is one flag option: set or clear flag.
type mountFlag struct {
	clear bool
	flag  uintptr
}

// mountFlags are the options mount(8) and runc turn into MS_* flags.
var mountFlags = map[string]mountFlag{
	"acl":           {false, unix.MS_POSIXACL},
	"async":         {true, unix.MS_SYNCHRONOUS},
	"atime":         {true, unix.MS_NOATIME},
	"bind":          {false, unix.MS_BIND},
	"defaults":      {false, 0},
	"dev":           {true, unix.MS_NODEV},
	"diratime":      {true, unix.MS_NODIRATIME},
	"dirsync":       {false, unix.MS_DIRSYNC},
	"exec":          {true, unix.MS_NOEXEC},
	"iversion":      {false, unix.MS_I_VERSION},
	"lazytime":      {false, unix.MS_LAZYTIME},
	"loud":          {true, unix.MS_SILENT},
	"mand":          {false, unix.MS_MANDLOCK},
	"noacl":         {true, unix.MS_POSIXACL},
	"noatime":       {false, unix.MS_NOATIME},
	"nodev":         {false, unix.MS_NODEV},
	"nodiratime":    {false, unix.MS_NODIRATIME},
	"noexec":        {false, unix.MS_NOEXEC},
	"noiversion":    {true, unix.MS_I_VERSION},
	"nolazytime":    {true, unix.MS_LAZYTIME},
	"nomand":        {true, unix.MS_MANDLOCK},
	"norelatime":    {true, unix.MS_RELATIME},
	"nostrictatime": {true, unix.MS_STRICTATIME},
	"nosuid":        {false, unix.MS_NOSUID},
	"nosymfollow":   {false, unix.MS_NOSYMFOLLOW},
	"rbind":         {false, unix.MS_BIND | unix.MS_REC},
	"relatime":      {false, unix.MS_RELATIME},
	"remount":       {false, unix.MS_REMOUNT},
	"ro":            {false, unix.MS_RDONLY},
	"rw":            {true, unix.MS_RDONLY},
	"silent":        {false, unix.MS_SILENT},
	"strictatime":   {false, unix.MS_STRICTATIME},
	"suid":          {true, unix.MS_NOSUID},
	"symfollow":     {true, unix.MS_NOSYMFOLLOW},
	"sync":          {false, unix.MS_SYNCHRONOUS},
}

// propagationFlags are the mount propagation options.
var propagationFlags = map[string]uintptr{
	"private":     unix.MS_PRIVATE,
	"shared":      unix.MS_SHARED,
	"slave":       unix.MS_SLAVE,
	"unbindable":  unix.MS_UNBINDABLE,
	"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
	"rshared":     unix.MS_SHARED | unix.MS_REC,
	"rslave":      unix.MS_SLAVE | unix.MS_REC,
	"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// recAttr is one recursive option: set or clear a MOUNT_ATTR_* flag.
type recAttr struct {
	clear bool
	attr  uint64
}

// recursiveAttrs are the options applied with mount_setattr(AT_RECURSIVE).
var recursiveAttrs = map[string]recAttr{
	"rro":            {false, unix.MOUNT_ATTR_RDONLY},
	"rrw":            {true, unix.MOUNT_ATTR_RDONLY},
	"rnosuid":        {false, unix.MOUNT_ATTR_NOSUID},
	"rsuid":          {true, unix.MOUNT_ATTR_NOSUID},
	"rnodev":         {false, unix.MOUNT_ATTR_NODEV},
	"rdev":           {true, unix.MOUNT_ATTR_NODEV},
	"rnoexec":        {false, unix.MOUNT_ATTR_NOEXEC},
	"rexec":          {true, unix.MOUNT_ATTR_NOEXEC},
	"rnodiratime":    {false, unix.MOUNT_ATTR_NODIRATIME},
	"rdiratime":      {true, unix.MOUNT_ATTR_NODIRATIME},
	"rrelatime":      {false, unix.MOUNT_ATTR_RELATIME},
	"rnorelatime":    {true, unix.MOUNT_ATTR_RELATIME},
	"rnoatime":       {false, unix.MOUNT_ATTR_NOATIME},
	"ratime":         {true, unix.MOUNT_ATTR_NOATIME},
	"rstrictatime":   {false, unix.MOUNT_ATTR_STRICTATIME},
	"rnostrictatime": {true, unix.MOUNT_ATTR_STRICTATIME},
	"rnosymfollow":   {false, unix.MOUNT_ATTR_NOSYMFOLLOW},
	"rsymfollow":     {true, unix.MOUNT_ATTR_NOSYMFOLLOW},
}

// parseMountOptions splits a spec mount's options. Later options override
// earlier ones ("ro,rw" is read-write); unknown ones are passed to the
// filesystem as data, in order.
func parseMountOptions(options []string) mountOptions {
	var o mountOptions
	var data []string
	for _, opt := range options {
		if f, ok := mountFlags[opt]; ok {
			if f.clear {
				o.flags &^= f.flag
				o.cleared |= f.flag
			} else {
				o.flags |= f.flag
				o.cleared &^= f.flag
			}
			continue
		}
		if p, ok := propagationFlags[opt]; ok {
			o.propagation = append(o.propagation, p)
			continue
		}
		if a, ok := recursiveAttrs[opt]; ok {
			if a.clear {
				o.recClr |= a.attr
				o.recSet &^= a.attr
			} else {
				o.recSet |= a.attr
				o.recClr &^= a.attr
				// mount_setattr(2): an access-time setting in attr_set
				// must come with MOUNT_ATTR__ATIME in attr_clr.
				if a.attr&unix.MOUNT_ATTR__ATIME == a.attr {
					o.recClr |= unix.MOUNT_ATTR__ATIME
				}
			}
			continue
		}
		switch opt {
		case "idmap":
			o.idmap, o.recursiveIdmap = true, false
			continue
		case "ridmap":
			o.idmap, o.recursiveIdmap = true, true
			continue
		case "tmpcopyup":
			o.copyUp = true
			continue
		}
		data = append(data, opt)
	}
	o.data = strings.Join(data, ",")
	return o
}

// isBind reports whether the options ask for a bind mount.
func (o *mountOptions) isBind() bool {
	return o.flags&unix.MS_BIND != 0
}

// parsePropagation converts linux.rootfsPropagation to its mount flags.
func parsePropagation(s string) (uintptr, error) {
	p, ok := propagationFlags[s]
	if !ok {
		return 0, fmt.Errorf("unknown mount propagation %q", s)
	}
	return p, nil
}

const (
	// defaultMountFlags are the flags of the mounts runsc adds itself.
	defaultMountFlags = unix.MS_NOEXEC | unix.MS_NOSUID | unix.MS_NODEV
	// mntAtimeEnumFlags are the mutually exclusive atime flags.
	mntAtimeEnumFlags = unix.MS_NOATIME | unix.MS_RELATIME | unix.MS_STRICTATIME
	// mntAtimeFlags are all the atime-related flags.
	mntAtimeFlags = mntAtimeEnumFlags | unix.MS_NODIRATIME
	// mntLockFlags are the flags the kernel locks on mounts inherited
	// from a more privileged user namespace (MNT_LOCK_*): a bind remount
	// that would clear them fails with EPERM.
	mntLockFlags = unix.MS_RDONLY | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NOSUID | mntAtimeFlags
	// stNoSymfollow is ST_NOSYMFOLLOW from <linux/statfs.h>.
	stNoSymfollow = 0x2000
)

// statfsToMountFlags converts statfs(2) f_flags into the MS_* flags of the
// mount, as runc does (see calculate_f_flags() in fs/statfs.c).
func statfsToMountFlags(st *unix.Statfs_t) uintptr {
	var flags uintptr
	for _, f := range []struct {
		st int64
		ms uintptr
	}{
		{unix.ST_RDONLY, unix.MS_RDONLY},
		{unix.ST_NOSUID, unix.MS_NOSUID},
		{unix.ST_NODEV, unix.MS_NODEV},
		{unix.ST_NOEXEC, unix.MS_NOEXEC},
		{unix.ST_MANDLOCK, unix.MS_MANDLOCK},
		{unix.ST_SYNCHRONOUS, unix.MS_SYNCHRONOUS},
		{unix.ST_NOATIME, unix.MS_NOATIME},
		{unix.ST_NODIRATIME, unix.MS_NODIRATIME},
		{unix.ST_RELATIME, unix.MS_RELATIME},
		{stNoSymfollow, unix.MS_NOSYMFOLLOW},
	} {
		if st.Flags&f.st == f.st {
			flags |= f.ms
		}
	}
	// MS_STRICTATIME is not stored on the mount: a mount with none of the
	// other atime modes is strictatime.
	if flags&mntAtimeEnumFlags == 0 {
		flags |= unix.MS_STRICTATIME
	}
	return flags
}
