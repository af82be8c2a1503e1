package gofer

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// tmpfsCopyUp mounts a tmpfs on the directory path of the root (dstFd is
// its O_PATH descriptor) and copies into it what the directory held:
// runc's "tmpcopyup" extension. The covered directory stays readable
// through a descriptor opened before the mount.
func (b *rootfsBuilder) tmpfsCopyUp(source, path string, dstFd int, flags uintptr, data string) error {
	old, err := unix.Open(procFdPath(dstFd), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("tmpcopyup: opening the destination: %w", err)
	}
	defer unix.Close(old)
	if err := mountOnFd(source, dstFd, "tmpfs", flags, data); err != nil {
		return err
	}
	newFd, err := openInRoot(b.fd, path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0, unix.RESOLVE_NO_SYMLINKS)
	if err != nil {
		return fmt.Errorf("tmpcopyup: opening the new tmpfs: %w", err)
	}
	defer unix.Close(newFd)
	var st unix.Stat_t
	if err := unix.Fstat(old, &st); err != nil {
		return fmt.Errorf("tmpcopyup: stat of the destination: %w", err)
	}
	if err := unix.Fchown(newFd, int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("tmpcopyup: chown of the new tmpfs: %w", err)
	}
	if err := copyTree(old, newFd); err != nil {
		return fmt.Errorf("tmpcopyup: %w", err)
	}
	return nil
}

// copyTree copies the content of the directory src into the directory
// dst, keeping modes, owners and modification times, never following a
// symlink.
func copyTree(src, dst int) error {
	dupFd, err := unix.Dup(src)
	if err != nil {
		return fmt.Errorf("dup: %w", err)
	}
	dir := os.NewFile(uintptr(dupFd), "copy-up source")
	entries, err := dir.ReadDir(-1)
	dir.Close()
	if err != nil {
		return fmt.Errorf("reading directory: %w", err)
	}
	for _, e := range entries {
		if err := copyEntry(src, dst, e.Name()); err != nil {
			return fmt.Errorf("copying %q: %w", e.Name(), err)
		}
	}
	return nil
}

// copyEntry copies the entry name of the directory src into dst.
func copyEntry(src, dst int, name string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(src, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		if err := unix.Mkdirat(dst, name, 0o700); err != nil {
			return err
		}
		sfd, err := unix.Openat(src, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(sfd)
		dfd, err := unix.Openat(dst, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(dfd)
		if err := copyTree(sfd, dfd); err != nil {
			return err
		}
	case unix.S_IFREG:
		if err := copyFile(src, dst, name); err != nil {
			return err
		}
	case unix.S_IFLNK:
		target, err := readlinkAt(src, name)
		if err != nil {
			return err
		}
		if err := unix.Symlinkat(target, dst, name); err != nil {
			return err
		}
	default:
		if err := unix.Mknodat(dst, name, st.Mode, int(st.Rdev)); err != nil {
			return err
		}
	}
	if err := unix.Fchownat(dst, name, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		if err := unix.Fchmodat(dst, name, st.Mode&0o7777, 0); err != nil {
			return err
		}
	}
	ts := []unix.Timespec{st.Atim, st.Mtim}
	return unix.UtimesNanoAt(dst, name, ts, unix.AT_SYMLINK_NOFOLLOW)
}

// copyFile copies the regular file name of src into a new file of dst.
func copyFile(src, dst int, name string) error {
	sfd, err := unix.Openat(src, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	in := os.NewFile(uintptr(sfd), name)
	defer in.Close()
	dfd, err := unix.Openat(dst, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	out := os.NewFile(uintptr(dfd), name)
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// readlinkAt reads the symlink name of the directory dirFd.
func readlinkAt(dirFd int, name string) (string, error) {
	for size := 256; size <= 1<<16; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirFd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
	return "", unix.ENAMETOOLONG
}
