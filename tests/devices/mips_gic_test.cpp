// The GIC model driven the way Linux 6.1's drivers/irqchip/irq-mips-gic.c
// drives it on a CM2 system (mips_cm_is64 = 0: 32-bit bit-vector words):
// gic_of_init's defaults, gic_shared_irq_domain_map (MAP_PIN, MAP_VP),
// gic_unmask_irq / gic_mask_irq (SMASK / RMASK), gic_set_type (POL, TRIG,
// DUAL read-modify-write), gic_send_ipi / gic_ack_irq (WEDGE), and
// gic_handle_shared_int (PEND).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <tuple>
#include <vector>

#include "devices/mips_gic.h"

namespace disco {
namespace {

using Event = std::tuple<unsigned, unsigned, bool>;  // cpu, pin, level

struct Gic {
  explicit Gic(unsigned ncpus = 4, unsigned nirqs = 64)
      : gic({ncpus, nirqs, [this] { return ++ticks; }},
            [this](unsigned cpu, unsigned pin, bool level) { events.emplace_back(cpu, pin, level); }) {}

  uint32_t r32(uint32_t off, unsigned cpu = 0) {
    uint64_t v = 0xdeadbeefull;
    EXPECT_TRUE(gic.read_by(cpu, off, 4, v)) << std::hex << off;
    return static_cast<uint32_t>(v);
  }
  void w32(uint32_t off, uint32_t v, unsigned cpu = 0) {
    EXPECT_TRUE(gic.write_by(cpu, off, 4, v)) << std::hex << off;
  }
  // change_gic_<reg>(intr, val): read-modify-write of one bit.
  void change_bit(uint32_t base, unsigned intr, unsigned val) {
    const uint32_t off = base + (intr / 32) * 4;
    uint32_t w = r32(off);
    w &= ~(1u << (intr % 32));
    w |= val << (intr % 32);
    w32(off, w);
  }
  // write_gic_<reg>(intr): one bit written alone.
  void write_bit(uint32_t base, unsigned intr) { w32(base + (intr / 32) * 4, 1u << (intr % 32)); }
  bool read_bit(uint32_t base, unsigned intr) { return (r32(base + (intr / 32) * 4) >> (intr % 32)) & 1; }

  // gic_of_init: every shared interrupt active-high, level, masked.
  void linux_defaults() {
    const uint32_t cfg = r32(MipsGic::kShConfig);
    const unsigned n = (((cfg >> 16) & 0xff) + 1) * 8;
    for (unsigned i = 0; i < n; ++i) {
      change_bit(MipsGic::kShPol, i, 1);
      change_bit(MipsGic::kShTrig, i, 0);
      write_bit(MipsGic::kShRmask, i);
    }
  }
  // gic_shared_irq_domain_map: route to pin `pin` of VP `vp`.
  void map(unsigned intr, unsigned pin, unsigned vp) {
    w32(MipsGic::kShMapPin + 4 * intr, MipsGic::kMapToPin | pin);
    w32(MipsGic::kShMapVp + MipsGic::kShMapVpStride * intr, 1u << vp);
  }
  void unmask(unsigned intr) { write_bit(MipsGic::kShSmask, intr); }
  void mask(unsigned intr) { write_bit(MipsGic::kShRmask, intr); }
  // gic_set_type for IRQ_TYPE_EDGE_RISING (the IPIs' type).
  void edge_rising(unsigned intr) {
    change_bit(MipsGic::kShPol, intr, 1);
    change_bit(MipsGic::kShTrig, intr, 1);
    change_bit(MipsGic::kShDual, intr, 0);
  }

  uint64_t ticks = 0;
  MipsGic gic;
  std::vector<Event> events;
};

TEST(MipsGic, ShConfigDecodesToTheConfiguredSizes) {
  for (unsigned n : {8u, 64u, 128u, 256u}) {
    Gic x(3, n);
    const uint32_t cfg = x.r32(MipsGic::kShConfig);
    // gic_of_init: (NUMINTERRUPTS + 1) * 8.
    EXPECT_EQ((((cfg >> 16) & 0xff) + 1) * 8, n);
    EXPECT_EQ((cfg & 0x7f) + 1, 3u);  // PVPS
    EXPECT_EQ(x.gic.shared_irqs(), n);
  }
}

TEST(MipsGic, DeviceLineReachesTheMappedPinOfTheMappedVp) {
  Gic x;
  x.linux_defaults();
  x.map(5, 0, 1);
  x.unmask(5);
  EXPECT_TRUE(x.events.empty());
  x.gic.set_irq(5, true);
  ASSERT_EQ(x.events.size(), 1u);
  EXPECT_EQ(x.events[0], Event(1, 0, true));
  EXPECT_TRUE(x.gic.pin_level(1, 0));
  EXPECT_FALSE(x.gic.pin_level(0, 0));
  // gic_handle_shared_int on CPU 1 finds it in PEND.
  EXPECT_TRUE(x.read_bit(MipsGic::kShPend, 5));
  EXPECT_TRUE(x.read_bit(MipsGic::kShMask, 5));
  // A level interrupt drops with its line.
  x.gic.set_irq(5, false);
  ASSERT_EQ(x.events.size(), 2u);
  EXPECT_EQ(x.events[1], Event(1, 0, false));
  EXPECT_FALSE(x.read_bit(MipsGic::kShPend, 5));
}

TEST(MipsGic, MaskedInterruptStaysOffUntilUnmasked) {
  Gic x;
  x.linux_defaults();
  x.map(7, 2, 0);
  x.gic.set_irq(7, true);
  EXPECT_TRUE(x.events.empty());
  EXPECT_TRUE(x.read_bit(MipsGic::kShPend, 7));   // PEND is the raw state
  EXPECT_FALSE(x.read_bit(MipsGic::kShMask, 7));
  x.unmask(7);                                     // write_gic_smask(7): bit alone
  ASSERT_EQ(x.events.size(), 1u);
  EXPECT_EQ(x.events[0], Event(0, 2, true));
  // Writing an SMASK/RMASK bit leaves the other bits alone.
  x.unmask(9);
  x.mask(9);
  EXPECT_TRUE(x.read_bit(MipsGic::kShMask, 7));
  EXPECT_EQ(x.events.size(), 1u);
  x.mask(7);
  ASSERT_EQ(x.events.size(), 2u);
  EXPECT_EQ(x.events[1], Event(0, 2, false));
}

// arch/mips SMP: IPIs are the top 2 * ncpus shared interrupts, edge
// triggered, each mapped to one VP; gic_send_ipi writes WEDGE with
// GIC_WEDGE_RW, handle_edge_irq's ack writes WEDGE without it.
TEST(MipsGic, WedgeSendsAndAcknowledgesAnIpi) {
  Gic x(4, 64);
  x.linux_defaults();
  const unsigned ipi = 64 - 2 * 4 + 5;  // the second IPI of CPU 2
  x.edge_rising(ipi);
  x.map(ipi, 0, 2);
  x.unmask(ipi);
  EXPECT_TRUE(x.events.empty());
  x.w32(MipsGic::kShWedge, MipsGic::kWedgeSet | ipi, 1);  // sent by CPU 1
  ASSERT_EQ(x.events.size(), 1u);
  EXPECT_EQ(x.events[0], Event(2, 0, true));
  EXPECT_TRUE(x.read_bit(MipsGic::kShPend, ipi));
  x.w32(MipsGic::kShWedge, ipi, 2);  // gic_ack_irq on CPU 2
  ASSERT_EQ(x.events.size(), 2u);
  EXPECT_EQ(x.events[1], Event(2, 0, false));
  EXPECT_FALSE(x.read_bit(MipsGic::kShPend, ipi));
  // WEDGE reads as zero and ignores interrupts beyond the last one.
  EXPECT_EQ(x.r32(MipsGic::kShWedge), 0u);
  x.w32(MipsGic::kShWedge, MipsGic::kWedgeSet | 200);
  EXPECT_EQ(x.events.size(), 2u);
}

TEST(MipsGic, EdgeTriggeredLatchesUntilAcknowledged) {
  Gic x;
  x.linux_defaults();
  x.edge_rising(3);
  x.map(3, 1, 0);
  x.unmask(3);
  x.gic.set_irq(3, true);
  x.gic.set_irq(3, false);  // the line drops: the edge stays latched
  ASSERT_EQ(x.events.size(), 1u);
  EXPECT_TRUE(x.gic.pin_level(0, 1));
  x.w32(MipsGic::kShWedge, 3);
  EXPECT_FALSE(x.gic.pin_level(0, 1));
  // A falling edge does nothing with POL = rising ...
  x.gic.set_irq(3, true);
  x.w32(MipsGic::kShWedge, 3);
  x.gic.set_irq(3, false);
  EXPECT_FALSE(x.gic.pin_level(0, 1));
  // ... but latches with POL = falling edge,
  x.change_bit(MipsGic::kShPol, 3, 0);
  x.gic.set_irq(3, true);
  EXPECT_FALSE(x.gic.pin_level(0, 1));
  x.gic.set_irq(3, false);
  EXPECT_TRUE(x.gic.pin_level(0, 1));
  x.w32(MipsGic::kShWedge, 3);
  // and both edges latch with DUAL.
  x.change_bit(MipsGic::kShDual, 3, 1);
  x.gic.set_irq(3, true);
  EXPECT_TRUE(x.gic.pin_level(0, 1));
  x.w32(MipsGic::kShWedge, 3);
  x.gic.set_irq(3, false);
  EXPECT_TRUE(x.gic.pin_level(0, 1));
}

TEST(MipsGic, LevelPolarityAndSwitchingTrigger) {
  Gic x;
  x.linux_defaults();
  x.map(4, 0, 3);
  x.unmask(4);
  // IRQ_TYPE_LEVEL_LOW: active while the line is low.
  x.change_bit(MipsGic::kShPol, 4, 0);
  EXPECT_TRUE(x.gic.pin_level(3, 0));
  x.gic.set_irq(4, true);
  EXPECT_FALSE(x.gic.pin_level(3, 0));
  x.change_bit(MipsGic::kShPol, 4, 1);
  EXPECT_TRUE(x.gic.pin_level(3, 0));
  // Edge mode ignores a line that is merely high ...
  x.change_bit(MipsGic::kShTrig, 4, 1);
  EXPECT_FALSE(x.gic.pin_level(3, 0));
  // ... and a latched edge does not survive going back to level mode.
  x.gic.set_irq(4, false);
  x.gic.set_irq(4, true);
  EXPECT_TRUE(x.gic.pin_level(3, 0));
  x.gic.set_irq(4, false);
  EXPECT_TRUE(x.gic.pin_level(3, 0));
  x.change_bit(MipsGic::kShTrig, 4, 0);
  EXPECT_FALSE(x.gic.pin_level(3, 0));
}

TEST(MipsGic, RoutingFollowsMapPinAndMapVp) {
  Gic x;
  x.linux_defaults();
  x.map(40, 3, 1);  // second PEND/MASK word
  x.unmask(40);
  x.gic.set_irq(40, true);
  ASSERT_EQ(x.events.size(), 1u);
  EXPECT_EQ(x.events[0], Event(1, 3, true));
  // gic_set_affinity: write_gic_map_vp to another VP moves the output.
  x.w32(MipsGic::kShMapVp + MipsGic::kShMapVpStride * 40, 1u << 2);
  ASSERT_EQ(x.events.size(), 3u);
  EXPECT_EQ(x.events[1], Event(1, 3, false));
  EXPECT_EQ(x.events[2], Event(2, 3, true));
  // Without MAP_TO_PIN (e.g. NMI routing) or with a pin beyond IP7: nothing.
  x.w32(MipsGic::kShMapPin + 4 * 40, 3);
  EXPECT_FALSE(x.gic.pin_level(2, 3));
  x.w32(MipsGic::kShMapPin + 4 * 40, MipsGic::kMapToPin | 6);
  for (unsigned p = 0; p < MipsGic::kCpuPins; ++p) EXPECT_FALSE(x.gic.pin_level(2, p));
  // MAP_VP keeps only existing VPs; its other words do not exist.
  x.w32(MipsGic::kShMapVp + MipsGic::kShMapVpStride * 40, 0xffffffff);
  EXPECT_EQ(x.r32(MipsGic::kShMapVp + MipsGic::kShMapVpStride * 40), 0xfu);
  x.w32(MipsGic::kShMapVp + MipsGic::kShMapVpStride * 40 + 4, 0xffffffff);
  EXPECT_EQ(x.r32(MipsGic::kShMapVp + MipsGic::kShMapVpStride * 40 + 4), 0u);
  // Two interrupts on one pin: the pin stays up until both are gone.
  x.w32(MipsGic::kShMapPin + 4 * 40, MipsGic::kMapToPin | 0);
  x.w32(MipsGic::kShMapVp + MipsGic::kShMapVpStride * 40, 1u << 0);
  x.map(41, 0, 0);
  x.unmask(41);
  x.gic.set_irq(41, true);
  x.gic.set_irq(40, false);
  EXPECT_TRUE(x.gic.pin_level(0, 0));
  x.gic.set_irq(41, false);
  EXPECT_FALSE(x.gic.pin_level(0, 0));
}

// gic_cpu_startup and gic_local_irq_is_routable, per CPU: VL_CTL's
// *_ROUTABLE bits read 0 (the CP0 timer stays on the CPU interrupt
// controller); the local block is the accessing VP's; VL_OTHER selects
// the VP the VP-other block reaches (gic_irq_domain_map's write_gic_vo_*).
TEST(MipsGic, VpLocalAndVpOtherBlocks) {
  Gic x(4);
  constexpr uint32_t L = MipsGic::kVpLocal, O = MipsGic::kVpOther;
  for (unsigned c = 0; c < 4; ++c) {
    EXPECT_EQ(x.r32(L + MipsGic::kVxCtl, c) & 0x1e, 0u);
    EXPECT_EQ(x.r32(L + MipsGic::kVxIdent, c), c);
    // change_gic_vl_ctl(GIC_VX_CTL_EIC, 0); write_gic_vl_rmask(~0).
    x.w32(L + MipsGic::kVxCtl, x.r32(L + MipsGic::kVxCtl, c) & ~1u, c);
    x.w32(L + MipsGic::kVxRmask, ~0u, c);
    EXPECT_EQ(x.r32(L + MipsGic::kVxMask, c), 0u);
    EXPECT_EQ(x.r32(L + MipsGic::kVxPend, c), 0u);
  }
  x.w32(L + MipsGic::kVxSmask, 1u << 2, 1);
  EXPECT_EQ(x.r32(L + MipsGic::kVxMask, 1), 4u);
  EXPECT_EQ(x.r32(L + MipsGic::kVxMask, 0), 0u);
  // CPU 0 programs CPU 2's timer map through the VP-other block.
  x.w32(L + MipsGic::kVxOther, 2, 0);
  x.w32(O + MipsGic::kVxMap + 4 * 2, MipsGic::kMapToPin | 5, 0);
  x.w32(O + MipsGic::kVxSmask, 1u << 2, 0);
  EXPECT_EQ(x.r32(L + MipsGic::kVxMap + 4 * 2, 2), MipsGic::kMapToPin | 5);
  EXPECT_EQ(x.r32(L + MipsGic::kVxMask, 2), 4u);
  EXPECT_EQ(x.r32(L + MipsGic::kVxMap + 4 * 2, 0), 0u);
  EXPECT_EQ(x.r32(O + MipsGic::kVxIdent, 0), 2u);
  EXPECT_TRUE(x.events.empty());  // no local sources are modelled
}

TEST(MipsGic, CounterIsMonotonicAcrossBothWords) {
  Gic x;
  uint64_t a = 0, b = 0;
  ASSERT_TRUE(x.gic.read(MipsGic::kShCounterLo, 8, a));
  ASSERT_TRUE(x.gic.read(MipsGic::kShCounterLo, 8, b));
  EXPECT_GT(b, a);
  MipsGic host({1, 8, nullptr}, nullptr);  // default clock: the host's
  ASSERT_TRUE(host.read(MipsGic::kShCounterLo, 8, a));
  ASSERT_TRUE(host.read(MipsGic::kShCounterLo, 8, b));
  EXPECT_GE(b, a);
}

TEST(MipsGic, SixtyFourBitAccessCoversTwoWords) {
  Gic x(2, 64);
  x.linux_defaults();
  x.gic.set_irq(1, true);
  x.gic.set_irq(33, true);
  uint64_t pend = 0;
  ASSERT_TRUE(x.gic.read(MipsGic::kShPend, 8, pend));
  EXPECT_EQ(pend, (1ull << 1) | (1ull << 33));
  ASSERT_TRUE(x.gic.write(MipsGic::kShSmask, 8, (1ull << 1) | (1ull << 33)));
  EXPECT_TRUE(x.read_bit(MipsGic::kShMask, 1));
  EXPECT_TRUE(x.read_bit(MipsGic::kShMask, 33));
}

TEST(MipsGic, BadAccessesAreRefusedOrIgnored) {
  Gic x(2, 64);
  uint64_t v = 0;
  EXPECT_FALSE(x.gic.read(MipsGic::kShConfig, 1, v));
  EXPECT_FALSE(x.gic.read(MipsGic::kShConfig, 2, v));
  EXPECT_FALSE(x.gic.read(MipsGic::kShConfig + 2, 4, v));
  EXPECT_FALSE(x.gic.read(MipsGic::kWindowSize, 4, v));
  EXPECT_FALSE(x.gic.write(MipsGic::kWindowSize - 4, 8, 0));
  // Beyond the configured interrupts: reserved.
  EXPECT_EQ(x.r32(MipsGic::kShMapPin + 4 * 64), 0u);
  x.w32(MipsGic::kShMapPin + 4 * 64, MipsGic::kMapToPin);
  EXPECT_EQ(x.r32(MipsGic::kShMapPin + 4 * 64), 0u);
  EXPECT_EQ(x.r32(MipsGic::kShMask + 8), 0u);
  x.gic.set_irq(64, true);
  x.gic.set_irq(1000, true);
  // Read-only words keep their values.
  x.w32(MipsGic::kShPend, ~0u);
  x.w32(MipsGic::kShMask, ~0u);
  EXPECT_EQ(x.r32(MipsGic::kShMask), 0u);
  // A requester that is not a VP of this GIC.
  EXPECT_EQ(x.r32(MipsGic::kVpLocal + MipsGic::kVxIdent, 7), 0u);
  x.w32(MipsGic::kVpLocal + MipsGic::kVxSmask, 1, 7);
  EXPECT_TRUE(x.events.empty());
}

// Device lines and IPIs come from several host threads at once: every
// change lands, and the last event of each pin is its final level.
TEST(MipsGic, ConcurrentLinesEndInTheirFinalState) {
  constexpr unsigned kThreads = 4;
  std::atomic<int> level[kThreads] = {};
  MipsGic gic({kThreads, 64, nullptr}, [&](unsigned cpu, unsigned pin, bool l) {
    if (pin == 0) level[cpu] = l ? 1 : 0;
  });
  for (unsigned i = 0; i < kThreads; ++i) {
    gic.write(MipsGic::kShPol, 4, 0xffffffff);
    gic.write(MipsGic::kShMapPin + 4 * i, 4, MipsGic::kMapToPin);
    gic.write(MipsGic::kShMapVp + MipsGic::kShMapVpStride * i, 4, 1u << i);
  }
  gic.write(MipsGic::kShSmask, 4, 0xf);
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < kThreads; ++t)
    threads.emplace_back([&gic, t] {
      for (int k = 0; k < 2000; ++k) gic.set_irq(t, (k & 1) == 0);  // ends low
      gic.set_irq(t, t % 2 == 1);                                    // odd ones end high
    });
  for (auto& th : threads) th.join();
  for (unsigned t = 0; t < kThreads; ++t) {
    EXPECT_EQ(level[t].load(), t % 2 == 1 ? 1 : 0) << t;
    EXPECT_EQ(gic.pin_level(t, 0), t % 2 == 1) << t;
  }
}

}  // namespace
}  // namespace disco
