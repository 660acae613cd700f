/*
 * Single-instruction memory accessors with exported labels on the access
 * instruction, so exception tests know the exact EPC and can skip it
 * (EPC += 4: the access is never in a branch delay slot).
 *
 *   u64  mem_ld(u64 va)            u32 mem_lw(u64 va)
 *   void mem_sd(u64 va, u64 v)     void mem_sw(u64 va, u32 v)
 */
	.set	noreorder
	.set	noat
	.text

#define FUNC(name) .globl name; .type name, @function; .ent name; name:
#define ENDF(name) .end name; .size name, . - name

FUNC(mem_ld)
	.globl	mem_ld_insn
mem_ld_insn:
	ld	$2, 0($4)
	jr	$31
	nop
ENDF(mem_ld)

FUNC(mem_lw)
	.globl	mem_lw_insn
mem_lw_insn:
	lw	$2, 0($4)		# lw: the n64 ABI keeps 32-bit values sign-extended
	jr	$31
	nop
ENDF(mem_lw)

FUNC(mem_sd)
	.globl	mem_sd_insn
mem_sd_insn:
	sd	$5, 0($4)
	jr	$31
	nop
ENDF(mem_sd)

FUNC(mem_sw)
	.globl	mem_sw_insn
mem_sw_insn:
	sw	$5, 0($4)
	jr	$31
	nop
ENDF(mem_sw)
