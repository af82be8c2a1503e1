package main

import (
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"runsc.dev/runsc/runsc/specutils"
)

// ociVersion is written into every config; both runtimes accept it.
const ociVersion = "1.0.2"

// staticBusybox finds a static busybox (Debian's busybox-static).
func staticBusybox() (string, error) {
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		f, err := elf.Open(p)
		if err != nil {
			continue
		}
		static := true
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP {
				static = false
			}
		}
		f.Close()
		if static {
			return p, nil
		}
	}
	return "", errors.New("no static busybox found (apt-get install busybox-static)")
}

// makeRootfs writes a busybox rootfs at dir, shared read-only by every
// container.
func makeRootfs(dir string) error {
	bb, err := staticBusybox()
	if err != nil {
		return err
	}
	for _, d := range []string{"bin", "proc", "dev", "sys", "tmp", "etc", "root"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return fmt.Errorf("making rootfs: %w", err)
		}
	}
	data, err := os.ReadFile(bb)
	if err != nil {
		return fmt.Errorf("reading busybox: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", "busybox"), data, 0o755); err != nil {
		return fmt.Errorf("writing busybox: %w", err)
	}
	for _, a := range []string{"sh", "true", "sleep"} {
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", a)); err != nil {
			return fmt.Errorf("linking %s: %w", a, err)
		}
	}
	return os.WriteFile(filepath.Join(dir, "etc", "passwd"), []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644)
}

// writeBundle writes the bundle of one container: runsc's default spec
// (no terminal, read-only root) running `sleep 100000` on rootfs, in
// cgroup cgroupsPath.
func writeBundle(dir, rootfs, cgroupsPath string) error {
	spec := specutils.DefaultSpec(false, 0, 0)
	spec.Version = ociVersion
	spec.Root = &specs.Root{Path: rootfs, Readonly: true}
	spec.Process.Terminal = false
	spec.Process.Args = []string{"/bin/sleep", "100000"}
	spec.Linux.CgroupsPath = cgroupsPath
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("making bundle: %w", err)
	}
	data, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
		return fmt.Errorf("writing bundle: %w", err)
	}
	return nil
}
