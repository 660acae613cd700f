// The gdb stub without sockets: packets in, replies out, on a real Vm; and
// the engines' breakpoint support (interpreter and JIT) that the stub
// relies on.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "debug/gdb_stub.h"
#include "interp/interpreter.h"
#include "jit/jit.h"
#include "cpu/cp0.h"
#include "tests/support/encode.h"

namespace disco::debug {
namespace {

using namespace disco::test::enc;

enum : unsigned { T0 = 8, T1 = 9, T2 = 10, T3 = 11 };

constexpr uint64_t kCodePa = 0x1000;
constexpr uint64_t kKseg0 = 0xffffffff80000000ull;
constexpr uint64_t kCode = kKseg0 + kCodePa;

VmSpec config(Engine e) {
  VmSpec c;
  c.mem_bytes = 16ull << 20;
  c.deterministic = true;
  c.engine = e;
  return c;
}

// A loop at kCode:            +0  t0 += 1
//                             +4  t1 += 2
//                             +8  t2 += 3
//                             +c  b +0 (back to the start)
//                             +10 t3 += 1 (delay slot)
void load_loop(Vm& vm) {
  const uint32_t code[] = {ADDIU(T0, T0, 1), ADDIU(T1, T1, 2), ADDIU(T2, T2, 3), BEQ(0, 0, -4), ADDIU(T3, T3, 1)};
  std::memcpy(vm.ram_page(kCodePa, true), code, sizeof code);
  Cpu& c = vm.cpu();
  c.s.cp0.status = 0;  // kernel mode, ERL/EXL clear
  c.mode_changed();
  c.translation_changed();
  c.s.pc = kCode;
}

VmExit run_insns(Vm& vm, uint64_t n) {
  Vm::Limits lim;
  lim.max_insns = vm.instructions() + n;
  return vm.run(lim);
}

class Engines : public testing::TestWithParam<Engine> {};

TEST_P(Engines, StopsExactlyAtABreakpointInTheMiddleOfABlock) {
  Vm vm(config(GetParam()));
  load_loop(vm);
  Cpu& c = vm.cpu();
  // Warm up without breakpoints (the JIT compiles the loop as one block).
  ASSERT_EQ(run_insns(vm, 500), VmExit::InsnLimit);
  ASSERT_EQ(c.s.pc, kCode);
  const uint64_t t0 = c.s.gpr[T0];
  ASSERT_EQ(t0, 100u);

  const uint64_t dropped = vm.jit() ? vm.jit()->stats().invalidations : 0;
  if (vm.jit()) {
    EXPECT_GE(vm.jit()->stats().guest_insns_in_blocks, 400u);
  }
  ASSERT_TRUE(c.add_breakpoint(kCode + 8));
  EXPECT_FALSE(c.add_breakpoint(kCode + 8));
  if (vm.jit()) {
    EXPECT_GT(vm.jit()->stats().invalidations, dropped);  // the loop's block went
  }
  ASSERT_EQ(run_insns(vm, 1000), VmExit::Breakpoint);
  EXPECT_EQ(c.s.pc, kCode + 8);
  EXPECT_EQ(c.s.gpr[T0], t0 + 1);
  EXPECT_EQ(c.s.gpr[T1], 2 * (t0 + 1));
  EXPECT_EQ(c.s.gpr[T2], 3 * t0);  // not executed yet

  // Stopping again without going on: still there.
  ASSERT_EQ(run_insns(vm, 1000), VmExit::Breakpoint);
  EXPECT_EQ(c.s.pc, kCode + 8);
  EXPECT_EQ(c.s.gpr[T2], 3 * t0);

  // Going on from it: one whole round to the same place.
  c.break_skip = c.s.pc;
  ASSERT_EQ(run_insns(vm, 1000), VmExit::Breakpoint);
  EXPECT_EQ(c.s.pc, kCode + 8);
  EXPECT_EQ(c.s.gpr[T0], t0 + 2);
  EXPECT_EQ(c.s.gpr[T2], 3 * (t0 + 1));

  // Removed: the loop runs freely again.
  ASSERT_TRUE(c.remove_breakpoint(kCode + 8));
  EXPECT_FALSE(c.remove_breakpoint(kCode + 8));
  const uint64_t before = vm.instructions();
  ASSERT_EQ(run_insns(vm, 500), VmExit::InsnLimit);
  EXPECT_EQ(vm.instructions(), before + 500);
  EXPECT_EQ(c.s.gpr[T0], t0 + 2 + 100);
  if (vm.jit()) {
    EXPECT_GE(vm.jit()->stats().guest_insns_in_blocks, 800u);  // blocks again
  }
}

TEST_P(Engines, BreakpointInADelaySlot) {
  Vm vm(config(GetParam()));
  load_loop(vm);
  Cpu& c = vm.cpu();
  ASSERT_EQ(run_insns(vm, 50), VmExit::InsnLimit);
  c.add_breakpoint(kCode + 0x10);
  ASSERT_EQ(run_insns(vm, 1000), VmExit::Breakpoint);
  EXPECT_EQ(c.s.pc, kCode + 0x10);
  EXPECT_TRUE(c.s.branch_pending);
  const uint64_t t3 = c.s.gpr[T3];
  c.break_skip = c.s.pc;
  ASSERT_EQ(run_insns(vm, 3), VmExit::InsnLimit);  // the slot, then the target
  EXPECT_EQ(c.s.gpr[T3], t3 + 1);
  EXPECT_EQ(c.s.pc, kCode + 8);
}

TEST_P(Engines, BreakpointAtTheBlockStartOfARunningLoop) {
  Vm vm(config(GetParam()));
  load_loop(vm);
  Cpu& c = vm.cpu();
  ASSERT_EQ(run_insns(vm, 202), VmExit::InsnLimit);
  c.add_breakpoint(kCode);
  ASSERT_EQ(run_insns(vm, 1000), VmExit::Breakpoint);
  EXPECT_EQ(c.s.pc, kCode);
  EXPECT_EQ(vm.instructions() % 5, 0u);  // whole rounds
}

TEST_P(Engines, CodeWrittenByTheDebuggerIsSeen) {
  Vm vm(config(GetParam()));
  load_loop(vm);
  Cpu& c = vm.cpu();
  ASSERT_EQ(run_insns(vm, 500), VmExit::InsnLimit);  // 100 rounds
  ASSERT_EQ(c.s.gpr[T2], 300u);
  const uint32_t add5 = ADDIU(T2, T2, 5);
  ASSERT_EQ(write_memory(vm, kCode + 8, reinterpret_cast<const uint8_t*>(&add5), 4), 4u);
  ASSERT_EQ(run_insns(vm, 500), VmExit::InsnLimit);
  EXPECT_EQ(c.s.gpr[T2], 300u + 500u);
  uint32_t back = 0;
  ASSERT_EQ(read_memory(vm, kCode + 8, reinterpret_cast<uint8_t*>(&back), 4), 4u);
  EXPECT_EQ(back, add5);
}

INSTANTIATE_TEST_SUITE_P(Gdb, Engines, testing::Values(Engine::Interp, Engine::Jit),
                         [](const testing::TestParamInfo<Engine>& i) {
                           return i.param == Engine::Jit ? std::string("Jit") : std::string("Interp");
                         });

// ---------------------------------------------------------------------------
// Packets on a stopped VM

struct StubFixture : testing::Test {
  Vm vm{config(Engine::Interp)};
  GdbStub stub;
  GdbStub::Action next = GdbStub::Action::None;
  std::string ask(const std::string& p) { return stub.handle(vm, p, next); }
  void SetUp() override { load_loop(vm); }
};

std::string le64(uint64_t v) {
  uint8_t b[8];
  std::memcpy(b, &v, 8);
  return to_hex(b, 8);
}

TEST_F(StubFixture, RegistersReadAndWrite) {
  Cpu& c = vm.cpu();
  c.s.gpr[29] = 0xffffffff80116150ull;
  c.s.cp0.epc = 0x1234;
  const std::string g = ask("g");
  ASSERT_EQ(g.size(), static_cast<size_t>(kNumRegs) * 16);
  EXPECT_EQ(g.substr(29 * 16, 16), le64(0xffffffff80116150ull));
  EXPECT_EQ(g.substr(kRegPc * 16, 16), le64(kCode));
  EXPECT_EQ(g.substr(kRegEpc * 16, 16), le64(0x1234));
  EXPECT_EQ(ask("p25"), le64(kCode));  // 0x25 = pc
  EXPECT_EQ(ask("p48"), le64(0x1234));  // 0x48 = epc

  EXPECT_EQ(ask("P8=" + le64(77)), "OK");  // t0
  EXPECT_EQ(c.s.gpr[T0], 77u);
  EXPECT_EQ(ask("P0=" + le64(5)), "OK");  // $zero stays 0
  EXPECT_EQ(c.s.gpr[0], 0u);
  EXPECT_EQ(ask("P26=" + le64(0x3ff0000000000000ull)), "OK");  // f0
  EXPECT_EQ(c.s.fpr[0], 0x3ff0000000000000ull);

  // G writes everything back; a changed pc leaves a delay slot.
  c.s.branch_pending = true;
  std::string all = ask("g");
  all.replace(kRegPc * 16, 16, le64(kCode + 4));
  all.replace(T1 * 16, 16, le64(99));
  EXPECT_EQ(ask("G" + all), "OK");
  EXPECT_EQ(c.s.pc, kCode + 4);
  EXPECT_EQ(c.s.gpr[T1], 99u);
  EXPECT_FALSE(c.s.branch_pending);

  EXPECT_EQ(ask("p49"), "E01");   // past the last register
  EXPECT_EQ(ask("pzz"), "E01");
  EXPECT_EQ(ask("P8"), "E01");
  EXPECT_EQ(ask("P8=1234"), "E01");  // not 8 bytes
  EXPECT_EQ(ask("G00"), "E01");
  EXPECT_EQ(ask("Gzz"), "E01");
}

TEST_F(StubFixture, StatusWritesGoThroughCp0Semantics) {
  Cpu& c = vm.cpu();
  // EXL set from the debugger: the mode follows (kernel), the key changes.
  EXPECT_EQ(ask("P20=" + le64(cp0::Status_EXL)), "OK");
  EXPECT_TRUE(c.s.cp0.status & cp0::Status_EXL);
  EXPECT_EQ(ask("p20"), le64(cp0::Status_EXL));
}

TEST_F(StubFixture, MemoryThroughTheGuestsTranslation) {
  Cpu& c = vm.cpu();
  // kseg0 and kseg1 both reach physical kCodePa.
  EXPECT_EQ(ask("mffffffff80001000,4"), to_hex(vm.ram_page(kCodePa, false), 4));
  EXPECT_EQ(ask("mffffffffa0001000,4"), to_hex(vm.ram_page(kCodePa, false), 4));
  EXPECT_EQ(ask("Mffffffff80002000,4:deadbeef"), "OK");
  EXPECT_EQ(ask("mffffffff80002000,4"), "deadbeef");
  EXPECT_EQ(ask("Xffffffff80002004,2:" + escape_binary("#}")), "OK");
  EXPECT_EQ(ask("mffffffff80002004,2"), "237d");
  EXPECT_EQ(ask("Xffffffff80002004,0:"), "OK");  // gdb's probe for X

  // Unmapped, mapped-but-missing, and device addresses fail without
  // touching the guest: no exception, no BadVAddr, same pc.
  const CpuState before = c.s;
  const uint64_t exceptions = c.stat_exceptions;
  EXPECT_EQ(ask("m0,4"), "E01");                   // kuseg, no TLB entry
  EXPECT_EQ(ask("mffffffffc0000000,4"), "E01");    // kseg2, no TLB entry
  EXPECT_EQ(ask("mffffffffbfd00000,4"), "E01");    // the power device
  EXPECT_EQ(ask("m4000000000000000,4"), "E01");    // xsseg: not in this mode
  EXPECT_EQ(ask("Mffffffffbfd00000,4:00000000"), "E01");  // no device writes
  EXPECT_EQ(ask("M0,1:00"), "E01");
  EXPECT_EQ(c.stat_exceptions, exceptions);
  EXPECT_EQ(c.s.cp0.badvaddr, before.cp0.badvaddr);
  EXPECT_EQ(c.s.pc, before.pc);
  EXPECT_EQ(c.s.cp0.status, before.cp0.status);

  // A read that runs off the end of RAM (16 MiB) stops there: a partial reply.
  EXPECT_EQ(ask("mffffffff80fffffe,4"), "0000");

  // Malformed.
  EXPECT_EQ(ask("m"), "E01");
  EXPECT_EQ(ask("m1000"), "E01");
  EXPECT_EQ(ask("mzz,4"), "E01");
  EXPECT_EQ(ask("M1000,4"), "E01");
  EXPECT_EQ(ask("Mffffffff80002000,4:dead"), "E01");  // length mismatch
  EXPECT_EQ(ask("Mffffffff80002000,1:zz"), "E01");
  EXPECT_EQ(ask("Xffffffff80002000,1:}"), "E01");
}

TEST_F(StubFixture, BreakpointPackets) {
  Cpu& c = vm.cpu();
  EXPECT_EQ(ask("Z0,ffffffff80001008,4"), "OK");
  EXPECT_EQ(ask("Z1,ffffffff8000100c,4"), "OK");  // hardware: the same here
  EXPECT_TRUE(c.breakpoint_at(kCode + 8));
  EXPECT_TRUE(c.breakpoint_at(kCode + 0xc));
  EXPECT_EQ(ask("z0,ffffffff80001008,4"), "OK");
  EXPECT_FALSE(c.breakpoint_at(kCode + 8));
  EXPECT_EQ(ask("z1,ffffffff8000100c,4"), "OK");
  EXPECT_TRUE(c.breakpoints.empty());
  EXPECT_EQ(ask("Z2,ffffffff80001008,4"), "");  // watchpoints: not supported
  EXPECT_EQ(ask("Z0,zz,4"), "E01");
  EXPECT_EQ(ask("Z0"), "E01");
  EXPECT_EQ(ask("Z0,1000"), "E01");
}

TEST_F(StubFixture, ResumeCommands) {
  ask("c");
  EXPECT_EQ(next, GdbStub::Action::Continue);
  ask("s");
  EXPECT_EQ(next, GdbStub::Action::Step);
  ask("cffffffff80001004");
  EXPECT_EQ(next, GdbStub::Action::Continue);
  EXPECT_EQ(vm.cpu().s.pc, kCode + 4);
  ask("C05;ffffffff80001008");
  EXPECT_EQ(vm.cpu().s.pc, kCode + 8);
  EXPECT_EQ(ask("vCont?"), "vCont;c;C;s;S");
  ask("vCont;s:1;c");
  EXPECT_EQ(next, GdbStub::Action::Step);
  ask("vCont;c");
  EXPECT_EQ(next, GdbStub::Action::Continue);
  EXPECT_EQ(ask("vCont;x"), "E01");
  EXPECT_EQ(next, GdbStub::Action::None);
  EXPECT_EQ(ask("vCont;"), "E01");
  EXPECT_EQ(ask("czz"), "E01");
  EXPECT_EQ(next, GdbStub::Action::None);
  EXPECT_EQ(ask("D"), "OK");
  EXPECT_EQ(next, GdbStub::Action::Detach);
  ask("k");
  EXPECT_EQ(next, GdbStub::Action::Kill);
  EXPECT_EQ(ask("vKill;1"), "OK");
  EXPECT_EQ(next, GdbStub::Action::Kill);
}

TEST_F(StubFixture, Queries) {
  const std::string sup = ask("qSupported:multiprocess+;swbreak+;hwbreak+");
  EXPECT_NE(sup.find("PacketSize=4000"), std::string::npos) << sup;
  EXPECT_NE(sup.find("qXfer:features:read+"), std::string::npos);
  EXPECT_NE(sup.find("swbreak+"), std::string::npos);
  EXPECT_EQ(ask("qAttached"), "1");
  EXPECT_EQ(ask("qC"), "QC1");
  EXPECT_EQ(ask("qfThreadInfo"), "m1");
  EXPECT_EQ(ask("qsThreadInfo"), "l");
  EXPECT_EQ(ask("Hg0"), "OK");
  EXPECT_EQ(ask("Hc-1"), "OK");
  EXPECT_EQ(ask("T1"), "OK");
  EXPECT_EQ(ask("T2"), "E01");
  EXPECT_EQ(ask("?"), stub.stop_reply());
  // Not supported: empty.
  EXPECT_EQ(ask("qFrobnicate"), "");
  EXPECT_EQ(ask("vMustReplyEmpty"), "");
  EXPECT_EQ(ask("QStartNoAckMode"), "");
  EXPECT_EQ(ask("!"), "");
  EXPECT_EQ(ask("\x7f\x01"), "");
  EXPECT_EQ(ask(""), "");
}

TEST_F(StubFixture, TargetDescriptionInChunks) {
  const std::string& xml = target_xml();
  EXPECT_NE(xml.find("<architecture>mips:isa64</architecture>"), std::string::npos);
  EXPECT_NE(xml.find("org.gnu.gdb.mips.cpu"), std::string::npos);
  EXPECT_NE(xml.find("org.gnu.gdb.mips.cp0"), std::string::npos);
  EXPECT_NE(xml.find("org.gnu.gdb.mips.fpu"), std::string::npos);
  EXPECT_NE(xml.find("name=\"pc\" bitsize=\"64\" regnum=\"37\""), std::string::npos);
  std::string got;
  for (size_t off = 0;; off += 100) {
    char req[80];
    std::snprintf(req, sizeof req, "qXfer:features:read:target.xml:%zx,64", off);
    const std::string r = ask(req);
    ASSERT_FALSE(r.empty());
    std::string raw;
    ASSERT_TRUE(unescape_binary(r.substr(1), raw));
    got += raw;
    if (r[0] == 'l') break;
    ASSERT_EQ(r[0], 'm');
    ASSERT_LT(off, 100000u);
  }
  EXPECT_EQ(got, xml);
  EXPECT_EQ(ask("qXfer:features:read:other.xml:0,100"), "E00");
  EXPECT_EQ(ask("qXfer:features:read:target.xml:zz"), "E01");
  EXPECT_EQ(ask("qXfer:features:read:target.xml:100000,10"), "l");
}

TEST(GdbStubListen, BadSpecsAreErrors) {
  GdbStub s;
  std::string err;
  EXPECT_FALSE(s.listen("tcp::notaport", err));
  EXPECT_NE(err.find("--gdb"), std::string::npos);
  EXPECT_FALSE(s.listen("tcp::99999", err));
  EXPECT_FALSE(s.listen("", err));
  GdbStub ok;
  ASSERT_TRUE(ok.listen("tcp::0", err)) << err;
  EXPECT_NE(ok.port(), 0);
}

}  // namespace
}  // namespace disco::debug
