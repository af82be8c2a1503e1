// Copyright 2025 The runsc Authors.
// SPDX-License-Identifier: Apache-2.0

package seccomp

import (
	"fmt"
	"sort"

	"golang.org/x/sys/unix"
)

// Op is a comparison operator of a syscall argument condition.
type Op int

// Operators, with the semantics of libseccomp's SCMP_CMP_* (unsigned 64-bit
// comparisons).
const (
	// OpNotEqual matches when arg != Value.
	OpNotEqual Op = iota + 1
	// OpLessThan matches when arg < Value.
	OpLessThan
	// OpLessEqual matches when arg <= Value.
	OpLessEqual
	// OpEqual matches when arg == Value.
	OpEqual
	// OpGreaterEqual matches when arg >= Value.
	OpGreaterEqual
	// OpGreaterThan matches when arg > Value.
	OpGreaterThan
	// OpMaskedEqual matches when arg&Value == ValueTwo&Value.
	OpMaskedEqual
)

var opNames = [...]string{
	OpNotEqual:     "SCMP_CMP_NE",
	OpLessThan:     "SCMP_CMP_LT",
	OpLessEqual:    "SCMP_CMP_LE",
	OpEqual:        "SCMP_CMP_EQ",
	OpGreaterEqual: "SCMP_CMP_GE",
	OpGreaterThan:  "SCMP_CMP_GT",
	OpMaskedEqual:  "SCMP_CMP_MASKED_EQ",
}

// String returns the libseccomp name of the operator, e.g. "SCMP_CMP_EQ".
func (o Op) String() string {
	if o.valid() {
		return opNames[o]
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

func (o Op) valid() bool { return o >= OpNotEqual && o <= OpMaskedEqual }

// maxArgs is the number of syscall arguments in seccomp_data.
const maxArgs = 6

// Cond is a condition on one syscall argument.
type Cond struct {
	// Index is the argument index, 0 to 5.
	Index uint
	// Op is the comparison.
	Op Op
	// Value is the value compared with the argument, or the mask for
	// OpMaskedEqual.
	Value uint64
	// ValueTwo is, for OpMaskedEqual, the value the masked argument must
	// equal. Other operators ignore it.
	ValueTwo uint64
}

func (c Cond) validate() error {
	if c.Index >= maxArgs {
		return fmt.Errorf("argument index %d out of range 0-%d", c.Index, maxArgs-1)
	}
	if !c.Op.valid() {
		return fmt.Errorf("%w %v", ErrUnknownOperator, c.Op)
	}
	return nil
}

// rule is a set of conditions that must all hold, and the action taken then.
type rule struct {
	conds  []Cond
	action Action
}

// sysRules holds the rules of one syscall number of one ABI.
type sysRules struct {
	conditional []rule // tried in order
	hasUncond   bool
	uncond      Action
	uncondSrc   string // where the unconditional rule comes from
}

// fallback returns the action of the syscall when no conditional rule
// matches.
func (r *sysRules) fallback(def Action) Action {
	if r.hasUncond {
		return r.uncond
	}
	return def
}

// trimmed returns r without its trailing conditional rules whose action is
// the fallback action: whether they match or not makes no difference.
func (r *sysRules) trimmed(def Action) *sysRules {
	fb := r.fallback(def)
	n := len(r.conditional)
	for n > 0 && r.conditional[n-1].action == fb {
		n--
	}
	t := *r
	t.conditional = r.conditional[:n]
	return &t
}

// filterIR is a filter before code generation.
type filterIR struct {
	defaultAction Action
	badArch       Action
	abis          [numABIs]bool
	rules         [numABIs]map[uint32]*sysRules
	usesNotify    bool
}

func newFilterIR(def, badArch Action) *filterIR {
	f := &filterIR{defaultAction: def, badArch: badArch}
	for i := range f.rules {
		f.rules[i] = map[uint32]*sysRules{}
	}
	f.usesNotify = def.Type() == ActionUserNotif
	return f
}

// add adds a rule for syscall nr of ABI a. src names the rule in errors.
func (f *filterIR) add(a abi, nr uint32, act Action, conds []Cond, src string) error {
	if !act.valid() {
		return fmt.Errorf("%s: %w: invalid action %#x", src, ErrInvalid, uint32(act))
	}
	for _, c := range conds {
		if err := c.validate(); err != nil {
			return fmt.Errorf("%s: %w", src, err)
		}
	}
	r := f.rules[a][nr]
	if r == nil {
		r = &sysRules{}
		f.rules[a][nr] = r
	}
	if act.Type() == ActionUserNotif {
		f.usesNotify = true
	}
	if len(conds) == 0 {
		if r.hasUncond && r.uncond != act {
			name, _ := tables().byNr[a][nr]
			return fmt.Errorf("%s: %w: syscall %q (%v %d) already has an unconditional rule with action %v in %s",
				src, ErrInvalid, name, a, nr, r.uncond, r.uncondSrc)
		}
		if !r.hasUncond {
			r.hasUncond, r.uncond, r.uncondSrc = true, act, src
		}
		return nil
	}
	r.conditional = append(r.conditional, rule{conds: append([]Cond(nil), conds...), action: act})
	return nil
}

// gen holds the state of code generation.
type gen struct {
	f       *filterIR
	a       asm
	retLbls map[Action]label
	retActs []Action // in order of first use, for a deterministic layout
}

// retLabel returns the label of the shared "ret act" instruction.
func (g *gen) retLabel(act Action) label {
	if l, ok := g.retLbls[act]; ok {
		return l
	}
	l := g.a.newLabel()
	g.retLbls[act] = l
	g.retActs = append(g.retActs, act)
	return l
}

// compile generates the classic BPF program.
func (f *filterIR) compile() ([]unix.SockFilter, error) {
	g := &gen{f: f, retLbls: map[Action]label{}}
	a := &g.a
	a.load(offArch)
	x86Sec, i386Sec := a.newLabel(), a.newLabel()
	hasX86 := f.abis[abiX86_64] || f.abis[abiX32]
	if hasX86 {
		a.jcondNext(opJeqK, unix.AUDIT_ARCH_X86_64, x86Sec)
	}
	if f.abis[abiI386] {
		a.jcondNext(opJeqK, unix.AUDIT_ARCH_I386, i386Sec)
	}
	a.ret(f.badArch)
	if hasX86 {
		a.bind(x86Sec)
		g.section([]uint32{0, x32SyscallBit, 0xffffffff}, func(nr uint32) Action {
			switch {
			case nr == 0xffffffff:
				return f.defaultAction
			case nr < x32SyscallBit && !f.abis[abiX86_64], nr >= x32SyscallBit && !f.abis[abiX32]:
				return f.badArch
			}
			return f.defaultAction
		}, abiX86_64, abiX32)
	}
	if f.abis[abiI386] {
		a.bind(i386Sec)
		g.section([]uint32{0}, func(uint32) Action { return f.defaultAction }, abiI386)
	}
	for _, act := range g.retActs {
		a.bind(g.retLbls[act])
		a.ret(act)
	}
	return a.assemble()
}

// segment is a range of syscall numbers, from start to the start of the next
// segment, that all go to target.
type segment struct {
	start  uint32
	target label
}

type body struct {
	abi   abi
	rules *sysRules
	lbl   label
}

// section emits the code for the syscalls of one AUDIT_ARCH_* value, reached
// with nothing loaded. regions are the starts of the ranges of numbers
// whose base action (for numbers without rules) may differ; base gives it.
func (g *gen) section(regions []uint32, base func(uint32) Action, abis ...abi) {
	a := &g.a
	explicit := map[uint32]label{}
	points := append([]uint32(nil), regions...)
	var bodies []body
	for _, ab := range abis {
		if !g.f.abis[ab] {
			continue
		}
		nrs := make([]uint32, 0, len(g.f.rules[ab]))
		for nr := range g.f.rules[ab] {
			nrs = append(nrs, nr)
		}
		sort.Slice(nrs, func(i, j int) bool { return nrs[i] < nrs[j] })
		for _, nr := range nrs {
			r := g.f.rules[ab][nr].trimmed(g.f.defaultAction)
			if len(r.conditional) == 0 {
				explicit[nr] = g.retLabel(r.fallback(g.f.defaultAction))
			} else {
				l := a.newLabel()
				explicit[nr] = l
				bodies = append(bodies, body{ab, r, l})
			}
			points = append(points, nr)
			if nr != 0xffffffff {
				points = append(points, nr+1)
			}
		}
	}
	sort.Slice(points, func(i, j int) bool { return points[i] < points[j] })
	var segs []segment
	for i, p := range points {
		if i > 0 && p == points[i-1] {
			continue
		}
		t, ok := explicit[p]
		if !ok {
			t = g.retLabel(base(p))
		}
		if len(segs) > 0 && segs[len(segs)-1].target == t {
			continue
		}
		segs = append(segs, segment{p, t})
	}
	a.load(offNr)
	g.tree(segs)
	for _, b := range bodies {
		a.bind(b.lbl)
		g.body(b)
	}
}

// tree emits a binary search over segs (sorted, segs[0].start == 0), with
// the syscall number in A.
func (g *gen) tree(segs []segment) {
	a := &g.a
	if len(segs) == 1 {
		a.jump(segs[0].target)
		return
	}
	lo, hi := segs[:len(segs)/2], segs[len(segs)/2:]
	sub := func(s []segment) label {
		if len(s) == 1 {
			return s[0].target
		}
		return a.newLabel()
	}
	ll, hl := sub(lo), sub(hi)
	a.jcond(opJgeK, hi[0].start, hl, ll)
	if len(lo) > 1 {
		a.bind(ll)
		g.tree(lo)
	}
	if len(hi) > 1 {
		a.bind(hl)
		g.tree(hi)
	}
}

// body emits the argument checks of one syscall.
func (g *gen) body(b body) {
	a := &g.a
	for _, r := range b.rules.conditional {
		next := a.newLabel()
		for _, c := range r.conds {
			pass := a.newLabel()
			g.cond(c, b.abi.is32Bit(), pass, next)
			a.bind(pass)
		}
		a.ret(r.action)
		a.bind(next)
	}
	a.ret(b.rules.fallback(g.f.defaultAction))
}

// cond emits the check of c, jumping to pass or fail. For 32-bit ABIs only
// the low halves are compared.
func (g *gen) cond(c Cond, only32 bool, pass, fail label) {
	a := &g.a
	lo, hi := uint32(offArgs+8*c.Index), uint32(offArgs+8*c.Index+4)
	vl, vh := uint32(c.Value), uint32(c.Value>>32)
	if c.Op == OpMaskedEqual {
		ml, mh := vl, vh
		dl, dh := uint32(c.ValueTwo)&ml, uint32(c.ValueTwo>>32)&mh
		if !only32 && mh != 0 {
			a.load(hi)
			a.and(mh)
			next := a.newLabel()
			a.jcond(opJeqK, dh, next, fail)
			a.bind(next)
		}
		a.load(lo)
		if ml != 0xffffffff {
			a.and(ml)
		}
		a.jcond(opJeqK, dl, pass, fail)
		return
	}
	if !only32 {
		a.load(hi)
		n1 := a.newLabel()
		switch c.Op {
		case OpEqual:
			a.jcond(opJeqK, vh, n1, fail)
		case OpNotEqual:
			a.jcond(opJeqK, vh, n1, pass)
		case OpGreaterThan, OpGreaterEqual, OpLessThan, OpLessEqual:
			gt, lt := pass, fail // where hi > vh and hi < vh go
			if c.Op == OpLessThan || c.Op == OpLessEqual {
				gt, lt = fail, pass
			}
			n0 := a.newLabel()
			a.jcond(opJgtK, vh, gt, n0)
			a.bind(n0)
			a.jcond(opJeqK, vh, n1, lt)
		}
		a.bind(n1)
	}
	a.load(lo)
	switch c.Op {
	case OpEqual:
		a.jcond(opJeqK, vl, pass, fail)
	case OpNotEqual:
		a.jcond(opJeqK, vl, fail, pass)
	case OpGreaterThan:
		a.jcond(opJgtK, vl, pass, fail)
	case OpGreaterEqual:
		a.jcond(opJgeK, vl, pass, fail)
	case OpLessThan:
		a.jcond(opJgeK, vl, fail, pass)
	case OpLessEqual:
		a.jcond(opJgtK, vl, fail, pass)
	}
}
