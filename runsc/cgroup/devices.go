package cgroup

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Device access bits, equal to the kernel's BPF_DEVCG_ACC_* values so the
// eBPF filter can use them directly.
const (
	accMknod devAccess = 1
	accRead  devAccess = 2
	accWrite devAccess = 4
	accAll             = accMknod | accRead | accWrite
)

// Device types, equal to BPF_DEVCG_DEV_*.
const (
	devBlock = 1
	devChar  = 2
)

// wildcard is a major or minor number that matches every device.
const wildcard = -1

// devAccess is a set of device permissions ("rwm").
type devAccess uint8

// String formats the permissions in cgroup order, e.g. "rwm".
func (a devAccess) String() string {
	var b strings.Builder
	if a&accRead != 0 {
		b.WriteByte('r')
	}
	if a&accWrite != 0 {
		b.WriteByte('w')
	}
	if a&accMknod != 0 {
		b.WriteByte('m')
	}
	return b.String()
}

func parseAccess(s string) (devAccess, error) {
	if s == "" {
		return accAll, nil
	}
	var a devAccess
	for _, r := range s {
		switch r {
		case 'r':
			a |= accRead
		case 'w':
			a |= accWrite
		case 'm':
			a |= accMknod
		default:
			return 0, fmt.Errorf("invalid access %q (want a combination of \"rwm\")", s)
		}
	}
	return a, nil
}

// devRule is one parsed device cgroup rule.
type devRule struct {
	allow bool
	typ   byte // 'a', 'b' or 'c'
	major int64
	minor int64
	acc   devAccess
}

// cgroupString formats the rule as written to devices.allow/devices.deny.
func (r devRule) cgroupString() string {
	num := func(n int64) string {
		if n == wildcard {
			return "*"
		}
		return strconv.FormatInt(n, 10)
	}
	return fmt.Sprintf("%c %s:%s %s", r.typ, num(r.major), num(r.minor), r.acc)
}

// parseDeviceRules converts linux.resources.devices into rules. An empty
// type means 'a' (all devices), absent numbers are wildcards and an empty
// access is "rwm".
func parseDeviceRules(list []specs.LinuxDeviceCgroup) ([]devRule, error) {
	out := make([]devRule, 0, len(list))
	for i, d := range list {
		field := fmt.Sprintf("linux.resources.devices[%d]", i)
		r := devRule{allow: d.Allow, major: wildcard, minor: wildcard}
		switch d.Type {
		case "", "a":
			r.typ = 'a'
		case "b", "c":
			r.typ = d.Type[0]
		default:
			return nil, fmt.Errorf("%s.type: invalid device type %q", field, d.Type)
		}
		for _, n := range []struct {
			name string
			p    *int64
			dst  *int64
		}{{"major", d.Major, &r.major}, {"minor", d.Minor, &r.minor}} {
			if n.p == nil {
				continue
			}
			if *n.p < wildcard || *n.p > 1<<32-1 {
				return nil, fmt.Errorf("%s.%s: invalid number %d", field, n.name, *n.p)
			}
			*n.dst = *n.p
		}
		acc, err := parseAccess(d.Access)
		if err != nil {
			return nil, fmt.Errorf("%s.access: %w", field, err)
		}
		r.acc = acc
		out = append(out, r)
	}
	return out, nil
}

// devKey identifies a device exception.
type devKey struct {
	typ   byte
	major int64
	minor int64
}

// devEmulator models the cgroup v1 devices controller: a default policy
// plus exceptions, updated rule by rule exactly as the kernel does (and as
// runc's devices emulator does), so that v1 and the v2 eBPF filter enforce
// the same policy.
type devEmulator struct {
	defaultAllow bool
	exceptions   map[devKey]devAccess
}

// newDevEmulator returns the state the rules of a spec start from: deny all.
func newDevEmulator() *devEmulator {
	return &devEmulator{exceptions: map[devKey]devAccess{}}
}

// apply adds one rule. A type 'a' rule resets the policy: allow-all or
// deny-all with no exceptions. Other rules add an exception when their
// action differs from the default, or remove permissions from matching
// exceptions otherwise.
func (e *devEmulator) apply(r devRule) error {
	if r.typ == 'a' {
		e.defaultAllow = r.allow
		e.exceptions = map[devKey]devAccess{}
		return nil
	}
	k := devKey{r.typ, r.major, r.minor}
	if r.allow != e.defaultAllow {
		e.exceptions[k] |= r.acc
		return nil
	}
	// Removing permissions. cgroup v1 silently ignores removals that only
	// partially match a wildcard exception; refuse them instead of
	// pretending the hole was punched.
	for _, wk := range []devKey{{k.typ, wildcard, k.minor}, {k.typ, k.major, wildcard}, {k.typ, wildcard, wildcard}} {
		if wk == k {
			continue
		}
		if e.exceptions[wk]&r.acc != 0 {
			return fmt.Errorf("rule %q cannot remove access granted by the wildcard rule %q", r.cgroupString(),
				devRule{allow: !r.allow, typ: wk.typ, major: wk.major, minor: wk.minor, acc: e.exceptions[wk]}.cgroupString())
		}
	}
	if left := e.exceptions[k] &^ r.acc; left != 0 {
		e.exceptions[k] = left
	} else {
		delete(e.exceptions, k)
	}
	return nil
}

// sortedExceptions returns the exceptions in a stable order.
func (e *devEmulator) sortedExceptions() []devRule {
	out := make([]devRule, 0, len(e.exceptions))
	for k, a := range e.exceptions {
		out = append(out, devRule{allow: !e.defaultAllow, typ: k.typ, major: k.major, minor: k.minor, acc: a})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.typ != b.typ {
			return a.typ < b.typ
		}
		if a.major != b.major {
			return a.major < b.major
		}
		return a.minor < b.minor
	})
	return out
}

// allowed evaluates an access the way the v1 kernel does: with a deny-all
// default, one exception must grant every requested permission; with an
// allow-all default, any exception naming a requested permission denies.
func (e *devEmulator) allowed(typ byte, major, minor int64, acc devAccess) bool {
	for k, a := range e.exceptions {
		if k.typ != typ || (k.major != wildcard && k.major != major) || (k.minor != wildcard && k.minor != minor) {
			continue
		}
		if !e.defaultAllow && a&acc == acc {
			return true
		}
		if e.defaultAllow && a&acc != 0 {
			return false
		}
	}
	return e.defaultAllow
}

// equal reports whether two emulators hold the same policy.
func (e *devEmulator) equal(o *devEmulator) bool {
	if e.defaultAllow != o.defaultAllow || len(e.exceptions) != len(o.exceptions) {
		return false
	}
	for k, a := range e.exceptions {
		if o.exceptions[k] != a {
			return false
		}
	}
	return true
}

// buildDevEmulator applies rules to a deny-all emulator.
func buildDevEmulator(rules []devRule) (*devEmulator, error) {
	e := newDevEmulator()
	for i, r := range rules {
		if err := e.apply(r); err != nil {
			return nil, fmt.Errorf("linux.resources.devices[%d]: %w", i, err)
		}
	}
	return e, nil
}

// parseDevicesList reads a v1 devices.list: "a *:* rwm" for allow-all,
// otherwise the allowed exceptions of a deny-all policy.
func parseDevicesList(s string) (*devEmulator, error) {
	e := newDevEmulator()
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 || len(f[0]) != 1 {
			return nil, fmt.Errorf("malformed devices.list line %q", line)
		}
		maj, mnr, ok := strings.Cut(f[1], ":")
		if !ok {
			return nil, fmt.Errorf("malformed devices.list line %q", line)
		}
		r := devRule{allow: true, typ: f[0][0], major: wildcard, minor: wildcard}
		for _, n := range []struct {
			s   string
			dst *int64
		}{{maj, &r.major}, {mnr, &r.minor}} {
			if n.s == "*" {
				continue
			}
			v, err := strconv.ParseInt(n.s, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("malformed devices.list line %q", line)
			}
			*n.dst = v
		}
		acc, err := parseAccess(f[2])
		if err != nil {
			return nil, err
		}
		r.acc = acc
		if err := e.apply(r); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// planDevices applies linux.resources.devices. On a v1 devices hierarchy it
// denies everything and then writes each rule in order to devices.allow or
// devices.deny (as runc does), unless devices.list already shows exactly
// the requested allow-list. Without a v1 devices hierarchy it attaches an
// eBPF device filter to the cgroup2 directory. An empty list leaves the
// device policy alone.
func (c *Cgroup) planDevices(list []specs.LinuxDeviceCgroup) ([]op, error) {
	const f = "linux.resources.devices"
	if len(list) == 0 {
		return nil, nil
	}
	rules, err := parseDeviceRules(list)
	if err != nil {
		return nil, err
	}
	emu, err := buildDevEmulator(rules)
	if err != nil {
		return nil, err
	}
	if dir, ok := c.Paths["devices"]; ok {
		if cur, err := readFile(dir, "devices.list"); err == nil && !emu.defaultAllow {
			if have, err := parseDevicesList(cur); err == nil && have.equal(emu) {
				debugf("cgroup: %s: devices.list already matches, not rewriting", f)
				return nil, nil
			}
		}
		ops := []op{{field: f, dir: dir, file: "devices.deny", value: "a *:* rwm"}}
		for i, r := range rules {
			file := "devices.deny"
			if r.allow {
				file = "devices.allow"
			}
			ops = append(ops, op{field: fmt.Sprintf("%s[%d]", f, i), dir: dir, file: file, value: r.cgroupString()})
		}
		return ops, nil
	}
	if c.Unified == "" {
		return nil, fmt.Errorf("%s: no devices cgroup controller and no cgroup v2 hierarchy", f)
	}
	prog, err := deviceFilter(emu)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f, err)
	}
	dir := c.Unified
	return []op{{field: f, dir: dir, desc: "attaching eBPF device filter to " + dir, action: func() error {
		return attachDeviceFilter(dir, prog)
	}}}, nil
}
