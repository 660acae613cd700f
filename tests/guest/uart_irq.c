/*
 * uart_irq: a device interrupt through the board's interrupt line.
 *
 * The 16550's "transmitter holding register empty" interrupt needs no
 * input: enabling IER.ETBEI with THR empty raises it at once on IP2.
 *  - with IM2 = 0 it stays pending in Cause.IP2 and is not taken
 *  - with IE = 1 and IM2 = 1 it is taken through the general vector,
 *    ExcCode 0, Cause.IP2; reading IIR (source 0x2) clears it
 *  - every transmitted byte raises it again (interrupt-driven output)
 *  - disabling ETBEI drops the line
 */
#include "disco.h"

#define UART(r) (*(volatile unsigned char *)(UART_BASE + (r)))
#define IER_ETBEI 0x02

static volatile int nint;
static volatile unsigned last_iir;
static const char msg[] = "irq-driven\n";
static volatile unsigned sent;
static volatile int tx_mode;

void exc_handler(struct frame *f)
{
	unsigned code = CAUSE_EXCCODE(f->cause);
	if (code != EXC_INT || !(f->cause & CAUSE_IP(2))) {
		dump_frame(f);
		fail("unexpected exception ExcCode %u (Cause %08x)", code, (u32)f->cause);
	}
	if (++nint > 100)
		fail("interrupt storm");
	last_iir = UART(UART_IIR);  /* reading IIR acknowledges THRE */
	if (tx_mode) {
		if (msg[sent])
			UART(UART_THR) = (unsigned char)msg[sent++];  /* raises THRE again */
		else
			UART(UART_IER) = 0;
	}
}

int main(void)
{
	printf("uart_irq test\n");
	write_c0_status(read_c0_status() & ~(ST_IE | ST_IM(2)));

	UART(UART_IER) = IER_ETBEI;
	CHECK(read_c0_cause() & CAUSE_IP(2), "THRE interrupt not pending on IP2 after enabling ETBEI");
	CHECK(nint == 0, "interrupt taken while masked");
	printf("  ok: THRE interrupt pending on IP2 while masked\n");

	write_c0_status(read_c0_status() | ST_IM(2));
	irq_enable();
	CHECK(nint == 1, "unmasked pending interrupt not taken (%d)", nint);
	CHECK((last_iir & 0x0f) == 0x02, "IIR %02x, expected THRE (0x02)", last_iir);
	CHECK(!(read_c0_cause() & CAUSE_IP(2)), "IP2 still set after reading IIR");
	printf("  ok: taken through the general vector, IIR read clears IP2\n");

	irq_disable();
	nint = 0;
	tx_mode = 1;
	sent = 0;
	UART(UART_IER) = 0;
	UART(UART_IER) = IER_ETBEI;  /* re-arm: raises THRE */
	irq_enable();
	for (int spin = 0; spin < 100000 && msg[sent]; spin++)
		;
	irq_disable();
	CHECK(!msg[sent], "interrupt-driven output stopped after %u bytes", sent);
	CHECK(!(read_c0_cause() & CAUSE_IP(2)), "IP2 set after ETBEI was disabled");
	printf("  ok: interrupt-driven output of %u bytes (%d interrupts)\n", sent, nint);
	printf("PASS\n");
	return 0;
}
