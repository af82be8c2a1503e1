// Package specutils reads, validates and normalises OCI runtime specs, and
// holds the small helpers (capabilities, namespaces, mounts) that the
// container, sandbox, boot and gofer packages share.
package specutils

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"runsc.dev/runsc/pkg/fastjson"
	"runsc.dev/runsc/pkg/log"
	"runsc.dev/runsc/pkg/sysfile"
	"runsc.dev/runsc/runsc/specutils/seccomp"
)

// ConfigName is the spec's file name inside a bundle.
const ConfigName = "config.json"

// MaxConfigSize bounds config.json: a larger file is refused rather than
// read whole into memory.
const MaxConfigSize = 64 << 20

// ErrInvalidSpec is wrapped by every validation failure.
var ErrInvalidSpec = errors.New("invalid spec")

// ReadSpec reads <bundle>/config.json, validates it and normalises it
// (root.path made absolute against the bundle).
func ReadSpec(bundle string) (*specs.Spec, error) {
	f, err := sysfile.Open(filepath.Join(bundle, ConfigName), os.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("reading spec: %w", err)
	}
	defer f.Close()
	end := log.Span("spec/decode")
	spec, err := decode(f)
	end()
	if err != nil {
		return nil, err
	}
	defer log.Span("spec/validate")()
	if err := Normalize(spec, bundle); err != nil {
		return nil, err
	}
	if err := Validate(spec); err != nil {
		return nil, err
	}
	return spec, nil
}

// ReadSpecFromFile decodes an already normalised and validated spec from f,
// always from offset 0: the gofer, init and every exec stage read copies
// of one sealed memfd, so reads are positional (pread) and never race on a
// shared offset.
func ReadSpecFromFile(f *os.File) (*specs.Spec, error) {
	defer log.Span("spec/decode")()
	return decode(io.NewSectionReader(f, 0, MaxConfigSize+1))
}

func decode(r io.Reader) (*specs.Spec, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading spec: %w", err)
	}
	if len(b) > MaxConfigSize {
		return nil, fmt.Errorf("%w: config.json is larger than %d MiB", ErrInvalidSpec, MaxConfigSize>>20)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil, fmt.Errorf("%w: config.json is empty", ErrInvalidSpec)
	}
	var spec specs.Spec
	if err := fastjson.Unmarshal(b, &spec); err != nil {
		return nil, fmt.Errorf("%w: config.json is not valid JSON: %v", ErrInvalidSpec, err)
	}
	return &spec, nil
}

// Normalize resolves bundle-relative paths once, so every later reader of
// the spec sees absolute paths.
func Normalize(spec *specs.Spec, bundle string) error {
	if spec.Root == nil || spec.Root.Path == "" {
		return invalid("root.path", "must be set")
	}
	if !filepath.IsAbs(spec.Root.Path) {
		abs, err := filepath.Abs(filepath.Join(bundle, spec.Root.Path))
		if err != nil {
			return fmt.Errorf("resolving root.path: %w", err)
		}
		spec.Root.Path = abs
	}
	spec.Root.Path = filepath.Clean(spec.Root.Path)
	return nil
}

func invalid(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s %s", ErrInvalidSpec, field, fmt.Sprintf(format, args...))
}

// Validate checks the rules runsc enforces before creating anything. Unknown
// fields and annotations are accepted, as the spec requires.
func Validate(spec *specs.Spec) error {
	if err := validateVersion(spec.Version); err != nil {
		return err
	}
	if spec.Root == nil || spec.Root.Path == "" {
		return invalid("root.path", "must be set")
	}
	fi, err := os.Stat(spec.Root.Path)
	if err != nil {
		return invalid("root.path", "%q: %v", spec.Root.Path, errors.Unwrap(err))
	}
	if !fi.IsDir() {
		return invalid("root.path", "%q is not a directory", spec.Root.Path)
	}
	if spec.Process == nil {
		return invalid("process", "must be set")
	}
	if err := ValidateProcess(spec.Process); err != nil {
		return err
	}
	if err := checkPathLen("root.path", spec.Root.Path); err != nil {
		return err
	}
	for i, m := range spec.Mounts {
		if err := checkPathLen(fmt.Sprintf("mounts[%d].destination", i), m.Destination); err != nil {
			return err
		}
		if err := checkPathLen(fmt.Sprintf("mounts[%d].source", i), m.Source); err != nil {
			return err
		}
		if !filepath.IsAbs(m.Destination) {
			return invalid(fmt.Sprintf("mounts[%d].destination", i), "%q must be an absolute path", m.Destination)
		}
	}
	if spec.Linux != nil {
		if err := validateLinux(spec.Linux); err != nil {
			return err
		}
	}
	return nil
}

// pathMax is the kernel's PATH_MAX: no path the kernel resolves is longer.
const pathMax = 4096

// checkPathLen refuses a path longer than PATH_MAX, quoting only its
// start, so that the error stays one short line.
func checkPathLen(field, p string) error {
	if len(p) < pathMax {
		return nil
	}
	return invalid(field, "%q... is %d bytes long, over PATH_MAX (%d)", p[:64], len(p), pathMax)
}

func validateVersion(v string) error {
	major, _, ok := strings.Cut(v, ".")
	if n, err := strconv.Atoi(major); !ok || err != nil || n != 1 {
		return invalid("ociVersion", "%q is not a supported version (want 1.x)", v)
	}
	return nil
}

// ValidateProcess checks a process (the container's, or an exec'd one).
func ValidateProcess(p *specs.Process) error {
	if len(p.Args) == 0 || p.Args[0] == "" {
		return invalid("process.args", "must not be empty")
	}
	if p.IOPriority != nil {
		if _, err := IOPriority(p.IOPriority); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidSpec, err)
		}
	}
	if p.Scheduler != nil {
		if _, err := SchedAttr(p.Scheduler); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidSpec, err)
		}
	}
	if err := checkPathLen("process.cwd", p.Cwd); err != nil {
		return err
	}
	if !filepath.IsAbs(p.Cwd) {
		return invalid("process.cwd", "%q must be an absolute path", p.Cwd)
	}
	if c := p.Capabilities; c != nil {
		for _, set := range []struct {
			name string
			caps []string
		}{{"bounding", c.Bounding}, {"effective", c.Effective}, {"inheritable", c.Inheritable}, {"permitted", c.Permitted}, {"ambient", c.Ambient}} {
			for _, name := range set.caps {
				if _, err := CapabilityFromName(name); err != nil {
					return invalid("process.capabilities."+set.name, "%v", err)
				}
			}
		}
	}
	for i, r := range p.Rlimits {
		if _, ok := RlimitResource(r.Type); !ok {
			return invalid(fmt.Sprintf("process.rlimits[%d].type", i), "%q is unknown", r.Type)
		}
		if r.Soft > r.Hard {
			return invalid(fmt.Sprintf("process.rlimits[%d]", i), "%s soft limit %d exceeds hard limit %d", r.Type, r.Soft, r.Hard)
		}
	}
	if p.OOMScoreAdj != nil && (*p.OOMScoreAdj < -1000 || *p.OOMScoreAdj > 1000) {
		return invalid("process.oomScoreAdj", "%d is outside -1000..1000", *p.OOMScoreAdj)
	}
	for i, e := range p.Env {
		if !strings.Contains(e, "=") {
			return invalid(fmt.Sprintf("process.env[%d]", i), "%q is not KEY=VALUE", e)
		}
	}
	return nil
}

func validateLinux(l *specs.Linux) error {
	// What runsc cannot do is refused, naming the field, not ignored.
	switch {
	case l.IntelRdt != nil:
		return invalid("linux.intelRdt", "is not supported by runsc")
	case l.MemoryPolicy != nil:
		return invalid("linux.memoryPolicy", "is not supported by runsc")
	case len(l.TimeOffsets) > 0:
		return invalid("linux.timeOffsets", "is not supported by runsc")
	}
	if l.Personality != nil {
		if _, err := Personality(l.Personality); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidSpec, err)
		}
	}
	seen := map[specs.LinuxNamespaceType]bool{}
	for i, ns := range l.Namespaces {
		if _, ok := NamespaceFlag(ns.Type); !ok {
			return invalid(fmt.Sprintf("linux.namespaces[%d].type", i), "%q is unknown", ns.Type)
		}
		if seen[ns.Type] {
			return invalid(fmt.Sprintf("linux.namespaces[%d]", i), "namespace %q is listed twice", ns.Type)
		}
		seen[ns.Type] = true
		if ns.Path != "" && !filepath.IsAbs(ns.Path) {
			return invalid(fmt.Sprintf("linux.namespaces[%d].path", i), "%q must be an absolute path", ns.Path)
		}
	}
	if (len(l.UIDMappings) > 0 || len(l.GIDMappings) > 0) && !seen[specs.UserNamespace] {
		return invalid("linux.uidMappings", "uid/gid mappings require a user namespace")
	}
	for _, field := range []struct {
		name  string
		paths []string
	}{{"linux.maskedPaths", l.MaskedPaths}, {"linux.readonlyPaths", l.ReadonlyPaths}} {
		for i, p := range field.paths {
			if err := checkPathLen(fmt.Sprintf("%s[%d]", field.name, i), p); err != nil {
				return err
			}
			if !filepath.IsAbs(p) {
				return invalid(fmt.Sprintf("%s[%d]", field.name, i), "%q must be an absolute path", p)
			}
		}
	}
	if err := validateSysctls(l); err != nil {
		return err
	}
	if l.Seccomp != nil {
		if _, err := seccomp.Compile(l.Seccomp); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidSpec, err)
		}
	}
	switch l.RootfsPropagation {
	case "", "shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable":
	default:
		return invalid("linux.rootfsPropagation", "%q is unknown", l.RootfsPropagation)
	}
	return nil
}

// HasNamespace reports whether the spec asks for a namespace of type t, and
// its path when one is to be joined.
func HasNamespace(spec *specs.Spec, t specs.LinuxNamespaceType) (path string, ok bool) {
	if spec == nil || spec.Linux == nil {
		return "", false
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == t {
			return ns.Path, true
		}
	}
	return "", false
}
