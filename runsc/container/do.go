package container

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"runsc.dev/runsc/pkg/log"
	"runsc.dev/runsc/runsc/specutils"
)

// DoOptions describe the container `runsc do` runs.
type DoOptions struct {
	// Args is the command and its arguments.
	Args []string
	// RootDir is the tree seen as the container's root ("/" by default).
	RootDir string
	// Overlay puts a writable overlay (tmpfs upper) on the root; without
	// it the root is read-only.
	Overlay bool
	// Network is "none" (a new network namespace with only loopback, up)
	// or "host".
	Network string
	// CPUs limits CPU time (linux.resources.cpu quota); 0 means no limit.
	CPUs float64
	// Memory limits memory in bytes; 0 means no limit.
	Memory int64
	// Volumes are HOST:CONTAINER[:ro] bind mounts.
	Volumes []string
	// User is UID[:GID]; empty means the caller's ids (0 when rootless:
	// the caller is root of the container's user namespace).
	User string
	// Env are K=V settings added to (or replacing in) the environment.
	Env []string
	// Environ is the caller's environment (os.Environ()).
	Environ []string
	// Cwd is the caller's working directory.
	Cwd string
	// Terminal makes the container use the caller's terminal.
	Terminal bool
	// Rootless builds the spec for an unprivileged caller.
	Rootless bool
	// StateRoot is the --root of the state store: hidden from the
	// container.
	StateRoot string
}

// droppedEnv are the caller's variables `runsc do` does not pass on: they
// name the sudo caller, a login session, or sockets and runtime dirs of
// the host that the container's private /run and /tmp do not have (a
// program following them would fail or reach outside the sandbox).
var droppedEnv = []string{
	"SUDO_", "XDG_RUNTIME_DIR", "XDG_SESSION_", "DBUS_SESSION_BUS_ADDRESS",
	"SSH_AUTH_SOCK", "SSH_AGENT_PID", "GPG_AGENT_INFO", "NOTIFY_SOCKET",
	"LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "INVOCATION_ID",
	"JOURNAL_STREAM", "WAYLAND_DISPLAY", "DISPLAY", "TMUX", "TMUX_PANE",
}

// doEnv filters environ and applies extra (K=V, later ones win).
func doEnv(environ, extra []string) []string {
	var out []string
	idx := map[string]int{}
	add := func(kv string) {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := idx[k]; ok {
			out[i] = kv
			return
		}
		idx[k] = len(out)
		out = append(out, kv)
	}
next:
	for _, kv := range environ {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			continue
		}
		for _, d := range droppedEnv {
			if k == d || strings.HasSuffix(d, "_") && strings.HasPrefix(k, d) {
				continue next
			}
		}
		add(kv)
	}
	if _, ok := idx["PATH"]; !ok {
		add("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	}
	for _, kv := range extra {
		add(kv)
	}
	return out
}

// parseUser parses UID[:GID].
func parseUser(s string, defUID, defGID uint32) (uint32, uint32, error) {
	if s == "" {
		return defUID, defGID, nil
	}
	u, g, hasG := strings.Cut(s, ":")
	var uid, gid uint32
	if _, err := fmt.Sscanf(u, "%d", &uid); err != nil || fmt.Sprint(uid) != u {
		return 0, 0, fmt.Errorf("--user %q: want UID[:GID], numeric", s)
	}
	gid = uid
	if hasG {
		if _, err := fmt.Sscanf(g, "%d", &gid); err != nil || fmt.Sprint(gid) != g {
			return 0, 0, fmt.Errorf("--user %q: want UID[:GID], numeric", s)
		}
	}
	return uid, gid, nil
}

// parseVolume parses HOST:CONTAINER[:ro|rw] into a bind mount.
func parseVolume(v string) (specs.Mount, error) {
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return specs.Mount{}, fmt.Errorf("--volume %q: want HOST:CONTAINER[:ro]", v)
	}
	host, err := filepath.Abs(parts[0])
	if err != nil {
		return specs.Mount{}, fmt.Errorf("--volume %q: %w", v, err)
	}
	if _, err := os.Stat(host); err != nil {
		return specs.Mount{}, fmt.Errorf("--volume %q: %w", v, err)
	}
	if !filepath.IsAbs(parts[1]) {
		return specs.Mount{}, fmt.Errorf("--volume %q: the container path must be absolute", v)
	}
	opts := []string{"rbind", "nosuid", "nodev"}
	if len(parts) == 3 {
		switch parts[2] {
		case "ro":
			opts = append(opts, "ro")
		case "rw":
		default:
			return specs.Mount{}, fmt.Errorf("--volume %q: mode must be ro or rw", v)
		}
	}
	return specs.Mount{Destination: filepath.Clean(parts[1]), Type: "bind", Source: host, Options: opts}, nil
}

// DoSpec builds the spec `runsc do` runs.
func DoSpec(o DoOptions) (*specs.Spec, error) {
	if len(o.Args) == 0 {
		return nil, fmt.Errorf("no command given")
	}
	root := o.RootDir
	if root == "" {
		root = "/"
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("--root-dir: %w", err)
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("--root-dir %q is not a directory", root)
	}
	if o.Network != "none" && o.Network != "host" {
		return nil, fmt.Errorf("--network %q: want none or host", o.Network)
	}
	defUID, defGID := uint32(os.Geteuid()), uint32(os.Getegid())
	if o.Rootless {
		defUID, defGID = 0, 0
	}
	uid, gid, err := parseUser(o.User, defUID, defGID)
	if err != nil {
		return nil, err
	}
	cwd := o.Cwd
	if fi, err := os.Stat(filepath.Join(root, cwd)); cwd == "" || !filepath.IsAbs(cwd) || err != nil || !fi.IsDir() {
		cwd = "/"
	}
	hostname, _ := os.Hostname()
	var caps []string
	if uid == 0 {
		caps = append(caps, specutils.DefaultCapabilities...)
	}
	s := &specs.Spec{
		Version:  specs.Version,
		Root:     &specs.Root{Path: root, Readonly: !o.Overlay},
		Hostname: hostname,
		Process: &specs.Process{
			Terminal:        o.Terminal,
			User:            specs.User{UID: uid, GID: gid},
			Args:            o.Args,
			Env:             doEnv(o.Environ, o.Env),
			Capabilities:    &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps},
			NoNewPrivileges: true,
		},
		Annotations: map[string]string{},
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.IPCNamespace}, {Type: specs.UTSNamespace},
				{Type: specs.MountNamespace}, {Type: specs.CgroupNamespace},
			},
			MaskedPaths:   append([]string(nil), specutils.DefaultMaskedPaths...),
			ReadonlyPaths: append([]string(nil), specutils.DefaultReadonlyPaths...),
		},
	}
	s.Annotations[specutils.RootfsOverlayAnnotation] = "none"
	if o.Overlay {
		s.Annotations[specutils.RootfsOverlayAnnotation] = "tmpfs"
	}
	if o.StateRoot != "" {
		// Other containers' state and control sockets stay out of sight.
		s.Linux.MaskedPaths = append(s.Linux.MaskedPaths, o.StateRoot)
	}
	// --network none: a network namespace of its own, in which init
	// brings the loopback interface up.
	newNet := o.Network == "none"
	if newNet {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace})
	}
	if o.Rootless {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	}
	devpts := []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}
	if !o.Rootless {
		devpts = append(devpts, "gid=5")
	}
	s.Mounts = []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: devpts},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "mode=1777"}},
		{Destination: "/run", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "mode=755"}},
	}
	if o.Rootless && !newNet {
		// sysfs needs a network namespace of our own: bind the host's.
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/sys", Type: "bind", Source: "/sys", Options: []string{"rbind", "nosuid", "noexec", "nodev", "ro"}})
	} else {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}})
	}
	for _, v := range o.Volumes {
		m, err := parseVolume(v)
		if err != nil {
			return nil, err
		}
		s.Mounts = append(s.Mounts, m)
	}
	s.Process.Cwd = visibleCwd(s.Mounts, cwd)
	if o.CPUs < 0 || o.Memory < 0 {
		return nil, fmt.Errorf("--cpus and --memory must not be negative")
	}
	if o.CPUs > 0 || o.Memory > 0 {
		r := &specs.LinuxResources{}
		if o.CPUs > 0 {
			period := uint64(100000)
			quota := int64(o.CPUs * float64(period))
			r.CPU = &specs.LinuxCPU{Period: &period, Quota: &quota}
		}
		if o.Memory > 0 {
			m := o.Memory
			r.Memory = &specs.LinuxMemory{Limit: &m}
		}
		s.Linux.Resources = r
	}
	return s, nil
}

// NewDoID returns a fresh container id for `runsc do`. It need only be
// unique (create's mkdir catches a collision), not secret: math/rand/v2,
// not crypto/rand, which links a FIPS module whose init every runsc
// process would pay.
func NewDoID() string {
	return fmt.Sprintf("do-%012x", rand.Uint64()&(1<<48-1))
}

// visibleCwd returns cwd unless the last mount covering it is a fresh
// filesystem (a private /tmp, /run, ...), where it does not exist: then
// "/".
func visibleCwd(mounts []specs.Mount, cwd string) string {
	covered := false
	for _, m := range mounts {
		if cwd == m.Destination || strings.HasPrefix(cwd, strings.TrimSuffix(m.Destination, "/")+"/") {
			covered = m.Type != "bind"
		}
	}
	if covered {
		log.Warningf("the current directory %q is hidden by a private mount in the container: using /", cwd)
		return "/"
	}
	return cwd
}
