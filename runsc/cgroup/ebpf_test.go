package cgroup

import (
	"encoding/binary"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// runFilter interprets a device filter for one access, like the kernel
// would: ctx is struct bpf_cgroup_dev_ctx and r1 points to it. It supports
// exactly the instructions deviceFilter emits and fails the test on
// anything a verifier would reject (unknown opcodes, backward or
// out-of-range jumps, context loads through a clobbered r1, reading
// uninitialised registers, falling off the end).
func runFilter(t *testing.T, p program, typ int, acc devAccess, major, minor uint32) uint32 {
	t.Helper()
	var ctx [12]byte
	binary.LittleEndian.PutUint32(ctx[0:], uint32(typ)|uint32(acc)<<16)
	binary.LittleEndian.PutUint32(ctx[4:], major)
	binary.LittleEndian.PutUint32(ctx[8:], minor)
	var reg [11]uint32
	init := [11]bool{1: true}
	r1IsCtx := true
	use := func(r uint8) uint32 {
		if !init[r] {
			t.Fatalf("read of uninitialised r%d in\n%s", r, p)
		}
		return reg[r]
	}
	set := func(r uint8, v uint32) {
		reg[r], init[r] = v, true
		if r == 1 {
			r1IsCtx = false
		}
	}
	for pc := 0; pc < len(p); {
		i := p[pc]
		pc++
		jump := false
		switch i.code {
		case bpfLDX | bpfMEM | bpfW:
			if i.src != 1 || !r1IsCtx || i.off < 0 || i.off > 8 || i.off%4 != 0 {
				t.Fatalf("bad context load %s", i)
			}
			set(i.dst, binary.LittleEndian.Uint32(ctx[i.off:]))
		case bpfALU | bpfAND | bpfK:
			set(i.dst, use(i.dst)&uint32(i.imm))
		case bpfALU | bpfRSH | bpfK:
			set(i.dst, use(i.dst)>>uint32(i.imm))
		case bpfALU | bpfMOV | bpfX:
			set(i.dst, use(i.src))
		case bpfALU | bpfMOV | bpfK:
			set(i.dst, uint32(i.imm))
		case bpfJMP32 | bpfJNE | bpfK:
			jump = use(i.dst) != uint32(i.imm)
		case bpfJMP32 | bpfJEQ | bpfK:
			jump = use(i.dst) == uint32(i.imm)
		case bpfJMP32 | bpfJNE | bpfX:
			jump = use(i.dst) != use(i.src)
		case bpfJMP | bpfEXIT:
			return use(0)
		default:
			t.Fatalf("unsupported instruction %s", i)
		}
		if i.code&0x07 == bpfJMP32 {
			if i.off < 0 || pc+int(i.off) >= len(p) {
				t.Fatalf("bad jump at %d: %s", pc-1, i)
			}
			if jump {
				pc += int(i.off)
			}
		}
	}
	t.Fatalf("fell off the end of\n%s", p)
	return 0
}

// checkFilter compares the filter for rules with the v1 model on a grid of
// devices and every access combination.
func checkFilter(t *testing.T, name string, rules []devRule) {
	t.Helper()
	emu, err := buildDevEmulator(rules)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	p, err := deviceFilter(emu)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for _, typ := range []byte{'b', 'c'} {
		bpfType := devBlock
		if typ == 'c' {
			bpfType = devChar
		}
		for _, major := range []int64{0, 1, 5, 8, 136, 1<<32 - 1} {
			for _, minor := range []int64{0, 3, 5, 7, 1<<20 - 1} {
				for acc := devAccess(1); acc <= accAll; acc++ {
					want := emu.allowed(typ, major, minor, acc)
					got := runFilter(t, p, bpfType, acc, uint32(major), uint32(minor)) == 1
					if got != want {
						t.Fatalf("%s: %c %d:%d %s: filter says %v, v1 says %v\nrules %v\n%s", name, typ, major, minor, acc, got, want, rules, p)
					}
				}
			}
		}
	}
}

func mustRules(t *testing.T, list []specs.LinuxDeviceCgroup) []devRule {
	t.Helper()
	r, err := parseDeviceRules(list)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func dev(allow bool, typ string, major, minor int64, access string) specs.LinuxDeviceCgroup {
	d := specs.LinuxDeviceCgroup{Allow: allow, Type: typ, Access: access}
	if major != wildcard {
		d.Major = &major
	}
	if minor != wildcard {
		d.Minor = &minor
	}
	return d
}

func TestDeviceFilterMatchesV1(t *testing.T) {
	for name, list := range map[string][]specs.LinuxDeviceCgroup{
		"docker default": {
			dev(false, "a", -1, -1, "rwm"),
			dev(true, "c", -1, -1, "m"), dev(true, "b", -1, -1, "m"),
			dev(true, "c", 1, 3, "rwm"), dev(true, "c", 1, 5, "rwm"), dev(true, "c", 1, 7, "rwm"),
			dev(true, "c", 5, 0, "rwm"), dev(true, "c", 136, -1, "rwm"), dev(true, "c", 10, 200, "rwm"),
		},
		"merged access":  {dev(false, "", -1, -1, ""), dev(true, "c", 1, 5, "r"), dev(true, "c", 1, 5, "w")},
		"removed access": {dev(false, "a", -1, -1, "rwm"), dev(true, "c", 1, 3, "rwm"), dev(false, "c", 1, 3, "w")},
		"allow all":      {dev(true, "a", -1, -1, "rwm")},
		"deny list":      {dev(true, "a", -1, -1, "rwm"), dev(false, "c", 1, 3, "w"), dev(false, "b", 8, -1, "rwm"), dev(false, "c", -1, 7, "m")},
		"reset midway":   {dev(true, "c", 1, 3, "rwm"), dev(false, "a", -1, -1, ""), dev(true, "b", 8, 0, "r")},
		"empty":          {},
		"big major":      {dev(false, "a", -1, -1, "rwm"), dev(true, "c", 1<<32-1, 1<<20-1, "rw")},
	} {
		checkFilter(t, name, mustRules(t, list))
	}
}

func TestDeviceFilterRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	types := []string{"a", "b", "c", "c", "c"}
	nums := []int64{-1, 0, 1, 5, 8, 136}
	accs := []string{"r", "w", "m", "rw", "rm", "wm", "rwm"}
	checked := 0
	for n := 0; n < 400; n++ {
		var list []specs.LinuxDeviceCgroup
		for k := rng.Intn(8); k >= 0; k-- {
			list = append(list, dev(rng.Intn(2) == 0, types[rng.Intn(len(types))], nums[rng.Intn(len(nums))], nums[rng.Intn(len(nums))], accs[rng.Intn(len(accs))]))
		}
		rules := mustRules(t, list)
		if _, err := buildDevEmulator(rules); err != nil {
			continue // unsupported wildcard hole punching
		}
		checkFilter(t, fmt.Sprint("random ", n), rules)
		checked++
	}
	if checked < 100 {
		t.Errorf("only %d random rule sets checked", checked)
	}
}

func TestDeviceFilterDisassembly(t *testing.T) {
	rules := mustRules(t, []specs.LinuxDeviceCgroup{
		dev(false, "a", -1, -1, "rwm"),
		dev(true, "c", 1, 3, "rwm"),
		dev(true, "c", 136, -1, "rw"),
	})
	emu, err := buildDevEmulator(rules)
	if err != nil {
		t.Fatal(err)
	}
	p, err := deviceFilter(emu)
	if err != nil {
		t.Fatal(err)
	}
	want := `  0: ldxw r2, [r1+0]
  1: and32 r2, 0xffff
  2: ldxw r3, [r1+0]
  3: rsh32 r3, 16
  4: ldxw r4, [r1+4]
  5: ldxw r5, [r1+8]
  6: jne32 r2, 2, +4
  7: jne32 r4, 1, +3
  8: jne32 r5, 3, +2
  9: mov32 r0, 1
 10: exit
 11: jne32 r2, 2, +6
 12: mov32 r1, r3
 13: and32 r1, 0x6
 14: jne32 r1, r3, +3
 15: jne32 r4, 136, +2
 16: mov32 r0, 1
 17: exit
 18: mov32 r0, 0
 19: exit
`
	if got := p.String(); got != want {
		t.Errorf("program:\n%s\nwant:\n%s", got, want)
	}
	b := p.bytes()
	if len(b) != 8*len(p) {
		t.Fatalf("encoded %d bytes", len(b))
	}
	for n, want := range map[int]string{
		0:  "6112000000000000", // ldxw r2, [r1+0]: dst 2, src 1
		6:  "5602040002000000", // jne32 r2, 2, +4
		12: "bc31000000000000", // mov32 r1, r3
		14: "5e31030000000000", // jne32 r1, r3, +3
		19: "9500000000000000", // exit
	} {
		if got := fmt.Sprintf("%x", b[8*n:8*n+8]); got != want {
			t.Errorf("instruction %d encoded %s, want %s", n, got, want)
		}
	}
}

func TestDeviceRulesAndEmulator(t *testing.T) {
	for _, bad := range []struct {
		d     specs.LinuxDeviceCgroup
		field string
	}{
		{specs.LinuxDeviceCgroup{Type: "x"}, "devices[0].type"},
		{specs.LinuxDeviceCgroup{Type: "c", Access: "rwx"}, "devices[0].access"},
		{specs.LinuxDeviceCgroup{Type: "c", Major: ptr(int64(-2))}, "devices[0].major"},
	} {
		if _, err := parseDeviceRules([]specs.LinuxDeviceCgroup{bad.d}); err == nil || !strings.Contains(err.Error(), bad.field) {
			t.Errorf("%+v: %v", bad.d, err)
		}
	}
	// Punching a hole in a wildcard exception is refused, as runc does.
	_, err := buildDevEmulator(mustRules(t, []specs.LinuxDeviceCgroup{dev(false, "a", -1, -1, ""), dev(true, "c", -1, -1, "m"), dev(false, "c", 1, 3, "m")}))
	if err == nil || !strings.Contains(err.Error(), "devices[2]") {
		t.Errorf("hole punching: %v", err)
	}
	emu, err := buildDevEmulator(mustRules(t, []specs.LinuxDeviceCgroup{dev(true, "a", -1, -1, ""), dev(false, "c", 1, 3, "w")}))
	if err != nil {
		t.Fatal(err)
	}
	// In a deny list, an access naming any denied permission is denied.
	if emu.allowed('c', 1, 3, accRead|accWrite) || !emu.allowed('c', 1, 3, accRead) || !emu.allowed('b', 1, 3, accWrite) {
		t.Error("deny list semantics")
	}
	list, err := parseDevicesList("c 1:3 rwm\nc 136:* rw\nb *:* m\n")
	if err != nil {
		t.Fatal(err)
	}
	if list.defaultAllow || len(list.exceptions) != 3 || list.exceptions[devKey{'c', 136, wildcard}] != accRead|accWrite {
		t.Errorf("parsed devices.list %+v", list)
	}
	if all, err := parseDevicesList("a *:* rwm\n"); err != nil || !all.defaultAllow {
		t.Errorf("allow-all devices.list: %+v %v", all, err)
	}
	if got := (devRule{typ: 'b', major: 8, minor: wildcard, acc: accRead | accMknod}).cgroupString(); got != "b 8:* rm" {
		t.Errorf("cgroupString %q", got)
	}
}

// TestDeviceFilterAllowList checks allow-lists (deny all, then allow rules)
// against a direct reading of the rules, independent of the emulator: an
// access is allowed if the union of the permissions of the allow rules
// naming exactly the same device pattern, for some pattern matching the
// device, covers it.
func TestDeviceFilterAllowList(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	nums := []int64{-1, 1, 5, 136}
	accs := []string{"r", "w", "m", "rw", "rwm"}
	for n := 0; n < 200; n++ {
		list := []specs.LinuxDeviceCgroup{dev(false, "a", -1, -1, "rwm")}
		for k := rng.Intn(6); k >= 0; k-- {
			list = append(list, dev(true, []string{"b", "c"}[rng.Intn(2)], nums[rng.Intn(len(nums))], nums[rng.Intn(len(nums))], accs[rng.Intn(len(accs))]))
		}
		rules := mustRules(t, list)
		emu, err := buildDevEmulator(rules)
		if err != nil {
			t.Fatal(err)
		}
		p, err := deviceFilter(emu)
		if err != nil {
			t.Fatal(err)
		}
		for _, typ := range []byte{'b', 'c'} {
			for _, major := range nums[1:] {
				for _, minor := range nums[1:] {
					for acc := devAccess(1); acc <= accAll; acc++ {
						union := map[devKey]devAccess{}
						for _, r := range rules[1:] {
							if r.typ == typ && (r.major == wildcard || r.major == major) && (r.minor == wildcard || r.minor == minor) {
								union[devKey{r.typ, r.major, r.minor}] |= r.acc
							}
						}
						want := false
						for _, a := range union {
							want = want || a&acc == acc
						}
						bpfType := devBlock
						if typ == 'c' {
							bpfType = devChar
						}
						if got := runFilter(t, p, bpfType, acc, uint32(major), uint32(minor)) == 1; got != want {
							t.Fatalf("%c %d:%d %s: got %v want %v for %v", typ, major, minor, acc, got, want, list)
						}
					}
				}
			}
		}
	}
}
