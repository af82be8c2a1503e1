package cgroup

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// This file generates, loads and attaches the cgroup v2 device filter: a
// BPF_PROG_TYPE_CGROUP_DEVICE program equivalent to a cgroup v1 device
// policy (see devEmulator), built instruction by instruction without cgo or
// an eBPF library.

// eBPF opcode parts (linux/bpf_common.h, linux/bpf.h).
const (
	bpfLDX   = 0x01
	bpfALU   = 0x04
	bpfJMP   = 0x05
	bpfJMP32 = 0x06
	bpfW     = 0x00
	bpfMEM   = 0x60
	bpfK     = 0x00
	bpfX     = 0x08
	bpfAND   = 0x50
	bpfRSH   = 0x70
	bpfMOV   = 0xb0
	bpfJEQ   = 0x10
	bpfJNE   = 0x50
	bpfEXIT  = 0x90
)

// bpf(2) commands, program/attach types and flags.
const (
	bpfProgLoad             = 5
	bpfProgAttach           = 8
	bpfProgDetach           = 9
	bpfProgGetFdByID        = 13
	bpfObjGetInfoByFd       = 15
	bpfProgQuery            = 16
	bpfProgTypeCgroupDevice = 15
	bpfCgroupDevice         = 6
	bpfFAllowMulti          = 2
)

// deviceFilterLicense is the license string passed to BPF_PROG_LOAD.
const deviceFilterLicense = "Apache"

// insn is one eBPF instruction.
type insn struct {
	code uint8
	dst  uint8
	src  uint8
	off  int16
	imm  int32
	// next marks a jump to the end of the current rule block; its offset
	// is filled in when the block is complete.
	next bool
}

func ldxw(dst, src uint8, off int16) insn {
	return insn{code: bpfLDX | bpfMEM | bpfW, dst: dst, src: src, off: off}
}
func alu32Imm(op uint8, dst uint8, imm int32) insn {
	return insn{code: bpfALU | op | bpfK, dst: dst, imm: imm}
}
func mov32Reg(dst, src uint8) insn { return insn{code: bpfALU | bpfMOV | bpfX, dst: dst, src: src} }
func jmp32ImmNext(op uint8, dst uint8, imm int32) insn {
	return insn{code: bpfJMP32 | op | bpfK, dst: dst, imm: imm, next: true}
}
func jmp32RegNext(op uint8, dst, src uint8) insn {
	return insn{code: bpfJMP32 | op | bpfX, dst: dst, src: src, next: true}
}
func exit() insn { return insn{code: bpfJMP | bpfEXIT} }

// String disassembles the instruction.
func (i insn) String() string {
	switch i.code {
	case bpfLDX | bpfMEM | bpfW:
		return fmt.Sprintf("ldxw r%d, [r%d%+d]", i.dst, i.src, i.off)
	case bpfALU | bpfAND | bpfK:
		return fmt.Sprintf("and32 r%d, %#x", i.dst, uint32(i.imm))
	case bpfALU | bpfRSH | bpfK:
		return fmt.Sprintf("rsh32 r%d, %d", i.dst, i.imm)
	case bpfALU | bpfMOV | bpfX:
		return fmt.Sprintf("mov32 r%d, r%d", i.dst, i.src)
	case bpfALU | bpfMOV | bpfK:
		return fmt.Sprintf("mov32 r%d, %d", i.dst, i.imm)
	case bpfJMP32 | bpfJNE | bpfK:
		return fmt.Sprintf("jne32 r%d, %d, %+d", i.dst, i.imm, i.off)
	case bpfJMP32 | bpfJEQ | bpfK:
		return fmt.Sprintf("jeq32 r%d, %d, %+d", i.dst, i.imm, i.off)
	case bpfJMP32 | bpfJNE | bpfX:
		return fmt.Sprintf("jne32 r%d, r%d, %+d", i.dst, i.src, i.off)
	case bpfJMP | bpfEXIT:
		return "exit"
	}
	return fmt.Sprintf("unknown(code=%#x dst=%d src=%d off=%d imm=%d)", i.code, i.dst, i.src, i.off, i.imm)
}

// program is an eBPF program.
type program []insn

// String disassembles the program, one numbered instruction per line.
func (p program) String() string {
	var b strings.Builder
	for n, i := range p {
		fmt.Fprintf(&b, "%3d: %s\n", n, i)
	}
	return b.String()
}

// bytes encodes the program as struct bpf_insn array (little endian).
func (p program) bytes() []byte {
	out := make([]byte, 8*len(p))
	for n, i := range p {
		b := out[8*n:]
		b[0] = i.code
		b[1] = i.dst&0xf | i.src<<4
		binary.LittleEndian.PutUint16(b[2:], uint16(i.off))
		binary.LittleEndian.PutUint32(b[4:], uint32(i.imm))
	}
	return out
}

// deviceFilter generates the device filter for a policy. The context is
// struct bpf_cgroup_dev_ctx {u32 access_type; u32 major; u32 minor}, with
// the device type in the low 16 bits of access_type and the requested
// access in the high 16 bits. Each exception becomes a block that jumps to
// the next block unless the device matches, and returns the exception's
// verdict otherwise; the final block returns the default. Deny-all
// policies grant an access when one exception covers all requested
// permissions; allow-all policies deny it when an exception names any
// requested permission, exactly like cgroup v1.
func deviceFilter(e *devEmulator) (program, error) {
	const r0, r1, r2, r3, r4, r5 = 0, 1, 2, 3, 4, 5
	p := program{
		ldxw(r2, r1, 0), alu32Imm(bpfAND, r2, 0xffff), // r2 = type
		ldxw(r3, r1, 0), alu32Imm(bpfRSH, r3, 16), // r3 = access
		ldxw(r4, r1, 4), // r4 = major
		ldxw(r5, r1, 8), // r5 = minor
	}
	verdict := func(allow bool) []insn {
		v := int32(0)
		if allow {
			v = 1
		}
		return []insn{alu32Imm(bpfMOV, r0, v), exit()}
	}
	for _, r := range e.sortedExceptions() {
		var typ int32
		switch r.typ {
		case 'c':
			typ = devChar
		case 'b':
			typ = devBlock
		default:
			return nil, fmt.Errorf("invalid device type %q in exception %q", r.typ, r.cgroupString())
		}
		blk := []insn{jmp32ImmNext(bpfJNE, r2, typ)}
		if r.acc != accAll {
			blk = append(blk, mov32Reg(r1, r3), alu32Imm(bpfAND, r1, int32(r.acc)))
			if r.allow {
				blk = append(blk, jmp32RegNext(bpfJNE, r1, r3)) // not a subset
			} else {
				blk = append(blk, jmp32ImmNext(bpfJEQ, r1, 0)) // no overlap
			}
		}
		if r.major != wildcard {
			blk = append(blk, jmp32ImmNext(bpfJNE, r4, int32(uint32(r.major))))
		}
		if r.minor != wildcard {
			blk = append(blk, jmp32ImmNext(bpfJNE, r5, int32(uint32(r.minor))))
		}
		blk = append(blk, verdict(r.allow)...)
		for n := range blk {
			if blk[n].next {
				blk[n].off = int16(len(blk) - n - 1)
				blk[n].next = false
			}
		}
		p = append(p, blk...)
	}
	p = append(p, verdict(e.defaultAllow)...)
	return p, nil
}

// bpf calls bpf(2) with an attribute struct.
func bpf(cmd uintptr, attr unsafe.Pointer, size uintptr) (uintptr, error) {
	r, _, errno := unix.Syscall(unix.SYS_BPF, cmd, uintptr(attr), size)
	if errno != 0 {
		return 0, errno
	}
	return r, nil
}

// progLoadAttr is the BPF_PROG_LOAD part of union bpf_attr.
type progLoadAttr struct {
	progType           uint32
	insnCnt            uint32
	insns              uint64
	license            uint64
	logLevel           uint32
	logSize            uint32
	logBuf             uint64
	kernVersion        uint32
	progFlags          uint32
	progName           [16]byte
	progIfindex        uint32
	expectedAttachType uint32
}

// loadProgram loads a device filter and returns its fd. On failure the
// load is retried with the verifier log enabled to report why.
func loadProgram(p program) (int, error) {
	code := p.bytes()
	license := []byte(deviceFilterLicense + "\x00")
	attr := progLoadAttr{
		progType:           bpfProgTypeCgroupDevice,
		insnCnt:            uint32(len(p)),
		insns:              uint64(uintptr(unsafe.Pointer(&code[0]))),
		license:            uint64(uintptr(unsafe.Pointer(&license[0]))),
		expectedAttachType: bpfCgroupDevice,
	}
	copy(attr.progName[:], "runsc_devices")
	fd, err := bpf(bpfProgLoad, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err != nil {
		log := make([]byte, 64*1024)
		attr.logLevel = 1
		attr.logSize = uint32(len(log))
		attr.logBuf = uint64(uintptr(unsafe.Pointer(&log[0])))
		if fd2, err2 := bpf(bpfProgLoad, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); err2 == nil {
			unix.Close(int(fd2))
		}
		runtime.KeepAlive(log)
		if n := strings.IndexByte(string(log), 0); n > 0 {
			err = fmt.Errorf("%w: verifier: %s", err, strings.TrimSpace(string(log[:n])))
		}
		runtime.KeepAlive(code)
		runtime.KeepAlive(license)
		return -1, fmt.Errorf("BPF_PROG_LOAD: %w", err)
	}
	runtime.KeepAlive(code)
	runtime.KeepAlive(license)
	return int(fd), nil
}

// progAttachAttr is the BPF_PROG_ATTACH/DETACH part of union bpf_attr.
type progAttachAttr struct {
	targetFd     uint32
	attachBpfFd  uint32
	attachType   uint32
	attachFlags  uint32
	replaceBpfFd uint32
}

// progQueryAttr is the BPF_PROG_QUERY part of union bpf_attr.
type progQueryAttr struct {
	targetFd    uint32
	attachType  uint32
	queryFlags  uint32
	attachFlags uint32
	progIDs     uint64
	progCnt     uint32
	_           uint32
}

// queryDevicePrograms lists the ids of device programs attached to a cgroup.
func queryDevicePrograms(cgFd int) ([]uint32, error) {
	ids := make([]uint32, 64)
	for {
		attr := progQueryAttr{
			targetFd:   uint32(cgFd),
			attachType: bpfCgroupDevice,
			progIDs:    uint64(uintptr(unsafe.Pointer(&ids[0]))),
			progCnt:    uint32(len(ids)),
		}
		_, err := bpf(bpfProgQuery, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
		runtime.KeepAlive(ids)
		if errors.Is(err, unix.ENOSPC) && int(attr.progCnt) > len(ids) {
			ids = make([]uint32, attr.progCnt)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("BPF_PROG_QUERY: %w", err)
		}
		return ids[:attr.progCnt], nil
	}
}

// progID returns the id of a loaded program.
func progID(fd int) (uint32, error) {
	var info [16]byte // struct bpf_prog_info starts with u32 type, u32 id
	attr := struct {
		bpfFd   uint32
		infoLen uint32
		info    uint64
	}{uint32(fd), uint32(len(info)), uint64(uintptr(unsafe.Pointer(&info[0])))}
	_, err := bpf(bpfObjGetInfoByFd, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	runtime.KeepAlive(&info)
	if err != nil {
		return 0, fmt.Errorf("BPF_OBJ_GET_INFO_BY_FD: %w", err)
	}
	return binary.LittleEndian.Uint32(info[4:]), nil
}

// progFdByID opens a program by id.
func progFdByID(id uint32) (int, error) {
	attr := struct{ id, nextID, openFlags uint32 }{id: id}
	fd, err := bpf(bpfProgGetFdByID, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err != nil {
		return -1, fmt.Errorf("BPF_PROG_GET_FD_BY_ID %d: %w", id, err)
	}
	return int(fd), nil
}

// attachDeviceFilter loads prog and attaches it to the cgroup2 directory
// dir with BPF_F_ALLOW_MULTI, then detaches the device programs that were
// attached before, so an update never leaves the cgroup unfiltered.
func attachDeviceFilter(dir string, prog program) error {
	cgFd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening cgroup %s: %w", dir, err)
	}
	defer unix.Close(cgFd)
	old, err := queryDevicePrograms(cgFd)
	if err != nil {
		return err
	}
	progFd, err := loadProgram(prog)
	if err != nil {
		return err
	}
	defer unix.Close(progFd)
	attr := progAttachAttr{targetFd: uint32(cgFd), attachBpfFd: uint32(progFd), attachType: bpfCgroupDevice, attachFlags: bpfFAllowMulti}
	if _, err := bpf(bpfProgAttach, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); err != nil {
		return fmt.Errorf("BPF_PROG_ATTACH: %w", err)
	}
	newID, err := progID(progFd)
	if err != nil {
		return err
	}
	for _, id := range old {
		if id == newID {
			continue
		}
		fd, err := progFdByID(id)
		if err != nil {
			return err
		}
		attr := progAttachAttr{targetFd: uint32(cgFd), attachBpfFd: uint32(fd), attachType: bpfCgroupDevice}
		_, err = bpf(bpfProgDetach, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("BPF_PROG_DETACH of old program %d: %w", id, err)
		}
	}
	return nil
}
