/*
 * disco bare-metal guest runtime: board constants, CP0 accessors and
 * the small runtime (UART output, printf, power control, exceptions).
 */
#ifndef DISCO_GUEST_H
#define DISCO_GUEST_H

#include <stdint.h>
#include <stddef.h>
#include <stdarg.h>
#include "frame.h"

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
typedef int64_t s64;

/* ------------------------------------------------------------------ */
/* Address space helpers                                               */

#define CKSEG0_BASE     0xffffffff80000000UL
#define CKSEG1_BASE     0xffffffffa0000000UL
#define CKSEG2_BASE     0xffffffffc0000000UL
#define XKSEG_BASE      0xc000000000000000UL
#define KSEG0(pa)       (CKSEG0_BASE + (u64)(pa))   /* cached alias    */
#define KSEG1(pa)       (CKSEG1_BASE + (u64)(pa))   /* uncached alias  */

/* ------------------------------------------------------------------ */
/* Board ("disco virt")                                                */

#ifndef DISCO_BOARD_QEMU_MALTA
#define UART_PHYS       0x1fd01000UL
#else
/* Only for sanity checks of the test programs on qemu-system-mips64el -M malta
 * (build with EXTRA_CFLAGS=-DDISCO_BOARD_QEMU_MALTA): ISA COM1. */
#define UART_PHYS       0x180003f8UL
#define MALTA_SOFTRES   KSEG1(0x1f000500UL)
#endif
#define UART_BASE       KSEG1(UART_PHYS)
#define UART_THR        0
#define UART_RBR        0
#define UART_IER        1
#define UART_IIR        2
#define UART_FCR        2
#define UART_LCR        3
#define UART_MCR        4
#define UART_LSR        5
#define UART_MSR        6
#define UART_SCR        7
#define UART_LSR_DR     0x01
#define UART_LSR_THRE   0x20

#define POWER_PHYS      0x1fd00000UL
#define POWER_BASE      KSEG1(POWER_PHYS)
#define POWER_OFF_REG   0x0     /* write 0x5555: power off, exit 0 */
#define POWER_RESET_REG 0x4     /* write 1: reboot */
#define POWER_EXIT_REG  0x8     /* write N: power off, host exit status N */
#define POWER_OFF_MAGIC 0x5555

/* ------------------------------------------------------------------ */
/* CP0 register bits                                                   */

/* Byte order of this build (programs are also built big-endian). */
#ifdef __MIPSEB__
#define GUEST_BIG_ENDIAN 1
#else
#define GUEST_BIG_ENDIAN 0
#endif

#define ST_IE           (1u << 0)
#define ST_EXL          (1u << 1)
#define ST_ERL          (1u << 2)
#define ST_KSU_MASK     (3u << 3)
#define ST_UX           (1u << 5)
#define ST_SX           (1u << 6)
#define ST_KX           (1u << 7)
#define ST_IM(n)        (1u << (8 + (n)))
#define ST_NMI          (1u << 19)
#define ST_SR           (1u << 20)
#define ST_TS           (1u << 21)
#define ST_BEV          (1u << 22)
#define ST_FR           (1u << 26)
#define ST_CU0          (1u << 28)
#define ST_CU1          (1u << 29)

#define CAUSE_EXCCODE(c) (((c) >> 2) & 0x1f)
#define CAUSE_IP(n)     (1u << (8 + (n)))
#define CAUSE_IV        (1u << 23)
#define CAUSE_CE(c)     (((c) >> 28) & 3)
#define CAUSE_TI        (1u << 30)
#define CAUSE_BD        (1u << 31)

#define EXC_INT         0
#define EXC_MOD         1
#define EXC_TLBL        2
#define EXC_TLBS        3
#define EXC_ADEL        4
#define EXC_ADES        5
#define EXC_IBE         6
#define EXC_DBE         7
#define EXC_SYS         8
#define EXC_BP          9
#define EXC_RI          10
#define EXC_CPU         11
#define EXC_OV          12
#define EXC_TR          13

/* Vector offsets as reported in struct frame.vec */
#define VEC_TLB_REFILL  0x000
#define VEC_XTLB_REFILL 0x080
#define VEC_CACHE_ERR   0x100
#define VEC_GENERAL     0x180
#define VEC_INTERRUPT   0x200

/* EntryLo fields */
#define ENTRYLO_G       (1u << 0)
#define ENTRYLO_V       (1u << 1)
#define ENTRYLO_D       (1u << 2)
#define ENTRYLO_C(c)    ((u64)(c) << 3)
#define ENTRYLO_PFN(pa) ((((u64)(pa)) >> 12) << 6)
#define CCA_UNCACHED    2
#define CCA_CACHED      3

/* PageMask values */
#define PM_4K           0x00000000UL
#define PM_16K          0x00006000UL
#define PM_64K          0x0001e000UL
#define PM_256K         0x0007e000UL
#define PM_1M           0x001fe000UL
#define PM_4M           0x007fe000UL
#define PM_16M          0x01ffe000UL

#define INDEX_P         0x80000000u

/* ------------------------------------------------------------------ */
/* CP0 accessors.  Every write is followed by an ehb so that the new    */
/* value is visible to the following instructions.                      */

#define __str(x) #x
#define mfc0(reg, sel) ({ long __v; \
	__asm__ __volatile__("mfc0\t%0, $" __str(reg) ", " __str(sel) : "=r"(__v)); __v; })
#define dmfc0(reg, sel) ({ u64 __v; \
	__asm__ __volatile__("dmfc0\t%0, $" __str(reg) ", " __str(sel) : "=r"(__v)); __v; })
#define mtc0(reg, sel, val) __asm__ __volatile__( \
	"mtc0\t%z0, $" __str(reg) ", " __str(sel) "\n\tehb" : : "Jr"((long)(val)) : "memory")
#define dmtc0(reg, sel, val) __asm__ __volatile__( \
	"dmtc0\t%z0, $" __str(reg) ", " __str(sel) "\n\tehb" : : "Jr"((u64)(val)) : "memory")

#define C0_ACC32(name, reg, sel) \
	static inline u32 read_c0_##name(void) { return (u32)mfc0(reg, sel); } \
	static inline void write_c0_##name(u32 v) { mtc0(reg, sel, (s32)v); }
#define C0_ACC64(name, reg, sel) \
	static inline u64 read_c0_##name(void) { return dmfc0(reg, sel); } \
	static inline void write_c0_##name(u64 v) { dmtc0(reg, sel, v); }

C0_ACC32(index, 0, 0)
C0_ACC32(random, 1, 0)
C0_ACC64(entrylo0, 2, 0)
C0_ACC64(entrylo1, 3, 0)
C0_ACC64(context, 4, 0)
C0_ACC32(pagemask, 5, 0)
C0_ACC32(wired, 6, 0)
C0_ACC32(hwrena, 7, 0)
C0_ACC64(badvaddr, 8, 0)
C0_ACC32(count, 9, 0)
C0_ACC64(entryhi, 10, 0)
C0_ACC32(compare, 11, 0)
C0_ACC32(status, 12, 0)
C0_ACC32(intctl, 12, 1)
C0_ACC32(srsctl, 12, 2)
C0_ACC32(cause, 13, 0)
C0_ACC64(epc, 14, 0)
C0_ACC32(prid, 15, 0)
C0_ACC32(ebase, 15, 1)
C0_ACC32(config, 16, 0)
C0_ACC32(config1, 16, 1)
C0_ACC32(config2, 16, 2)
C0_ACC32(config3, 16, 3)
C0_ACC64(lladdr, 17, 0)
C0_ACC64(xcontext, 20, 0)
C0_ACC64(errorepc, 30, 0)

static inline void ehb(void) { __asm__ __volatile__("ehb" ::: "memory"); }
static inline void tlbp(void)  { __asm__ __volatile__("tlbp\n\tehb" ::: "memory"); }
static inline void tlbr(void)  { __asm__ __volatile__("tlbr\n\tehb" ::: "memory"); }
static inline void tlbwi(void) { __asm__ __volatile__("tlbwi\n\tehb" ::: "memory"); }
static inline void tlbwr(void) { __asm__ __volatile__("tlbwr\n\tehb" ::: "memory"); }

/* ei/di (MIPS32/64 Release 2); both return the previous Status. */
static inline u32 irq_enable(void)
{
	long v;
	__asm__ __volatile__("ei\t%0\n\tehb" : "=r"(v) :: "memory");
	return (u32)v;
}
static inline u32 irq_disable(void)
{
	long v;
	__asm__ __volatile__("di\t%0\n\tehb" : "=r"(v) :: "memory");
	return (u32)v;
}

/* ------------------------------------------------------------------ */
/* Runtime (common/runtime.c)                                          */

void uart_putc(char c);
void uart_puts(const char *s);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

/* Power control: never return. */
void power_off(void) __attribute__((noreturn));          /* 0x5555 at +0 */
void power_reboot(void) __attribute__((noreturn));       /* 1 at +4      */
void power_exit(int status) __attribute__((noreturn));   /* N at +8      */
void exit(int status) __attribute__((noreturn));         /* = power_exit */

/* Print "FAIL: <reason>" and power off with status 1. */
void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* Print "PASS" and power off with status 0. */
void pass(void) __attribute__((noreturn));
#define CHECK(cond, ...) do { if (!(cond)) fail(__VA_ARGS__); } while (0)

/*
 * Exceptions.  crt0 copies the vector stubs to EBase + 0x000, 0x080,
 * 0x100, 0x180 and 0x200 and clears Status.BEV before main() runs.  Every
 * vector saves all GPRs into a struct frame and calls exc_handler(), which
 * a program overrides (the default prints the frame and fails).  When
 * exc_handler() returns, HI/LO/EPC/Status and all GPRs except k0/k1 are
 * restored from the (possibly modified) frame and the stub executes ERET.
 * Status is restored with EXL forced to 1 so that ERET returns through EPC.
 * The frame lives in a single static area: exceptions must not nest.
 */
void exc_handler(struct frame *f);
void dump_frame(const struct frame *f);
u64 exc_vector_base(void);      /* EBase used for the vectors */
void install_vectors(void);     /* called by crt0; may be called again */
void sync_icache(u64 start, u64 len);

/* Named register indices for struct frame.regs[] (n64 ABI names) */
enum {
	R_ZERO = 0, R_AT = 1, R_V0 = 2, R_V1 = 3,
	R_A0 = 4, R_A1 = 5, R_A2 = 6, R_A3 = 7,
	R_A4 = 8, R_A5 = 9, R_A6 = 10, R_A7 = 11,
	R_T0 = 12, R_T1 = 13, R_T2 = 14, R_T3 = 15,
	R_S0 = 16, R_S7 = 23, R_T8 = 24, R_T9 = 25,
	R_K0 = 26, R_K1 = 27, R_GP = 28, R_SP = 29, R_FP = 30, R_RA = 31,
};

/* Memory access helpers with a known faulting instruction (common/memops.S).
 * If the access faults and the handler skips it (EPC += 4), the helper
 * returns whatever the handler left in v0 (regs[R_V0]). */
u64 mem_ld(u64 va);
u32 mem_lw(u64 va);
void mem_sd(u64 va, u64 val);
void mem_sw(u64 va, u32 val);
extern const u32 mem_ld_insn[], mem_lw_insn[], mem_sd_insn[], mem_sw_insn[];

#define ADDR(sym) ((u64)(uintptr_t)(sym))

#endif
