package main

import (
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// busyboxPaths are where Debian's busybox-static installs a static busybox.
var busyboxPaths = []string{"/bin/busybox", "/usr/bin/busybox"}

// applets are symlinked to busybox in the rootfs.
var applets = []string{"sh", "true", "false", "sleep", "dd", "seq", "cat", "echo", "ls", "ps", "id"}

// workloads are the process args of the bundles the bench uses.
var workloads = map[string][]string{
	"true":  {"/bin/true"},
	"sleep": {"/bin/sleep", "1000"},
	"dd":    {"/bin/dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=200000"},
	"fork":  {"/bin/sh", "-c", "for i in $(seq 500); do /bin/true; done"},
}

// benchOCIVersion is written into every config: crun 1.8.1 rejects the
// 1.3.0 that `runsc spec` writes ("unknown version specified").
const benchOCIVersion = "1.0.2"

// staticBusybox finds a static busybox (Debian's busybox-static).
func staticBusybox() (string, error) {
	for _, p := range busyboxPaths {
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

// makeBundles writes a busybox rootfs under dir and one bundle per workload
// whose config is runsc's default spec (no terminal) running that workload
// on the shared rootfs. It returns the bundle directories by workload.
func makeBundles(dir, runsc string) (map[string]string, error) {
	bb, err := staticBusybox()
	if err != nil {
		return nil, err
	}
	rootfs := filepath.Join(dir, "rootfs")
	for _, d := range []string{"bin", "proc", "dev", "sys", "tmp", "etc", "root"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			return nil, fmt.Errorf("making rootfs: %w", err)
		}
	}
	data, err := os.ReadFile(bb)
	if err != nil {
		return nil, fmt.Errorf("reading busybox: %w", err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, "bin", "busybox"), data, 0o755); err != nil {
		return nil, fmt.Errorf("writing busybox: %w", err)
	}
	for _, a := range applets {
		if err := os.Symlink("busybox", filepath.Join(rootfs, "bin", a)); err != nil {
			return nil, fmt.Errorf("linking applet %s: %w", a, err)
		}
	}
	os.WriteFile(filepath.Join(rootfs, "etc", "passwd"), []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644)

	specDir := filepath.Join(dir, "spec")
	if err := os.MkdirAll(specDir, 0o755); err != nil {
		return nil, fmt.Errorf("making spec dir: %w", err)
	}
	cmd := exec.Command(runsc, "spec", "--bundle", specDir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("runsc spec: %w: %s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(specDir, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("reading runsc spec output: %w", err)
	}
	bundles := map[string]string{}
	for name, args := range workloads {
		var spec map[string]any
		if err := json.Unmarshal(raw, &spec); err != nil {
			return nil, fmt.Errorf("parsing runsc spec output: %w", err)
		}
		spec["ociVersion"] = benchOCIVersion
		proc, _ := spec["process"].(map[string]any)
		root, _ := spec["root"].(map[string]any)
		if proc == nil || root == nil {
			return nil, errors.New("runsc spec output has no process or root")
		}
		proc["terminal"] = false
		proc["args"] = args
		root["path"] = rootfs
		b := filepath.Join(dir, name)
		if err := os.MkdirAll(b, 0o755); err != nil {
			return nil, fmt.Errorf("making bundle: %w", err)
		}
		out, _ := json.MarshalIndent(spec, "", "  ")
		if err := os.WriteFile(filepath.Join(b, "config.json"), out, 0o644); err != nil {
			return nil, fmt.Errorf("writing bundle config: %w", err)
		}
		bundles[name] = b
	}
	return bundles, nil
}

// sourceTree finds the runsc source tree: the Bazel workspace under `bazel
// run`, else the nearest parent of the working directory holding go.mod of
// module runsc.dev/runsc.
func sourceTree() (string, error) {
	if ws := os.Getenv("BUILD_WORKSPACE_DIRECTORY"); ws != "" {
		return ws, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module runsc.dev/runsc") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find the runsc source tree (run from it, or pass --runsc)")
		}
		dir = parent
	}
}

// buildRunsc builds ./runsc of the source tree, static, into dir.
func buildRunsc(dir string) (string, error) {
	src, err := sourceTree()
	if err != nil {
		return "", err
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = "/usr/local/go/bin/go"
	}
	out := filepath.Join(dir, "runsc")
	cmd := exec.Command(goBin, "build", "-o", out, "./runsc")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building runsc in %s: %w: %s", src, err, b)
	}
	return out, nil
}
