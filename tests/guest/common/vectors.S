/*
 * Exception vector stubs and the common save/restore path.
 *
 * Each __vec_stub_XXX is 4 instructions of position-independent code that
 * install_vectors() copies to EBase + XXX.  It jumps through $k0 to the
 * absolute address of exc_common and passes the vector offset in $k1.
 *
 * exc_common saves every GPR (except k0/k1), HI/LO and the interesting CP0
 * registers into the static struct frame __exc_frame, switches to a private
 * exception stack and calls exc_handler(struct frame *).  On return it
 * restores HI/LO, EPC, Status (with EXL forced on) and the GPRs from the
 * frame and executes ERET.  Exceptions must not nest (single static frame).
 */
#include "frame.h"

	.set	noreorder
	.set	noat

#define VEC_STUB(off)					\
	.globl	__vec_stub_##off;			\
	.globl	__vec_stub_##off##_end;			\
__vec_stub_##off:					\
	lui	$26, %hi(exc_common);			\
	addiu	$26, $26, %lo(exc_common);		\
	jr	$26;					\
	ori	$27, $0, off;	/* delay slot */	\
__vec_stub_##off##_end:

	.text
	.align	3
	VEC_STUB(0x000)
	VEC_STUB(0x080)
	VEC_STUB(0x100)
	VEC_STUB(0x180)
	VEC_STUB(0x200)

#define SAVE(n)		sd	$n, (FRAME_REGS + 8 * n)($26)
#define RESTORE(n)	ld	$n, (FRAME_REGS + 8 * n)($26)

	.globl	exc_common
	.type	exc_common, @function
	.ent	exc_common
exc_common:
	lui	$26, %hi(__exc_frame)
	addiu	$26, $26, %lo(__exc_frame)
	sd	$0, (FRAME_REGS + 0)($26)
	SAVE(1);  SAVE(2);  SAVE(3);  SAVE(4);  SAVE(5);  SAVE(6);  SAVE(7)
	SAVE(8);  SAVE(9);  SAVE(10); SAVE(11); SAVE(12); SAVE(13); SAVE(14)
	SAVE(15); SAVE(16); SAVE(17); SAVE(18); SAVE(19); SAVE(20); SAVE(21)
	SAVE(22); SAVE(23); SAVE(24); SAVE(25)
	sd	$0, (FRAME_REGS + 8 * 26)($26)	/* k0/k1 are not preserved */
	sd	$0, (FRAME_REGS + 8 * 27)($26)
	SAVE(28); SAVE(29); SAVE(30); SAVE(31)
	sd	$27, FRAME_VEC($26)
	mfhi	$8
	sd	$8, FRAME_HI($26)
	mflo	$8
	sd	$8, FRAME_LO($26)
	dmfc0	$8, $14, 0		/* EPC */
	sd	$8, FRAME_EPC($26)
	dmfc0	$8, $8, 0		/* BadVAddr */
	sd	$8, FRAME_BADVADDR($26)
	mfc0	$8, $12, 0		/* Status */
	sd	$8, FRAME_STATUS($26)
	mfc0	$8, $13, 0		/* Cause */
	sd	$8, FRAME_CAUSE($26)
	dmfc0	$8, $10, 0		/* EntryHi */
	sd	$8, FRAME_ENTRYHI($26)
	dmfc0	$8, $4, 0		/* Context */
	sd	$8, FRAME_CONTEXT($26)
	dmfc0	$8, $20, 0		/* XContext */
	sd	$8, FRAME_XCONTEXT($26)

	lui	$29, %hi(__exc_stack_top)
	addiu	$29, $29, %lo(__exc_stack_top)
	move	$30, $0
	jal	exc_handler
	move	$4, $26			/* delay slot: a0 = frame */

	lui	$26, %hi(__exc_frame)
	addiu	$26, $26, %lo(__exc_frame)
	ld	$8, FRAME_HI($26)
	mthi	$8
	ld	$8, FRAME_LO($26)
	mtlo	$8
	ld	$8, FRAME_EPC($26)
	dmtc0	$8, $14, 0
	ld	$8, FRAME_STATUS($26)
	ori	$8, $8, 0x2		/* keep EXL=1 until ERET */
	mtc0	$8, $12, 0
	ehb
	RESTORE(1);  RESTORE(2);  RESTORE(3);  RESTORE(4);  RESTORE(5)
	RESTORE(6);  RESTORE(7);  RESTORE(8);  RESTORE(9);  RESTORE(10)
	RESTORE(11); RESTORE(12); RESTORE(13); RESTORE(14); RESTORE(15)
	RESTORE(16); RESTORE(17); RESTORE(18); RESTORE(19); RESTORE(20)
	RESTORE(21); RESTORE(22); RESTORE(23); RESTORE(24); RESTORE(25)
	RESTORE(28); RESTORE(29); RESTORE(30); RESTORE(31)
	eret
	nop				/* never executed (ERET has no delay slot) */
	.end	exc_common
	.size	exc_common, . - exc_common

	.bss
	.align	4
	.globl	__exc_frame
__exc_frame:
	.space	FRAME_SIZE
	.align	4
__exc_stack:
	.space	16384
	.globl	__exc_stack_top
__exc_stack_top:
