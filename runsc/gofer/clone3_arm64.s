#include "textflag.h"

// func rawClone3(args, size uintptr) (r1 uintptr, errno syscall.Errno)
//
// The return address stays in the link register across the system call,
// in the parent and in the child alike: nothing of this frame is on the
// stack a CLONE_VM child shares and overwrites.
TEXT ·rawClone3(SB),NOSPLIT|NOFRAME,$0-32
	MOVD	args+0(FP), R0
	MOVD	size+8(FP), R1
	MOVD	$0, R2
	MOVD	$0, R3
	MOVD	$0, R4
	MOVD	$0, R5
	MOVD	$435, R8	// SYS_clone3
	SVC
	CMN	$4095, R0
	BCC	ok
	MOVD	$-1, R4
	MOVD	R4, r1+16(FP)
	NEG	R0, R0
	MOVD	R0, errno+24(FP)
	RET
ok:
	MOVD	R0, r1+16(FP)
	MOVD	ZR, errno+24(FP)
	RET
