//go:build root

package root

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"runsc.dev/runsc/runsc/test/testutil"
)

// escapeLink returns a relative symlink target that climbs out of dir up
// to / and then down to target: what an image would plant to reach the
// host if the runtime followed it from the host's view.
func escapeLink(dir, target string) string {
	return strings.Repeat("../", strings.Count(dir, "/")+3) + strings.TrimPrefix(target, "/")
}

// expectCreateFails runs create and checks it fails cleanly: exit 1, a
// short error naming want, no state left, no container process.
func expectCreateFails(t *testing.T, r *testutil.Runtime, b *testutil.Bundle, id, want string) {
	t.Helper()
	res := r.Run(t, "create", "--bundle", b.Dir, id)
	if res.Code == 0 {
		r.Run(t, "delete", "--force", id)
		t.Errorf("create succeeded, want it refused naming %q", want)
		return
	}
	if res.Code != 1 || !strings.Contains(res.Stderr, want) || strings.Count(strings.TrimSpace(res.Stderr), "\n") > 0 {
		t.Errorf("create: exit %d, stderr %q; want exit 1 and one line naming %q", res.Code, res.Stderr, want)
	}
	if _, err := os.Stat(filepath.Join(r.Root, id)); !os.IsNotExist(err) {
		t.Errorf("state dir of %s left after a failed create", id)
		r.Run(t, "delete", "--force", id)
	}
}

// TestCVE_2019_16884_ProcSymlink makes /proc or /sys a symlink in the
// rootfs, to a host directory and to a directory of the rootfs: create
// fails naming the mount, and the host target is untouched.
func TestCVE_2019_16884_ProcSymlink(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	for _, dest := range []string{"proc", "sys"} {
		for _, kind := range []string{"host-relative", "host-absolute", "in-rootfs"} {
			t.Run(dest+"-"+kind, func(t *testing.T) {
				canary := canaryDir(t)
				before := treeDigest(t, canary)
				b := testutil.NewBundle(t, "true")
				link := filepath.Join(b.Rootfs(), dest)
				os.Remove(link)
				target := map[string]string{"host-relative": escapeLink(b.Rootfs(), canary), "host-absolute": canary, "in-rootfs": "/tmp"}[kind]
				if err := os.Symlink(target, link); err != nil {
					t.Fatal(err)
				}
				expectCreateFails(t, r, b, "cve-2019-16884-"+dest+"-"+kind, "/"+dest)
				if after := treeDigest(t, canary); after != before {
					t.Errorf("host canary changed:\n%s\n->\n%s", before, after)
				}
			})
		}
	}
}

// TestCVE_2023_27561_MountsOverProc mounts things over /proc and inside
// it: only procfs may be /proc, and nothing but the lxcfs files may be
// mounted under it.
func TestCVE_2023_27561_MountsOverProc(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	fake := t.TempDir()
	os.MkdirAll(filepath.Join(fake, "self", "attr"), 0o755)
	os.WriteFile(filepath.Join(fake, "self", "attr", "current"), []byte("unconfined"), 0o644)
	for _, tc := range []struct {
		name string
		m    specs.Mount
		want string
	}{
		{"bind dir over /proc", specs.Mount{Destination: "/proc", Type: "bind", Source: fake, Options: []string{"rbind"}}, "/proc"},
		{"tmpfs over /proc", specs.Mount{Destination: "/proc", Type: "tmpfs", Source: "tmpfs"}, "/proc"},
		{"bind over /proc/self/attr", specs.Mount{Destination: "/proc/self/attr", Type: "bind", Source: filepath.Join(fake, "self", "attr"), Options: []string{"bind"}}, "/proc/self/attr"},
		{"tmpfs over /proc/sys", specs.Mount{Destination: "/proc/sys", Type: "tmpfs", Source: "tmpfs"}, "/proc/sys"},
		{"bind over /proc/sysrq-trigger", specs.Mount{Destination: "/proc/sysrq-trigger", Type: "bind", Source: filepath.Join(fake, "self", "attr", "current"), Options: []string{"bind"}}, "/proc/sysrq-trigger"},
		{"via dotdot", specs.Mount{Destination: "/tmp/../proc/sys", Type: "tmpfs", Source: "tmpfs"}, "/proc/sys"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := testutil.NewBundle(t, "true")
			b.Spec.Mounts = append(b.Spec.Mounts, tc.m)
			b.Save(t)
			expectCreateFails(t, r, b, "cve-2023-27561", tc.want)
		})
	}
	// A symlink in the rootfs pointing into /proc: the mount through it
	// is inside /proc too.
	t.Run("symlink into /proc", func(t *testing.T) {
		b := testutil.NewBundle(t, "true")
		os.Symlink("/proc/sys/kernel", filepath.Join(b.Rootfs(), "tmp", "k"))
		b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/tmp/k", Type: "tmpfs", Source: "tmpfs"})
		b.Save(t)
		expectCreateFails(t, r, b, "cve-2023-27561-link", "/proc/sys/kernel")
	})
}

// devVariant plants something in the rootfs's /dev.
type devVariant struct {
	name string
	// plant changes the rootfs; canaryDir and canaryFile are host paths.
	plant func(t *testing.T, rootfs, canaryDir, canaryFile string)
	// noDevTmpfs drops the /dev tmpfs from the spec, so the rootfs's own
	// /dev is used.
	noDevTmpfs bool
	terminal   bool
}

// TestCVE_2025_31133 covers /dev/null replaced by a symlink to a host file
// or removed before masking, /dev/console and /dev/pts as symlinks
// (CVE-2025-52565), and /dev itself a symlink out of the rootfs: the host
// targets stay byte-identical, and where the container runs, masked paths
// are still masked.
func TestCVE_2025_31133(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	symlinkIn := func(name string, toDir bool) func(t *testing.T, rootfs, cdir, cfile string) {
		return func(t *testing.T, rootfs, cdir, cfile string) {
			target := cfile
			if toDir {
				target = cdir
			}
			p := filepath.Join(rootfs, "dev", name)
			os.RemoveAll(p)
			if err := os.Symlink(escapeLink(filepath.Dir(p), target), p); err != nil {
				t.Fatal(err)
			}
		}
	}
	variants := []devVariant{
		{name: "null symlink, dev tmpfs", plant: symlinkIn("null", false)},
		{name: "null symlink, image dev", plant: symlinkIn("null", false), noDevTmpfs: true},
		{name: "null absolute symlink, image dev", noDevTmpfs: true, plant: func(t *testing.T, rootfs, cdir, cfile string) {
			os.Symlink(cfile, filepath.Join(rootfs, "dev", "null"))
		}},
		{name: "null removed, image dev", noDevTmpfs: true, plant: func(t *testing.T, rootfs, cdir, cfile string) {
			os.Remove(filepath.Join(rootfs, "dev", "null"))
		}},
		{name: "null regular file, image dev", noDevTmpfs: true, plant: func(t *testing.T, rootfs, cdir, cfile string) {
			os.WriteFile(filepath.Join(rootfs, "dev", "null"), []byte("not null"), 0o644)
		}},
		{name: "console symlink", plant: symlinkIn("console", false), noDevTmpfs: true},
		{name: "console symlink, terminal", plant: symlinkIn("console", false), noDevTmpfs: true, terminal: true},
		{name: "pts symlink", plant: symlinkIn("pts", true), noDevTmpfs: true},
		{name: "pts symlink, terminal", plant: symlinkIn("pts", true), noDevTmpfs: true, terminal: true},
		{name: "ptmx symlink, terminal", plant: symlinkIn("ptmx", false), noDevTmpfs: true, terminal: true},
		{name: "dev relative symlink out", plant: func(t *testing.T, rootfs, cdir, cfile string) {
			os.RemoveAll(filepath.Join(rootfs, "dev"))
			os.Symlink(escapeLink(rootfs, cdir), filepath.Join(rootfs, "dev"))
		}},
		{name: "dev absolute symlink out", plant: func(t *testing.T, rootfs, cdir, cfile string) {
			os.RemoveAll(filepath.Join(rootfs, "dev"))
			os.Symlink(cdir, filepath.Join(rootfs, "dev"))
		}},
		{name: "dev symlink out, terminal", terminal: true, plant: func(t *testing.T, rootfs, cdir, cfile string) {
			os.RemoveAll(filepath.Join(rootfs, "dev"))
			os.Symlink(escapeLink(rootfs, cdir), filepath.Join(rootfs, "dev"))
		}},
	}
	for i, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			cdir := canaryDir(t)
			cfile := canaryFile(t)
			beforeDir, beforeFile := treeDigest(t, cdir), treeDigest(t, cfile)
			// Read a masked file and a masked dir; print nothing else.
			b := testutil.NewBundle(t, "sh", "-c", `echo KCORE=$(head -c 16 /proc/kcore 2>/dev/null | wc -c) TIMER=$(cat /proc/timer_list 2>/dev/null | wc -c) ACPI=$(ls /proc/acpi 2>/dev/null | wc -l)`)
			os.MkdirAll(filepath.Join(b.Rootfs(), "dev", "pts"), 0o755)
			v.plant(t, b.Rootfs(), cdir, cfile)
			if v.noDevTmpfs {
				var kept []specs.Mount
				for _, m := range b.Spec.Mounts {
					if m.Destination != "/dev" {
						kept = append(kept, m)
					}
				}
				b.Spec.Mounts = kept
			}
			b.Spec.Linux.MaskedPaths = append(b.Spec.Linux.MaskedPaths, "/proc/kcore", "/proc/timer_list", "/proc/acpi")
			args := []string{"run", "--bundle", b.Dir}
			var wg sync.WaitGroup
			if v.terminal {
				b.Spec.Process.Terminal = true
				sock, stop := consoleSocket(t, &wg)
				defer stop()
				args = append(args, "--console-socket", sock)
			}
			b.Save(t)
			id := fmt.Sprintf("cve-2025-31133-%d", i)
			res := r.Run(t, append(args, id)...)
			r.Run(t, "delete", "--force", id)
			wg.Wait()
			t.Logf("exit %d stdout %q stderr %q", res.Code, strings.TrimSpace(res.Stdout), strings.TrimSpace(res.Stderr))
			if res.Code == 0 && !v.terminal {
				if !strings.Contains(res.Stdout, "KCORE=0 TIMER=0 ACPI=0") {
					t.Errorf("masked paths readable: %q", res.Stdout)
				}
			}
			if res.Code != 0 && (res.Code != 1 || strings.Count(strings.TrimSpace(res.Stderr), "\n") > 0) {
				t.Errorf("failure is not exit 1 with one line: %+v", res)
			}
			if got := treeDigest(t, cdir); got != beforeDir {
				t.Errorf("host canary dir changed:\n%s\n->\n%s", beforeDir, got)
			}
			if got := treeDigest(t, cfile); got != beforeFile {
				t.Errorf("host canary file changed:\n%s\n->\n%s", beforeFile, got)
			}
		})
	}
}

// consoleSocket listens on a unix socket for the console master (runc's
// protocol) and drains it until the container closes it.
func consoleSocket(t *testing.T, wg *sync.WaitGroup) (string, func()) {
	t.Helper()
	dir, err := os.MkdirTemp("", "console")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "s")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: p, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := l.AcceptUnix()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 256)
		oob := make([]byte, unix.CmsgSpace(4*4))
		_, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
		if err != nil {
			return
		}
		msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
		for _, m := range msgs {
			fds, _ := unix.ParseUnixRights(&m)
			for _, fd := range fds {
				f := os.NewFile(uintptr(fd), "master")
				go func() {
					b := make([]byte, 4096)
					for {
						if _, err := f.Read(b); err != nil {
							f.Close()
							return
						}
					}
				}()
			}
		}
	}()
	return p, func() { l.Close(); os.RemoveAll(dir) }
}

// TestCVE_2021_30465 races a rename of a mount destination's parent with
// a symlink to a host canary directory while containers are created:
// every mount target must be resolved inside the rootfs, so the canary
// (no directory or file created in it, no mount visible through it) stays
// untouched. 200 runs, 1000 with RUNSC_STRESS=1.
func TestCVE_2021_30465(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.Audit(t)
	r := testutil.NewRuntime(t)
	runs := 200
	if os.Getenv("RUNSC_STRESS") == "1" {
		runs = 1000
	}
	if n, err := strconv.Atoi(os.Getenv("RUNSC_RACE_RUNS")); err == nil && n > 0 {
		runs = n
	}
	canary := canaryDir(t)
	before := treeDigest(t, canary)
	vol := t.TempDir()
	os.WriteFile(filepath.Join(vol, "vol-marker"), []byte("volume"), 0o644)
	b := testutil.NewBundle(t, "true")
	rootfs := b.Rootfs()
	// /race is a real dir; /racelink a symlink to the host canary. The
	// goroutine exchanges them atomically, so at any instant /race is one
	// or the other.
	if err := os.Mkdir(filepath.Join(rootfs, "race"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(escapeLink(rootfs, canary), filepath.Join(rootfs, "racelink")); err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		b.Spec.Mounts = append(b.Spec.Mounts,
			specs.Mount{Destination: fmt.Sprintf("/race/t%d/sub", i), Type: "tmpfs", Source: "tmpfs"},
			specs.Mount{Destination: fmt.Sprintf("/race/b%d", i), Type: "bind", Source: vol, Options: []string{"bind", "ro"}},
			specs.Mount{Destination: fmt.Sprintf("/race/f%d", i), Type: "bind", Source: filepath.Join(vol, "vol-marker"), Options: []string{"bind"}},
		)
	}
	b.Save(t)
	var stop atomic.Bool
	var swaps atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		dir, err := unix.Open(rootfs, unix.O_DIRECTORY|unix.O_PATH, 0)
		if err != nil {
			return
		}
		defer unix.Close(dir)
		for !stop.Load() {
			if unix.Renameat2(dir, "race", dir, "racelink", unix.RENAME_EXCHANGE) == nil {
				swaps.Add(1)
			}
		}
	}()
	created, failed := 0, 0
	for i := range runs {
		id := fmt.Sprintf("race-%d", i)
		res := r.Run(t, "create", "--bundle", b.Dir, id)
		if res.Code == 0 {
			created++
		} else {
			failed++
			if failed == 1 {
				t.Logf("first refusal: %s", strings.TrimSpace(res.Stderr))
			}
			if res.Code != 1 {
				t.Errorf("run %d: create exit %d: %s", i, res.Code, res.Stderr)
			}
		}
		r.MustRun(t, "delete", "--force", id)
		if after := treeDigest(t, canary); after != before {
			t.Fatalf("run %d: host canary changed:\n%s\n->\n%s", i, before, after)
		}
	}
	stop.Store(true)
	<-done
	t.Logf("%d runs: %d created, %d refused, %d swaps", runs, created, failed, swaps.Load())
	if swaps.Load() < int64(runs) {
		t.Errorf("only %d swaps in %d runs: the race did not run", swaps.Load(), runs)
	}
	// The volume's files are where they were, nothing added.
	if entries := mustReadDir(t, vol); len(entries) != 1 {
		t.Errorf("volume holds %v", entries)
	}
}
