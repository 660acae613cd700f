// A replicated page collapsing under running processors: vCPUs of one VM
// on host threads, each on its own node (its bus passes the node to
// GuestMemory::page), read a page replicated on their nodes while one or
// two of them write it. The pmap's `invalidate` is the shootdown a Vm does
// (docs/smp.md): the caller drops its own entries, the other vCPUs get
// DropHostPage in their mailboxes and are waited for. Readers check, in
// guest code, that once a writer's "done" flag is visible the page shows
// its write: a reader still on a replica would see the old word.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "cpu/cpu.h"
#include "cpu/mmu.h"
#include "interp/interpreter.h"
#include "jit/jit.h"
#include "tests/memory/helpers.h"
#include "tests/support/encode.h"

namespace disco::test {
namespace {

using namespace enc;

enum : unsigned { ZERO = 0, V0 = 2, A0 = 4, A1 = 5, A2 = 6, A3 = 7, T0 = 8, T1 = 9, T2 = 10 };
enum : unsigned { T4 = 12, T5 = 13, T7 = 15, S0 = 16, T8 = 24, T9 = 25 };
constexpr uint64_t kKseg0 = 0xffffffff80000000ull;
constexpr uint32_t SYNC = 0x0f;
constexpr uint32_t AND(unsigned rd, unsigned rs, unsigned rt) { return r(0x24, rs, rt, rd); }

// Guest pages: code, the replicated page, the writers' flags, one page of
// progress per vCPU.
constexpr uint64_t kReaderCode = 1, kWriterCode = 2, kShared = 4, kFlags = 5, kProgress = 8;
constexpr uint32_t kOld1 = 0x1111, kNew1 = 0x2222, kOld2 = 0x3333, kNew2 = 0x4444;
constexpr unsigned kNodes = 4;

// The vCPU running on this host thread (Vm::current_vcpu's analogue).
thread_local Cpu* tl_self = nullptr;

// A vCPU's view of the VM's memory: the pmap, from its node.
class NodeBus : public PhysBus {
 public:
  NodeBus(GuestMemory& gm, unsigned node) : gm_(gm), node_(node) {}
  uint8_t* ram_page(uint64_t paddr, bool for_write) override { return gm_.page(paddr, for_write, node_); }
  bool mmio_read(uint64_t, unsigned, uint64_t&) override { return false; }
  bool mmio_write(uint64_t, unsigned, uint64_t) override { return false; }

 private:
  GuestMemory& gm_;
  unsigned node_;
};

struct Vcpu {
  std::unique_ptr<NodeBus> bus;
  std::unique_ptr<Cpu> cpu;
  std::unique_ptr<jit::Jit> jit;
  bool waited = false;
};

// Reader: until both flags are set, load flag 1 and 2, SYNC, load the two
// words; a set flag with its word not yet the new value is an error (v0 =
// 1, then WAIT). Once both are set, 2000 more rounds, then WAIT. Progress
// (t2) goes to 0(a2).
std::vector<uint32_t> reader_code() {
  return {
      LW(T0, A1, 0),     // 0: flag 1
      LW(T7, A1, 4),     // 1: flag 2
      SYNC,              // 2
      LW(T1, A0, 0),     // 3: word 1
      LW(T8, A0, 8),     // 4: word 2
      ADDIU(T2, T2, 1),  // 5
      SW(T2, A2, 0),     // 6
      BEQ(T0, ZERO, 3),  // 7: -> 11
      NOP,               // 8
      BNE(T1, A3, 13),   // 9: -> 23 (stale)
      NOP,               // 10
      BEQ(T7, ZERO, 3),  // 11: -> 15
      NOP,               // 12
      BNE(T8, S0, 9),    // 13: -> 23 (stale)
      NOP,               // 14
      AND(T9, T0, T7),   // 15
      BEQ(T9, ZERO, -17),  // 16: -> 0
      NOP,               // 17
      ADDIU(T4, T4, 1),  // 18
      BNE(T4, T5, -20),  // 19: -> 0
      NOP,               // 20
      WAIT,              // 21
      NOP,               // 22
      ADDIU(V0, ZERO, 1),  // 23: stale
      WAIT,              // 24
      NOP,               // 25
  };
}

// Writer: loads its word (from its node's replica) until the test says go
// (16(a1) != 0), then stores a3 there (the collapse), SYNC, flag = 1, WAIT.
std::vector<uint32_t> writer_code(int16_t word_off, int16_t flag_off) {
  return {
      LW(T1, A0, word_off),  // 0
      LW(T2, A1, 16),        // 1: go?
      BEQ(T2, ZERO, -3),     // 2: -> 0
      NOP,                   // 3
      SW(A3, A0, word_off),  // 4: the write
      SYNC,                  // 5
      ADDIU(T0, ZERO, 1),    // 6
      SW(T0, A1, flag_off),  // 7
      WAIT,                  // 8
      NOP,                   // 9
  };
}

void put_code(GuestMemory& gm, uint64_t gpn, const std::vector<uint32_t>& words) {
  uint8_t* p = gm.page(gm.paddr_of(gpn), true);
  for (size_t k = 0; k < words.size(); ++k) __atomic_store_n(reinterpret_cast<uint32_t*>(p + 4 * k), words[k], __ATOMIC_RELAXED);
}

void put_word(GuestMemory& gm, uint64_t gpn, unsigned off, uint32_t v) {
  __atomic_store_n(reinterpret_cast<uint32_t*>(gm.page(gm.paddr_of(gpn), true) + off), v, __ATOMIC_RELAXED);
}

uint64_t kaddr(const GuestMemory& gm, uint64_t gpn) { return kKseg0 + gm.paddr_of(gpn); }

struct Role {
  unsigned node;
  int writer;  // -1: a reader; else which word it writes (0 or 1)
};

// One run: the page on node 0 with replicas on nodes 1..3, the vCPUs of
// `roles` on their nodes. Returns after every vCPU has idled.
void collapse_round(bool use_jit, const std::vector<Role>& roles) {
  MachineMemory mm(std::vector<uint64_t>(kNodes, 64 * kPageSize));
  GuestMemory gm = small_pmap(mm, 0, 0);
  const bool two_writers = std::count_if(roles.begin(), roles.end(), [](const Role& r) { return r.writer == 1; }) > 0;

  put_code(gm, kReaderCode, reader_code());
  put_code(gm, kWriterCode, writer_code(0, 0));
  put_code(gm, kWriterCode + 1, writer_code(8, 4));
  put_word(gm, kShared, 0, kOld1);
  // With one writer, the second word already holds its new value and its
  // flag is set: the readers check the first pair alone.
  put_word(gm, kShared, 8, two_writers ? kOld2 : kNew2);
  put_word(gm, kFlags, 0, 0);
  put_word(gm, kFlags, 4, two_writers ? 0 : 1);
  put_word(gm, kFlags, 16, 0);  // go, for the writers
  for (size_t k = 0; k < roles.size(); ++k) put_word(gm, kProgress + k, 0, 0);

  std::vector<Vcpu> vcpus(roles.size());
  std::mutex log_mu;
  std::vector<const uint8_t*> dropped;
  gm.invalidate = [&](const uint8_t* host_page) {
    {
      std::lock_guard<std::mutex> g(log_mu);
      dropped.push_back(host_page);
    }
    // As Vm::invalidate_host_page: own entries at once, the others' through
    // their mailboxes, waited for while serving our own.
    std::vector<uint64_t> tickets(vcpus.size(), 0);
    for (size_t k = 0; k < vcpus.size(); ++k) {
      Cpu& c = *vcpus[k].cpu;
      if (&c == tl_self) mem::invalidate_host_page(c, host_page);
      else tickets[k] = c.post({CpuRequest::DropHostPage, reinterpret_cast<uint64_t>(host_page)});
    }
    for (size_t k = 0; k < vcpus.size(); ++k)
      if (tickets[k]) vcpus[k].cpu->wait_ack(tickets[k], tl_self);
  };

  for (size_t k = 0; k < roles.size(); ++k) {
    Vcpu& v = vcpus[k];
    v.bus = std::make_unique<NodeBus>(gm, roles[k].node);
    v.cpu = std::make_unique<Cpu>(*v.bus, CpuConfig{});
    Cpu& c = *v.cpu;
    interp::attach(c);
    c.s.cp0.status = cp0::Status_KX | cp0::Status_SX | cp0::Status_UX;
    c.mode_changed();
    c.translation_changed();
    c.s.gpr[A0] = kaddr(gm, kShared);
    c.s.gpr[A1] = kaddr(gm, kFlags);
    c.s.gpr[A2] = kaddr(gm, kProgress + k);
    if (roles[k].writer < 0) {
      c.s.pc = kaddr(gm, kReaderCode);
      c.s.gpr[A3] = kNew1;
      c.s.gpr[S0] = kNew2;
      c.s.gpr[T5] = 2000;
    } else {
      c.s.pc = kaddr(gm, kWriterCode + roles[k].writer);
      c.s.gpr[A3] = roles[k].writer == 0 ? kNew1 : kNew2;
    }
    if (use_jit) v.jit = std::make_unique<jit::Jit>(c);
  }

  // World paused (no vCPU runs yet): replicate the page onto nodes 1..3.
  const MPage master = gm.at(kShared);
  ASSERT_EQ(mm.node_of(master), 0u);
  std::vector<MPage> replicas;
  for (unsigned n = 1; n < kNodes; ++n) {
    const MPage r = GuestMemory::replicate_page(mm, [&](uint32_t id) { return id == 0 ? &gm : nullptr; }, master, n);
    ASSERT_NE(r, kNoPage);
    ASSERT_EQ(gm.backing(gm.paddr_of(kShared), n), r);
    replicas.push_back(r);
  }
  ASSERT_EQ(gm.backing(gm.paddr_of(kShared), 0), master);

  std::vector<std::thread> threads;
  for (size_t k = 0; k < vcpus.size(); ++k) {
    threads.emplace_back([&, k] {
      Vcpu& v = vcpus[k];
      tl_self = v.cpu.get();
      const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (std::chrono::steady_clock::now() < end) {
        const uint64_t limit = v.cpu->s.cycles + (1u << 16);
        const StopReason why = v.jit ? v.jit->run(limit) : interp::run(*v.cpu, limit);
        if (why == StopReason::Wait) {
          v.waited = true;
          break;
        }
      }
      tl_self = nullptr;
    });
  }
  // Go once every reader is well under way (it has entries into its
  // node's replica, or the master), so the write meets running readers.
  auto progress = [&](size_t k) {
    return __atomic_load_n(reinterpret_cast<const uint32_t*>(mm.host(gm.at(kProgress + k))), __ATOMIC_RELAXED);
  };
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (size_t k = 0; k < roles.size(); ++k)
    while (roles[k].writer < 0 && progress(k) < 1000 && std::chrono::steady_clock::now() < give_up)
      std::this_thread::yield();
  __atomic_store_n(reinterpret_cast<uint32_t*>(mm.host(gm.at(kFlags)) + 16), 1u, __ATOMIC_RELAXED);
  for (auto& t : threads) t.join();

  for (size_t k = 0; k < vcpus.size(); ++k) {
    const Cpu& c = *vcpus[k].cpu;
    ASSERT_TRUE(vcpus[k].waited) << "vCPU " << k << " did not finish";
    if (roles[k].writer >= 0) continue;
    EXPECT_EQ(c.s.gpr[V0], 0u) << "vCPU " << k << " on node " << roles[k].node
                               << " read a stale word after the write completed";
    EXPECT_EQ(static_cast<uint32_t>(c.s.gpr[T1]), kNew1) << "vCPU " << k;
    EXPECT_EQ(static_cast<uint32_t>(c.s.gpr[T8]), kNew2) << "vCPU " << k;
  }
  // The collapse dropped every replica's entries, freed them, and the
  // master (in place, still the pmap's page) holds the writes.
  for (MPage r : replicas)
    EXPECT_NE(std::find(dropped.begin(), dropped.end(), mm.host(r)), dropped.end()) << "replica " << r;
  EXPECT_EQ(mm.replica_pages(), 0u);
  EXPECT_EQ(gm.at(kShared), master);
  EXPECT_EQ(gm.stats().collapses, 1u) << "one collapse, however many writers";
  EXPECT_EQ(gm.stats().cow_breaks, 0u);
  const uint8_t* now = mm.host(master);
  EXPECT_EQ(__atomic_load_n(reinterpret_cast<const uint32_t*>(now), __ATOMIC_RELAXED), kNew1);
  EXPECT_EQ(__atomic_load_n(reinterpret_cast<const uint32_t*>(now + 8), __ATOMIC_RELAXED), kNew2);
  gm.invalidate = nullptr;  // the vCPUs go first
}

class Collapse : public ::testing::TestWithParam<bool> {};

// The writer on node 1 has been reading node 1's replica; readers on the
// master's node and on the two other replicas' nodes.
TEST_P(Collapse, ReadersNeverSeeAStaleReplicaAfterTheWrite) {
  for (int round = 0; round < 8; ++round) {
    SCOPED_TRACE(round);
    collapse_round(GetParam(), {{1, 0}, {0, -1}, {2, -1}, {3, -1}});
    if (HasFatalFailure() || HasFailure()) return;
  }
}

// Two writers collapse the same page at once (each sees the other's
// collapse in progress and does the shootdown itself); readers on the
// other nodes.
TEST_P(Collapse, TwoWritersAtOnce) {
  for (int round = 0; round < 8; ++round) {
    SCOPED_TRACE(round);
    collapse_round(GetParam(), {{1, 0}, {2, 1}, {3, -1}, {0, -1}});
    if (HasFatalFailure() || HasFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, Collapse, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? std::string("Jit") : std::string("Interp"); });

}  // namespace
}  // namespace disco::test
