// The sampling tests' rig: one processor on either engine, on RAM that is
// one page-aligned host arena (host = arena + paddr below kArenaBytes, MMIO
// above), with a sampler that records what the engine reports.
//
// The arena is aligned to 2 MiB, so a host address and its guest-physical
// address agree in bits 0..20: they have the same sampled lines
// (line_sampled looks at bits 7..16), as they would not on scattered pages.
// That lets a test state the expected samples by guest-physical address
// and compare two processors that have different arenas.
#pragma once

#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <utility>
#include <vector>

#include "cpu/cpu.h"
#include "frontend/cp0_bits.h"
#include "interp/interpreter.h"
#include "jit/jit.h"

namespace disco::test {

constexpr uint64_t kArenaBytes = 4ull << 20;
constexpr uint64_t kRigKseg0 = 0xffffffff80000000ull;
constexpr uint64_t kRigCodePhys = 0x10000;

class ArenaBus : public PhysBus {
 public:
  ArenaBus() : ram_(static_cast<uint8_t*>(std::aligned_alloc(2u << 20, kArenaBytes))) {
    std::memset(ram_, 0, kArenaBytes);
  }
  ~ArenaBus() override { std::free(ram_); }
  ArenaBus(const ArenaBus&) = delete;
  ArenaBus& operator=(const ArenaBus&) = delete;

  uint8_t* ram_page(uint64_t paddr, bool) override {
    return paddr < kArenaBytes ? ram_ + (paddr & ~kPageMask) : nullptr;
  }
  bool mmio_read(uint64_t, unsigned, uint64_t& value) override {
    value = 0;
    ++mmio_accesses;
    return true;
  }
  bool mmio_write(uint64_t, unsigned, uint64_t) override {
    ++mmio_accesses;
    return true;
  }
  uintptr_t host(uint64_t paddr) const { return reinterpret_cast<uintptr_t>(ram_) + paddr; }
  uint64_t paddr_of(uintptr_t host) const { return host - reinterpret_cast<uintptr_t>(ram_); }
  void write32(uint64_t paddr, uint32_t v) { std::memcpy(ram_ + paddr, &v, 4); }

  unsigned mmio_accesses = 0;

 private:
  uint8_t* ram_;
};

enum class Engine { Interp, Jit };
inline const char* engine_name(Engine e) { return e == Engine::Interp ? "Interp" : "Jit"; }

// One data sample: guest-physical address (converted from the host
// address the engine reported) and whether it was a store.
struct DataSample {
  uint64_t paddr;
  bool write;
  bool operator==(const DataSample&) const = default;
};

struct Rig {
  explicit Rig(Engine e, CpuConfig cfg = {}) : cpu(bus, cfg) {
    interp::attach(cpu);
    cpu.s.cp0.status = cp0::Status_KX | cp0::Status_SX | cp0::Status_UX | (cfg.has_fpu ? cp0::Status_CU1 : 0u);
    cpu.mode_changed();
    cpu.translation_changed();
    cpu.s.pc = kRigKseg0 + kRigCodePhys;
    if (e == Engine::Jit) jit = std::make_unique<jit::Jit>(cpu);
  }

  // Turns the recording sampler on with `mask` (sample_mask_for_rate).
  void sample(uint32_t mask, bool on = true) {
    cpu.sampler = MemSampler{};
    cpu.sampler.on = on;
    cpu.sampler.mask = mask;
    cpu.sampler.data = &on_data;
    cpu.sampler.fetch = &on_fetch;
    cpu.sampler.ctx = this;
  }
  void load(std::initializer_list<uint32_t> words, uint64_t paddr = kRigCodePhys) {
    for (uint32_t w : words) {
      bus.write32(paddr, cpu.cfg.big_endian ? __builtin_bswap32(w) : w);
      paddr += 4;
    }
  }
  // Runs (one instruction or one block at a time) until the processor has
  // taken `n` more exceptions, or `max_cycles`.
  void run_until_exceptions(unsigned n = 1, uint64_t max_cycles = 100000) {
    const uint64_t until = cpu.stat_exceptions + n;
    while (cpu.stat_exceptions < until && cpu.s.cycles < max_cycles) {
      if (jit) jit->run(max_cycles, 1);
      else interp::step(cpu);
    }
  }
  // Free-running to `limit` cycles.
  void run_to(uint64_t limit) {
    while (cpu.s.cycles < limit)
      if ((jit ? jit->run(limit) : interp::run(cpu, limit)) != StopReason::Budget) break;
  }

  std::vector<DataSample> data_paddrs() const {
    std::vector<DataSample> out;
    for (const auto& [host, write] : data) out.push_back({bus.paddr_of(host), write});
    return out;
  }

  ArenaBus bus;
  Cpu cpu;
  std::unique_ptr<jit::Jit> jit;
  std::vector<std::pair<uintptr_t, bool>> data;  // host address, store
  std::vector<uint64_t> fetch;                    // guest-physical lines

 private:
  static void on_data(void* ctx, uintptr_t host, bool write) { static_cast<Rig*>(ctx)->data.emplace_back(host, write); }
  static void on_fetch(void* ctx, uint64_t line) { static_cast<Rig*>(ctx)->fetch.push_back(line); }
};

}  // namespace disco::test
