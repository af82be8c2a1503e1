package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// dockerImage is the image imported from the bench's rootfs.
const dockerImage = "runsc-bench-busybox:latest"

// dockerSetup checks for a reachable dockerd and which of the runtimes it
// has registered (by name), and imports the bench rootfs as an image. It
// returns the registered runtime names, or a reason to skip.
func dockerSetup(ctx context.Context, rootfs string, rts []*Runtime) (map[string]bool, string) {
	if _, err := exec.LookPath("docker"); err != nil {
		return nil, "no docker client"
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, "docker", "info", "--format", "{{json .Runtimes}}").Output()
	if err != nil {
		return nil, "no dockerd reachable (docker info failed)"
	}
	var registered map[string]any
	if err := json.Unmarshal(out, &registered); err != nil {
		return nil, fmt.Sprintf("cannot parse docker runtimes: %v", err)
	}
	names := map[string]bool{}
	for _, rt := range rts {
		reg, ok := registered[rt.Name].(map[string]any)
		if !ok {
			continue
		}
		// Only when dockerd runs the very binary under test.
		if p, _ := reg["path"].(string); p != "" {
			if lp, err := exec.LookPath(p); err != nil || lp != rt.Path {
				continue
			}
		}
		names[rt.Name] = true
	}
	if len(names) == 0 {
		return nil, "dockerd has none of the runtimes registered under their names with the same binary"
	}
	imp := exec.CommandContext(ctx, "sh", "-c", `tar -C "$1" -c . | docker import - "$2"`, "sh", rootfs, dockerImage)
	if b, err := imp.CombinedOutput(); err != nil {
		return nil, fmt.Sprintf("docker import failed: %v: %s", err, strings.TrimSpace(string(b)))
	}
	return names, ""
}

// dockerRun returns a step timing `docker run --rm` of /bin/true for the
// runtimes dockerd knows.
func (b *Bench) dockerRun(names map[string]bool) func(*Runtime, int) error {
	return func(rt *Runtime, r int) error {
		if !names[rt.Name] {
			return nil
		}
		d, err := b.iv.Run([]string{"docker", "run", "--rm", "--runtime", rt.Name, "--network", "none", dockerImage, "/bin/true"})
		if err != nil {
			b.fail("docker", rt, err)
			return nil
		}
		b.record("docker", rt, r, ms(d))
		return nil
	}
}

// dockerCleanup removes the imported image.
func dockerCleanup() {
	exec.Command("docker", "rmi", "-f", dockerImage).Run()
}
