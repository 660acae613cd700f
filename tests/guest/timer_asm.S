/* WAIT with labels on the instruction and on the one after it. */
	.set	noreorder
	.set	noat
	.text
	.globl	do_wait
	.globl	do_wait_insn
	.globl	do_wait_after
	.type	do_wait, @function
	.ent	do_wait
do_wait:
do_wait_insn:
	wait
do_wait_after:
	jr	$31
	nop
	.end	do_wait
	.size	do_wait, . - do_wait
