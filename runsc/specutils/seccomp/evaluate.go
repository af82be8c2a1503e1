// Copyright 2025 The runsc Authors.
// SPDX-License-Identifier: Apache-2.0

package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Evaluate runs the program on one syscall the way the kernel would (a
// classic BPF interpreter over struct seccomp_data, instruction pointer 0)
// and returns the action the filter returns. It lets tests and tools show
// what a compiled filter does with a syscall without loading it. A program
// the interpreter cannot run (an out-of-range jump or load, an opcode
// seccomp does not accept, falling off the end) yields ActionKillProcess,
// which is what the kernel would refuse to load anyway.
func (p *Program) Evaluate(nr uint32, arch uint32, args [6]uint64) Action {
	act, err := evaluate(p.Filter, nr, arch, args)
	if err != nil {
		return ActionKillProcess
	}
	return act
}

// EvaluateErr is Evaluate, but reports a program it cannot run as an error.
func (p *Program) EvaluateErr(nr uint32, arch uint32, args [6]uint64) (Action, error) {
	return evaluate(p.Filter, nr, arch, args)
}

const evalDataSize = 64 // sizeof(struct seccomp_data)

func evaluate(prog []unix.SockFilter, nr, arch uint32, args [6]uint64) (Action, error) {
	var data [evalDataSize]byte
	binary.LittleEndian.PutUint32(data[0:], nr)
	binary.LittleEndian.PutUint32(data[4:], arch)
	for i, a := range args {
		binary.LittleEndian.PutUint64(data[16+8*i:], a)
	}
	var a, x uint32
	var mem [16]uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		src := in.K
		if in.Code&unix.BPF_X != 0 {
			src = x
		}
		switch in.Code & 0x07 {
		case unix.BPF_LD, unix.BPF_LDX:
			var v uint32
			switch in.Code & 0xe0 {
			case unix.BPF_ABS:
				if in.Code&0x07 != unix.BPF_LD || in.Code&0x18 != unix.BPF_W || in.K%4 != 0 || in.K+4 > evalDataSize {
					return 0, fmt.Errorf("pc %d: bad load %#x of offset %d", pc, in.Code, in.K)
				}
				v = binary.LittleEndian.Uint32(data[in.K:])
			case unix.BPF_IMM:
				v = in.K
			case unix.BPF_MEM:
				if in.K >= uint32(len(mem)) {
					return 0, fmt.Errorf("pc %d: bad scratch slot %d", pc, in.K)
				}
				v = mem[in.K]
			default:
				return 0, fmt.Errorf("pc %d: unsupported load %#x", pc, in.Code)
			}
			if in.Code&0x07 == unix.BPF_LD {
				a = v
			} else {
				x = v
			}
		case unix.BPF_ST, unix.BPF_STX:
			if in.K >= uint32(len(mem)) {
				return 0, fmt.Errorf("pc %d: bad scratch slot %d", pc, in.K)
			}
			if in.Code&0x07 == unix.BPF_ST {
				mem[in.K] = a
			} else {
				mem[in.K] = x
			}
		case unix.BPF_ALU:
			switch in.Code & 0xf0 {
			case unix.BPF_ADD:
				a += src
			case unix.BPF_SUB:
				a -= src
			case unix.BPF_MUL:
				a *= src
			case unix.BPF_DIV, unix.BPF_MOD:
				if src == 0 {
					return 0, fmt.Errorf("pc %d: division by zero", pc)
				}
				if in.Code&0xf0 == unix.BPF_DIV {
					a /= src
				} else {
					a %= src
				}
			case unix.BPF_OR:
				a |= src
			case unix.BPF_AND:
				a &= src
			case unix.BPF_XOR:
				a ^= src
			case unix.BPF_LSH:
				a <<= src & 31
			case unix.BPF_RSH:
				a >>= src & 31
			case unix.BPF_NEG:
				a = -a
			default:
				return 0, fmt.Errorf("pc %d: unsupported alu %#x", pc, in.Code)
			}
		case unix.BPF_JMP:
			var cond bool
			switch in.Code & 0xf0 {
			case unix.BPF_JA:
				pc += int(in.K)
				if pc+1 >= len(prog) || pc < 0 {
					return 0, fmt.Errorf("pc %d: ja out of bounds", pc)
				}
				continue
			case unix.BPF_JEQ:
				cond = a == src
			case unix.BPF_JGT:
				cond = a > src
			case unix.BPF_JGE:
				cond = a >= src
			case unix.BPF_JSET:
				cond = a&src != 0
			default:
				return 0, fmt.Errorf("pc %d: unsupported jump %#x", pc, in.Code)
			}
			if cond {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
			if pc+1 >= len(prog) {
				return 0, fmt.Errorf("pc %d: jump out of bounds", pc)
			}
		case unix.BPF_RET:
			switch in.Code & 0x18 {
			case unix.BPF_K:
				return Action(in.K), nil
			case unix.BPF_A:
				return Action(a), nil
			}
			return 0, fmt.Errorf("pc %d: bad ret %#x", pc, in.Code)
		case unix.BPF_MISC:
			switch in.Code & 0xf8 {
			case unix.BPF_TAX:
				x = a
			case unix.BPF_TXA:
				a = x
			default:
				return 0, fmt.Errorf("pc %d: bad misc %#x", pc, in.Code)
			}
		}
	}
	return 0, errors.New("fell off the end of the program")
}
