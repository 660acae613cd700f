/*
 * exceptions: synchronous exceptions through the general vector
 * (EBase + 0x180): SYSCALL, BREAK, integer overflow, traps, reserved
 * instruction, address errors, coprocessor unusable, exceptions in branch
 * delay slots, branch-likely nullification, and ERET/LL-bit behaviour.
 */
#include "disco.h"

/* exceptions_asm.S */
u64 t_syscall(void);
u64 t_break(void);
s64 t_add(s64 a, s64 b, s64 old);
s64 t_addi(s64 a, s64 old);
s64 t_sub(s64 a, s64 b, s64 old);
s64 t_dadd(s64 a, s64 b, s64 old);
s64 t_addu(s64 a, s64 b);
u64 t_teq(u64 a, u64 b);
u64 t_tne(u64 a, u64 b);
u64 t_ri(void);
u64 t_lw(u64 addr, u64 old);
u64 t_ld(u64 addr, u64 old);
u64 t_lh(u64 addr, u64 old);
void t_sw(u64 addr, u64 val);
void t_sd(u64 addr, u64 val);
void t_sh(u64 addr, u64 val);
void t_jump(u64 target);
u64 t_ds_taken(u64 a, u64 b);
u64 t_ds_nottaken(u64 a, u64 b, u64 zero);
u64 t_ds_jal(u64 a, u64 b);
u64 t_beql(u64 a);
u64 t_bnel(u64 a);
u64 t_bgezall(s64 a);
u64 t_mfc1(void);
void t_lwc1(u64 addr);
u64 t_llsc(u64 addr, u64 val);
u64 t_llsc_exc(u64 addr, u64 val);
u64 t_lldscd_exc(u64 addr, u64 val);
extern const u32 t_syscall_insn[], t_break_insn[], t_add_insn[], t_addi_insn[],
	t_sub_insn[], t_dadd_insn[], t_teq_insn[], t_tne_insn[], t_ri_insn[],
	t_lw_insn[], t_ld_insn[], t_lh_insn[], t_sw_insn[], t_sd_insn[], t_sh_insn[],
	t_ds_taken_branch[], t_ds_nottaken_branch[], t_ds_jal_branch[],
	t_mfc1_insn[], t_lwc1_insn[], t_llsc_exc_insn[];

/* What the handler does after recording the exception. */
enum action {
	ACT_FAIL,       /* no exception expected */
	ACT_SKIP,       /* EPC += 4 (faulting instruction not in a delay slot) */
	ACT_FIX_A1,     /* a1 = a0 + 1, EPC unchanged: re-execute (TEQ no longer traps) */
	ACT_RET_RA,     /* EPC = ra: return from the faulting function */
};

static volatile enum action action;
static volatile int nexc;
static struct frame last;       /* copy of the frame of the last exception */
static volatile u64 handler_sp;

void exc_handler(struct frame *f)
{
	nexc++;
	last = *f;
	__asm__ __volatile__("move %0, $sp" : "=r"(handler_sp));
	if (nexc > 10)
		fail("exception loop (ExcCode %u at %016lx)", (unsigned)CAUSE_EXCCODE(f->cause), f->epc);

	switch (action) {
	case ACT_SKIP:
		f->epc += 4;
		break;
	case ACT_FIX_A1:
		f->regs[R_A1] = f->regs[R_A0] + 1;
		break;
	case ACT_RET_RA:
		f->epc = f->regs[R_RA];
		break;
	default:
		dump_frame(f);
		fail("unexpected exception ExcCode %u at epc %016lx",
		     (unsigned)CAUSE_EXCCODE(f->cause), f->epc);
	}
}

static void expect_begin(enum action a)
{
	nexc = 0;
	action = a;
}

/* Check that exactly one exception with the given code was taken at epc. */
static void expect_exc(const char *what, unsigned code, u64 epc, int bd)
{
	action = ACT_FAIL;
	CHECK(nexc == 1, "%s: %d exceptions taken, expected 1", what, nexc);
	CHECK(last.vec == VEC_GENERAL, "%s: vector +0x%lx, expected +0x180", what, last.vec);
	CHECK(CAUSE_EXCCODE(last.cause) == code, "%s: ExcCode %u, expected %u", what,
	      (unsigned)CAUSE_EXCCODE(last.cause), code);
	CHECK(last.epc == epc, "%s: EPC %016lx, expected %016lx", what, last.epc, epc);
	CHECK(!!(last.cause & CAUSE_BD) == bd, "%s: Cause.BD=%d, expected %d", what,
	      !!(last.cause & CAUSE_BD), bd);
	CHECK(last.status & ST_EXL, "%s: Status.EXL not set in handler", what);
	CHECK(!(read_c0_status() & ST_EXL), "%s: Status.EXL still set after ERET", what);
	printf("  ok: %s (ExcCode %u, EPC %016lx%s)\n", what, code, epc, bd ? ", BD" : "");
}

static void expect_none(const char *what)
{
	action = ACT_FAIL;
	CHECK(nexc == 0, "%s: unexpected exception", what);
}

static u64 buf[4] __attribute__((aligned(16)));

int main(void)
{
	u64 v, a;

	printf("exceptions test (vectors at %016lx)\n", exc_vector_base());

	/* ---- SYSCALL / BREAK ------------------------------------------ */
	expect_begin(ACT_SKIP);
	v = t_syscall();
	expect_exc("syscall", EXC_SYS, ADDR(t_syscall_insn), 0);
	CHECK(v == 0x5a, "syscall: v0 clobbered (%lx)", v);
	CHECK(handler_sp > ADDR(&last) - 0x100000 && (handler_sp & 15) == 0,
	      "syscall: odd handler stack %016lx", handler_sp);

	expect_begin(ACT_SKIP);
	v = t_break();
	expect_exc("break", EXC_BP, ADDR(t_break_insn), 0);
	CHECK(v == 0x5b, "break: v0 clobbered (%lx)", v);

	/* ---- Integer overflow ------------------------------------------ */
	expect_begin(ACT_FAIL);
	v = t_add(5, 7, 0);
	expect_none("add no overflow");
	CHECK(v == 12, "add 5+7 = %ld", v);
	v = t_add(-5, 2, 0);
	CHECK(v == (u64)-3, "add -5+2 = %ld", v);

	expect_begin(ACT_SKIP);
	v = t_add(0x7fffffff, 1, 0x1234);
	expect_exc("add overflow", EXC_OV, ADDR(t_add_insn), 0);
	CHECK(v == 0x1234, "add overflow: destination written (%lx)", v);

	expect_begin(ACT_SKIP);
	v = t_addi(0x7fffffff, 0x1234);
	expect_exc("addi overflow", EXC_OV, ADDR(t_addi_insn), 0);
	CHECK(v == 0x1234, "addi overflow: destination written (%lx)", v);

	expect_begin(ACT_SKIP);
	v = t_sub((s32)0x80000000, 1, 0x1234);
	expect_exc("sub overflow", EXC_OV, ADDR(t_sub_insn), 0);
	CHECK(v == 0x1234, "sub overflow: destination written (%lx)", v);

	expect_begin(ACT_FAIL);
	v = t_dadd(0x7fffffff, 1, 0);
	expect_none("dadd no overflow");
	CHECK(v == 0x80000000UL, "dadd 0x7fffffff+1 = %lx", v);

	expect_begin(ACT_SKIP);
	v = t_dadd(0x7fffffffffffffffL, 1, 0x1234);
	expect_exc("dadd overflow", EXC_OV, ADDR(t_dadd_insn), 0);
	CHECK(v == 0x1234, "dadd overflow: destination written (%lx)", v);

	expect_begin(ACT_FAIL);
	v = t_addu(0x7fffffff, 1);
	expect_none("addu");
	CHECK(v == 0xffffffff80000000UL, "addu result %lx not sign-extended", v);

	/* ---- Traps ------------------------------------------------------ */
	expect_begin(ACT_FAIL);
	v = t_teq(1, 2);
	expect_none("teq not equal");
	expect_begin(ACT_SKIP);
	v = t_teq(3, 3);
	expect_exc("teq", EXC_TR, ADDR(t_teq_insn), 0);
	expect_begin(ACT_FAIL);
	v = t_tne(4, 4);
	expect_none("tne equal");
	expect_begin(ACT_SKIP);
	v = t_tne(4, 5);
	expect_exc("tne", EXC_TR, ADDR(t_tne_insn), 0);

	/* ---- Reserved instruction --------------------------------------- */
	expect_begin(ACT_SKIP);
	v = t_ri();
	expect_exc("reserved instruction", EXC_RI, ADDR(t_ri_insn), 0);
	CHECK(v == 0x77, "reserved instruction: v0 clobbered (%lx)", v);

	/* ---- Address errors --------------------------------------------- */
	buf[0] = 0x1122334455667788UL;
	buf[1] = 0x99aabbccddeeff00UL;
	a = ADDR(buf);

	expect_begin(ACT_FAIL);
	v = t_lw(a + 4, 0);
	expect_none("aligned lw");
	CHECK(v == (GUEST_BIG_ENDIAN ? 0x55667788 : 0x11223344), "aligned lw read %lx", v);

	expect_begin(ACT_SKIP);
	v = t_lw(a + 1, 0xabc);
	expect_exc("misaligned lw", EXC_ADEL, ADDR(t_lw_insn), 0);
	CHECK(last.badvaddr == a + 1, "misaligned lw: BadVAddr %016lx, expected %016lx",
	      last.badvaddr, a + 1);
	CHECK(v == 0xabc, "misaligned lw: destination written (%lx)", v);

	expect_begin(ACT_SKIP);
	v = t_ld(a + 4, 0xabc);
	expect_exc("misaligned ld", EXC_ADEL, ADDR(t_ld_insn), 0);
	CHECK(last.badvaddr == a + 4, "misaligned ld: BadVAddr %016lx", last.badvaddr);
	CHECK(v == 0xabc, "misaligned ld: destination written (%lx)", v);

	expect_begin(ACT_SKIP);
	v = t_lh(a + 3, 0xabc);
	expect_exc("misaligned lh", EXC_ADEL, ADDR(t_lh_insn), 0);
	CHECK(last.badvaddr == a + 3, "misaligned lh: BadVAddr %016lx", last.badvaddr);

	expect_begin(ACT_SKIP);
	t_sw(a + 2, 0xdeadbeef);
	expect_exc("misaligned sw", EXC_ADES, ADDR(t_sw_insn), 0);
	CHECK(last.badvaddr == a + 2, "misaligned sw: BadVAddr %016lx", last.badvaddr);
	CHECK(buf[0] == 0x1122334455667788UL, "misaligned sw modified memory (%016lx)", buf[0]);

	expect_begin(ACT_SKIP);
	t_sd(a + 12, 0xdeadbeef);
	expect_exc("misaligned sd", EXC_ADES, ADDR(t_sd_insn), 0);
	CHECK(last.badvaddr == a + 12, "misaligned sd: BadVAddr %016lx", last.badvaddr);
	CHECK(buf[1] == 0x99aabbccddeeff00UL, "misaligned sd modified memory");

	expect_begin(ACT_SKIP);
	t_sh(a + 5, 0xbeef);
	expect_exc("misaligned sh", EXC_ADES, ADDR(t_sh_insn), 0);
	CHECK(buf[0] == 0x1122334455667788UL, "misaligned sh modified memory");

	/* Instruction fetch from a misaligned address: EPC = BadVAddr = target. */
	{
		u64 target = ADDR(t_syscall) + 2;
		expect_begin(ACT_RET_RA);
		t_jump(target);
		expect_exc("misaligned fetch", EXC_ADEL, target, 0);
		CHECK(last.badvaddr == target, "misaligned fetch: BadVAddr %016lx", last.badvaddr);
	}

	/* ---- Exceptions in branch delay slots ------------------------------ */
	expect_begin(ACT_FIX_A1);
	v = t_ds_taken(9, 9);
	expect_exc("trap in taken-branch delay slot", EXC_TR, ADDR(t_ds_taken_branch), 1);
	CHECK(v == 1, "taken branch not resumed correctly (v0=%lx)", v);

	expect_begin(ACT_FIX_A1);
	v = t_ds_nottaken(9, 9, 0);
	expect_exc("trap in not-taken-branch delay slot", EXC_TR, ADDR(t_ds_nottaken_branch), 1);
	CHECK(v == 2, "not-taken branch not resumed correctly (v0=%lx)", v);

	expect_begin(ACT_FIX_A1);
	v = t_ds_jal(9, 9);
	expect_exc("trap in jal delay slot", EXC_TR, ADDR(t_ds_jal_branch), 1);
	CHECK(v == 0x11, "jal not resumed correctly (v0=%lx)", v);

	/* ---- Branch likely ------------------------------------------------ */
	expect_begin(ACT_FAIL);
	v = t_beql(0);
	CHECK(v == 1, "beql taken: delay slot result %lx, expected 1", v);
	v = t_beql(1);
	CHECK(v == 16, "beql not taken: result %lx, expected 16 (delay slot not nullified?)", v);
	v = t_bnel(1);
	CHECK(v == 1, "bnel taken: result %lx, expected 1", v);
	v = t_bnel(0);
	CHECK(v == 16, "bnel not taken: result %lx, expected 16 (delay slot not nullified?)", v);
	v = t_bgezall(5);
	CHECK(v == 1, "bgezall taken: result %lx, expected 1", v);
	v = t_bgezall(-5);
	CHECK(v == 16, "bgezall not taken: result %lx, expected 16", v);
	expect_none("branch likely");
	printf("  ok: branch-likely nullification\n");

	/* ---- Coprocessor unusable ------------------------------------------ */
	CHECK(!(read_c0_status() & ST_CU1), "Status.CU1 set");
	expect_begin(ACT_SKIP);
	v = t_mfc1();
	expect_exc("mfc1 with CU1=0", EXC_CPU, ADDR(t_mfc1_insn), 0);
	CHECK(CAUSE_CE(last.cause) == 1, "mfc1: Cause.CE=%u, expected 1",
	      (unsigned)CAUSE_CE(last.cause));
	CHECK(v == 0x66, "mfc1: destination written (%lx)", v);

	expect_begin(ACT_SKIP);
	t_lwc1(a);
	expect_exc("lwc1 with CU1=0", EXC_CPU, ADDR(t_lwc1_insn), 0);
	CHECK(CAUSE_CE(last.cause) == 1, "lwc1: Cause.CE=%u, expected 1",
	      (unsigned)CAUSE_CE(last.cause));

	/* ---- ERET and the LL bit ------------------------------------------- */
	buf[2] = 100;
	expect_begin(ACT_FAIL);
	v = t_llsc(ADDR(&buf[2]), 200);
	expect_none("ll/sc");
	CHECK(v == 1, "sc without intervening exception failed");
	CHECK((GUEST_BIG_ENDIAN ? buf[2] >> 32 : buf[2]) == 200, "sc did not store (%lx)", buf[2]);

	expect_begin(ACT_SKIP);
	v = t_llsc_exc(ADDR(&buf[2]), 300);
	expect_exc("syscall between ll and sc", EXC_SYS, ADDR(t_llsc_exc_insn), 0);
	CHECK(v == 0, "sc after eret succeeded (ERET must clear LLbit)");
	CHECK((GUEST_BIG_ENDIAN ? buf[2] >> 32 : buf[2]) == 200, "failed sc stored (%lx)", buf[2]);

	buf[3] = 7;
	expect_begin(ACT_SKIP);
	v = t_lldscd_exc(ADDR(&buf[3]), 8);
	CHECK(nexc == 1, "lld/scd: %d exceptions", nexc);
	action = ACT_FAIL;
	CHECK(v == 0, "scd after eret succeeded (ERET must clear LLbit)");
	CHECK(buf[3] == 7, "failed scd stored (%lx)", buf[3]);
	printf("  ok: ERET clears LLbit\n");

	CHECK(!(read_c0_status() & (ST_EXL | ST_ERL)), "Status EXL/ERL set at the end");
	printf("PASS\n");
	return 0;
}
