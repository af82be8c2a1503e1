// Copyright 2025 The runsc Authors.
// SPDX-License-Identifier: Apache-2.0

package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// This file holds a classic BPF interpreter and a checker modeled on the
// kernel's (bpf_check_classic and seccomp_check_filter), used by the tests to
// run generated filters on seccomp_data records.

// seccompData mirrors struct seccomp_data.
type seccompData struct {
	nr   uint32
	arch uint32
	ip   uint64
	args [6]uint64
}

const seccompDataSize = 64

func (d *seccompData) bytes() [seccompDataSize]byte {
	var b [seccompDataSize]byte
	binary.LittleEndian.PutUint32(b[0:], d.nr)
	binary.LittleEndian.PutUint32(b[4:], d.arch)
	binary.LittleEndian.PutUint64(b[8:], d.ip)
	for i, a := range d.args {
		binary.LittleEndian.PutUint64(b[16+8*i:], a)
	}
	return b
}

// x64 returns a record of an x86_64 syscall.
func x64(nr uint32, args ...uint64) seccompData {
	d := seccompData{nr: nr, arch: unix.AUDIT_ARCH_X86_64}
	copy(d.args[:], args)
	return d
}

// x32 returns a record of an x32 syscall; nr must include the x32 bit.
func x32(nr uint32, args ...uint64) seccompData { return x64(nr, args...) }

// i386 returns a record of an i386 syscall.
func i386(nr uint32, args ...uint64) seccompData {
	d := x64(nr, args...)
	d.arch = unix.AUDIT_ARCH_I386
	return d
}

const bpfMemWords = 16 // BPF_MEMWORDS

// checkFilter validates prog as the kernel does before accepting it.
func checkFilter(prog []unix.SockFilter) error {
	if len(prog) == 0 || len(prog) > maxInsns {
		return fmt.Errorf("bad length %d", len(prog))
	}
	for pc, in := range prog {
		switch in.Code & 0x07 {
		case unix.BPF_LD, unix.BPF_LDX:
			switch in.Code {
			case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
				if in.K >= seccompDataSize || in.K&3 != 0 {
					return fmt.Errorf("pc %d: load of offset %d outside seccomp_data", pc, in.K)
				}
			case unix.BPF_LD | unix.BPF_IMM, unix.BPF_LDX | unix.BPF_IMM:
			case unix.BPF_LD | unix.BPF_MEM, unix.BPF_LDX | unix.BPF_MEM:
				if in.K >= bpfMemWords {
					return fmt.Errorf("pc %d: bad scratch slot %d", pc, in.K)
				}
			default:
				return fmt.Errorf("pc %d: load opcode %#x not allowed in seccomp", pc, in.Code)
			}
		case unix.BPF_ST, unix.BPF_STX:
			if in.K >= bpfMemWords {
				return fmt.Errorf("pc %d: bad scratch slot %d", pc, in.K)
			}
		case unix.BPF_ALU:
			op := in.Code & 0xf0
			if op == unix.BPF_DIV || op == unix.BPF_MOD {
				if in.Code&unix.BPF_X == 0 && in.K == 0 {
					return fmt.Errorf("pc %d: division by constant 0", pc)
				}
			}
		case unix.BPF_JMP:
			if in.Code == opJa {
				if uint64(pc)+1+uint64(in.K) >= uint64(len(prog)) {
					return fmt.Errorf("pc %d: ja out of range", pc)
				}
				continue
			}
			switch in.Code &^ unix.BPF_X {
			case opJeqK, opJgtK, opJgeK, opJsetK:
			default:
				return fmt.Errorf("pc %d: bad jump opcode %#x", pc, in.Code)
			}
			if pc+1+int(in.Jt) >= len(prog) || pc+1+int(in.Jf) >= len(prog) {
				return fmt.Errorf("pc %d: conditional jump out of range (jt %d jf %d, len %d)", pc, in.Jt, in.Jf, len(prog))
			}
		case unix.BPF_RET:
			if in.Code != opRetK && in.Code != unix.BPF_RET|unix.BPF_A {
				return fmt.Errorf("pc %d: bad ret %#x", pc, in.Code)
			}
		case unix.BPF_MISC:
			if in.Code != unix.BPF_MISC|unix.BPF_TAX && in.Code != unix.BPF_MISC|unix.BPF_TXA {
				return fmt.Errorf("pc %d: bad misc %#x", pc, in.Code)
			}
		}
	}
	if last := prog[len(prog)-1].Code; last&0x07 != unix.BPF_RET {
		return errors.New("last instruction is not a return")
	}
	return nil
}

// runFilter runs prog (which checkFilter accepted) on d and returns the
// filter's return value.
func runFilter(prog []unix.SockFilter, d seccompData) (uint32, error) {
	data := d.bytes()
	var a, x uint32
	var mem [bpfMemWords]uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		src := in.K
		if in.Code&unix.BPF_X != 0 {
			src = x
		}
		switch in.Code & 0x07 {
		case unix.BPF_LD:
			switch in.Code & 0xe0 {
			case unix.BPF_ABS:
				if in.K+4 > seccompDataSize {
					return 0, fmt.Errorf("pc %d: load out of bounds", pc)
				}
				a = binary.LittleEndian.Uint32(data[in.K:])
			case unix.BPF_IMM:
				a = in.K
			case unix.BPF_MEM:
				a = mem[in.K]
			default:
				return 0, fmt.Errorf("pc %d: unsupported load %#x", pc, in.Code)
			}
		case unix.BPF_LDX:
			switch in.Code & 0xe0 {
			case unix.BPF_IMM:
				x = in.K
			case unix.BPF_MEM:
				x = mem[in.K]
			default:
				return 0, fmt.Errorf("pc %d: unsupported ldx %#x", pc, in.Code)
			}
		case unix.BPF_ST:
			mem[in.K] = a
		case unix.BPF_STX:
			mem[in.K] = x
		case unix.BPF_ALU:
			switch in.Code & 0xf0 {
			case unix.BPF_ADD:
				a += src
			case unix.BPF_SUB:
				a -= src
			case unix.BPF_MUL:
				a *= src
			case unix.BPF_DIV:
				if src == 0 {
					return 0, nil
				}
				a /= src
			case unix.BPF_MOD:
				if src == 0 {
					return 0, nil
				}
				a %= src
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
				if pc+1 >= len(prog) {
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
			if in.Code&0x18 == unix.BPF_A {
				return a, nil
			}
			return in.K, nil
		case unix.BPF_MISC:
			if in.Code&0xf8 == unix.BPF_TXA {
				a = x
			} else {
				x = a
			}
		}
	}
	return 0, errors.New("fell off the end of the program")
}
