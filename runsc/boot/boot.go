// Package boot is what runs inside the sandbox process (runsc-sandbox): it
// spawns the gofer, and once the sandbox sits in its minimal chroot as
// nobody under a seccomp filter, it serves the container's control socket,
// relays requests to the gofer and exits with the container's status.
package boot

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/runsc/config"
	"runsc.dev/runsc/runsc/control"
	"runsc.dev/runsc/runsc/specutils"
)

// Indexes of the files in the boot message from `runsc create`.
const (
	BootSpec = iota
	BootListener
	BootStdin
	BootStdout
	BootStderr
	BootConsole // Present when Message.Terminal is set.
)

// StartGofer starts the gofer (runsc-gofer) from exe, in a new mount
// namespace and, when the spec asks for a new one, in the container's user
// namespace with its ID maps written by us, the parent. The gofer gets
// SIGKILL if the sandbox dies. boot.Files are the spec, stdio and console
// from create's boot message; they are sent on and stay owned by the
// caller.
//
// In rootless mode the sandbox was born in the container's user namespace
// (and in its network namespace, when the spec asks for a new one; see
// runsc/sandbox/rootless.go): the gofer and init stay in them, and the
// sandbox brings the loopback interface up. With RootfsOverlayAnnotation,
// the gofer is given a writable overlay of root.path built here.
func StartGofer(conf *config.Config, exe string, spec *specs.Spec, boot *control.Message) (*exec.Cmd, *control.Conn, error) {
	conn, peer, err := control.Pair()
	if err != nil {
		return nil, nil, err
	}
	defer peer.Close()
	attr := &syscall.SysProcAttr{
		Cloneflags: unix.CLONE_NEWNS,
		Pdeathsig:  syscall.SIGKILL,
	}
	specFile, err := goferSpec(conf, spec, boot)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	if specFile != boot.Files[BootSpec] {
		defer specFile.Close()
	}
	if path, ok := specutils.HasNamespace(spec, specs.UserNamespace); ok && !conf.Rootless {
		if path != "" {
			conn.Close()
			return nil, nil, fmt.Errorf("linux.namespaces: joining a user namespace by path is not supported")
		}
		attr.Cloneflags |= unix.CLONE_NEWUSER
		for _, m := range spec.Linux.UIDMappings {
			attr.UidMappings = append(attr.UidMappings, syscall.SysProcIDMap{ContainerID: int(m.ContainerID), HostID: int(m.HostID), Size: int(m.Size)})
		}
		for _, m := range spec.Linux.GIDMappings {
			attr.GidMappings = append(attr.GidMappings, syscall.SysProcIDMap{ContainerID: int(m.ContainerID), HostID: int(m.HostID), Size: int(m.Size)})
		}
		// We are privileged in the parent namespace, so setgroups stays
		// allowed: the container may set its additional groups.
		attr.GidMappingsEnableSetgroups = true
	}
	cmd := exec.Command(exe, append(conf.ToFlags(), "gofer", boot.ID)...)
	cmd.Args[0] = "runsc-gofer"
	// Our own stdio (create's /dev/null), not nil: Go would open
	// /dev/null here, inside the container's device cgroup.
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{peer}
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("starting gofer: %w", err)
	}
	msg := &control.Message{Type: control.Boot, ID: boot.ID, Bundle: boot.Bundle, Terminal: boot.Terminal}
	msg.Files = append(msg.Files, specFile, boot.Files[BootStdin], boot.Files[BootStdout], boot.Files[BootStderr])
	if boot.Terminal {
		msg.Files = append(msg.Files, boot.Files[BootConsole])
	}
	if err := conn.Send(msg); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		conn.Close()
		return nil, nil, fmt.Errorf("sending boot message to gofer: %w", err)
	}
	return cmd, conn, nil
}
