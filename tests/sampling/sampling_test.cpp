// The engines' side of the memory model's sampling (cpu/mem_sampler.h):
// which data accesses and code lines each engine reports, on the
// interpreter and on the JIT (inline paths and handlers alike).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <tuple>

#include "debug/state_diff.h"
#include "frontend/insn.h"
#include "tests/sampling/sampling_rig.h"
#include "tests/support/encode.h"

namespace disco::test {
namespace {

using namespace enc;

enum : unsigned { ZERO = 0, V0 = 2, V1 = 3, A0 = 4, T0 = 12, T1 = 13, T2 = 14, T3 = 15, T4 = 16, T5 = 17, T6 = 18 };

constexpr uint32_t LWC1(unsigned ft, unsigned base, int off) { return i16(0x31, base, ft, off); }
constexpr uint32_t LDC1(unsigned ft, unsigned base, int off) { return i16(0x35, base, ft, off); }
constexpr uint32_t SWC1(unsigned ft, unsigned base, int off) { return i16(0x39, base, ft, off); }
constexpr uint32_t SDC1(unsigned ft, unsigned base, int off) { return i16(0x3d, base, ft, off); }

uint32_t jidx(uint64_t vaddr) { return static_cast<uint32_t>(vaddr >> 2) & 0x03ffffff; }

// ---- every kind of access ----------------------------------------------------

// Three rounds of a loop over one access of each kind to page 0x20000 (and
// one device load, which is not memory). On the JIT the first round runs
// in one block whose first accesses fill the soft TLB through the
// handlers; the other two in a self loop, inline, with guest registers in
// host registers across the sampler calls.
constexpr uint64_t kData = 0x20000;
constexpr unsigned kRounds = 3;
void load_every_kind(Rig& r) {
  r.load({
      LUI(T0, 0x8002),        //  0: t0 = kseg0 + 0x20000
      ADDIU(T4, ZERO, kRounds),
      LUI(T5, 0xbf00),        //  2: t5 = kseg1 + 0x1f000000 (a device: above the arena)
      LW(V0, T0, 0x000),      //  3: the loop
      SW(V0, T0, 0x080),
      LB(V1, T0, 0x101),
      SH(V1, T0, 0x182),
      LD(A0, T0, 0x208),
      SD(A0, T0, 0x288),
      LHU(T1, T0, 0x30a),
      SB(T1, T0, 0x38b),
      LWL(T2, T0, 0x403),     // 11: the aligned word 0x400
      LWR(T2, T0, 0x400),
      SWL(T2, T0, 0x483),     // 13: bytes 0x483..0x480, one sample at 0x483
      SWR(T2, T0, 0x484),     //     bytes 0x484..0x487, one sample at 0x484
      LL(T3, T0, 0x500),
      ADDIU(T3, T3, 1),
      SC(T3, T0, 0x500),
      LW(T6, T5, 0),          // 18: device: no sample
      LDC1(0, T0, 0x588),
      SDC1(0, T0, 0x608),
      LWC1(1, T0, 0x68c),
      SWC1(1, T0, 0x70c),
      ADDIU(T4, T4, -1),
      BNE(T4, ZERO, -22),     // 24: to 3
      NOP,
      BREAK,
  });
}
// What one round reports, in order.
const std::vector<DataSample> kOneRound = {
    {kData + 0x000, false}, {kData + 0x080, true}, {kData + 0x101, false}, {kData + 0x182, true},
    {kData + 0x208, false}, {kData + 0x288, true}, {kData + 0x30a, false}, {kData + 0x38b, true},
    {kData + 0x400, false}, {kData + 0x400, false}, {kData + 0x483, true}, {kData + 0x484, true},
    {kData + 0x500, false}, {kData + 0x500, true}, {kData + 0x588, false}, {kData + 0x608, true},
    {kData + 0x68c, false}, {kData + 0x70c, true},
};

class EveryAccess : public ::testing::TestWithParam<std::tuple<Engine, bool>> {};

// Every line sampled (rate 1): each load and store, in order, with its
// host address and direction; devices never.
TEST_P(EveryAccess, ReportsEachLoadAndStoreOnce) {
  const auto [engine, big_endian] = GetParam();
  CpuConfig cfg;
  cfg.has_fpu = true;
  cfg.big_endian = big_endian;
  Rig r(engine, cfg);
  load_every_kind(r);
  r.sample(sample_mask_for_rate(1));
  r.run_until_exceptions();
  ASSERT_EQ((r.cpu.s.cp0.cause & cp0::Cause_ExcCode) >> cp0::Cause_ExcCode_SHIFT, cp0::EXC_Bp);
  EXPECT_EQ(r.cpu.s.gpr[T3], 1u) << "SC succeeded";
  EXPECT_EQ(r.bus.mmio_accesses, kRounds);
  std::vector<DataSample> expected;
  for (unsigned k = 0; k < kRounds; ++k) expected.insert(expected.end(), kOneRound.begin(), kOneRound.end());
  EXPECT_EQ(r.data_paddrs(), expected);
  if (r.jit) {
    // The later rounds ran inline (no handler calls for these ops), so
    // the inline paths are the ones that reported them.
    uint64_t handled = 0;
    for (Op op : {Op::LB, Op::SH, Op::LD, Op::SD, Op::LHU, Op::SB, Op::LWL, Op::LWR, Op::LL, Op::SC})
      handled += r.jit->fallbacks().by_op[static_cast<size_t>(op)];
    EXPECT_EQ(handled, 0u);
    EXPECT_GE(r.jit->stats().loops_compiled, 1u);
  }
}

// The sampler calls leave the guest state alone: both engines, sampling
// every line, end where the interpreter ends without a sampler.
TEST_P(EveryAccess, StateAsWithoutSampler) {
  const auto [engine, big_endian] = GetParam();
  CpuConfig cfg;
  cfg.has_fpu = true;
  cfg.big_endian = big_endian;
  Rig plain(Engine::Interp, cfg), sampled(engine, cfg);
  for (Rig* r : {&plain, &sampled}) {
    load_every_kind(*r);
    r->cpu.s.gpr[V0] = 0x1111;  // register values the program does not set
    r->cpu.s.gpr[30] = 0xdeadbeefcafef00dull;
  }
  sampled.sample(sample_mask_for_rate(1));
  plain.run_until_exceptions();
  sampled.run_until_exceptions();
  EXPECT_EQ(state_differences(sampled.cpu.s, plain.cpu.s), "");
  EXPECT_FALSE(sampled.data.empty());
}

INSTANTIATE_TEST_SUITE_P(Engines, EveryAccess,
                         ::testing::Combine(::testing::Values(Engine::Interp, Engine::Jit), ::testing::Bool()),
                         [](const auto& info) {
                           return std::string(engine_name(std::get<0>(info.param))) +
                                  (std::get<1>(info.param) ? "BigEndian" : "LittleEndian");
                         });

// ---- partial rates -------------------------------------------------------------

// A store and two loads in each of 64 lines (two pages, 0x40000..0x41fff),
// in a self loop on the JIT.
void load_line_walk(Rig& r, uint64_t at = kRigCodePhys) {
  r.load({
      LUI(T0, 0x8004),          // t0 = kseg0 + 0x40000
      ADDIU(T4, ZERO, 64),
      SW(T4, T0, 0),            // 2: the loop
      LW(V0, T0, 4),
      LBU(V1, T0, 0x7f),
      ADDIU(T4, T4, -1),
      BNE(T4, ZERO, -5),        // to 2
      ADDIU(T0, T0, 128),       // (delay slot) the next line
      BREAK,
  }, at);
}
std::vector<DataSample> line_walk_expected(uint32_t mask) {
  std::vector<DataSample> out;
  for (uint64_t line = 0x40000; line < 0x42000; line += 128) {
    if (!line_sampled(line, mask)) continue;
    out.push_back({line, true});
    out.push_back({line + 4, false});
    out.push_back({line + 0x7f, false});
  }
  return out;
}

class Rate : public ::testing::TestWithParam<std::tuple<Engine, unsigned>> {};

// Exactly the accesses to sampled lines (by the host address, here equal
// to the guest-physical one's sampling), in order.
TEST_P(Rate, ReportsTheSampledLinesOnly) {
  const auto [engine, rate] = GetParam();
  Rig r(engine);
  load_line_walk(r);
  const uint32_t mask = sample_mask_for_rate(rate);
  r.sample(mask);
  r.run_until_exceptions();
  const std::vector<DataSample> expected = line_walk_expected(mask);
  EXPECT_EQ(expected.size(), 3u * 64 / rate);  // 32/rate lines of each page
  EXPECT_EQ(r.data_paddrs(), expected);
  for (const auto& [host, write] : r.data) EXPECT_TRUE(line_sampled(host, mask));
}

INSTANTIATE_TEST_SUITE_P(Engines, Rate,
                         ::testing::Combine(::testing::Values(Engine::Interp, Engine::Jit),
                                            ::testing::Values(1u, 2u, 4u, 32u)),
                         [](const auto& info) {
                           return std::string(engine_name(std::get<0>(info.param))) + "Rate" +
                                  std::to_string(std::get<1>(info.param));
                         });

// The two engines agree, access for access, at every rate on the program
// with every kind of access.
TEST(Engines, SameDataSamplesAtEveryRate) {
  for (unsigned rate : {1u, 4u, 32u}) {
    CpuConfig cfg;
    cfg.has_fpu = true;
    Rig i(Engine::Interp, cfg), j(Engine::Jit, cfg);
    constexpr uint64_t kWalkPhys = 0x18000;
    for (Rig* r : {&i, &j}) {
      load_every_kind(*r);
      load_line_walk(*r, kWalkPhys);
      r->sample(sample_mask_for_rate(rate));
      r->run_until_exceptions();  // every kind, to its BREAK
      r->cpu.s.pc = kRigKseg0 + kWalkPhys;
      r->run_until_exceptions();  // then the walk
    }
    EXPECT_EQ(i.data_paddrs(), j.data_paddrs()) << "rate " << rate;
    EXPECT_FALSE(i.data.empty());
  }
}

// The repeat filter (MemSampler::filter): both engines drop exactly the
// loads that repeat the last data sample's line, and nothing else.
TEST(Engines, TheRepeatFilterDropsTheSameLoads) {
  CpuConfig cfg;
  cfg.has_fpu = true;
  Rig plain(Engine::Interp, cfg), i(Engine::Interp, cfg), j(Engine::Jit, cfg);
  constexpr uint64_t kWalkPhys = 0x18000;
  for (Rig* r : {&plain, &i, &j}) {
    load_every_kind(*r);
    load_line_walk(*r, kWalkPhys);
    r->sample(sample_mask_for_rate(1));
    r->cpu.sampler.filter = r != &plain;
    r->run_until_exceptions();
    r->cpu.s.pc = kRigKseg0 + kWalkPhys;
    r->run_until_exceptions();
  }
  EXPECT_EQ(i.data_paddrs(), j.data_paddrs());
  // What the filter should keep of the unfiltered stream: every store, and
  // every load whose line is not the line of the sample kept before it
  // (one processor: nothing invalidates its lines).
  std::vector<DataSample> expected;
  uint64_t last_line = ~0ull;
  for (const DataSample& d : plain.data_paddrs()) {
    const uint64_t line = d.paddr >> kLineShift;
    if (!d.write && line == last_line) continue;
    expected.push_back(d);
    last_line = line;
  }
  EXPECT_EQ(i.data_paddrs(), expected);
  EXPECT_LT(expected.size(), plain.data.size()) << "the program repeats lines";
}

// ---- instruction fetch -------------------------------------------------------

// Code in three lines on two pages: a loop within the first line, straight
// code into the second, a jump to a line of the next page.
constexpr uint64_t kFarLine = 0x11180;
void load_fetch_program(Rig& r) {
  std::vector<uint32_t> code = {
      ADDIU(T4, ZERO, 3),
      ADDIU(T4, T4, -1),   // 1: the loop
      BNE(T4, ZERO, -2),   // to 1
      NOP,
  };
  while (code.size() < 40) code.push_back(ADDIU(V0, V0, 1));  // into line 0x10080
  code.push_back(J(jidx(kRigKseg0 + kFarLine)));
  code.push_back(NOP);
  uint64_t at = kRigCodePhys;
  for (uint32_t w : code) {
    r.load({w}, at);
    at += 4;
  }
  r.load({ADDIU(V1, V1, 1), BREAK}, kFarLine);
}
const std::set<uint64_t> kExecutedLines = {0x10000, 0x10080, kFarLine};

class Fetch : public ::testing::TestWithParam<Engine> {};

// Every line sampled: every executed line is reported, and nothing else.
TEST_P(Fetch, EveryExecutedLineAtRateOne) {
  Rig r(GetParam());
  load_fetch_program(r);
  r.sample(sample_mask_for_rate(1));
  r.run_until_exceptions();
  ASSERT_EQ(r.cpu.s.gpr[V1], 1u);
  EXPECT_EQ(std::set<uint64_t>(r.fetch.begin(), r.fetch.end()), kExecutedLines);
  EXPECT_TRUE(r.data.empty());
}

// A partial rate: the executed lines that are sampled, only those.
TEST_P(Fetch, SampledLinesOnlyAtRateTwo) {
  const uint32_t mask = sample_mask_for_rate(2);
  std::set<uint64_t> expected;
  for (uint64_t line : kExecutedLines)
    if (fetch_line_sampled(line, mask)) expected.insert(line);
  // The program has lines of both kinds at this rate (else this proves little).
  ASSERT_FALSE(expected.empty());
  ASSERT_LT(expected.size(), kExecutedLines.size());
  Rig r(GetParam());
  load_fetch_program(r);
  r.sample(mask);
  r.run_until_exceptions();
  EXPECT_EQ(std::set<uint64_t>(r.fetch.begin(), r.fetch.end()), expected);
}

INSTANTIATE_TEST_SUITE_P(Engines, Fetch, ::testing::Values(Engine::Interp, Engine::Jit),
                         [](const auto& info) { return std::string(engine_name(info.param)); });

// The interpreter's rule exactly: a line on entry and whenever reached by
// a jump; straight code within it reports nothing more.
TEST(InterpFetch, OncePerEntryOfALine) {
  Rig r(Engine::Interp);
  load_fetch_program(r);
  r.sample(sample_mask_for_rate(1));
  r.run_until_exceptions();
  // Line 0x10000: the start, then the two taken branches back into it.
  const std::vector<uint64_t> expected = {0x10000, 0x10000, 0x10000, 0x10080, kFarLine};
  EXPECT_EQ(r.fetch, expected);
}

// The JIT reports at every block entry and self-loop iteration: a line at
// least as often as its blocks are entered.
TEST(JitFetch, ReportsAtEachBlockEntry) {
  Rig r(Engine::Jit);
  load_fetch_program(r);
  r.sample(sample_mask_for_rate(1));
  r.run_until_exceptions();
  const auto first_line = std::count(r.fetch.begin(), r.fetch.end(), 0x10000u);
  EXPECT_GE(first_line, 3);  // the entry, and the loop's two further iterations
  EXPECT_GE(r.jit->stats().blocks_compiled, 2u);
}

// ---- off ---------------------------------------------------------------------

class Off : public ::testing::TestWithParam<Engine> {};

// A sampler that is installed but off is never called.
TEST_P(Off, NoCalls) {
  CpuConfig cfg;
  cfg.has_fpu = true;
  Rig r(GetParam(), cfg);
  load_every_kind(r);
  r.sample(sample_mask_for_rate(1), false);
  r.run_until_exceptions();
  EXPECT_EQ(r.cpu.s.gpr[T3], 1u);
  EXPECT_TRUE(r.data.empty());
  EXPECT_TRUE(r.fetch.empty());
}

INSTANTIATE_TEST_SUITE_P(Engines, Off, ::testing::Values(Engine::Interp, Engine::Jit),
                         [](const auto& info) { return std::string(engine_name(info.param)); });

// With the sampler off the JIT emits exactly the code it emits without one;
// on, more (so the measure sees the difference).
TEST(JitCode, SameSizeWhenOff) {
  CpuConfig cfg;
  cfg.has_fpu = true;
  Rig none(Engine::Jit, cfg), off(Engine::Jit, cfg), on(Engine::Jit, cfg), partial(Engine::Jit, cfg);
  off.sample(sample_mask_for_rate(1), false);
  on.sample(sample_mask_for_rate(1));
  partial.sample(sample_mask_for_rate(32));
  for (Rig* r : {&none, &off, &on, &partial}) {
    load_every_kind(*r);
    r->run_until_exceptions();
  }
  const jit::JitStats& base = none.jit->stats();
  ASSERT_GT(base.code_bytes, 0u);
  EXPECT_EQ(off.jit->stats().code_bytes, base.code_bytes);
  EXPECT_EQ(off.jit->stats().blocks_compiled, base.blocks_compiled);
  EXPECT_GT(on.jit->stats().code_bytes, base.code_bytes);
  EXPECT_GT(partial.jit->stats().code_bytes, base.code_bytes);
}

}  // namespace
}  // namespace disco::test
