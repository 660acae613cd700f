/*
 * Layout of the exception frame built by the common vector stub
 * (common/vectors.S).  Shared between C and assembly.
 */
#ifndef DISCO_GUEST_FRAME_H
#define DISCO_GUEST_FRAME_H

/* Byte offsets inside struct frame. */
#define FRAME_REGS      0      /* 32 x u64: regs[n] = $n (k0/k1 are scratch) */
#define FRAME_HI        256
#define FRAME_LO        264
#define FRAME_EPC       272
#define FRAME_BADVADDR  280
#define FRAME_STATUS    288    /* sign-extended 32-bit value */
#define FRAME_CAUSE     296    /* sign-extended 32-bit value */
#define FRAME_ENTRYHI   304
#define FRAME_CONTEXT   312
#define FRAME_XCONTEXT  320
#define FRAME_VEC       328    /* offset of the vector that ran: 0x000/0x080/0x100/0x180/0x200 */
#define FRAME_SIZE      336

#ifndef __ASSEMBLER__
#include <stdint.h>

struct frame {
	uint64_t regs[32];
	uint64_t hi, lo;
	uint64_t epc;
	uint64_t badvaddr;
	uint64_t status;
	uint64_t cause;
	uint64_t entryhi;
	uint64_t context;
	uint64_t xcontext;
	uint64_t vec;
};

_Static_assert(__builtin_offsetof(struct frame, hi) == FRAME_HI, "frame layout");
_Static_assert(__builtin_offsetof(struct frame, epc) == FRAME_EPC, "frame layout");
_Static_assert(__builtin_offsetof(struct frame, vec) == FRAME_VEC, "frame layout");
_Static_assert(sizeof(struct frame) == FRAME_SIZE, "frame layout");
#endif

#endif
