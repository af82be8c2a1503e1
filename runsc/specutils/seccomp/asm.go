// Copyright 2025 The runsc Authors.
// SPDX-License-Identifier: Apache-2.0

package seccomp

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// maxInsns is BPF_MAXINSNS, the kernel's limit on the length of one filter.
const maxInsns = 4096

// Offsets in struct seccomp_data (little-endian x86).
const (
	offNr   = 0
	offArch = 4
	offArgs = 16
)

// Opcodes emitted by the assembler.
const (
	opLdAbsW = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	opAndK   = unix.BPF_ALU | unix.BPF_AND | unix.BPF_K
	opJa     = unix.BPF_JMP | unix.BPF_JA
	opJeqK   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	opJgtK   = unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K
	opJgeK   = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
	opJsetK  = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
	opRetK   = unix.BPF_RET | unix.BPF_K
)

// label names a position in the program, bound once with asm.bind.
type label int

// insn is an instruction whose jump targets are labels.
type insn struct {
	op     uint16
	k      uint32
	jt, jf label // conditional jumps
	target label // opJa
}

// asm assembles classic BPF with forward jumps to labels. Conditional jumps
// farther than 255 instructions are rewritten to go through an inserted
// unconditional jump.
type asm struct {
	insns    []insn
	labelPos []int // instruction index of each label, -1 while unbound
}

func (a *asm) newLabel() label {
	a.labelPos = append(a.labelPos, -1)
	return label(len(a.labelPos) - 1)
}

// bind binds l to the next instruction emitted.
func (a *asm) bind(l label) {
	if a.labelPos[l] != -1 {
		panic(fmt.Sprintf("seccomp: label %d bound twice", l))
	}
	a.labelPos[l] = len(a.insns)
}

func (a *asm) emit(in insn) { a.insns = append(a.insns, in) }

func (a *asm) load(off uint32) { a.emit(insn{op: opLdAbsW, k: off}) }

func (a *asm) and(k uint32) { a.emit(insn{op: opAndK, k: k}) }

func (a *asm) ret(act Action) { a.emit(insn{op: opRetK, k: uint32(act)}) }

func (a *asm) jump(target label) { a.emit(insn{op: opJa, target: target}) }

// jcond emits "if A <op> k goto jt else goto jf".
func (a *asm) jcond(op uint16, k uint32, jt, jf label) {
	a.emit(insn{op: op, k: k, jt: jt, jf: jf})
}

// jcondNext is jcond whose false branch is the next instruction.
func (a *asm) jcondNext(op uint16, k uint32, jt label) {
	next := a.newLabel()
	a.jcond(op, k, jt, next)
	a.bind(next)
}

func isCondJump(op uint16) bool {
	return op&0x07 == unix.BPF_JMP && op != opJa
}

// insert inserts in before instruction pos, moving the labels bound at or
// after pos.
func (a *asm) insert(pos int, in insn) {
	a.insns = append(a.insns, insn{})
	copy(a.insns[pos+1:], a.insns[pos:])
	a.insns[pos] = in
	for l, p := range a.labelPos {
		if p >= pos {
			a.labelPos[l] = p + 1
		}
	}
}

// offset returns the jump offset from instruction i to label l.
func (a *asm) offset(i int, l label) (int, error) {
	p := a.labelPos[l]
	if p < 0 {
		return 0, fmt.Errorf("label %d is never bound", l)
	}
	if p <= i || p >= len(a.insns) {
		return 0, fmt.Errorf("instruction %d jumps to %d, outside the forward range", i, p)
	}
	return p - i - 1, nil
}

func (a *asm) checkLength() error {
	if len(a.insns) > maxInsns {
		return fmt.Errorf("filter has %d instructions or more, more than the kernel's limit of %d", len(a.insns), maxInsns)
	}
	return nil
}

// nearTrampoline returns the first of tramps that a conditional jump at
// instruction i can reach.
func (a *asm) nearTrampoline(i int, tramps []label) (label, bool) {
	for _, l := range tramps {
		if p := a.labelPos[l]; p > i && p-i-1 <= 0xff {
			return l, true
		}
	}
	return 0, false
}

// assemble resolves the labels and returns the program.
func (a *asm) assemble() ([]unix.SockFilter, error) {
	// Trampolines only add instructions: give up early on programs that
	// are too long anyway, which also bounds the work below.
	if err := a.checkLength(); err != nil {
		return nil, err
	}
	trampolines := map[label][]label{} // "ja target" instructions, by target
	for changed := true; changed; {
		changed = false
		// Backwards, so that the trampolines inserted for later jumps are
		// there to share when earlier jumps need one.
		for i := len(a.insns) - 1; i >= 0; i-- {
			if !isCondJump(a.insns[i].op) {
				continue
			}
			for w := 0; w < 2; w++ {
				t := a.insns[i].jt
				if w == 1 {
					t = a.insns[i].jf
				}
				off, err := a.offset(i, t)
				if err != nil {
					return nil, err
				}
				if off <= 0xff {
					continue
				}
				// Reuse a trampoline to t within reach, or insert one
				// right after the jump.
				tramp, ok := a.nearTrampoline(i, trampolines[t])
				if !ok {
					if err := a.checkLength(); err != nil {
						return nil, err
					}
					a.insert(i+1, insn{op: opJa, target: t})
					tramp = a.newLabel()
					a.labelPos[tramp] = i + 1
					trampolines[t] = append(trampolines[t], tramp)
				}
				if w == 0 {
					a.insns[i].jt = tramp
				} else {
					a.insns[i].jf = tramp
				}
				changed = true
			}
		}
	}
	if err := a.checkLength(); err != nil {
		return nil, err
	}
	out := make([]unix.SockFilter, len(a.insns))
	for i, in := range a.insns {
		out[i] = unix.SockFilter{Code: in.op, K: in.k}
		switch {
		case in.op == opJa:
			off, err := a.offset(i, in.target)
			if err != nil {
				return nil, err
			}
			out[i].K = uint32(off)
		case isCondJump(in.op):
			jt, err := a.offset(i, in.jt)
			if err != nil {
				return nil, err
			}
			jf, err := a.offset(i, in.jf)
			if err != nil {
				return nil, err
			}
			out[i].Jt, out[i].Jf = uint8(jt), uint8(jf)
		}
	}
	return out, nil
}

// Disassemble returns a readable listing of a classic BPF seccomp filter, one
// instruction a line with absolute jump targets, e.g.
//
//	0003: jeq #0x3f        jt 0012 jf 0004
//	0012: ret ERRNO(1)
func Disassemble(filter []unix.SockFilter) string {
	var b strings.Builder
	for i, in := range filter {
		fmt.Fprintf(&b, "%04d: %s\n", i, disasmInsn(i, in))
	}
	return b.String()
}

var jumpNames = map[uint16]string{
	unix.BPF_JEQ: "jeq", unix.BPF_JGT: "jgt", unix.BPF_JGE: "jge", unix.BPF_JSET: "jset",
}

func disasmInsn(i int, in unix.SockFilter) string {
	switch {
	case in.Code == opLdAbsW:
		return fmt.Sprintf("ld  [%d]%s", in.K, fieldComment(in.K))
	case in.Code == opAndK:
		return fmt.Sprintf("and #%#x", in.K)
	case in.Code == opRetK:
		return fmt.Sprintf("ret %v", Action(in.K))
	case in.Code == opJa:
		return fmt.Sprintf("ja  %04d", i+1+int(in.K))
	case in.Code&0x07 == unix.BPF_JMP && in.Code&unix.BPF_X == 0 && jumpNames[in.Code&0xf0] != "":
		return fmt.Sprintf("%-4s#%-12s jt %04d jf %04d", jumpNames[in.Code&0xf0],
			fmt.Sprintf("%#x", in.K), i+1+int(in.Jt), i+1+int(in.Jf))
	}
	return fmt.Sprintf("raw code=%#04x jt=%d jf=%d k=%#x", in.Code, in.Jt, in.Jf, in.K)
}

func fieldComment(off uint32) string {
	switch {
	case off == offNr:
		return "  ; nr"
	case off == offArch:
		return "  ; arch"
	case off >= offArgs && off < offArgs+6*8:
		half := "lo"
		if (off-offArgs)%8 == 4 {
			half = "hi"
		}
		return fmt.Sprintf("  ; args[%d] %s", (off-offArgs)/8, half)
	}
	return ""
}
