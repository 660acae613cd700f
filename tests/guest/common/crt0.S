/*
 * Entry point of every disco bare-metal guest program.
 *
 * The board starts the CPU at the ELF entry point in kernel mode with the
 * architectural reset state (Status.ERL=1, Status.BEV=1).  We:
 *   1. set Status to BEV=1 only (ERL/EXL/IE/KSU/UX/SX/KX/CU1 = 0),
 *      clear Cause (IV, software interrupts),
 *   2. set up the stack,
 *   3. zero .bss,
 *   4. call runtime_init() (installs the RAM vectors, then clears BEV),
 *   5. call main() and power off with its return value (exit hook +0x8).
 */
#include "frame.h"

	.set	noreorder
	.set	noat

	.section .text.start, "ax", @progbits
	.globl	_start
	.type	_start, @function
	.ent	_start
_start:
	/* Status: BEV=1, everything else 0 (leaves ERL, kernel mode). */
	lui	$8, 0x0040		/* ST_BEV */
	mtc0	$8, $12, 0
	mtc0	$0, $13, 0		/* Cause: IV=0, IP1..0=0 */
	ehb

	/* Stack (grows down from __stack_top, 16-byte aligned). */
	lui	$29, %hi(__stack_top)
	addiu	$29, $29, %lo(__stack_top)

	/* Zero .bss: [__bss_start, __bss_end), both 8-byte aligned. */
	lui	$8, %hi(__bss_start)
	addiu	$8, $8, %lo(__bss_start)
	lui	$9, %hi(__bss_end)
	addiu	$9, $9, %lo(__bss_end)
	beq	$8, $9, 2f
	nop
1:	sd	$0, 0($8)
	daddiu	$8, $8, 8
	bne	$8, $9, 1b
	nop
2:
	move	$30, $0			/* frame pointer: end of call chain */
	jal	runtime_init
	nop

	move	$4, $0			/* argc = 0 */
	jal	main
	move	$5, $0			/* argv = NULL (delay slot) */

	jal	power_exit		/* power_exit(main's return value) */
	move	$4, $2			/* delay slot */
3:	b	3b			/* not reached */
	nop
	.end	_start
	.size	_start, . - _start
