/*
 * physwalk helpers with labels on the instructions that may fault or
 * wait, so that the exception handler recognises them exactly.
 *
 *   int  pw_probe(u64 va)   1 if the doubleword load at va completes,
 *                           0 if the handler skipped it (bus error)
 *   void pw_wait(void)      one WAIT
 */
	.set	noreorder
	.set	noat
	.text

#define FUNC(name) .globl name; .type name, @function; .ent name; name:
#define ENDF(name) .end name; .size name, . - name

FUNC(pw_probe)
	ori	$2, $0, 1		/* v0 = 1: readable unless the handler clears it */
	.globl	pw_probe_insn
pw_probe_insn:
	ld	$8, 0($4)
	jr	$31
	nop
ENDF(pw_probe)

FUNC(pw_wait)
	.globl	pw_wait_insn
pw_wait_insn:
	wait
	jr	$31
	nop
ENDF(pw_wait)
