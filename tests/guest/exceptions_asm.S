/*
 * Instruction sequences for exceptions.c.  Each function exports a label
 * on the instruction expected to fault (or on the branch whose delay slot
 * faults) so the C side can check EPC exactly.
 */
	.set	noreorder
	.set	noat
	.text

#define FUNC(name) .globl name; .type name, @function; .ent name; name:
#define ENDF(name) .end name; .size name, . - name
#define LABEL(name) .globl name; name:

/* u64 t_syscall(void): returns 0x5a */
FUNC(t_syscall)
	li	$2, 0x5a
LABEL(t_syscall_insn)
	syscall
	jr	$31
	nop
ENDF(t_syscall)

/* u64 t_break(void): returns 0x5b */
FUNC(t_break)
	li	$2, 0x5b
LABEL(t_break_insn)
	break	7
	jr	$31
	nop
ENDF(t_break)

/* s64 t_add(s64 a, s64 b, s64 old): v0 = old; v0 = (s32)a + (s32)b (ADD, traps on overflow) */
FUNC(t_add)
	move	$2, $6
LABEL(t_add_insn)
	add	$2, $4, $5
	jr	$31
	nop
ENDF(t_add)

/* s64 t_addi(s64 a, s64 old): v0 = old; v0 = a + 1 (ADDI, traps on overflow) */
FUNC(t_addi)
	move	$2, $5
LABEL(t_addi_insn)
	addi	$2, $4, 1
	jr	$31
	nop
ENDF(t_addi)

/* s64 t_sub(s64 a, s64 b, s64 old): SUB */
FUNC(t_sub)
	move	$2, $6
LABEL(t_sub_insn)
	sub	$2, $4, $5
	jr	$31
	nop
ENDF(t_sub)

/* s64 t_dadd(s64 a, s64 b, s64 old): DADD */
FUNC(t_dadd)
	move	$2, $6
LABEL(t_dadd_insn)
	dadd	$2, $4, $5
	jr	$31
	nop
ENDF(t_dadd)

/* s64 t_addu(s64 a, s64 b): ADDU never traps */
FUNC(t_addu)
	jr	$31
	addu	$2, $4, $5
ENDF(t_addu)

/* u64 t_teq(u64 a, u64 b): TEQ a, b; returns 1 */
FUNC(t_teq)
	li	$2, 1
LABEL(t_teq_insn)
	teq	$4, $5, 0x123
	jr	$31
	nop
ENDF(t_teq)

/* u64 t_tne(u64 a, u64 b): TNE a, b; returns 1 */
FUNC(t_tne)
	li	$2, 1
LABEL(t_tne_insn)
	tne	$4, $5
	jr	$31
	nop
ENDF(t_tne)

/* u64 t_ri(void): executes a reserved opcode (primary opcode 59); returns 0x77 */
FUNC(t_ri)
	li	$2, 0x77
LABEL(t_ri_insn)
	.word	0xec000000
	jr	$31
	nop
ENDF(t_ri)

/* u64 t_lw(u64 addr, u64 old): v0 = old; lw v0, 0(addr) */
FUNC(t_lw)
	move	$2, $5
LABEL(t_lw_insn)
	lw	$2, 0($4)
	jr	$31
	nop
ENDF(t_lw)

/* u64 t_ld(u64 addr, u64 old) */
FUNC(t_ld)
	move	$2, $5
LABEL(t_ld_insn)
	ld	$2, 0($4)
	jr	$31
	nop
ENDF(t_ld)

/* u64 t_lh(u64 addr, u64 old) */
FUNC(t_lh)
	move	$2, $5
LABEL(t_lh_insn)
	lh	$2, 0($4)
	jr	$31
	nop
ENDF(t_lh)

/* void t_sw(u64 addr, u64 val) */
FUNC(t_sw)
LABEL(t_sw_insn)
	sw	$5, 0($4)
	jr	$31
	nop
ENDF(t_sw)

/* void t_sd(u64 addr, u64 val) */
FUNC(t_sd)
LABEL(t_sd_insn)
	sd	$5, 0($4)
	jr	$31
	nop
ENDF(t_sd)

/* void t_sh(u64 addr, u64 val) */
FUNC(t_sh)
LABEL(t_sh_insn)
	sh	$5, 0($4)
	jr	$31
	nop
ENDF(t_sh)

/* void t_jump(u64 target): jumps to target (misaligned: AdEL on fetch) */
FUNC(t_jump)
	jr	$4
	nop
ENDF(t_jump)

/*
 * u64 t_ds_taken(u64 a, u64 b): a taken BEQ whose delay slot holds TEQ a, b.
 * Returns 1 if execution continued at the branch target.
 */
FUNC(t_ds_taken)
	li	$2, 0
LABEL(t_ds_taken_branch)
	beq	$0, $0, 1f
	teq	$4, $5			/* delay slot */
	li	$2, 0x100		/* must be skipped */
	jr	$31
	nop
1:	addiu	$2, $2, 1
	jr	$31
	nop
ENDF(t_ds_taken)

/*
 * u64 t_ds_nottaken(u64 a, u64 b, u64 zero): a not-taken BNE (zero != 0)
 * whose delay slot holds TEQ a, b.  Returns 2 if execution fell through.
 * (The condition is a register so the branch is not statically never-taken.)
 */
FUNC(t_ds_nottaken)
	li	$2, 0
LABEL(t_ds_nottaken_branch)
	bne	$6, $0, 1f
	teq	$4, $5			/* delay slot */
	addiu	$2, $2, 2
	jr	$31
	nop
1:	addiu	$2, $2, 0x100		/* must not be reached */
	jr	$31
	nop
ENDF(t_ds_nottaken)

/*
 * u64 t_ds_jal(u64 a, u64 b): JAL whose delay slot holds TEQ a, b; the
 * callee returns 0x10 + its own v0 increment.  Returns 0x11 on success.
 */
FUNC(t_ds_jal)
	daddiu	$29, $29, -16
	sd	$31, 0($29)
	li	$2, 0
LABEL(t_ds_jal_branch)
	jal	2f
	teq	$4, $5			/* delay slot */
	ld	$31, 0($29)
	jr	$31
	daddiu	$29, $29, 16
2:	jr	$31
	addiu	$2, $2, 0x11
ENDF(t_ds_jal)

/* u64 t_beql(u64 a): v0 = 0; beql a, zero: delay slot adds 1, fallthrough adds 16 */
FUNC(t_beql)
	li	$2, 0
	beql	$4, $0, 1f
	addiu	$2, $2, 1		/* delay slot: executed only if taken */
	addiu	$2, $2, 16
1:	jr	$31
	nop
ENDF(t_beql)

/* u64 t_bnel(u64 a): v0 = 0; bnel a, zero: delay slot adds 1, fallthrough adds 16 */
FUNC(t_bnel)
	li	$2, 0
	bnel	$4, $0, 1f
	addiu	$2, $2, 1
	addiu	$2, $2, 16
1:	jr	$31
	nop
ENDF(t_bnel)

/* u64 t_bgezall(s64 a): BGEZALL: link register written even if not taken */
FUNC(t_bgezall)
	move	$3, $31
	li	$2, 0
	bgezall	$4, 1f
	addiu	$2, $2, 1		/* delay slot: executed only if taken */
	addiu	$2, $2, 16
	move	$31, $3
	jr	$31
	nop
1:	move	$31, $3
	jr	$31
	nop
ENDF(t_bgezall)

/* u64 t_mfc1(void): MFC1 with CU1=0 -> CpU; returns 0x66 if skipped */
FUNC(t_mfc1)
	li	$2, 0x66
	.set	push
	.set	hardfloat
LABEL(t_mfc1_insn)
	mfc1	$2, $f0
	.set	pop
	jr	$31
	nop
ENDF(t_mfc1)

/* void t_lwc1(u64 addr): LWC1 with CU1=0 -> CpU */
FUNC(t_lwc1)
	.set	push
	.set	hardfloat
LABEL(t_lwc1_insn)
	lwc1	$f2, 0($4)
	.set	pop
	jr	$31
	nop
ENDF(t_lwc1)

/* u64 t_llsc(u64 addr, u64 val): LL; SC with no exception in between.  Returns SC result. */
FUNC(t_llsc)
	ll	$8, 0($4)
	move	$2, $5
	sc	$2, 0($4)
	jr	$31
	nop
ENDF(t_llsc)

/* u64 t_llsc_exc(u64 addr, u64 val): LL; SYSCALL (handler ERETs past it); SC. */
FUNC(t_llsc_exc)
	ll	$8, 0($4)
LABEL(t_llsc_exc_insn)
	syscall
	move	$2, $5
	sc	$2, 0($4)
	jr	$31
	nop
ENDF(t_llsc_exc)

/* u64 t_lldscd_exc(u64 addr, u64 val): LLD; SYSCALL; SCD. */
FUNC(t_lldscd_exc)
	lld	$8, 0($4)
	syscall
	move	$2, $5
	scd	$2, 0($4)
	jr	$31
	nop
ENDF(t_lldscd_exc)
