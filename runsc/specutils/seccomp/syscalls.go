// Copyright 2025 The runsc Authors.
// SPDX-License-Identifier: Apache-2.0

package seccomp

import (
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// x32SyscallBit is __X32_SYSCALL_BIT: the kernel sets it in the syscall
// number (and so in seccomp_data.nr) of every x32 syscall.
const x32SyscallBit = 0x40000000

// sysEntry is one syscall of a table in syscalls_table.go.
type sysEntry struct {
	name string
	nr   uint32
}

// abi is a syscall ABI that a filter can handle on x86_64.
type abi int

const (
	abiX86_64 abi = iota
	abiX32
	abiI386
	numABIs
)

// String returns the OCI name of the ABI.
func (a abi) String() string {
	switch a {
	case abiX86_64:
		return string(specs.ArchX86_64)
	case abiX32:
		return string(specs.ArchX32)
	case abiI386:
		return string(specs.ArchX86)
	}
	return "unknown ABI"
}

// is32Bit reports whether seccomp_data.args of the ABI hold 32-bit values.
func (a abi) is32Bit() bool { return a == abiI386 }

type sysMaps struct {
	byName [numABIs]map[string]uint32
	byNr   [numABIs]map[uint32]string
}

var (
	sysMapsOnce sync.Once
	sysMapsVal  sysMaps
)

func tables() *sysMaps {
	sysMapsOnce.Do(func() {
		for a, t := range [numABIs][]sysEntry{
			abiX86_64: sysTableX86_64[:],
			abiX32:    sysTableX32[:],
			abiI386:   sysTableI386[:],
		} {
			sysMapsVal.byName[a] = make(map[string]uint32, len(t))
			sysMapsVal.byNr[a] = make(map[uint32]string, len(t))
			for _, e := range t {
				sysMapsVal.byName[a][e.name] = e.nr
				sysMapsVal.byNr[a][e.nr] = e.name
			}
		}
	})
	return &sysMapsVal
}

// abiFromArch maps the OCI names of the x86 ABIs to an abi.
func abiFromArch(arch specs.Arch) (abi, bool) {
	switch arch {
	case specs.ArchX86_64:
		return abiX86_64, true
	case specs.ArchX32:
		return abiX32, true
	case specs.ArchX86:
		return abiI386, true
	}
	return 0, false
}

// SyscallNumber returns the number of the syscall called name for arch
// (SCMP_ARCH_X86_64, SCMP_ARCH_X32 or SCMP_ARCH_X86), as the filter sees it
// in seccomp_data.nr: x32 numbers include __X32_SYSCALL_BIT.
func SyscallNumber(arch specs.Arch, name string) (uint32, bool) {
	a, ok := abiFromArch(arch)
	if !ok {
		return 0, false
	}
	nr, ok := tables().byName[a][name]
	return nr, ok
}

// SyscallName returns the name of syscall number nr for arch
// (SCMP_ARCH_X86_64, SCMP_ARCH_X32 or SCMP_ARCH_X86).
func SyscallName(arch specs.Arch, nr uint32) (string, bool) {
	a, ok := abiFromArch(arch)
	if !ok {
		return "", false
	}
	name, ok := tables().byNr[a][nr]
	return name, ok
}
