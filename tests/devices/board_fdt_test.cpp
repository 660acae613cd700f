// The board's device tree with several CPUs and a GIC, read back with
// libfdt the way Linux would use it (cpu nodes, the "mti,gic" node of
// Documentation/devicetree/bindings/interrupt-controller/mti,gic.yaml,
// devices' interrupt-parent and 3-cell interrupt specifiers), and the
// single-CPU tree without a GIC unchanged byte for byte.
#include <gtest/gtest.h>

extern "C" {
#include <libfdt.h>
}

#include <cstring>
#include <string>

#include "board/board.h"
#include "board/fdt_builder.h"

namespace disco {
namespace {

uint64_t fnv1a(const std::vector<uint8_t>& b) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint8_t c : b) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

BoardDescription single_cpu_board() {
  BoardDescription b;
  b.memory = {{0, board::kLowRamLimit}, {board::kHighRamBase, 256ull << 20}};
  b.cpu_clock_hz = board::kCpuClockHz;
  b.uart_base = board::kUartBase;
  b.power_base = board::kPowerBase;
  b.rtc_base = board::kRtcBase;
  b.bootargs = "console=ttyS0 earlycon";
  b.initrd_start = 0x0e000000;
  b.initrd_end = 0x0e100000;
  b.kaslr_seed = 0x0123456789abcdefull;
  return b;
}

BoardDescription smp_board(unsigned cpus) {
  BoardDescription b = single_cpu_board();
  b.cpus = cpus;
  b.gic_base = board::kGicBase;
  b.gic_size = board::kGicSize;
  b.uart_gic_irq = board::kGicUartIrq;
  b.rtc_gic_irq = board::kGicRtcIrq;
  return b;
}

std::vector<uint32_t> cells(const void* fdt, int node, const char* name) {
  int len = 0;
  const auto* p = static_cast<const fdt32_t*>(fdt_getprop(fdt, node, name, &len));
  std::vector<uint32_t> out;
  if (!p) return out;
  for (int i = 0; i < len / 4; ++i) out.push_back(fdt32_to_cpu(p[i]));
  return out;
}

std::string str(const void* fdt, int node, const char* name) {
  const char* s = static_cast<const char*>(fdt_getprop(fdt, node, name, nullptr));
  return s ? s : "";
}

// The tree as built before SMP support (cpus = 1, no GIC): size and FNV-1a
// hash of the bytes, taken from the builder before this change.
TEST(BoardFdt, SingleCpuTreeWithoutGicIsUnchanged) {
  std::string err;
  const auto dtb = build_board_fdt(single_cpu_board(), err);
  ASSERT_FALSE(dtb.empty()) << err;
  EXPECT_EQ(dtb.size(), 1647u);
  EXPECT_EQ(fnv1a(dtb), 0xd0a3bba3da8cf008ull);
  EXPECT_LT(fdt_node_offset_by_compatible(dtb.data(), -1, "mti,gic"), 0);
}

TEST(BoardFdt, FourCpusAndAGic) {
  std::string err;
  const auto dtb = build_board_fdt(smp_board(4), err);
  ASSERT_FALSE(dtb.empty()) << err;
  const void* fdt = dtb.data();
  ASSERT_EQ(fdt_check_header(fdt), 0);

  // /cpus: cpu@0..cpu@3, reg = index, one clock.
  const int cpus = fdt_path_offset(fdt, "/cpus");
  ASSERT_GE(cpus, 0);
  EXPECT_EQ(cells(fdt, cpus, "#address-cells"), std::vector<uint32_t>{1});
  EXPECT_EQ(cells(fdt, cpus, "#size-cells"), std::vector<uint32_t>{0});
  const int clock = fdt_path_offset(fdt, "/cpu-clock");
  ASSERT_GE(clock, 0);
  const uint32_t clock_ph = fdt_get_phandle(fdt, clock);
  unsigned n = 0;
  int child;
  fdt_for_each_subnode(child, fdt, cpus) {
    EXPECT_EQ(std::string(fdt_get_name(fdt, child, nullptr)), "cpu@" + std::to_string(n));
    EXPECT_EQ(str(fdt, child, "device_type"), "cpu");
    EXPECT_EQ(cells(fdt, child, "reg"), std::vector<uint32_t>{n});
    EXPECT_EQ(cells(fdt, child, "clocks"), std::vector<uint32_t>{clock_ph});
    ++n;
  }
  EXPECT_EQ(n, 4u);

  // The GIC node.
  const int gic = fdt_node_offset_by_compatible(fdt, -1, "mti,gic");
  ASSERT_GE(gic, 0);
  EXPECT_EQ(std::string(fdt_get_name(fdt, gic, nullptr)), "interrupt-controller@1fbc0000");
  EXPECT_NE(fdt_getprop(fdt, gic, "interrupt-controller", nullptr), nullptr);
  EXPECT_EQ(cells(fdt, gic, "#interrupt-cells"), std::vector<uint32_t>{3});
  EXPECT_EQ(cells(fdt, gic, "reg"), (std::vector<uint32_t>{0, 0x1fbc0000, 0, 0x20000}));
  const int cpu_intc = fdt_node_offset_by_compatible(fdt, -1, "mti,cpu-interrupt-controller");
  ASSERT_GE(cpu_intc, 0);
  EXPECT_EQ(cells(fdt, gic, "interrupt-parent"), std::vector<uint32_t>{fdt_get_phandle(fdt, cpu_intc)});
  const uint32_t gic_ph = fdt_get_phandle(fdt, gic);
  ASSERT_NE(gic_ph, 0u);
  EXPECT_EQ(fdt_node_offset_by_phandle(fdt, gic_ph), gic);
  EXPECT_EQ(fdt_subnode_offset(fdt, gic, "timer"), -FDT_ERR_NOTFOUND);  // no GIC timer

  // The UART and the RTC are GIC shared interrupts, level high.
  const int uart = fdt_node_offset_by_compatible(fdt, -1, "ns16550a");
  ASSERT_GE(uart, 0);
  EXPECT_EQ(cells(fdt, uart, "interrupt-parent"), std::vector<uint32_t>{gic_ph});
  EXPECT_EQ(cells(fdt, uart, "interrupts"), (std::vector<uint32_t>{0, board::kGicUartIrq, 4}));
  const int rtc = fdt_node_offset_by_compatible(fdt, -1, "google,goldfish-rtc");
  ASSERT_GE(rtc, 0);
  EXPECT_EQ(cells(fdt, rtc, "interrupt-parent"), std::vector<uint32_t>{gic_ph});
  EXPECT_EQ(cells(fdt, rtc, "interrupts"), (std::vector<uint32_t>{0, board::kGicRtcIrq, 4}));
  // stdout-path still names the UART.
  EXPECT_EQ(str(fdt, fdt_path_offset(fdt, "/chosen"), "stdout-path"), "/serial@1fd01000");

  // Every node: root, cpus + 4 cpus, clock, 2 memory, cpu intc, gic, uart,
  // syscon + reboot + poweroff, rtc, chosen.
  int nodes = 0;
  for (int off = 0; off >= 0; off = fdt_next_node(fdt, off, nullptr)) ++nodes;
  EXPECT_EQ(nodes, 17);
}

// Without a GIC, several CPUs still get their nodes and the devices stay on
// the CPU interrupt controller (one CPU takes them: see docs/smp.md).
TEST(BoardFdt, SeveralCpusWithoutGicKeepTheCpuIntc) {
  BoardDescription b = single_cpu_board();
  b.cpus = 2;
  std::string err;
  const auto dtb = build_board_fdt(b, err);
  ASSERT_FALSE(dtb.empty()) << err;
  const void* fdt = dtb.data();
  EXPECT_GE(fdt_path_offset(fdt, "/cpus/cpu@1"), 0);
  EXPECT_LT(fdt_path_offset(fdt, "/cpus/cpu@2"), 0);
  const int uart = fdt_node_offset_by_compatible(fdt, -1, "ns16550a");
  const int cpu_intc = fdt_node_offset_by_compatible(fdt, -1, "mti,cpu-interrupt-controller");
  EXPECT_EQ(cells(fdt, uart, "interrupt-parent"), std::vector<uint32_t>{fdt_get_phandle(fdt, cpu_intc)});
  EXPECT_EQ(cells(fdt, uart, "interrupts"), std::vector<uint32_t>{2});
}

TEST(BoardFdt, SixteenCpusUseHexUnitAddresses) {
  std::string err;
  const auto dtb = build_board_fdt(smp_board(16), err);
  ASSERT_FALSE(dtb.empty()) << err;
  const int cpu10 = fdt_path_offset(dtb.data(), "/cpus/cpu@a");
  ASSERT_GE(cpu10, 0);
  EXPECT_EQ(cells(dtb.data(), cpu10, "reg"), std::vector<uint32_t>{10});
  EXPECT_GE(fdt_path_offset(dtb.data(), "/cpus/cpu@f"), 0);
}

}  // namespace
}  // namespace disco
