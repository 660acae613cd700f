// Board devices: the UART's registers and interrupt, the power device,
// the MMIO map, and size parsing.
#include <gtest/gtest.h>

#include "devices/mmio.h"
#include "devices/power.h"
#include "devices/uart16550.h"
#include "monitor/vm.h"

namespace disco {
namespace {

TEST(Uart16550, TransmitsBytesAndReportsTransmitterEmpty) {
  std::string out;
  Uart16550 u([&](uint8_t c) { out += static_cast<char>(c); }, nullptr);
  ASSERT_TRUE(u.write(0, 1, 'h'));
  ASSERT_TRUE(u.write(0, 1, 'i'));
  EXPECT_EQ(out, "hi");
  uint64_t lsr = 0;
  ASSERT_TRUE(u.read(5, 1, lsr));
  EXPECT_EQ(lsr & 0x60, 0x60u);  // THRE | TEMT
  EXPECT_EQ(lsr & 1, 0u);        // no data ready
}

TEST(Uart16550, ReceiveRaisesInterruptWhenEnabledAndClearsWhenDrained) {
  bool irq = false;
  Uart16550 u([](uint8_t) {}, [&](bool l) { irq = l; });
  u.push_input('x');
  EXPECT_FALSE(irq);  // IER.RDA off
  ASSERT_TRUE(u.write(1, 1, 0x01));
  EXPECT_TRUE(irq);
  uint64_t v = 0;
  ASSERT_TRUE(u.read(2, 1, v));
  EXPECT_EQ(v & 0x0f, 0x04u);  // IIR: receive data available
  ASSERT_TRUE(u.read(0, 1, v));
  EXPECT_EQ(v, static_cast<uint64_t>('x'));
  EXPECT_FALSE(irq);
}

TEST(Uart16550, DivisorLatchDoesNotTransmit) {
  std::string out;
  Uart16550 u([&](uint8_t c) { out += static_cast<char>(c); }, nullptr);
  u.write(3, 1, 0x80);  // DLAB
  u.write(0, 1, 0x01);
  u.write(1, 1, 0x00);
  u.write(3, 1, 0x03);
  EXPECT_TRUE(out.empty());
  uint64_t v;
  u.read(3, 1, v);
  EXPECT_EQ(v, 3u);
}

TEST(PowerDevice, PowerOffRebootAndExitStatus) {
  int calls = 0;
  PowerDevice::Request last{};
  int status = -1;
  PowerDevice p([&](PowerDevice::Request r, int s) { ++calls; last = r; status = s; });
  EXPECT_TRUE(p.write(0, 4, 0x1234));  // wrong magic: ignored
  EXPECT_EQ(calls, 0);
  p.write(0, 4, PowerDevice::kPowerOffMagic);
  EXPECT_EQ(last, PowerDevice::Request::PowerOff);
  EXPECT_EQ(status, 0);
  p.write(4, 4, PowerDevice::kRebootMagic);
  EXPECT_EQ(last, PowerDevice::Request::Reboot);
  p.write(8, 4, 3);
  EXPECT_EQ(last, PowerDevice::Request::PowerOff);
  EXPECT_EQ(status, 3);
  EXPECT_FALSE(p.write(0x10, 4, 0));
}

struct NullDev : MmioDevice {
  bool read(uint64_t o, unsigned, uint64_t& v) override { v = o; return true; }
  bool write(uint64_t, unsigned, uint64_t) override { return true; }
};

TEST(MmioMap, RejectsOverlapsAndRoutesByOffset) {
  MmioMap m;
  NullDev a, b;
  EXPECT_TRUE(m.add(0x1000, 0x100, &a));
  EXPECT_FALSE(m.add(0x10f0, 0x100, &b));
  EXPECT_TRUE(m.add(0x2000, 0x100, &b));
  uint64_t v = 0;
  EXPECT_TRUE(m.read(0x1010, 4, v));
  EXPECT_EQ(v, 0x10u);
  EXPECT_FALSE(m.read(0x10fe, 4, v));  // straddles the end
  EXPECT_FALSE(m.read(0x3000, 4, v));
}

TEST(ParseSize, AcceptsSuffixesAndRejectsGarbage) {
  uint64_t b = 0;
  EXPECT_TRUE(parse_size("256M", b));
  EXPECT_EQ(b, 256ull << 20);
  EXPECT_TRUE(parse_size("1G", b));
  EXPECT_EQ(b, 1ull << 30);
  EXPECT_TRUE(parse_size("64MiB", b));
  EXPECT_EQ(b, 64ull << 20);
  EXPECT_TRUE(parse_size("4096", b));
  EXPECT_EQ(b, 4096u);
  EXPECT_FALSE(parse_size("", b));
  EXPECT_FALSE(parse_size("M", b));
  EXPECT_FALSE(parse_size("12X", b));
  EXPECT_FALSE(parse_size("99999999999999999999G", b));
  EXPECT_FALSE(parse_size("-1", b));
}

TEST(Vm, RejectsImpossibleMemorySizes) {
  VmSpec cfg;
  cfg.mem_bytes = 1 << 20;
  EXPECT_THROW(Vm v(cfg), std::invalid_argument);
  cfg.mem_bytes = (256ull << 20) + 1;
  EXPECT_THROW(Vm v(cfg), std::invalid_argument);
}

TEST(Vm, RamMapHasLowAndHighWindowsAndAHoleForDevices) {
  VmSpec cfg;
  cfg.mem_bytes = 512ull << 20;
  Vm vm(cfg);
  EXPECT_NE(vm.ram_page(0, false), nullptr);
  EXPECT_NE(vm.ram_page(board::kLowRamLimit - 1, false), nullptr);
  EXPECT_EQ(vm.ram_page(board::kLowRamLimit, false), nullptr);
  EXPECT_EQ(vm.ram_page(board::kUartBase, false), nullptr);
  EXPECT_NE(vm.ram_page(board::kHighRamBase, false), nullptr);
  EXPECT_NE(vm.ram_page(board::kHighRamBase + (256ull << 20) - 1, false), nullptr);
  EXPECT_EQ(vm.ram_page(board::kHighRamBase + (256ull << 20), false), nullptr);
}

}  // namespace
}  // namespace disco
