// The floating-point unit (CP1): MIPS64 Release 2, formats S, D, W and L,
// legacy (pre-2008) NaN encoding, no paired single (FIR.PS = 0).
//
// Without an FPU (CpuConfig.has_fpu = false, the default) Status.CU1 cannot
// be set, so every handler here raises Coprocessor Unusable first.
//
// The reference for every choice the manual leaves open is QEMU 7.2
// (qemu-mips64el -cpu MIPS64R2-generic), so a differential test can compare
// all 64 bits of every FPR and the whole FCSR. What QEMU does, read from its
// source and confirmed with small mips64el programs run under it:
//
//  * Upper halves. A 32-bit write (MTC1, LWC1, every .S or .W result, MOV.S,
//    MOVZ/MOVN/MOVF/MOVT.S, CVT.W, MADD.S...) replaces the low word of the
//    64-bit register and KEEPS the upper word (QEMU deposits into bits 31..0).
//    E.g. fpr = 0x1111222233334444, add.s 1+3 -> 0x1111222240800000.
//  * NaNs. QEMU runs the legacy encoding in "default NaN mode": every
//    arithmetic or conversion result that is a NaN is the default NaN,
//    0x7fbfffff (S) / 0x7ff7ffffffffffff (D), whatever the input NaNs were.
//    Invalid is raised for a signalling NaN input (quiet bit SET in the
//    legacy encoding) or an invalid operation (inf-inf, 0*inf, sqrt(-1)...);
//    a quiet NaN input alone raises nothing. ABS/NEG/MOV are bit operations:
//    they touch only the sign, raise nothing and leave Cause alone.
//    NMADD/NMSUB negate after the add, so their NaN result is 0xffbfffff /
//    0xfff7ffffffffffff.
//  * Conversions to W/L of NaN or out-of-range values give 0x7fffffff /
//    0x7fffffffffffffff with Invalid only (no Inexact).
//  * MADD/MSUB/NMADD/NMSUB are NOT fused: the product is rounded, then the
//    addend is added and rounded again (flags of both steps accumulate), as on
//    R10000 and other pre-R6 cores. (1+2^-23)*(1-2^-23) + -1 gives +0 with
//    Inexact in single precision, not -2^-46.
//  * FCSR. Every arithmetic operation, conversion and compare REPLACES
//    Cause with its own exceptions (so an exact operation clears Cause);
//    if one of them is enabled the FPE exception is raised, the destination
//    (or condition code) is left unwritten and the Flags are NOT updated;
//    otherwise the Flags accumulate. ABS/NEG/MOV/moves/loads/stores leave
//    Cause alone. The E (unimplemented) cause is never produced. Underflow is
//    signalled only when the result is tiny (after rounding) AND inexact,
//    also when the underflow exception is enabled.
//  * FS = 1 flushes results whose exact value lies below the smallest normal
//    (including results that would round up to it) to a zero of the same
//    sign, raising nothing (no Underflow, no Inexact). Inputs are never
//    flushed.
//  * FCSR writable mask 0xff83ffff (bits 22..18 read as zero). CTC1 to FCSR,
//    FEXR (26) or FENR (28) raises FPE afterwards (FCSR keeps the new value)
//    when Cause & (Enables | E) is non-zero. CTC1 to FCCR (25) ignores values
//    above 0xff; to FEXR/FENR ignores values with any of bits 22..18 set.
//    CTC1 to any other register is ignored. CFC1: 0 FIR, 25 FCCR, 26 FEXR,
//    28 FENR, 1 and 5 read 0 (no UFR/FRE support), and every other number
//    reads FCSR (QEMU's default case; the manual calls them reserved).
//  * Compare: C.cond.fmt with a quiet NaN operand raises Invalid only for the
//    signalling predicates (cond bit 3); a signalling NaN always does.
//
//  * Checked: 400,000 random operations (every arithmetic op, conversion and
//    some compares, S and D, all rounding modes, FS on and off, special
//    operands, random prior flags/condition codes) gave bit-identical FPR
//    (all 64 bits) and FCSR results here and under QEMU.
//  * FIR under QEMU reads 0x007f0000 (F64 L W 3D PS D S); ours is set by
//    Cpu::reset() and differs (no 3D/PS, R10000 implementation number).
//
// Status.FR = 0 (what QEMU does too, not testable in Linux user mode, where
// n64 runs with FR = 1):
//  * 32-bit accesses use the low word of fpr[n] for every n.
//  * 64-bit accesses to register n use the pair (n & ~1, n | 1): low word of
//    fpr[n & ~1] is bits 31..0, low word of fpr[n | 1] bits 63..32. This is
//    what LDC1/SDC1/LDXC1/SDXC1/LUXC1/SUXC1/DMFC1/DMTC1 do even for an odd n.
//  * MFHC1/MTHC1 access the low word of fpr[n | 1].
//  * A D-format arithmetic/compare/move operation naming an odd register is
//    a Reserved Instruction (the manual says UNPREDICTABLE).
//  * The L format (CVT.L, ROUND/TRUNC/CEIL/FLOOR.L, CVT.S.L, CVT.D.L) needs
//    FR = 1; with FR = 0 it is a Reserved Instruction (as in QEMU).
//
// Host arithmetic: on x86-64, SSE scalar instructions with the guest rounding
// mode loaded into MXCSR around each operation and the exception flags read
// back from it; on other hosts the same through <cfenv>. Empty `asm volatile` barriers on the operands pin each host
// operation between the MXCSR write and read, so the compiler can neither
// constant-fold it nor move it across the mode change. NaN operands never
// reach the host (x86 reads the quiet bit the other way round).
#include <bit>
#include <cstdint>
#include <type_traits>

#include "interp/common.h"
#include "interp/handlers.h"

#if defined(__x86_64__) && !defined(DISCO_FPU_PORTABLE)
#define DISCO_FPU_SSE 1
#include <immintrin.h>
#else
// Any other host (AArch64...): the same scheme through <cfenv>. The
// portable path is also built and tested on x86-64 (meson option
// fpu_host=portable) against the same tests and the QEMU oracle.
#include <cfenv>
#include <cmath>
#endif

namespace disco::interp {
namespace {

// ---- FCSR --------------------------------------------------------------------
// Exception bits as a 6-bit vector, in the order of the Cause field.
enum : unsigned { X_I = 1, X_U = 2, X_O = 4, X_Z = 8, X_V = 16, X_E = 32 };
constexpr unsigned kFlagsShift = 2, kEnablesShift = 7, kCauseShift = 12;
constexpr uint32_t kCauseMask = 0x3fu << kCauseShift;
constexpr uint32_t kFcsrFS = 1u << 24;
constexpr uint32_t kFcsrWritable = 0xff83ffffu;
enum : unsigned { RN = 0, RZ = 1, RP = 2, RM = 3 };

constexpr uint32_t cc_bit(unsigned cc) { return cc ? 1u << (24 + cc) : 1u << 23; }

// ---- host floating-point environment -----------------------------------------
#if DISCO_FPU_SSE
constexpr uint32_t kMxcsrDefault = 0x1f80;  // all exceptions masked, RN, no DAZ/FTZ
// MIPS RN, RZ, RP, RM -> MXCSR.RC nearest(00), toward zero(11), up(10), down(01).
constexpr uint32_t kMxcsrRc[4] = {0x0000, 0x6000, 0x4000, 0x2000};

inline void mxcsr_write(uint32_t v) { asm volatile("ldmxcsr %0" : : "m"(v)); }
inline uint32_t mxcsr_read() {
  uint32_t v;
  asm volatile("stmxcsr %0" : "=m"(v));
  return v;
}
// MXCSR flags IE(0) ZE(2) OE(3) UE(4) PE(5) -> V Z O U I. DE is ignored.
inline unsigned host_flags(uint32_t m) {
  return ((m & 1) << 4) | (((m >> 2) & 1) << 3) | (((m >> 3) & 1) << 2) | (((m >> 4) & 1) << 1) |
         ((m >> 5) & 1);
}
// Barriers: the value is "changed" by an opaque volatile asm.
inline void pin(float& v) { asm volatile("" : "+x"(v)); }
inline void pin(double& v) { asm volatile("" : "+x"(v)); }
inline void pin(int32_t& v) { asm volatile("" : "+r"(v)); }
inline void pin(int64_t& v) { asm volatile("" : "+r"(v)); }

// Runs f() with rounding mode rm and the host flags cleared; adds the flags
// it raised to `flags`.
template <class F>
inline auto host_op(unsigned rm, unsigned& flags, F&& f) {
  mxcsr_write(kMxcsrDefault | kMxcsrRc[rm]);
  auto r = f();
  const uint32_t m = mxcsr_read();
  if (rm != RN) mxcsr_write(kMxcsrDefault);
  flags |= host_flags(m);
  return r;
}
#else
constexpr int kFeRound[4] = {FE_TONEAREST, FE_TOWARDZERO, FE_UPWARD, FE_DOWNWARD};
inline unsigned host_flags(int fe) {
  unsigned f = 0;
  if (fe & FE_INVALID) f |= X_V;
  if (fe & FE_DIVBYZERO) f |= X_Z;
  if (fe & FE_OVERFLOW) f |= X_O;
  if (fe & FE_UNDERFLOW) f |= X_U;
  if (fe & FE_INEXACT) f |= X_I;
  return f;
}
// Barriers through memory: valid for any type on any architecture.
template <class V>
inline void pin(V& v) {
  asm volatile("" : "+m"(v));
}
template <class F>
inline auto host_op(unsigned rm, unsigned& flags, F&& f) {
  if (rm != RN) std::fesetround(kFeRound[rm]);
  std::feclearexcept(FE_ALL_EXCEPT);
  auto r = f();
  const int fe = std::fetestexcept(FE_ALL_EXCEPT);
  if (rm != RN) std::fesetround(FE_TONEAREST);
  flags |= host_flags(fe);
  return r;
}
#endif

// ---- formats -----------------------------------------------------------------
template <class T>
struct Fmt;
template <>
struct Fmt<float> {
  using U = uint32_t;
  static constexpr U kSign = 0x80000000u;
  static constexpr U kExp = 0x7f800000u;
  static constexpr U kQuiet = 0x00400000u;  // legacy: SET means signalling
  static constexpr U kMinNormal = 0x00800000u;
  static constexpr U kDefaultNaN = 0x7fbfffffu;
};
template <>
struct Fmt<double> {
  using U = uint64_t;
  static constexpr U kSign = 0x8000000000000000ull;
  static constexpr U kExp = 0x7ff0000000000000ull;
  static constexpr U kQuiet = 0x0008000000000000ull;
  static constexpr U kMinNormal = 0x0010000000000000ull;
  static constexpr U kDefaultNaN = 0x7ff7ffffffffffffull;
};
template <class T>
using Bits = typename Fmt<T>::U;

template <class T>
constexpr bool is_nan(Bits<T> b) {
  return (b & ~Fmt<T>::kSign) > Fmt<T>::kExp;
}
template <class T>
constexpr bool is_snan(Bits<T> b) {
  return is_nan<T>(b) && (b & Fmt<T>::kQuiet);
}

// One instruction's floating-point context: rounding mode, FS, and the
// exceptions raised so far.
struct Fx {
  unsigned rm;
  bool flush;
  unsigned flags = 0;
};
inline Fx fx(const Cpu& c) { return Fx{c.s.fcsr & 3u, (c.s.fcsr & kFcsrFS) != 0}; }

// FS = 1: does result `b` (with host flags `fl`) come from an exact value
// below the smallest normal? `again_rz` recomputes it rounding toward zero.
template <class T, class G>
bool must_flush(Bits<T> b, unsigned fl, G&& again_rz) {
  const Bits<T> mag = b & ~Fmt<T>::kSign;
  if ((mag & Fmt<T>::kExp) == 0) return mag != 0 || (fl & X_I);  // subnormal, or underflowed to 0
  if (mag == Fmt<T>::kMinNormal && (fl & X_I)) {
    unsigned ignored = 0;
    const T r = host_op(RZ, ignored, again_rz);
    return (std::bit_cast<Bits<T>>(r) & ~Fmt<T>::kSign) < Fmt<T>::kMinNormal;
  }
  return false;
}

// Finishes a host result: NaN -> default NaN, FS flushing, flags.
template <class T, class G>
Bits<T> finish(Fx& x, T r, unsigned fl, G&& again_rz) {
  Bits<T> b = std::bit_cast<Bits<T>>(r);
  if (__builtin_expect(is_nan<T>(b), 0)) {
    b = Fmt<T>::kDefaultNaN;  // an invalid operation (the host raised IE -> V)
  } else if (__builtin_expect(x.flush, 0) && must_flush<T>(b, fl, again_rz)) {
    b &= Fmt<T>::kSign;
    fl &= ~(X_U | X_I);
  }
  x.flags |= fl;
  return b;
}

// Binary operation on two guest values.
template <class T, class Op>
Bits<T> binop(Fx& x, Bits<T> a, Bits<T> b, Op op) {
  if (__builtin_expect(is_nan<T>(a) || is_nan<T>(b), 0)) {
    if (is_snan<T>(a) || is_snan<T>(b)) x.flags |= X_V;
    return Fmt<T>::kDefaultNaN;
  }
  auto run = [&] {
    T p = std::bit_cast<T>(a), q = std::bit_cast<T>(b);
    pin(p);
    pin(q);
    T r = op(p, q);
    pin(r);
    return r;
  };
  unsigned fl = 0;
  const T r = host_op(x.rm, fl, run);
  return finish<T>(x, r, fl, run);
}

template <class T>
Bits<T> add(Fx& x, Bits<T> a, Bits<T> b) {
  return binop<T>(x, a, b, [](T p, T q) { return p + q; });
}
template <class T>
Bits<T> sub(Fx& x, Bits<T> a, Bits<T> b) {
  return binop<T>(x, a, b, [](T p, T q) { return p - q; });
}
template <class T>
Bits<T> mul(Fx& x, Bits<T> a, Bits<T> b) {
  return binop<T>(x, a, b, [](T p, T q) { return p * q; });
}
template <class T>
Bits<T> div(Fx& x, Bits<T> a, Bits<T> b) {
  return binop<T>(x, a, b, [](T p, T q) { return p / q; });
}

#if DISCO_FPU_SSE
inline float host_sqrt(float v) {
  float r;
  asm("sqrtss %1, %0" : "=x"(r) : "x"(v));
  return r;
}
inline double host_sqrt(double v) {
  double r;
  asm("sqrtsd %1, %0" : "=x"(r) : "x"(v));
  return r;
}
#else
inline float host_sqrt(float v) { return __builtin_sqrtf(v); }
inline double host_sqrt(double v) { return __builtin_sqrt(v); }
#endif

template <class T>
Bits<T> sqrt(Fx& x, Bits<T> a) {
  if (__builtin_expect(is_nan<T>(a), 0)) {
    if (is_snan<T>(a)) x.flags |= X_V;
    return Fmt<T>::kDefaultNaN;
  }
  auto run = [&] {
    T p = std::bit_cast<T>(a);
    pin(p);
    T r = host_sqrt(p);
    pin(r);
    return r;
  };
  unsigned fl = 0;
  const T r = host_op(x.rm, fl, run);
  return finish<T>(x, r, fl, run);
}

template <class T>
constexpr Bits<T> kOne = std::is_same_v<T, float> ? Bits<T>(0x3f800000u) : Bits<T>(0x3ff0000000000000ull);

// CVT.S.D: rounds (and may overflow/underflow).
uint32_t cvt_s_d(Fx& x, uint64_t a) {
  if (__builtin_expect(is_nan<double>(a), 0)) {
    if (is_snan<double>(a)) x.flags |= X_V;
    return Fmt<float>::kDefaultNaN;
  }
  auto run = [&] {
    double p = std::bit_cast<double>(a);
    pin(p);
    float r = static_cast<float>(p);
    pin(r);
    return r;
  };
  unsigned fl = 0;
  const float r = host_op(x.rm, fl, run);
  return finish<float>(x, r, fl, run);
}

// CVT.D.S: exact.
uint64_t cvt_d_s(Fx& x, uint32_t a) {
  if (__builtin_expect(is_nan<float>(a), 0)) {
    if (is_snan<float>(a)) x.flags |= X_V;
    return Fmt<double>::kDefaultNaN;
  }
  return std::bit_cast<uint64_t>(static_cast<double>(std::bit_cast<float>(a)));
}

// Float to integer (I = int32_t or int64_t) rounding with `rm`. NaN and
// out-of-range give the largest positive integer with Invalid.
template <class T, class I>
I host_cvt(T p) {
#if DISCO_FPU_SSE
  if constexpr (std::is_same_v<T, float>) {
    if constexpr (sizeof(I) == 4) return _mm_cvtss_si32(_mm_set_ss(p));
    else return _mm_cvtss_si64(_mm_set_ss(p));
  } else {
    if constexpr (sizeof(I) == 4) return _mm_cvtsd_si32(_mm_set_sd(p));
    else return _mm_cvtsd_si64(_mm_set_sd(p));
  }
#else
  // Current rounding mode; out of range raises FE_INVALID (the caller then
  // returns MIPS's invalid result). The 32-bit case goes through 64 bits,
  // so its own range is checked here.
  const long long v = std::llrint(p);
  if constexpr (sizeof(I) == 4) {
    if (v < INT32_MIN || v > INT32_MAX) std::feraiseexcept(FE_INVALID);
  }
  // An invalid conversion raises Invalid only (as SSE and QEMU do); libm
  // may add Inexact.
  if (std::fetestexcept(FE_INVALID)) std::feclearexcept(FE_INEXACT);
  return static_cast<I>(v);
#endif
}
template <class T, class I>
I to_int(Fx& x, Bits<T> a, unsigned rm) {
  constexpr I kInvalid = sizeof(I) == 4 ? I(0x7fffffff) : I(0x7fffffffffffffffll);
  if (__builtin_expect(is_nan<T>(a), 0)) {
    x.flags |= X_V;
    return kInvalid;
  }
  unsigned fl = 0;
  const I r = host_op(rm, fl, [&] {
    T p = std::bit_cast<T>(a);
    pin(p);
    I v = host_cvt<T, I>(p);
    pin(v);
    return v;
  });
  x.flags |= fl;
  return (fl & X_V) ? kInvalid : r;
}

// Integer to float (rounds with the FCSR mode; only Inexact possible).
template <class T, class I>
Bits<T> from_int(Fx& x, I v) {
  unsigned fl = 0;
  const T r = host_op(x.rm, fl, [&] {
    I p = v;
    pin(p);
    T f = static_cast<T>(p);
    pin(f);
    return f;
  });
  x.flags |= fl;
  return std::bit_cast<Bits<T>>(r);
}

// C.cond: cond bit 0 unordered, bit 1 equal, bit 2 less, bit 3 signalling.
template <class T>
bool compare(Fx& x, Bits<T> a, Bits<T> b, unsigned cond) {
  if (__builtin_expect(is_nan<T>(a) || is_nan<T>(b), 0)) {
    if ((cond & 8) || is_snan<T>(a) || is_snan<T>(b)) x.flags |= X_V;
    return cond & 1;
  }
  const T p = std::bit_cast<T>(a), q = std::bit_cast<T>(b);
  return ((cond & 4) && p < q) || ((cond & 2) && p == q);
}

// ---- register file -----------------------------------------------------------
inline bool fr1(const Cpu& c) { return (c.s.cp0.status & Status_FR) != 0; }

inline uint32_t get_w(const Cpu& c, unsigned r) { return static_cast<uint32_t>(c.s.fpr[r]); }
inline void set_w(Cpu& c, unsigned r, uint32_t v) { c.s.fpr[r] = (c.s.fpr[r] & 0xffffffff00000000ull) | v; }
inline uint64_t get_l(const Cpu& c, unsigned r) {
  if (fr1(c)) return c.s.fpr[r];
  return (c.s.fpr[r & ~1u] & 0xffffffffull) | (c.s.fpr[r | 1u] << 32);
}
inline void set_l(Cpu& c, unsigned r, uint64_t v) {
  if (fr1(c)) {
    c.s.fpr[r] = v;
  } else {
    set_w(c, r & ~1u, static_cast<uint32_t>(v));
    set_w(c, r | 1u, static_cast<uint32_t>(v >> 32));
  }
}
template <class T>
Bits<T> get(const Cpu& c, unsigned r) {
  if constexpr (std::is_same_v<T, float>) return get_w(c, r);
  else return get_l(c, r);
}
template <class T>
void set(Cpu& c, unsigned r, Bits<T> v) {
  if constexpr (std::is_same_v<T, float>) set_w(c, r, v);
  else set_l(c, r, v);
}

// D-format operands with FR = 0 must be even registers (`regs` is the OR of
// the register numbers). Raises RI otherwise.
template <class T>
inline bool check_regs(Cpu& c, unsigned regs) {
  if (std::is_same_v<T, float> || !(regs & 1) || fr1(c)) return true;
  raise_exception(c, EXC_RI);
  return false;
}
// The L format needs FR = 1.
inline bool require_fr1(Cpu& c) {
  if (fr1(c)) return true;
  raise_exception(c, EXC_RI);
  return false;
}

// Cause := this operation's exceptions; FPE if one is enabled (then the
// Flags are left alone and the caller must not write its destination),
// otherwise the Flags accumulate.
inline bool commit(Cpu& c, unsigned fl) {
  const uint32_t v = (c.s.fcsr & ~kCauseMask) | (fl << kCauseShift);
  if (__builtin_expect((fl & (v >> kEnablesShift) & 0x1f) != 0, 0)) {
    c.s.fcsr = v;
    raise_exception(c, EXC_FPE);
    return false;
  }
  c.s.fcsr = v | (fl << kFlagsShift);
  return true;
}

// ---- instruction shapes ------------------------------------------------------
// fd = op(fs, ft)
template <class T, Bits<T> (*Op)(Fx&, Bits<T>, Bits<T>)>
void arith2(Cpu& c, const DecodedInsn& d) {
  if (!require_cp1(c)) return;
  const unsigned fs = f::fs(d.raw), ft = f::ft(d.raw), fd = f::fd(d.raw);
  if (!check_regs<T>(c, fs | ft | fd)) return;
  Fx x = fx(c);
  const Bits<T> r = Op(x, get<T>(c, fs), get<T>(c, ft));
  if (commit(c, x.flags)) set<T>(c, fd, r);
}

// fd = op(fs)
template <class T, Bits<T> (*Op)(Fx&, Bits<T>)>
void arith1(Cpu& c, const DecodedInsn& d) {
  if (!require_cp1(c)) return;
  const unsigned fs = f::fs(d.raw), fd = f::fd(d.raw);
  if (!check_regs<T>(c, fs | fd)) return;
  Fx x = fx(c);
  const Bits<T> r = Op(x, get<T>(c, fs));
  if (commit(c, x.flags)) set<T>(c, fd, r);
}

template <class T>
Bits<T> recip(Fx& x, Bits<T> a) {
  return div<T>(x, kOne<T>, a);
}
template <class T>
Bits<T> rsqrt(Fx& x, Bits<T> a) {
  return div<T>(x, kOne<T>, sqrt<T>(x, a));
}

// ROUND/TRUNC/CEIL/FLOOR/CVT to W or L. rm < 0: the FCSR mode.
template <class T, class I, int Rm>
void to_integer(Cpu& c, const DecodedInsn& d) {
  if (!require_cp1(c)) return;
  const unsigned fs = f::fs(d.raw), fd = f::fd(d.raw);
  if constexpr (sizeof(I) == 8) {
    if (!require_fr1(c)) return;
  } else {
    if (!check_regs<T>(c, fs)) return;
  }
  Fx x = fx(c);
  const I r = to_int<T, I>(x, get<T>(c, fs), Rm < 0 ? x.rm : static_cast<unsigned>(Rm));
  if (!commit(c, x.flags)) return;
  if constexpr (sizeof(I) == 4) set_w(c, fd, static_cast<uint32_t>(r));
  else set_l(c, fd, static_cast<uint64_t>(r));
}

// CVT.S/D from W or L.
template <class T, class I>
void from_integer(Cpu& c, const DecodedInsn& d) {
  if (!require_cp1(c)) return;
  const unsigned fs = f::fs(d.raw), fd = f::fd(d.raw);
  if constexpr (sizeof(I) == 8) {
    if (!require_fr1(c)) return;
  } else {
    if (!check_regs<T>(c, fd)) return;
  }
  Fx x = fx(c);
  const I v = sizeof(I) == 4 ? static_cast<I>(static_cast<int32_t>(get_w(c, fs))) : static_cast<I>(get_l(c, fs));
  const Bits<T> r = from_int<T, I>(x, v);
  if (commit(c, x.flags)) set<T>(c, fd, r);
}

// MADD/MSUB/NMADD/NMSUB: fd = ±(fs * ft ± fr), rounded after the product
// and after the sum, as QEMU (and pre-R6 hardware) does.
template <class T, bool Sub, bool Neg>
void madd(Cpu& c, const DecodedInsn& d) {
  if (!require_cp1(c)) return;
  const unsigned fr = f::fr(d.raw), fs = f::fs(d.raw), ft = f::ft(d.raw), fd = f::fd(d.raw);
  if (!check_regs<T>(c, fr | fs | ft | fd)) return;
  Fx x = fx(c);
  const Bits<T> p = mul<T>(x, get<T>(c, fs), get<T>(c, ft));
  Bits<T> r = Sub ? sub<T>(x, p, get<T>(c, fr)) : add<T>(x, p, get<T>(c, fr));
  if (Neg) r ^= Fmt<T>::kSign;
  if (commit(c, x.flags)) set<T>(c, fd, r);
}

// ABS/NEG/MOV: bit operations, no exceptions, Cause untouched.
template <class T, Bits<T> Clear, Bits<T> Flip>
void signop(Cpu& c, const DecodedInsn& d) {
  if (!require_cp1(c)) return;
  const unsigned fs = f::fs(d.raw), fd = f::fd(d.raw);
  if (!check_regs<T>(c, fs | fd)) return;
  set<T>(c, fd, (get<T>(c, fs) & ~Clear) ^ Flip);
}

template <class T>
void cmp(Cpu& c, const DecodedInsn& d) {
  if (!require_cp1(c)) return;
  const unsigned fs = f::fs(d.raw), ft = f::ft(d.raw);
  if (!check_regs<T>(c, fs | ft)) return;
  Fx x = fx(c);
  const bool r = compare<T>(x, get<T>(c, fs), get<T>(c, ft), d.raw & 15);
  if (!commit(c, x.flags)) return;
  const uint32_t bit = cc_bit(f::cc_compare(d.raw));
  c.s.fcsr = r ? (c.s.fcsr | bit) : (c.s.fcsr & ~bit);
}

inline bool cc_true(const Cpu& c, const DecodedInsn& d) { return (c.s.fcsr & cc_bit(f::cc_branch(d.raw))) != 0; }
inline bool tf_bit(const DecodedInsn& d) { return (d.raw >> 16) & 1; }

// Conditional FPR moves: fd = fs when `cond`.
template <class T>
void cond_move(Cpu& c, const DecodedInsn& d, bool cond) {
  const unsigned fs = f::fs(d.raw), fd = f::fd(d.raw);
  if (!check_regs<T>(c, fs | fd)) return;
  if (cond) set<T>(c, fd, get<T>(c, fs));
}

template <class T>
void move_on_cc(Cpu& c, const DecodedInsn& d) {
  if (!require_cp1(c)) return;
  cond_move<T>(c, d, cc_true(c, d) == tf_bit(d));
}
template <class T>
void move_on_gpr(Cpu& c, const DecodedInsn& d, bool if_zero) {
  if (!require_cp1(c)) return;
  cond_move<T>(c, d, (rt(c, d) == 0) == if_zero);
}

inline uint64_t indexed_address(const Cpu& c, const DecodedInsn& d) {
  return c.s.gpr[f::rs(d.raw)] + c.s.gpr[f::rt(d.raw)];
}

constexpr uint32_t kSign32 = 0x80000000u;
constexpr uint64_t kSign64 = 0x8000000000000000ull;

}  // namespace

// ---- moves between register files ---------------------------------------------
DISCO_HANDLER(MFC1) {
  if (require_cp1(c)) set_gpr(c, f::rt(d.raw), sext32(get_w(c, f::fs(d.raw))));
}
DISCO_HANDLER(MTC1) {
  if (require_cp1(c)) set_w(c, f::fs(d.raw), static_cast<uint32_t>(rt(c, d)));
}
DISCO_HANDLER(DMFC1) {
  if (require_cp1(c) && require_64(c)) set_gpr(c, f::rt(d.raw), get_l(c, f::fs(d.raw)));
}
DISCO_HANDLER(DMTC1) {
  if (require_cp1(c) && require_64(c)) set_l(c, f::fs(d.raw), rt(c, d));
}
DISCO_HANDLER(MFHC1) {
  if (!require_cp1(c)) return;
  const unsigned fs = f::fs(d.raw);
  const uint32_t v = fr1(c) ? static_cast<uint32_t>(c.s.fpr[fs] >> 32) : get_w(c, fs | 1u);
  set_gpr(c, f::rt(d.raw), sext32(v));
}
DISCO_HANDLER(MTHC1) {
  if (!require_cp1(c)) return;
  const unsigned fs = f::fs(d.raw);
  const uint32_t v = static_cast<uint32_t>(rt(c, d));
  if (fr1(c)) c.s.fpr[fs] = (c.s.fpr[fs] & 0xffffffffull) | (static_cast<uint64_t>(v) << 32);
  else set_w(c, fs | 1u, v);
}

DISCO_HANDLER(CFC1) {
  if (!require_cp1(c)) return;
  const uint32_t fcsr = c.s.fcsr;
  uint32_t v;
  switch (f::fs(d.raw)) {
    case 0: v = c.s.fir; break;
    case 1:
    case 5: v = 0; break;  // UFR/FRE: not implemented
    case 25: v = ((fcsr >> 24) & 0xfe) | ((fcsr >> 23) & 1); break;
    case 26: v = fcsr & 0x0003f07c; break;
    case 28: v = (fcsr & 0x00000f83) | ((fcsr >> 22) & 4); break;
    default: v = fcsr; break;  // 31, and (as QEMU) every reserved number
  }
  set_gpr(c, f::rt(d.raw), sext32(v));
}

DISCO_HANDLER(CTC1) {
  if (!require_cp1(c)) return;
  const uint32_t v = static_cast<uint32_t>(rt(c, d));
  uint32_t& fcsr = c.s.fcsr;
  switch (f::fs(d.raw)) {
    case 25:
      if (v & ~0xffu) return;  // the manual and QEMU use GPR[rt] bits 31..0 only
      fcsr = (fcsr & 0x017fffff) | ((v & 0xfe) << 24) | ((v & 1) << 23);
      break;
    case 26:
      if (v & 0x007c0000) return;
      fcsr = (fcsr & 0xfffc0f83) | (v & 0x0003f07c);
      break;
    case 28:
      if (v & 0x007c0000) return;
      fcsr = (fcsr & 0xfefff07c) | (v & 0x00000f83) | ((v & 4) << 22);
      break;
    case 31: fcsr = (v & kFcsrWritable) | (fcsr & ~kFcsrWritable); break;
    default: return;  // ignored
  }
  const unsigned cause = (fcsr >> kCauseShift) & 0x3f;
  const unsigned enables = ((fcsr >> kEnablesShift) & 0x1f) | X_E;
  if (cause & enables) raise_exception(c, EXC_FPE);
}

// ---- branches and condition-code moves ----------------------------------------
DISCO_HANDLER(BC1F) {
  if (require_cp1(c)) branch(c, !cc_true(c, d), branch_target(c, d));
}
DISCO_HANDLER(BC1T) {
  if (require_cp1(c)) branch(c, cc_true(c, d), branch_target(c, d));
}
DISCO_HANDLER(BC1FL) {
  if (require_cp1(c)) branch_likely(c, !cc_true(c, d), branch_target(c, d));
}
DISCO_HANDLER(BC1TL) {
  if (require_cp1(c)) branch_likely(c, cc_true(c, d), branch_target(c, d));
}
// MOVF/MOVT rd, rs, cc (integer registers).
DISCO_HANDLER(MOVF) {
  if (require_cp1(c) && !cc_true(c, d)) set_gpr(c, f::rd(d.raw), rs(c, d));
}
DISCO_HANDLER(MOVT) {
  if (require_cp1(c) && cc_true(c, d)) set_gpr(c, f::rd(d.raw), rs(c, d));
}
DISCO_HANDLER(MOVF_S) { move_on_cc<float>(c, d); }
DISCO_HANDLER(MOVF_D) { move_on_cc<double>(c, d); }
DISCO_HANDLER(MOVT_S) { move_on_cc<float>(c, d); }
DISCO_HANDLER(MOVT_D) { move_on_cc<double>(c, d); }
DISCO_HANDLER(MOVZ_S) { move_on_gpr<float>(c, d, true); }
DISCO_HANDLER(MOVZ_D) { move_on_gpr<double>(c, d, true); }
DISCO_HANDLER(MOVN_S) { move_on_gpr<float>(c, d, false); }
DISCO_HANDLER(MOVN_D) { move_on_gpr<double>(c, d, false); }

// ---- arithmetic ----------------------------------------------------------------
DISCO_HANDLER(ADD_S) { arith2<float, add<float>>(c, d); }
DISCO_HANDLER(ADD_D) { arith2<double, add<double>>(c, d); }
DISCO_HANDLER(SUB_S) { arith2<float, sub<float>>(c, d); }
DISCO_HANDLER(SUB_D) { arith2<double, sub<double>>(c, d); }
DISCO_HANDLER(MUL_S) { arith2<float, mul<float>>(c, d); }
DISCO_HANDLER(MUL_D) { arith2<double, mul<double>>(c, d); }
DISCO_HANDLER(DIV_S) { arith2<float, div<float>>(c, d); }
DISCO_HANDLER(DIV_D) { arith2<double, div<double>>(c, d); }
DISCO_HANDLER(SQRT_S) { arith1<float, sqrt<float>>(c, d); }
DISCO_HANDLER(SQRT_D) { arith1<double, sqrt<double>>(c, d); }
DISCO_HANDLER(RECIP_S) { arith1<float, recip<float>>(c, d); }
DISCO_HANDLER(RECIP_D) { arith1<double, recip<double>>(c, d); }
DISCO_HANDLER(RSQRT_S) { arith1<float, rsqrt<float>>(c, d); }
DISCO_HANDLER(RSQRT_D) { arith1<double, rsqrt<double>>(c, d); }
DISCO_HANDLER(ABS_S) { signop<float, kSign32, 0>(c, d); }
DISCO_HANDLER(ABS_D) { signop<double, kSign64, 0>(c, d); }
DISCO_HANDLER(NEG_S) { signop<float, 0, kSign32>(c, d); }
DISCO_HANDLER(NEG_D) { signop<double, 0, kSign64>(c, d); }
DISCO_HANDLER(MOV_S) { signop<float, 0, 0>(c, d); }
DISCO_HANDLER(MOV_D) { signop<double, 0, 0>(c, d); }

DISCO_HANDLER(MADD_S) { madd<float, false, false>(c, d); }
DISCO_HANDLER(MADD_D) { madd<double, false, false>(c, d); }
DISCO_HANDLER(MSUB_S) { madd<float, true, false>(c, d); }
DISCO_HANDLER(MSUB_D) { madd<double, true, false>(c, d); }
DISCO_HANDLER(NMADD_S) { madd<float, false, true>(c, d); }
DISCO_HANDLER(NMADD_D) { madd<double, false, true>(c, d); }
DISCO_HANDLER(NMSUB_S) { madd<float, true, true>(c, d); }
DISCO_HANDLER(NMSUB_D) { madd<double, true, true>(c, d); }

// ---- conversions ---------------------------------------------------------------
DISCO_HANDLER(ROUND_L_S) { to_integer<float, int64_t, RN>(c, d); }
DISCO_HANDLER(ROUND_L_D) { to_integer<double, int64_t, RN>(c, d); }
DISCO_HANDLER(TRUNC_L_S) { to_integer<float, int64_t, RZ>(c, d); }
DISCO_HANDLER(TRUNC_L_D) { to_integer<double, int64_t, RZ>(c, d); }
DISCO_HANDLER(CEIL_L_S) { to_integer<float, int64_t, RP>(c, d); }
DISCO_HANDLER(CEIL_L_D) { to_integer<double, int64_t, RP>(c, d); }
DISCO_HANDLER(FLOOR_L_S) { to_integer<float, int64_t, RM>(c, d); }
DISCO_HANDLER(FLOOR_L_D) { to_integer<double, int64_t, RM>(c, d); }
DISCO_HANDLER(ROUND_W_S) { to_integer<float, int32_t, RN>(c, d); }
DISCO_HANDLER(ROUND_W_D) { to_integer<double, int32_t, RN>(c, d); }
DISCO_HANDLER(TRUNC_W_S) { to_integer<float, int32_t, RZ>(c, d); }
DISCO_HANDLER(TRUNC_W_D) { to_integer<double, int32_t, RZ>(c, d); }
DISCO_HANDLER(CEIL_W_S) { to_integer<float, int32_t, RP>(c, d); }
DISCO_HANDLER(CEIL_W_D) { to_integer<double, int32_t, RP>(c, d); }
DISCO_HANDLER(FLOOR_W_S) { to_integer<float, int32_t, RM>(c, d); }
DISCO_HANDLER(FLOOR_W_D) { to_integer<double, int32_t, RM>(c, d); }
DISCO_HANDLER(CVT_W_S) { to_integer<float, int32_t, -1>(c, d); }
DISCO_HANDLER(CVT_W_D) { to_integer<double, int32_t, -1>(c, d); }
DISCO_HANDLER(CVT_L_S) { to_integer<float, int64_t, -1>(c, d); }
DISCO_HANDLER(CVT_L_D) { to_integer<double, int64_t, -1>(c, d); }
DISCO_HANDLER(CVT_S_W) { from_integer<float, int32_t>(c, d); }
DISCO_HANDLER(CVT_D_W) { from_integer<double, int32_t>(c, d); }
DISCO_HANDLER(CVT_S_L) { from_integer<float, int64_t>(c, d); }
DISCO_HANDLER(CVT_D_L) { from_integer<double, int64_t>(c, d); }

DISCO_HANDLER(CVT_D_S) {
  if (!require_cp1(c)) return;
  const unsigned fs = f::fs(d.raw), fd = f::fd(d.raw);
  if (!check_regs<double>(c, fd)) return;
  Fx x = fx(c);
  const uint64_t r = cvt_d_s(x, get_w(c, fs));
  if (commit(c, x.flags)) set_l(c, fd, r);
}
DISCO_HANDLER(CVT_S_D) {
  if (!require_cp1(c)) return;
  const unsigned fs = f::fs(d.raw), fd = f::fd(d.raw);
  if (!check_regs<double>(c, fs)) return;
  Fx x = fx(c);
  const uint32_t r = cvt_s_d(x, get_l(c, fs));
  if (commit(c, x.flags)) set_w(c, fd, r);
}

// ---- compare -------------------------------------------------------------------
DISCO_HANDLER(C_S) { cmp<float>(c, d); }
DISCO_HANDLER(C_D) { cmp<double>(c, d); }

// ---- loads and stores ------------------------------------------------------------
DISCO_HANDLER(LWC1) {
  if (!require_cp1(c)) return;
  uint32_t v;
  if (mem::load<uint32_t>(c, effective_address(c, d), v)) set_w(c, f::ft(d.raw), v);
}
DISCO_HANDLER(LDC1) {
  if (!require_cp1(c)) return;
  uint64_t v;
  if (mem::load<uint64_t>(c, effective_address(c, d), v)) set_l(c, f::ft(d.raw), v);
}
DISCO_HANDLER(SWC1) {
  if (require_cp1(c)) mem::store<uint32_t>(c, effective_address(c, d), get_w(c, f::ft(d.raw)));
}
DISCO_HANDLER(SDC1) {
  if (require_cp1(c)) mem::store<uint64_t>(c, effective_address(c, d), get_l(c, f::ft(d.raw)));
}
// COP1X: base in rs, index in rt; loads write fd, stores read fs.
DISCO_HANDLER(LWXC1) {
  if (!require_cp1(c)) return;
  uint32_t v;
  if (mem::load<uint32_t>(c, indexed_address(c, d), v)) set_w(c, f::fd(d.raw), v);
}
DISCO_HANDLER(LDXC1) {
  if (!require_cp1(c)) return;
  uint64_t v;
  if (mem::load<uint64_t>(c, indexed_address(c, d), v)) set_l(c, f::fd(d.raw), v);
}
DISCO_HANDLER(LUXC1) {
  if (!require_cp1(c)) return;
  uint64_t v;
  if (mem::load<uint64_t>(c, indexed_address(c, d) & ~7ull, v)) set_l(c, f::fd(d.raw), v);
}
DISCO_HANDLER(SWXC1) {
  if (require_cp1(c)) mem::store<uint32_t>(c, indexed_address(c, d), get_w(c, f::fs(d.raw)));
}
DISCO_HANDLER(SDXC1) {
  if (require_cp1(c)) mem::store<uint64_t>(c, indexed_address(c, d), get_l(c, f::fs(d.raw)));
}
DISCO_HANDLER(SUXC1) {
  if (require_cp1(c)) mem::store<uint64_t>(c, indexed_address(c, d) & ~7ull, get_l(c, f::fs(d.raw)));
}
// PREFX hint, index(base): a hint, never faults.
DISCO_HANDLER(PREFX) { require_cp1(c); }

}  // namespace disco::interp
