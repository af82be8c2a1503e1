#include "textflag.h"

// func rawClone3(args, size uintptr) (r1 uintptr, errno syscall.Errno)
//
// The return address is popped into R12 before the system call and pushed
// back after it, by the parent and the child alike: a CLONE_VM child runs
// on this stack and overwrites it with its own calls before the parent
// resumes. No argument is read, nor result written, while it is off.
TEXT ·rawClone3(SB),NOSPLIT|NOFRAME,$0-32
	MOVQ	args+0(FP), DI
	MOVQ	size+8(FP), SI
	MOVQ	$0, DX
	MOVQ	$0, R10
	MOVQ	$0, R8
	MOVQ	$0, R9
	MOVQ	$435, AX	// SYS_clone3
	POPQ	R12
	SYSCALL
	PUSHQ	R12
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	MOVQ	$-1, r1+16(FP)
	NEGQ	AX
	MOVQ	AX, errno+24(FP)
	RET
ok:
	MOVQ	AX, r1+16(FP)
	MOVQ	$0, errno+24(FP)
	RET
