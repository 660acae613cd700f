/*
 * timer: CP0 Count/Compare interrupt on IP7.
 *
 *  - IntCtl.IPTI names IP7 as the timer line; Count advances
 *  - with IE=0 the interrupt becomes pending (Cause.IP7, Cause.TI) but is
 *    not taken; writing Compare clears it
 *  - with IE=1 but IM7=0 it is not taken
 *  - EI with a pending, unmasked interrupt takes it at once: general vector,
 *    ExcCode 0, Cause.IP7; the handler's Compare write clears IP7
 *  - periodic ticks with WAIT: each tick arrives no earlier than Compare,
 *    EPC of an interrupt that ends a WAIT is the instruction after WAIT
 */
#include "disco.h"

#define PERIOD          20000u          /* Count ticks between interrupts */
#define NTICKS          5
#define FAR_AWAY        0x40000000u

void do_wait(void);
extern const u32 do_wait_insn[], do_wait_after[];

enum mode { M_ACK_FAR, M_PERIODIC };

static volatile enum mode mode;
static volatile int nint;
static volatile int ip7_after_ack;      /* interrupts where IP7 stayed set after the ack */
static struct {
	u64 epc;
	u32 cause;
	u32 status;
	u32 count;              /* Count at handler entry */
	u32 compare;            /* Compare that fired */
	u32 next;               /* Compare written by the handler */
} rec[64];

void exc_handler(struct frame *f)
{
	unsigned code = CAUSE_EXCCODE(f->cause);
	u32 count = read_c0_count();

	if (code != EXC_INT || f->vec != VEC_GENERAL) {
		dump_frame(f);
		fail("unexpected exception ExcCode %u through +0x%lx", code, f->vec);
	}
	if (!(f->cause & CAUSE_IP(7))) {
		dump_frame(f);
		fail("interrupt taken without Cause.IP7 (Cause %08x)", (u32)f->cause);
	}
	int n = nint++;
	if (n >= 64)
		fail("interrupt storm (%d interrupts)", n);
	rec[n].epc = f->epc;
	rec[n].cause = (u32)f->cause;
	rec[n].status = (u32)f->status;
	rec[n].count = count;
	rec[n].compare = read_c0_compare();

	u32 next = read_c0_count() + (mode == M_PERIODIC ? PERIOD : FAR_AWAY);
	write_c0_compare(next);         /* acknowledges the interrupt */
	rec[n].next = next;
	if (read_c0_cause() & CAUSE_IP(7))
		ip7_after_ack++;
}

/* Poll until Cause.IP7 is set; fail if Count moves far past Compare. */
static void poll_pending(const char *what)
{
	u32 start = read_c0_count();
	while (!(read_c0_cause() & CAUSE_IP(7))) {
		if (read_c0_count() - start > 100 * PERIOD)
			fail("%s: timer interrupt never became pending (Count %08x Compare %08x)",
			     what, read_c0_count(), read_c0_compare());
	}
	u32 late = read_c0_count() - read_c0_compare();
	CHECK(late < 0x80000000u, "%s: IP7 set before Count reached Compare (Count %08x Compare %08x)",
	      what, read_c0_count(), read_c0_compare());
}

static void delay(int n)
{
	for (volatile int i = 0; i < n; i++)
		;
}

int main(void)
{
	printf("timer test\n");

	u32 intctl = read_c0_intctl();
	printf("  IntCtl = %08x (IPTI=%u)\n", intctl, intctl >> 29);
	CHECK((intctl >> 29) == 7, "IntCtl.IPTI=%u, expected 7 (timer on IP7)", intctl >> 29);

	/* Interrupts off, only IM7 enabled. */
	write_c0_status((read_c0_status() & ~(ST_IE | 0xff00u)) | ST_IM(7));
	write_c0_compare(read_c0_count() + FAR_AWAY);

	u32 c1 = read_c0_count();
	delay(10000);
	u32 c2 = read_c0_count();
	printf("  Count %08x -> %08x (+%u over a delay loop)\n", c1, c2, c2 - c1);
	CHECK(c2 != c1, "Count does not advance");

	/* ---- pending with IE=0 -------------------------------------------- */
	mode = M_ACK_FAR;
	nint = 0;
	write_c0_compare(read_c0_count() + PERIOD);
	CHECK(!(read_c0_cause() & CAUSE_IP(7)), "IP7 set right after writing Compare");
	poll_pending("IE=0");
	CHECK(read_c0_cause() & CAUSE_TI, "Cause.TI not set with the timer interrupt pending");
	delay(1000);
	CHECK(nint == 0, "interrupt taken with Status.IE=0");
	printf("  ok: pending with IE=0 (Cause %08x), not taken\n", read_c0_cause());

	/* ---- writing Compare acknowledges ----------------------------------- */
	write_c0_compare(read_c0_count() + FAR_AWAY);
	CHECK(!(read_c0_cause() & (CAUSE_IP(7) | CAUSE_TI)),
	      "writing Compare did not clear IP7/TI (Cause %08x)", read_c0_cause());
	printf("  ok: writing Compare clears IP7\n");

	/* ---- IE=1 but IM7=0: not taken ------------------------------------- */
	write_c0_compare(read_c0_count() + PERIOD);
	poll_pending("IM7=0");
	write_c0_status((read_c0_status() & ~ST_IM(7)) | ST_IE);
	delay(1000);
	write_c0_status((read_c0_status() & ~ST_IE) | ST_IM(7));
	CHECK(nint == 0, "interrupt taken with Status.IM7=0");
	printf("  ok: masked by IM7\n");

	/* ---- EI takes the pending interrupt --------------------------------- */
	CHECK(read_c0_cause() & CAUSE_IP(7), "IP7 no longer pending");
	irq_enable();
	__asm__ __volatile__("nop; nop; nop; nop" ::: "memory");
	u32 st = irq_disable();
	CHECK(nint == 1, "%d interrupts after EI, expected 1", nint);
	CHECK(rec[0].cause & CAUSE_TI, "Cause.TI not set in the handler (Cause %08x)", rec[0].cause);
	CHECK(rec[0].status & ST_EXL, "Status.EXL not set in the handler");
	CHECK(!ip7_after_ack, "IP7 still set after the handler wrote Compare");
	CHECK(st & ST_IE, "Status.IE not restored by ERET (Status %08x)", st);
	CHECK(!(st & ST_EXL), "Status.EXL still set after ERET");
	printf("  ok: EI takes the pending interrupt (ExcCode 0, Cause %08x, EPC %016lx)\n",
	       rec[0].cause, rec[0].epc);

	/* ---- periodic ticks with WAIT --------------------------------------- */
	mode = M_PERIODIC;
	nint = 0;
	ip7_after_ack = 0;
	u32 armed = read_c0_count() + PERIOD;
	write_c0_compare(armed);
	irq_enable();
	while (nint < NTICKS)
		do_wait();
	irq_disable();
	write_c0_compare(read_c0_count() + FAR_AWAY);

	int in_wait = 0;
	for (int i = 0; i < nint; i++) {
		u32 expected = i ? rec[i - 1].next : armed;
		printf("  tick %d: Count %08x Compare %08x EPC %016lx Cause %08x\n", i,
		       rec[i].count, rec[i].compare, rec[i].epc, rec[i].cause);
		CHECK(rec[i].compare == expected, "tick %d: Compare %08x, expected %08x",
		      i, rec[i].compare, expected);
		CHECK(rec[i].count - expected < 0x80000000u,
		      "tick %d: taken at Count %08x before Compare %08x", i, rec[i].count, expected);
		CHECK(rec[i].epc != ADDR(do_wait_insn),
		      "tick %d: EPC points at WAIT itself (must be the next instruction)", i);
		in_wait += rec[i].epc == ADDR(do_wait_after);
	}
	CHECK(!ip7_after_ack, "IP7 still set after the handler wrote Compare");
	CHECK(in_wait > 0, "no tick ended a WAIT (EPC never = WAIT + 4 = %016lx)",
	      ADDR(do_wait_after));
	printf("  ok: %d periodic ticks, %d woke a WAIT\n", nint, in_wait);

	printf("PASS\n");
	return 0;
}
