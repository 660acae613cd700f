#!/usr/bin/env python3
"""Self-test for oracle_runner under qemu-mips64el.

Usage:
  selftest.py [--runner PATH] [--qemu PATH] [--bench N] [--survey] [--no-build]

Builds the runner (build.sh) unless --runner is given, runs hand-made
records through it and checks registers, data, stop kinds and pc. Exits
non-zero on any mismatch. --bench N times N records of 8 ALU instructions
(default 100000; 0 skips it). --survey also prints the signal table that
README.md documents.
"""
import argparse
import os
import random
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# ---- wire format (mirrors ../seq_format.h) ----
DSEQ_MAGIC = 0x51455344
DSEQ_VERSION = 1
DSEQ_MAX_INSNS = 32
CODE = 0x20000000
DATA = 0x30000000
DATA_SIZE = 256
END_CODE = 0x5A5A5
STOP_END, STOP_SIGNAL = 0, 1

HEADER = struct.Struct("<IIQ")
STATE_FMT = "32Q2Q32QII"
RECORD = struct.Struct("<II32I" + STATE_FMT + "256s")
RESULT = struct.Struct("<IIiIQQ" + STATE_FMT + "256s")
assert RECORD.size == 4 + 4 + 128 + 536 + 256, RECORD.size
assert RESULT.size == 16 + 16 + 536 + 256, RESULT.size

# MIPS Linux signal numbers (SIGBUS is 10 on MIPS, not 7 as on x86).
SIGILL, SIGTRAP, SIGFPE, SIGBUS, SIGSEGV, SIGSYS, SIGALRM = 4, 5, 8, 10, 11, 12, 14
SIGNAMES = {4: "SIGILL", 5: "SIGTRAP", 8: "SIGFPE", 10: "SIGBUS",
            11: "SIGSEGV", 12: "SIGSYS", 14: "SIGALRM"}
M64 = (1 << 64) - 1


class State:
    def __init__(self, gpr=None, hi=0, lo=0, fpr=None, fcsr=0):
        self.gpr = list(gpr) if gpr else [0] * 32
        self.hi, self.lo = hi, lo
        self.fpr = list(fpr) if fpr else [0] * 32
        self.fcsr = fcsr

    def pack_fields(self):
        return self.gpr + [self.hi, self.lo] + self.fpr + [self.fcsr, 0]

    @classmethod
    def from_fields(cls, f):
        return cls(f[0:32], f[32], f[33], f[34:66], f[66])


def pack_record(insns, state, data=b""):
    assert 1 <= len(insns) <= DSEQ_MAX_INSNS
    ins = list(insns) + [0] * (DSEQ_MAX_INSNS - len(insns))
    data = bytes(data).ljust(DATA_SIZE, b"\0")
    return RECORD.pack(len(insns), 0, *ins, *state.pack_fields(), data)


class Result:
    def __init__(self, raw):
        f = RESULT.unpack(raw)
        self.stop, self.signo, self.si_code, _, self.pc, self.badvaddr = f[:6]
        self.state = State.from_fields(f[6:6 + 68])
        self.data = f[6 + 68]

    def describe(self):
        kind = "END" if self.stop == STOP_END else "SIGNAL"
        return "%s %s(%d) si_code=%d pc=%#x badvaddr=%#x" % (
            kind, SIGNAMES.get(self.signo, "?"), self.signo, self.si_code,
            self.pc, self.badvaddr)


# ---- tiny assembler ----
R = {n: i for i, n in enumerate(
    "zero at v0 v1 a0 a1 a2 a3 a4 a5 a6 a7 t0 t1 t2 t3 s0 s1 s2 s3 s4 s5 s6 s7 "
    "t8 t9 k0 k1 gp sp s8 ra".split())}


def rtype(rs, rt, rd, sa, funct, op=0):
    return (op << 26) | (rs << 21) | (rt << 16) | (rd << 11) | (sa << 6) | funct


def itype(op, rs, rt, imm):
    return (op << 26) | (rs << 21) | (rt << 16) | (imm & 0xFFFF)


def special3(rs, rt, rd, sa, funct):
    return rtype(rs, rt, rd, sa, funct, op=0x1F)


addiu = lambda rt, rs, imm: itype(0x09, rs, rt, imm)
daddiu = lambda rt, rs, imm: itype(0x19, rs, rt, imm)
addi = lambda rt, rs, imm: itype(0x08, rs, rt, imm)
lw = lambda rt, off, base: itype(0x23, base, rt, off)
ld = lambda rt, off, base: itype(0x37, base, rt, off)
sw = lambda rt, off, base: itype(0x2B, base, rt, off)
sd = lambda rt, off, base: itype(0x3F, base, rt, off)
beq = lambda rs, rt, off: itype(0x04, rs, rt, off)
bne = lambda rs, rt, off: itype(0x05, rs, rt, off)
add = lambda rd, rs, rt: rtype(rs, rt, rd, 0, 0x20)
sub = lambda rd, rs, rt: rtype(rs, rt, rd, 0, 0x22)
addu = lambda rd, rs, rt: rtype(rs, rt, rd, 0, 0x21)
dadd = lambda rd, rs, rt: rtype(rs, rt, rd, 0, 0x2C)
daddu = lambda rd, rs, rt: rtype(rs, rt, rd, 0, 0x2D)
div = lambda rs, rt: rtype(rs, rt, 0, 0, 0x1A)
ddiv = lambda rs, rt: rtype(rs, rt, 0, 0, 0x1E)
mfhi = lambda rd: rtype(0, 0, rd, 0, 0x10)
mflo = lambda rd: rtype(0, 0, rd, 0, 0x12)
jr = lambda rs: rtype(rs, 0, 0, 0, 0x08)
NOP = 0
SYSCALL = 0x0000000C


def brk(code):
    return 0x0000000D | ((code & 0xFFFFF) << 6)


def trap_r(funct, rs, rt, code=0):  # TGE..TNE (SPECIAL)
    return rtype(rs, rt, 0, 0, funct) | ((code & 0x3FF) << 6)


teq = lambda rs, rt, code=0: trap_r(0x34, rs, rt, code)
tne = lambda rs, rt, code=0: trap_r(0x36, rs, rt, code)
tge = lambda rs, rt, code=0: trap_r(0x30, rs, rt, code)
teqi = lambda rs, imm: itype(0x01, rs, 0x0C, imm)  # REGIMM TEQI
tnei = lambda rs, imm: itype(0x01, rs, 0x0E, imm)

# Release 2
ext = lambda rt, rs, pos, size: special3(rs, rt, size - 1, pos, 0x00)
ins_ = lambda rt, rs, pos, size: special3(rs, rt, pos + size - 1, pos, 0x04)
dext = lambda rt, rs, pos, size: special3(rs, rt, size - 1, pos, 0x03)
wsbh = lambda rd, rt: special3(0, rt, rd, 0x02, 0x20)
seb = lambda rd, rt: special3(0, rt, rd, 0x10, 0x20)
seh = lambda rd, rt: special3(0, rt, rd, 0x18, 0x20)
dsbh = lambda rd, rt: special3(0, rt, rd, 0x02, 0x24)
rotr = lambda rd, rt, sa: rtype(1, rt, rd, sa, 0x02)
drotr = lambda rd, rt, sa: rtype(1, rt, rd, sa, 0x3A)
rdhwr = lambda rt, rd: special3(0, rt, rd, 0, 0x3B)

# COP0 / COP1
mfc0 = lambda rt, rd, sel=0: (0x10 << 26) | (0 << 21) | (rt << 16) | (rd << 11) | sel
cfc1 = lambda rt, fs: (0x11 << 26) | (2 << 21) | (rt << 16) | (fs << 11)
ctc1 = lambda rt, fs: (0x11 << 26) | (6 << 21) | (rt << 16) | (fs << 11)
dmfc1 = lambda rt, fs: (0x11 << 26) | (1 << 21) | (rt << 16) | (fs << 11)
dmtc1 = lambda rt, fs: (0x11 << 26) | (5 << 21) | (rt << 16) | (fs << 11)
add_d = lambda fd, fs, ft: (0x11 << 26) | (0x11 << 21) | (ft << 16) | (fs << 11) | (fd << 6) | 0x00
div_d = lambda fd, fs, ft: (0x11 << 26) | (0x11 << 21) | (ft << 16) | (fs << 11) | (fd << 6) | 0x03
cvt_w_d = lambda fd, fs: (0x11 << 26) | (0x11 << 21) | (fs << 11) | (fd << 6) | 0x24


def d2u(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def sx32(x):
    x &= 0xFFFFFFFF
    return (x | ~0xFFFFFFFF) & M64 if x & 0x80000000 else x


# ---- running ----
def build_runner():
    out = os.path.join(tempfile.mkdtemp(prefix="oracle_runner."), "oracle_runner")
    subprocess.run([os.path.join(HERE, "build.sh"), out], check=True,
                   stdout=subprocess.DEVNULL)
    return out


def run_records(runner, qemu, records_bytes, count):
    """records_bytes: concatenated packed records. Returns list of Result."""
    with tempfile.TemporaryFile() as fin:
        fin.write(HEADER.pack(DSEQ_MAGIC, DSEQ_VERSION, count))
        fin.write(records_bytes)
        fin.seek(0)
        p = subprocess.run([qemu, "-cpu", "MIPS64R2-generic", runner],
                           stdin=fin, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise RuntimeError("runner exit %d: %s" % (p.returncode,
                                                    p.stderr.decode()))
    out = p.stdout
    if len(out) != count * RESULT.size:
        raise RuntimeError("expected %d results, got %d bytes" %
                           (count, len(out)))
    return [Result(out[i * RESULT.size:(i + 1) * RESULT.size])
            for i in range(count)]


# ---- test cases ----
class Case:
    def __init__(self, name, insns, state=None, data=b"", check=None,
                 survey=False):
        self.name, self.insns = name, insns
        self.state = state or State()
        self.data = data
        self.check = check  # function(Result, Case) -> list of error strings
        self.survey = survey


def expect(stop=None, signo=None, pc=None, gpr=None, data=None, badvaddr=None,
           hi=None, lo=None, fpr=None, fcsr=None, si_code=None):
    def chk(r, case):
        errs = []

        def eq(what, got, want):
            if got != want:
                errs.append("%s: got %#x want %#x" % (what, got, want))
        if stop is not None: eq("stop", r.stop, stop)
        if signo is not None: eq("signo", r.signo, signo)
        if si_code is not None: eq("si_code", r.si_code & M64, si_code & M64)
        if pc is not None: eq("pc", r.pc, pc)
        if badvaddr is not None: eq("badvaddr", r.badvaddr, badvaddr)
        if hi is not None: eq("hi", r.state.hi, hi)
        if lo is not None: eq("lo", r.state.lo, lo)
        if fcsr is not None: eq("fcsr", r.state.fcsr, fcsr)
        for i, v in (gpr or {}).items():
            eq("gpr[%d]" % i, r.state.gpr[i], v & M64)
        for i, v in (fpr or {}).items():
            eq("fpr[%d]" % i, r.state.fpr[i], v & M64)
        for off, bs in (data or {}).items():
            got = r.data[off:off + len(bs)]
            if got != bs:
                errs.append("data[%d..]: got %s want %s" % (off, got.hex(), bs.hex()))
        return errs
    return chk


def end_at(n, **kw):
    return expect(stop=STOP_END, signo=SIGTRAP, pc=CODE + 4 * n, **kw)


def sig_at(signo, pc, **kw):
    return expect(stop=STOP_SIGNAL, signo=signo, pc=pc, **kw)


def st(**regs):
    s = State()
    for k, v in regs.items():
        s.gpr[R[k]] = v & M64
    return s


def make_cases():
    cases = []
    A = cases.append
    t0, t1, t2, v0, v1, a0 = R["t0"], R["t1"], R["t2"], R["v0"], R["v1"], R["a0"]

    A(Case("addiu", [addiu(v0, v1, 5)], st(v1=0x7FFFFFFF),
           check=end_at(1, gpr={v0: sx32(0x80000004), v1: 0x7FFFFFFF})))
    A(Case("addiu-again (new code at same address)", [addiu(v0, v1, -3)],
           st(v1=10), check=end_at(1, gpr={v0: 7})))
    for i in range(1, 41):  # same address, same length, new code each time
        A(Case("back-to-back new code #%d" % i, [addiu(v0, 0, i), NOP],
               check=end_at(2, gpr={v0: i})))
    A(Case("daddu", [daddu(a0, R["a1"], R["a2"])],
           st(a1=0x123456789ABCDEF0, a2=0x1111111111111111),
           check=end_at(1, gpr={a0: 0x23456789ABCDF001})))
    A(Case("lw/sw on the data page",
           [lw(v0, 8, t0), sw(t1, 16, t0), sd(t1, 24, t0), ld(v1, 24, t0)],
           st(t0=DATA, t1=0xCAFEBABEDEADBEEF),
           data=bytes(8) + bytes.fromhex("efcdab89"),
           check=end_at(4, gpr={v0: sx32(0x89ABCDEF), v1: 0xCAFEBABEDEADBEEF},
                        data={8: bytes.fromhex("efcdab89"),
                              16: bytes.fromhex("efbeadde"),
                              24: bytes.fromhex("efbeaddebebafeca")})))
    A(Case("data page rest is zero again", [lw(v0, 16, t0)], st(t0=DATA),
           check=end_at(1, gpr={v0: 0}, data={16: bytes(16)})))
    A(Case("forward branch + delay slot",
           [beq(0, 0, 2), addiu(v0, 0, 1), addiu(v1, 0, 1), addiu(a0, 0, 1)],
           st(v1=77), check=end_at(4, gpr={v0: 1, v1: 77, a0: 1})))
    A(Case("branch skips over the end? (no: lands on insn 3)",
           [bne(0, 0, 5), NOP, addiu(v0, 0, 9)],
           check=end_at(3, gpr={v0: 9})))
    # full state round trip with garbage everywhere, including k0/k1/gp/sp/ra
    rnd = random.Random(1234)
    g = [0] + [rnd.getrandbits(64) for _ in range(31)]
    f = [rnd.getrandbits(64) for _ in range(32)]
    s = State(g, rnd.getrandbits(64), rnd.getrandbits(64), f, 0x00000003)
    A(Case("round trip of every register (garbage sp/gp/ra/k0/k1)", [NOP], s,
           data=bytes(range(256)),
           check=end_at(1, gpr={i: g[i] for i in range(1, 32)}, hi=s.hi, lo=s.lo,
                        fpr={i: f[i] for i in range(32)}, fcsr=3,
                        data={0: bytes(range(256))})))
    A(Case("FCSR restored by sigreturn (cfc1 reads it)", [cfc1(v0, 31)],
           State(fcsr=0x00000002), check=end_at(1, gpr={v0: 2}, fcsr=2)))
    A(Case("FCSR writable mask 0xff83ffff; enabled Cause bits cleared",
           [cfc1(v0, 31)], State(fcsr=0xFFFFFFFF),
           check=end_at(1, gpr={v0: sx32(0xFF800FFF)}, fcsr=0xFF800FFF)))
    A(Case("FCSR Cause bits without Enable are kept", [NOP],
           State(fcsr=0x0001F000), check=end_at(1, fcsr=0x0001F000)))
    # FPU: ctc1 sets RM, add.d, cvt.w.d honours RM, FR=1 (odd FPR is 64-bit)
    fs = State(fpr=[0] * 32)
    fs.fpr[2] = d2u(1.5)
    fs.fpr[4] = d2u(2.25)
    fs.fpr[6] = d2u(2.5)
    fs.fpr[1] = 0x1122334455667788
    fs.gpr[R["t0"]] = 1  # RM = round toward zero
    A(Case("ctc1 + add.d + cvt.w.d + dmfc1 odd FPR (FR=1)",
           [ctc1(t0, 31), add_d(0, 2, 4), cvt_w_d(8, 6), dmfc1(v0, 1),
            cfc1(v1, 31)], fs,
           check=end_at(5, fpr={0: d2u(3.75), 8: 2, 1: 0x1122334455667788},
                        gpr={v0: 0x1122334455667788, v1: 0x1005},
                        fcsr=0x1005)))  # RZ, Inexact cause+flag
    # Release 2 instructions
    A(Case("R2: ext/ins/dext/rotr/wsbh/seb/seh/dsbh/drotr",
           [ext(R["s0"], t0, 4, 8), ins_(t1, t0, 8, 4), dext(R["s1"], t0, 28, 12),
            rotr(R["s2"], t0, 8), wsbh(R["s3"], t0), seb(R["s4"], t0),
            seh(R["s5"], t0), dsbh(R["s6"], t0), drotr(R["s7"], t0, 4)],
           st(t0=0x0123456789ABCDEF, t1=0xFFFFFFFFFFFFFFFF),
           check=end_at(9, gpr={
               R["s0"]: 0xDE,
               t1: 0xFFFFFFFFFFFFFFFF & ~0xF00 | 0xF00,
               R["s1"]: 0x678,
               R["s2"]: sx32(0xEF89ABCD),
               R["s3"]: sx32(0xAB89EFCD),
               R["s4"]: sx32(0xFFFFFFEF),
               R["s5"]: sx32(0xFFFFCDEF),
               R["s6"]: 0x23016745AB89EFCD,
               R["s7"]: 0xF0123456789ABCDE})))
    A(Case("R2: ins really inserts", [ins_(t1, t0, 8, 4)],
           st(t0=0x5, t1=0), check=end_at(1, gpr={t1: 0x500})))
    A(Case("integer divide by zero does not trap",
           [div(t0, 0), ddiv(t0, 0), mfhi(v0)], st(t0=5),
           check=end_at(3)))

    # ---- faults ----
    A(Case("ADD overflow -> SIGFPE", [addiu(a0, 0, 1), add(v0, v1, t0)],
           st(v1=0x7FFFFFFF, t0=1, v0=0x55),
           check=sig_at(SIGFPE, CODE + 4, gpr={v0: 0x55, a0: 1}, si_code=2),
           survey=True))
    A(Case("ADD overflow in a delay slot", [beq(0, 0, 3), add(v0, v1, t0)],
           st(v1=0x7FFFFFFF, t0=1), check=sig_at(SIGFPE, CODE, si_code=2),
           survey=True))
    A(Case("SUB overflow -> SIGFPE", [sub(v0, v1, t0)],
           st(v1=sx32(0x80000000), t0=1), check=sig_at(SIGFPE, CODE), survey=True))
    A(Case("DADD overflow -> SIGFPE", [dadd(v0, v1, t0)],
           st(v1=0x7FFFFFFFFFFFFFFF, t0=1), check=sig_at(SIGFPE, CODE), survey=True))
    A(Case("ADDI overflow -> SIGFPE", [addi(v0, v1, 1)],
           st(v1=0x7FFFFFFF), check=sig_at(SIGFPE, CODE), survey=True))
    A(Case("DSUB overflow -> SIGFPE", [rtype(v1, t0, v0, 0, 0x2E)],
           st(v1=1 << 63, t0=1), check=sig_at(SIGFPE, CODE, si_code=2), survey=True))
    A(Case("DADDI overflow -> SIGFPE", [itype(0x18, v1, v0, 1)],
           st(v1=(1 << 63) - 1), check=sig_at(SIGFPE, CODE, si_code=2), survey=True))
    A(Case("misaligned lh", [itype(0x21, t0, v0, 1)], st(t0=DATA),
           check=sig_at(SIGBUS, CODE, badvaddr=DATA + 1, si_code=1), survey=True))
    A(Case("misaligned and unmapped lw -> SIGBUS", [lw(v0, 1, t0)],
           st(t0=0x40000000),
           check=sig_at(SIGBUS, CODE, badvaddr=0x40000001, si_code=1), survey=True))
    A(Case("lw from kseg0 address", [lw(v0, 0, t0)], st(t0=0xFFFFFFFF80000000),
           check=sig_at(SIGSEGV, CODE, badvaddr=0xFFFFFFFF80000000, si_code=1),
           survey=True))
    A(Case("DIV by zero: LO = rs, HI = 0 (QEMU's choice)", [div(v1, 0)],
           st(v1=123), check=end_at(1, lo=123, hi=0), survey=True))
    A(Case("DDIVU by zero: LO = rs, HI = 0 (QEMU's choice)",
           [rtype(v1, 0, 0, 0, 0x1F)], st(v1=123),
           check=end_at(1, lo=123, hi=0), survey=True))
    A(Case("misaligned lw", [NOP, lw(v0, 1, t0)], st(t0=DATA),
           check=sig_at(SIGBUS, CODE + 4, badvaddr=DATA + 1, si_code=1),
           survey=True))
    A(Case("misaligned sw", [sw(v0, 2, t0)], st(t0=DATA),
           check=sig_at(SIGBUS, CODE, badvaddr=DATA + 2), survey=True))
    A(Case("misaligned ld", [ld(v0, 4, t0)], st(t0=DATA),
           check=sig_at(SIGBUS, CODE, badvaddr=DATA + 4), survey=True))
    A(Case("misaligned lw in a delay slot", [beq(0, 0, 3), lw(v0, 1, t0)],
           st(t0=DATA), check=sig_at(SIGBUS, CODE, badvaddr=DATA + 1), survey=True))
    A(Case("lw from unmapped address 0", [lw(v0, 0, 0)],
           check=sig_at(SIGSEGV, CODE, badvaddr=0, si_code=1), survey=True))
    A(Case("sw to unmapped address", [sw(v0, 0, t0)], st(t0=0x40000000),
           check=sig_at(SIGSEGV, CODE, badvaddr=0x40000000), survey=True))
    A(Case("sw to the page after the data page", [sw(v0, 4096, t0)],
           st(t0=DATA), check=sig_at(SIGSEGV, CODE, badvaddr=DATA + 4096),
           survey=True))
    A(Case("jump to unmapped address", [jr(t0), NOP], st(t0=0x40000000),
           check=sig_at(SIGSEGV, 0x40000000), survey=True))
    A(Case("run off the end of the code page (zeros = nops)", [beq(0, 0, 2), NOP],
           check=sig_at(SIGSEGV, CODE + 4096), survey=True))
    A(Case("fault after a taken branch lands", [beq(0, 0, 2), NOP, NOP, lw(v0, 1, t0)],
           st(t0=DATA), check=sig_at(SIGBUS, CODE + 12), survey=True))
    A(Case("reserved instruction (opcode 0x3b)", [0xEC000000],
           check=sig_at(SIGILL, CODE, si_code=128), survey=True))
    A(Case("reserved instruction (SPECIAL funct 0x28)", [0x00000028],
           check=sig_at(SIGILL, CODE, si_code=128), survey=True))
    A(Case("reserved instruction in a delay slot", [beq(0, 0, 3), 0xEC000000],
           check=sig_at(SIGILL, CODE), survey=True))
    # QEMU quirks: these reserved encodings execute as NOPs.
    A(Case("QEMU quirk: MDMX opcode 0x1e is a NOP", [0x78A63805],
           st(a3=0x77), check=end_at(1, gpr={R["a3"]: 0x77}), survey=True))
    A(Case("QEMU quirk: SPECIAL funct 0x05 is a NOP", [0x00A63805],
           st(a3=0x77), check=end_at(1, gpr={R["a3"]: 0x77}), survey=True))
    A(Case("JALX (opcode 0x1d) -> SIGILL", [0x74000000],
           check=sig_at(SIGILL, CODE), survey=True))
    A(Case("COP2 mfc2 -> SIGILL", [0x48032000],
           check=sig_at(SIGILL, CODE), survey=True))
    A(Case("COP0 mfc0 $2,$12 in user mode", [mfc0(v0, 12)],
           check=sig_at(SIGILL, CODE, si_code=128), survey=True))
    A(Case("COP0 eret in user mode", [0x42000018],
           check=sig_at(SIGILL, CODE), survey=True))
    A(Case("CACHE in user mode", [0xBCA00000],
           check=sig_at(SIGILL, CODE), survey=True))
    A(Case("end BREAK", [NOP], check=end_at(1), survey=True))
    A(Case("end BREAK in the delay slot of a final branch",
           [addiu(v0, 0, 1), bne(v0, v1, 4)], st(v1=1),
           check=sig_at(SIGTRAP, CODE + 4, si_code=1, gpr={v0: 1}), survey=True))
    A(Case("QEMU quirk: BNE rs==rt drops the delay slot (pc = slot)",
           [bne(v1, v1, 4), lw(v0, 1, t0)], st(t0=DATA),
           check=sig_at(SIGBUS, CODE + 4, badvaddr=DATA + 1), survey=True))
    A(Case("QEMU quirk: BLTZ $0 drops the delay slot (pc = slot)",
           [itype(0x01, 0, 0, 4), lw(v0, 1, t0)], st(t0=DATA),
           check=sig_at(SIGBUS, CODE + 4, badvaddr=DATA + 1), survey=True))
    for code in (0, 1, 5, 6, 7, 8, 0x3FF, 0x400, 0x1800, 0x1C00, 0x5A5A5):
        A(Case("BREAK code %#x" % code, [brk(code)],
               check=sig_at(SIGTRAP, CODE, si_code=1), survey=True))
    A(Case("end-code BREAK not at the end", [brk(END_CODE), NOP],
           check=sig_at(SIGTRAP, CODE), survey=True))
    A(Case("TEQ taken code 0", [teq(0, 0)], check=sig_at(SIGTRAP, CODE, si_code=128), survey=True))
    A(Case("TEQ taken code 6", [teq(0, 0, 6)], check=sig_at(SIGTRAP, CODE, si_code=128), survey=True))
    A(Case("TEQ taken code 7", [teq(0, 0, 7)], check=sig_at(SIGTRAP, CODE, si_code=128), survey=True))
    A(Case("TEQ taken code 0x3ff", [teq(0, 0, 0x3FF)], check=sig_at(SIGTRAP, CODE, si_code=128), survey=True))
    A(Case("TNE not taken", [tne(0, 0)], check=end_at(1), survey=True))
    A(Case("TGE taken", [tge(0, 0)], check=sig_at(SIGTRAP, CODE, si_code=128), survey=True))
    A(Case("TEQI taken", [teqi(0, 0)], check=sig_at(SIGTRAP, CODE, si_code=128), survey=True))
    A(Case("TNEI taken", [tnei(0, 1)], check=sig_at(SIGTRAP, CODE, si_code=128), survey=True))
    A(Case("TEQ in a delay slot", [beq(0, 0, 3), teq(0, 0)],
           check=sig_at(SIGTRAP, CODE, si_code=128), survey=True))
    for hw, want in ((0, 0), (1, 0x20), (3, 2)):
        A(Case("RDHWR $2, $%d" % hw, [rdhwr(v0, hw)], st(v0=0xDEAD),
               check=end_at(1, gpr={v0: want}), survey=True))
    for hw in (2, 29):  # cycle counter / UserLocal: values are not stable
        A(Case("RDHWR $2, $%d" % hw, [rdhwr(v0, hw)], st(v0=0xDEAD),
               check=end_at(1), survey=True))
    for hw in (4, 5, 30, 31):
        A(Case("RDHWR $2, $%d" % hw, [rdhwr(v0, hw)], st(v0=0xDEAD),
               check=sig_at(SIGILL, CODE, si_code=128), survey=True))
    A(Case("FP divide by zero, enable Z -> SIGFPE", [ctc1(t0, 31), div_d(0, 2, 4)],
           State(fpr=[d2u(1.0) if i == 2 else 0 for i in range(32)],
                 gpr=[0x400 if i == R["t0"] else 0 for i in range(32)]),
           check=sig_at(SIGFPE, CODE + 4, si_code=3), survey=True))
    A(Case("SYSCALL getpid(5038)", [addiu(v0, 0, 5038), SYSCALL],
           check=end_at(2, gpr={R["a3"]: 0}), survey=True))
    A(Case("infinite loop -> watchdog SIGALRM", [beq(0, 0, -1), NOP],
           check=expect(stop=STOP_SIGNAL, signo=SIGALRM), survey=True))
    A(Case("still alive after the timeout", [addiu(v0, 0, 42)],
           check=end_at(1, gpr={v0: 42})))
    return cases


def run_cases(runner, qemu, survey):
    cases = make_cases()
    blob = b"".join(pack_record(c.insns, c.state, c.data) for c in cases)
    results = run_records(runner, qemu, blob, len(cases))
    fails = 0
    for c, r in zip(cases, results):
        errs = c.check(r, c) if c.check else []
        status = "ok  " if not errs else "FAIL"
        if errs or survey and c.survey:
            extra = ""
            if c.name.startswith("RDHWR"):
                extra = " v0=%#x" % r.state.gpr[2]
            print("%s %-52s %s%s" % (status, c.name, r.describe(), extra))
        for e in errs:
            print("       " + e)
        fails += bool(errs)
    print("%d passed, %d failed" % (len(cases) - fails, fails))
    return fails


# ---- throughput ----
def random_alu(rnd):
    rd, rs, rt = rnd.randrange(1, 32), rnd.randrange(32), rnd.randrange(32)
    k = rnd.randrange(12)
    if k == 0: return addu(rd, rs, rt)
    if k == 1: return daddu(rd, rs, rt)
    if k == 2: return rtype(rs, rt, rd, 0, 0x23)  # subu
    if k == 3: return rtype(rs, rt, rd, 0, 0x24)  # and
    if k == 4: return rtype(rs, rt, rd, 0, 0x25)  # or
    if k == 5: return rtype(rs, rt, rd, 0, 0x26)  # xor
    if k == 6: return rtype(0, rt, rd, rnd.randrange(32), 0x00)  # sll
    if k == 7: return rtype(0, rt, rd, rnd.randrange(32), 0x3B)  # dsra
    if k == 8: return rtype(rs, rt, rd, 0, 0x2B)  # sltu
    if k == 9: return addiu(rd, rs, rnd.getrandbits(16))
    if k == 10: return daddiu(rd, rs, rnd.getrandbits(16))
    return itype(0x0F, 0, rd, rnd.getrandbits(16))  # lui


def bench(runner, qemu, n):
    rnd = random.Random(42)
    # A pool of distinct records, repeated: packing 100k records in Python
    # takes longer than we want to measure.
    pool = []
    for _ in range(1000):
        s = State([0] + [rnd.getrandbits(64) for _ in range(31)],
                  rnd.getrandbits(64), rnd.getrandbits(64),
                  [rnd.getrandbits(64) for _ in range(32)], 0)
        pool.append(pack_record([random_alu(rnd) for _ in range(8)], s,
                                bytes(rnd.getrandbits(8) for _ in range(256))))
    with tempfile.TemporaryFile() as fin, tempfile.TemporaryFile() as fout:
        fin.write(HEADER.pack(DSEQ_MAGIC, DSEQ_VERSION, n))
        for i in range(n):
            fin.write(pool[i % len(pool)])
        fin.seek(0)
        t = time.monotonic()
        p = subprocess.run([qemu, "-cpu", "MIPS64R2-generic", runner],
                           stdin=fin, stdout=fout)
        dt = time.monotonic() - t
        fout.seek(0)
        out = fout.read()
    if p.returncode != 0 or len(out) != n * RESULT.size:
        print("bench: runner failed (exit %d, %d bytes)" % (p.returncode, len(out)))
        return 1
    head = struct.Struct("<IIiIQ")
    bad = 0
    for i in range(n):
        stop, _, _, _, pc = head.unpack_from(out, i * RESULT.size)
        bad += stop != STOP_END or pc != CODE + 32
    print("bench: %d records of 8 ALU insns in %.2f s = %.0f records/s%s" %
          (n, dt, n / dt, "" if not bad else " (%d did not END!)" % bad))
    return bad


def lockstep(runner, qemu):
    """One record in, one result out, over pipes: the runner must flush
    before it blocks on stdin."""
    n = 3
    p = subprocess.Popen([qemu, "-cpu", "MIPS64R2-generic", runner],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    p.stdin.write(HEADER.pack(DSEQ_MAGIC, DSEQ_VERSION, n))
    ok = True
    for i in range(n):
        p.stdin.write(pack_record([addiu(R["v0"], 0, 100 + i)], State()))
        p.stdin.flush()
        r = Result(p.stdout.read(RESULT.size))
        ok &= r.stop == STOP_END and r.state.gpr[2] == 100 + i
    p.stdin.close()
    ok &= p.wait() == 0
    print("lock-step over pipes: %s" % ("ok" if ok else "FAIL"))
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runner")
    ap.add_argument("--qemu", default="qemu-mips64el")
    ap.add_argument("--bench", type=int, default=100000)
    ap.add_argument("--survey", action="store_true")
    a = ap.parse_args()
    runner = a.runner or build_runner()
    fails = run_cases(runner, a.qemu, a.survey)
    fails += lockstep(runner, a.qemu)
    if a.bench:
        fails += bench(runner, a.qemu, a.bench)
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
