/*
 * disco bare-metal guest runtime: UART output, printf, power control,
 * exception vector installation and the default exception handler.
 */
#include "disco.h"

/* ------------------------------------------------------------------ */
/* MMIO                                                                */

static inline void mmio_write8(u64 addr, u8 v) { *(volatile u8 *)addr = v; }
static inline u8 mmio_read8(u64 addr) { return *(volatile u8 *)addr; }
static inline void mmio_write32(u64 addr, u32 v) { *(volatile u32 *)addr = v; }

/* ------------------------------------------------------------------ */
/* UART (16550, polled)                                                */

void uart_putc(char c)
{
	while (!(mmio_read8(UART_BASE + UART_LSR) & UART_LSR_THRE))
		;
	mmio_write8(UART_BASE + UART_THR, (u8)c);
}

void uart_puts(const char *s)
{
	while (*s)
		uart_putc(*s++);
}

/* ------------------------------------------------------------------ */
/* printf: %d %i %u %x %X %o %p %s %c %%, flags '0' '-', width, 'l'/'ll'/'z' */

static int out_count;

static void out(char c)
{
	uart_putc(c);
	out_count++;
}

static void out_pad(int n, char c)
{
	while (n-- > 0)
		out(c);
}

static void out_str(const char *s, int width, int left)
{
	int len = 0;
	if (!s)
		s = "(null)";
	while (s[len])
		len++;
	if (!left)
		out_pad(width - len, ' ');
	for (int i = 0; i < len; i++)
		out(s[i]);
	if (left)
		out_pad(width - len, ' ');
}

static void out_num(u64 v, unsigned base, int neg, int width, int zero, int left, int upper)
{
	char buf[24];
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	int n = 0;

	do {
		buf[n++] = digits[v % base];
		v /= base;
	} while (v);

	int len = n + (neg ? 1 : 0);
	if (!left && !zero)
		out_pad(width - len, ' ');
	if (neg)
		out('-');
	if (!left && zero)
		out_pad(width - len, '0');
	while (n)
		out(buf[--n]);
	if (left)
		out_pad(width - len, ' ');
}

int vprintf(const char *fmt, va_list ap)
{
	out_count = 0;
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			out(*fmt);
			continue;
		}
		fmt++;
		int zero = 0, left = 0, width = 0, lng = 0;
		for (;; fmt++) {
			if (*fmt == '0')
				zero = 1;
			else if (*fmt == '-')
				left = 1;
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l' || *fmt == 'z') {
			lng++;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
		case 'i': {
			s64 v = lng ? va_arg(ap, s64) : va_arg(ap, int);
			out_num(v < 0 ? -(u64)v : (u64)v, 10, v < 0, width, zero, left, 0);
			break;
		}
		case 'u':
			out_num(lng ? va_arg(ap, u64) : va_arg(ap, unsigned), 10, 0,
				width, zero, left, 0);
			break;
		case 'x':
		case 'X':
			out_num(lng ? va_arg(ap, u64) : va_arg(ap, unsigned), 16, 0,
				width, zero, left, *fmt == 'X');
			break;
		case 'o':
			out_num(lng ? va_arg(ap, u64) : va_arg(ap, unsigned), 8, 0,
				width, zero, left, 0);
			break;
		case 'p':
			out('0');
			out('x');
			out_num((u64)(uintptr_t)va_arg(ap, void *), 16, 0, 16, 1, 0, 0);
			break;
		case 's':
			out_str(va_arg(ap, const char *), width, left);
			break;
		case 'c':
			out((char)va_arg(ap, int));
			break;
		case '%':
			out('%');
			break;
		case '\0':
			return out_count;
		default:
			out('%');
			out(*fmt);
			break;
		}
	}
	return out_count;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

/* ------------------------------------------------------------------ */
/* libc bits the compiler may call                                      */

void *memset(void *d, int c, size_t n)
{
	volatile u8 *p = d;
	while (n--)
		*p++ = (u8)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	volatile u8 *p = d;
	const u8 *q = s;
	while (n--)
		*p++ = *q++;
	return d;
}

/* ------------------------------------------------------------------ */
/* Power control                                                       */

static void __attribute__((noreturn)) halt_forever(void)
{
	for (;;)
		__asm__ __volatile__("wait");
}

void power_off(void)
{
	mmio_write32(POWER_BASE + POWER_OFF_REG, POWER_OFF_MAGIC);
	halt_forever();
}

void power_reboot(void)
{
	mmio_write32(POWER_BASE + POWER_RESET_REG, 1);
	halt_forever();
}

void power_exit(int status)
{
#ifdef DISCO_BOARD_QEMU_MALTA
	mmio_write32(MALTA_SOFTRES, 0x42);      /* reset; run QEMU with -no-reboot */
#endif
	mmio_write32(POWER_BASE + POWER_EXIT_REG, (u32)status);
	halt_forever();
}

void exit(int status)
{
	power_exit(status);
}

void fail(const char *fmt, ...)
{
	va_list ap;
	uart_puts("FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	uart_putc('\n');
	power_exit(1);
}

void pass(void)
{
	uart_puts("PASS\n");
	power_exit(0);
}

/* ------------------------------------------------------------------ */
/* Exceptions                                                          */

extern const u32 __vec_stub_0x000[], __vec_stub_0x000_end[];
extern const u32 __vec_stub_0x080[], __vec_stub_0x080_end[];
extern const u32 __vec_stub_0x100[], __vec_stub_0x100_end[];
extern const u32 __vec_stub_0x180[], __vec_stub_0x180_end[];
extern const u32 __vec_stub_0x200[], __vec_stub_0x200_end[];

static u64 vector_base;

u64 exc_vector_base(void)
{
	return vector_base;
}

/*
 * Make freshly written instructions visible to instruction fetch
 * (MIPS32/64 Release 2 SYNCI sequence; a 16-byte step covers every
 * real cache line size).
 */
void sync_icache(u64 start, u64 len)
{
	u64 end = start + len;
	for (u64 a = start & ~15UL; a < end; a += 16)
		__asm__ __volatile__("synci\t0(%0)" : : "r"(a) : "memory");
	__asm__ __volatile__("sync\n\tehb" ::: "memory");
}

static void copy_vector(u64 base, unsigned off, const u32 *start, const u32 *end)
{
	volatile u32 *dst = (volatile u32 *)(base + off);
	for (const u32 *p = start; p < end; p++)
		*dst++ = *p;
}

void install_vectors(void)
{
	/* EBase is a 32-bit register, read sign-extended; bits 11:0 hold
	 * CPUNum and reserved bits, the base is 4 KiB aligned. */
	u64 base = (u64)(s64)(s32)read_c0_ebase() & ~0xfffUL;
	if ((base & 0xffffffffc0000000UL) != 0xffffffff80000000UL)
		base = CKSEG0_BASE;     /* EBase not usable: architectural default */
	vector_base = base;

	copy_vector(base, 0x000, __vec_stub_0x000, __vec_stub_0x000_end);
	copy_vector(base, 0x080, __vec_stub_0x080, __vec_stub_0x080_end);
	copy_vector(base, 0x100, __vec_stub_0x100, __vec_stub_0x100_end);
	copy_vector(base, 0x180, __vec_stub_0x180, __vec_stub_0x180_end);
	copy_vector(base, 0x200, __vec_stub_0x200, __vec_stub_0x200_end);
	sync_icache(base, 0x280);
}

void runtime_init(void);
void runtime_init(void)
{
	install_vectors();
	/* Vectors are in RAM now: leave the bootstrap vectors (BEV=0). */
	write_c0_status(read_c0_status() & ~(ST_BEV | ST_ERL | ST_EXL | ST_IE));
}

static const char *const excnames[32] = {
	"Int", "Mod", "TLBL", "TLBS", "AdEL", "AdES", "IBE", "DBE",
	"Sys", "Bp", "RI", "CpU", "Ov", "Tr", "MSAFPE", "FPE",
	"16", "17", "C2E", "TLBRI", "TLBXI", "MSADis", "MDMX", "WATCH",
	"MCheck", "Thread", "DSPDis", "27", "28", "29", "CacheErr", "31",
};

void dump_frame(const struct frame *f)
{
	static const char *const rn[32] = {
		"zero", "at", "v0", "v1", "a0", "a1", "a2", "a3",
		"a4", "a5", "a6", "a7", "t0", "t1", "t2", "t3",
		"s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7",
		"t8", "t9", "k0", "k1", "gp", "sp", "s8", "ra",
	};
	u32 code = CAUSE_EXCCODE(f->cause);
	printf("exception: vector +0x%03lx ExcCode %u (%s)%s\n", f->vec, code,
	       excnames[code], (f->cause & CAUSE_BD) ? " in delay slot" : "");
	printf("  epc      %016lx  badvaddr %016lx\n", f->epc, f->badvaddr);
	printf("  status   %08x          cause    %08x\n", (u32)f->status, (u32)f->cause);
	printf("  entryhi  %016lx  context  %016lx\n", f->entryhi, f->context);
	printf("  xcontext %016lx\n", f->xcontext);
	for (int i = 0; i < 32; i += 2)
		printf("  %-4s %016lx  %-4s %016lx\n", rn[i], f->regs[i], rn[i + 1], f->regs[i + 1]);
}

void __attribute__((weak)) exc_handler(struct frame *f)
{
	printf("unexpected exception\n");
	dump_frame(f);
	fail("unexpected exception ExcCode %u at epc %016lx",
	     (unsigned)CAUSE_EXCCODE(f->cause), f->epc);
}
