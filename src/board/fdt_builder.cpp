#include "board/fdt_builder.h"

extern "C" {
#include <libfdt.h>
}

#include <cstdio>

namespace disco {

namespace {

// Sequential-write helper: any libfdt error sticks and ends the build.
class Writer {
 public:
  explicit Writer(size_t size) : buf_(size) { check(fdt_create(buf_.data(), static_cast<int>(size)), "create"); }
  bool ok() const { return err_.empty(); }
  const std::string& error() const { return err_; }

  void begin(const std::string& name) { if (ok()) check(fdt_begin_node(buf_.data(), name.c_str()), name.c_str()); }
  void end() { if (ok()) check(fdt_end_node(buf_.data()), "end node"); }
  void u32(const char* name, uint32_t v) { if (ok()) check(fdt_property_u32(buf_.data(), name, v), name); }
  void u64(const char* name, uint64_t v) { if (ok()) check(fdt_property_u64(buf_.data(), name, v), name); }
  void str(const char* name, const std::string& v) { if (ok()) check(fdt_property_string(buf_.data(), name, v.c_str()), name); }
  void empty(const char* name) { if (ok()) check(fdt_property(buf_.data(), name, nullptr, 0), name); }
  // A list of strings ("a\0b\0").
  void strings(const char* name, std::initializer_list<const char*> list) {
    std::string all;
    for (const char* s : list) all.append(s).push_back('\0');
    if (ok()) check(fdt_property(buf_.data(), name, all.data(), static_cast<int>(all.size())), name);
  }
  // Cells, big-endian 32-bit each.
  void cells(const char* name, std::initializer_list<uint64_t> values, bool two_cells_each) {
    std::vector<fdt32_t> v;
    for (uint64_t x : values) {
      if (two_cells_each) v.push_back(cpu_to_fdt32(static_cast<uint32_t>(x >> 32)));
      v.push_back(cpu_to_fdt32(static_cast<uint32_t>(x)));
    }
    if (ok()) check(fdt_property(buf_.data(), name, v.data(), static_cast<int>(v.size() * 4)), name);
  }
  void reg_list(const char* name, const std::vector<BoardDescription::Range>& ranges) {
    std::vector<fdt32_t> v;
    for (const auto& r : ranges)
      for (uint64_t x : {r.base, r.size}) {
        v.push_back(cpu_to_fdt32(static_cast<uint32_t>(x >> 32)));
        v.push_back(cpu_to_fdt32(static_cast<uint32_t>(x)));
      }
    if (ok()) check(fdt_property(buf_.data(), name, v.data(), static_cast<int>(v.size() * 4)), name);
  }
  std::vector<uint8_t> finish() {
    if (ok()) check(fdt_finish(buf_.data()), "finish");
    if (!ok()) return {};
    buf_.resize(fdt_totalsize(buf_.data()));
    return buf_;
  }
  void start_tree() {
    if (ok()) check(fdt_finish_reservemap(buf_.data()), "reservemap");
  }

 private:
  void check(int rc, const char* what) {
    if (rc < 0 && err_.empty()) err_ = std::string("device tree: ") + what + ": " + fdt_strerror(rc);
  }
  std::vector<uint8_t> buf_;
  std::string err_;
};

std::string node(const char* name, uint64_t addr) {
  char b[64];
  std::snprintf(b, sizeof b, "%s@%llx", name, static_cast<unsigned long long>(addr));
  return b;
}

enum Phandle : uint32_t { kCpuIntc = 1, kCpuClock = 2, kSyscon = 3, kGic = 4 };

// dt-bindings/interrupt-controller/mips-gic.h and irq.h.
constexpr uint32_t kGicShared = 0;
constexpr uint32_t kIrqTypeLevelHigh = 4;

}  // namespace

std::vector<uint8_t> build_board_fdt(const BoardDescription& b, std::string& error) {
  Writer w(64 * 1024);
  w.start_tree();
  w.begin("");
  w.u32("#address-cells", 2);
  w.u32("#size-cells", 2);
  w.str("compatible", "disco,virt");
  w.str("model", "disco virt board");

  w.begin("cpus");
  w.u32("#address-cells", 1);
  w.u32("#size-cells", 0);
  for (unsigned i = 0; i < b.cpus; ++i) {
    w.begin(node("cpu", i));
    w.str("device_type", "cpu");
    w.str("compatible", "mti,mips64r2");
    w.u32("reg", i);
    w.u32("clocks", kCpuClock);
    w.end();
  }
  w.end();

  w.begin("cpu-clock");
  w.str("compatible", "fixed-clock");
  w.u32("#clock-cells", 0);
  w.u32("clock-frequency", b.cpu_clock_hz);
  w.u32("phandle", kCpuClock);
  w.end();

  for (const auto& m : b.memory) {
    w.begin(node("memory", m.base));
    w.str("device_type", "memory");
    w.reg_list("reg", {m});
    w.end();
  }

  w.begin("cpu-interrupt-controller");
  w.str("compatible", "mti,cpu-interrupt-controller");
  w.empty("interrupt-controller");
  w.u32("#interrupt-cells", 1);
  w.u32("#address-cells", 0);
  w.u32("phandle", kCpuIntc);
  w.end();

  // The GIC (irq-mips-gic.c gic_of_init): it chains itself to the first
  // CPU vector not reserved (IP2), so no "mti,reserved-cpu-vectors" is
  // needed while nothing else sits on the CPU interrupt controller's IP2;
  // interrupt-parent orders its probe after the CPU interrupt controller.
  // No "mti,gic-timer" child: the CP0 timer stays the clock event device.
  const bool gic = b.gic_base != 0;
  if (gic) {
    w.begin(node("interrupt-controller", b.gic_base));
    w.str("compatible", "mti,gic");
    w.reg_list("reg", {{b.gic_base, b.gic_size}});
    w.empty("interrupt-controller");
    w.u32("#interrupt-cells", 3);
    w.u32("interrupt-parent", kCpuIntc);
    w.u32("phandle", kGic);
    w.end();
  }
  // A device's interrupt: a CPU interrupt-controller input, or a GIC
  // shared interrupt when there is a GIC.
  auto interrupt = [&](unsigned cpu_line, unsigned gic_irq) {
    if (gic) {
      w.u32("interrupt-parent", kGic);
      w.cells("interrupts", {kGicShared, gic_irq, kIrqTypeLevelHigh}, false);
    } else {
      w.u32("interrupt-parent", kCpuIntc);
      w.u32("interrupts", cpu_line);
    }
  };

  const std::string uart = node("serial", b.uart_base);
  w.begin(uart);
  w.str("compatible", "ns16550a");
  w.reg_list("reg", {{b.uart_base, 0x100}});
  w.u32("clock-frequency", b.uart_clock_hz);
  interrupt(b.uart_irq, b.uart_gic_irq);
  w.end();

  if (b.power_base) {
    w.begin(node("syscon", b.power_base));
    w.strings("compatible", {"syscon", "simple-mfd"});
    w.reg_list("reg", {{b.power_base, 0x1000}});
    w.u32("phandle", kSyscon);
    w.begin("reboot");
    w.str("compatible", "syscon-reboot");
    w.u32("regmap", kSyscon);
    w.u32("offset", 0x4);
    w.u32("value", 0x1);
    w.u32("mask", 0xffffffff);
    w.end();
    w.begin("poweroff");
    w.str("compatible", "syscon-poweroff");
    w.u32("regmap", kSyscon);
    w.u32("offset", 0x0);
    w.u32("value", 0x5555);
    w.u32("mask", 0xffffffff);
    w.end();
    w.end();
  }

  if (b.rtc_base) {
    w.begin(node("rtc", b.rtc_base));
    w.str("compatible", "google,goldfish-rtc");
    w.reg_list("reg", {{b.rtc_base, 0x1000}});
    interrupt(b.rtc_irq, b.rtc_gic_irq);
    w.end();
  }

  w.begin("chosen");
  w.str("bootargs", b.bootargs);
  w.str("stdout-path", "/" + uart);
  if (b.initrd_end > b.initrd_start) {
    w.u64("linux,initrd-start", b.initrd_start);
    w.u64("linux,initrd-end", b.initrd_end);
  }
  if (b.kaslr_seed) w.u64("kaslr-seed", b.kaslr_seed);
  w.end();

  w.end();
  std::vector<uint8_t> out = w.finish();
  if (out.empty()) error = w.error();
  return out;
}

}  // namespace disco
