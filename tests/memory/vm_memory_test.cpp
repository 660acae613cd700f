// Memory sharing under running processors. The key property: when the
// monitor remaps or write-protects a page that a CPU has cached in its soft
// TLB, the CPU's next store must not reach the shared page (the other VM
// still sees the old value) and the storing VM must see its own. Checked
// through mem::store/mem::load on Vm processors, then with guest code on the
// interpreter and the JIT booted on a Machine (shared boot image, sharing
// scan, stats JSON), and for a VM that runs the machine out of pages.
#include <elf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "cli/stats.h"
#include "jit/jit.h"
#include "monitor/machine.h"
#include "monitor/machine_config.h"
#include "cpu/mmu.h"
#include "monitor/page_sharing.h"
#include "tests/memory/helpers.h"
#include "tests/support/encode.h"
#include "tests/support/make_elf.h"

namespace disco::test {
namespace {

using namespace enc;

constexpr uint64_t P = kPageSize;
constexpr uint64_t MiB = 1ull << 20;
constexpr uint64_t kKseg0 = 0xffffffff80000000ull;
enum : unsigned { ZERO = 0, V0 = 2, T0 = 12, T1 = 13 };

// ---- mem::store / mem::load on two Vms --------------------------------------

constexpr uint64_t kDataPhys = 0x200000;
constexpr uint64_t kData = kKseg0 + kDataPhys;
constexpr uint64_t kDataGpn = kDataPhys / P;

VmSpec small_vm(Engine engine = Engine::Interp) {
  VmSpec c;
  c.mem_bytes = 16 * MiB;
  c.deterministic = true;
  c.engine = engine;
  return c;
}

uint64_t load64(Cpu& c, uint64_t va) {
  uint64_t v = 0;
  EXPECT_TRUE(mem::load<uint64_t>(c, va, v));
  return v;
}

uint64_t peek64(GuestMemory& gm, uint64_t gpn, unsigned off = 0) {
  uint64_t v;
  std::memcpy(&v, gm.peek(gpn) + off, 8);
  return v;
}

bool store_cached(const Cpu& c, uint64_t va) { return c.stlb_store[mem::stlb_index(va)].tag != 0; }
bool load_cached(const Cpu& c, uint64_t va) { return c.stlb_load[mem::stlb_index(va)].tag != 0; }

struct TwoVms {
  MachineMemory mm{std::vector<uint64_t>{32 * MiB, 32 * MiB}};
  Vm v0{small_vm(), VmWiring{&mm, 0, 0, nullptr}};
  Vm v1{small_vm(), VmWiring{&mm, 1, 1, nullptr}};
  PageSharing ps{mm};
  Vm& vm(int i) { return i ? v1 : v0; }
  TwoVms() {
    ps.add(&v0.memory());
    ps.add(&v1.memory());
  }
};

// The scan merges a page both CPUs have cached (loads and stores); then
// VM `storer` stores to it through mem::store.
class CachedStore : public ::testing::TestWithParam<int> {};

TEST_P(CachedStore, AfterMergeTheStoreCopies) {
  TwoVms t;
  const int s = GetParam(), o = 1 - GetParam();
  constexpr uint64_t X = 0x1111222233334444ull, Y = 0x5555666677778888ull;
  for (int i = 0; i < 2; ++i) {
    Cpu& c = t.vm(i).cpu();
    ASSERT_TRUE(mem::store<uint64_t>(c, kData, X));
    ASSERT_TRUE(mem::store<uint64_t>(c, kData + 8, X));  // fast path now
    EXPECT_EQ(load64(c, kData), X);
    ASSERT_TRUE(store_cached(c, kData));
    ASSERT_TRUE(load_cached(c, kData));
  }
  ASSERT_NE(t.v0.memory().at(kDataGpn), t.v1.memory().at(kDataGpn));
  t.ps.scan(100'000);
  ASSERT_EQ(t.v0.memory().at(kDataGpn), t.v1.memory().at(kDataGpn)) << "the scan shares the page";
  const MPage shared = t.v0.memory().at(kDataGpn);
  EXPECT_FALSE(store_cached(t.v0.cpu(), kData));
  EXPECT_FALSE(store_cached(t.v1.cpu(), kData));

  Cpu& sc = t.vm(s).cpu();
  Cpu& oc = t.vm(o).cpu();
  // Both read the shared page first (load entries point at it again).
  EXPECT_EQ(load64(sc, kData), X);
  EXPECT_EQ(load64(oc, kData), X);
  ASSERT_TRUE(mem::store<uint64_t>(sc, kData, Y));
  EXPECT_EQ(peek64(t.vm(o).memory(), kDataGpn), X) << "the other VM's page must not change";
  EXPECT_EQ(std::memcmp(t.mm.host(shared), &X, 8), 0);
  EXPECT_EQ(peek64(t.vm(s).memory(), kDataGpn), Y);
  EXPECT_EQ(peek64(t.vm(s).memory(), kDataGpn, 8), X) << "the copy keeps the rest of the page";
  EXPECT_EQ(load64(sc, kData), Y);
  EXPECT_EQ(load64(oc, kData), X);
  EXPECT_NE(t.vm(s).memory().at(kDataGpn), shared);
  EXPECT_EQ(t.vm(o).memory().at(kDataGpn), shared);
  EXPECT_EQ(t.vm(s).memory().stats().cow_breaks, 1u);
  EXPECT_EQ(t.vm(o).memory().stats().cow_breaks, 0u);
  // Later stores (fast path again) stay in the copy.
  ASSERT_TRUE(mem::store<uint64_t>(sc, kData + 8, Y));
  EXPECT_EQ(peek64(t.vm(o).memory(), kDataGpn, 8), X);
  EXPECT_EQ(load64(sc, kData + 8), Y);
  // And the other VM stores in place to what is now its own page.
  ASSERT_TRUE(mem::store<uint64_t>(oc, kData + 16, X));
  EXPECT_EQ(t.vm(o).memory().at(kDataGpn), shared);
  EXPECT_EQ(peek64(t.vm(s).memory(), kDataGpn, 16), 0u);
}

// Other store sizes through the same stale entries.
TEST_P(CachedStore, ByteAndWordStoresCopyToo) {
  TwoVms t;
  const int s = GetParam(), o = 1 - GetParam();
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(mem::store<uint32_t>(t.vm(i).cpu(), kData + 4, 0xabcdef01u));
    ASSERT_TRUE(mem::store<uint8_t>(t.vm(i).cpu(), kData + 9, 0x7f));
  }
  t.ps.scan(100'000);
  ASSERT_EQ(t.v0.memory().at(kDataGpn), t.v1.memory().at(kDataGpn));
  ASSERT_TRUE(mem::store<uint8_t>(t.vm(s).cpu(), kData + 9, 0x01));
  ASSERT_TRUE(mem::store<uint32_t>(t.vm(s).cpu(), kData + 4, 0x02020202u));
  EXPECT_EQ(t.vm(o).memory().peek(kDataGpn)[9], 0x7f);
  EXPECT_EQ(t.vm(s).memory().peek(kDataGpn)[9], 0x01);
  uint32_t w;
  std::memcpy(&w, t.vm(o).memory().peek(kDataGpn) + 4, 4);
  EXPECT_EQ(w, 0xabcdef01u);
}

// The VM whose page was replaced by the other's reads the shared page, not
// the page it lost (which went back to the pool).
TEST_P(CachedStore, LoadsAfterMergeReadTheSharedPage) {
  TwoVms t;
  constexpr uint64_t X = 0x0123456789abcdefull;
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(mem::store<uint64_t>(t.vm(i).cpu(), kData, X));
    EXPECT_EQ(load64(t.vm(i).cpu(), kData), X);
  }
  t.ps.scan(100'000);
  ASSERT_EQ(t.v0.memory().at(kDataGpn), t.v1.memory().at(kDataGpn));
  // Reuse the freed page for something else.
  const int s = GetParam();
  const uint64_t used = t.mm.used_pages();
  uint8_t* other = t.vm(s).memory().page(0x300000, true);
  std::memset(other, 0x5c, P);
  EXPECT_EQ(t.mm.used_pages(), used + 1);
  EXPECT_EQ(load64(t.v0.cpu(), kData), X);
  EXPECT_EQ(load64(t.v1.cpu(), kData), X);
}

// A page of zeros merged into the zero page under a cached store entry:
// the next store allocates a page and never touches the zero page.
TEST_P(CachedStore, ZeroMergeUnderACachedStore) {
  TwoVms t;
  const int s = GetParam();
  Cpu& c = t.vm(s).cpu();
  ASSERT_TRUE(mem::store<uint64_t>(c, kData, 99));
  ASSERT_TRUE(mem::store<uint64_t>(c, kData, 0));
  EXPECT_EQ(load64(c, kData), 0u);
  ASSERT_TRUE(store_cached(c, kData));
  t.ps.scan(100'000);
  ASSERT_EQ(t.vm(s).memory().at(kDataGpn), t.mm.zero_page());
  ASSERT_TRUE(mem::store<uint64_t>(c, kData, 7));
  EXPECT_NE(t.vm(s).memory().at(kDataGpn), t.mm.zero_page());
  EXPECT_EQ(load64(c, kData), 7u);
  EXPECT_EQ(peek64(t.vm(s).memory(), kDataGpn), 7u);
  EXPECT_TRUE(all_zero(t.mm.host(t.mm.zero_page())));
  // A page allocated now (maybe the one freed by the merge) reads as zeros.
  EXPECT_TRUE(all_zero(t.vm(1 - s).memory().page(0x400000, true)));
}

INSTANTIATE_TEST_SUITE_P(Storer, CachedStore, ::testing::Values(0, 1),
                         [](const auto& info) { return info.param ? std::string("Vm1") : std::string("Vm0"); });

// ---- a VM that runs the machine out of pages --------------------------------

// Stores 0x77 to one page after another from 1 MiB up.
void load_page_walker(Vm& vm) {
  const uint32_t code[] = {
      LUI(T0, 0x8010),          // t0 = kseg0 + 1 MiB
      ADDIU(T1, ZERO, 0x77),
      SD(T1, T0, 0),            // loop:
      DADDIU(T0, T0, 0x1000),
      BEQ(ZERO, ZERO, -3),
      NOP,
  };
  std::memcpy(vm.memory().page(0x10000, true), code, sizeof code);
  vm.cpu().s.pc = kKseg0 + 0x10000;
}

class OutOfMemory : public ::testing::TestWithParam<Engine> {};

TEST_P(OutOfMemory, StopsTheVmAndSparesTheOthers) {
  MachineMemory mm({4 * P});
  Vm v0(small_vm(GetParam()), VmWiring{&mm, 0, 0, nullptr});
  Vm v1(small_vm(GetParam()), VmWiring{&mm, 1, 0, nullptr});
  const auto keep = pattern(3);
  fill(v1.memory(), 5, keep);  // 1 page
  load_page_walker(v0);        // 1 page
  Vm::Limits lim;
  lim.max_insns = 100'000;
  EXPECT_EQ(v0.run(lim), VmExit::OutOfMemory);
  EXPECT_TRUE(v0.memory().out_of_memory());
  EXPECT_FALSE(v1.memory().out_of_memory());
  EXPECT_EQ(mm.used_pages(), 4u);
  // The two pages there were got the stores; the third store found none.
  const uint64_t first = 0x100000 / P;
  EXPECT_EQ(v0.memory().peek(first)[0], 0x77);
  EXPECT_EQ(v0.memory().peek(first + 1)[0], 0x77);
  EXPECT_EQ(v0.memory().at(first + 2), kNoPage);
  EXPECT_GE(v0.cpu().s.gpr[T0], kKseg0 + 0x100000 + 2 * P);
  EXPECT_LT(v0.instructions(), 100u);
  EXPECT_TRUE(holds(v1.memory(), 5, keep));
  EXPECT_TRUE(all_zero(mm.host(mm.zero_page())));
}

INSTANTIATE_TEST_SUITE_P(Engines, OutOfMemory,
                         ::testing::Values(Engine::Interp, Engine::Jit),
                         [](const auto& info) {
                           return info.param == Engine::Jit ? std::string("Jit") : std::string("Interp");
                         });

// ---- guest code on a Machine ------------------------------------------------

// One PT_LOAD at kseg0 + 1 MiB: a code page, then a data page holding
// kMarker at offset 8. The code stores t1 to the data page and loads it
// back into v0, forever.
constexpr uint64_t kImageVirt = kKseg0 + 0x100000;
constexpr uint64_t kImageGpn = 0x100000 / P;
constexpr uint64_t kGuestDataGpn = kImageGpn + 1;
constexpr uint32_t kMarker = 0x00c0ffee;

std::vector<uint8_t> store_loop_elf() {
  std::vector<uint8_t> payload(2 * P, 0);
  const uint32_t code[] = {
      LUI(T0, 0x8010),
      ORI(T0, T0, 0x1000),  // t0 = the data page
      SW(T1, T0, 0),        // loop:
      LW(V0, T0, 0),
      BEQ(ZERO, ZERO, -3),
      NOP,
  };
  std::memcpy(payload.data(), code, sizeof code);
  std::memcpy(payload.data() + P + 8, &kMarker, 4);

  return make_elf(kImageVirt, payload, payload.size());
}

// The ELF in a temporary file for the life of the test.
struct TempElf {
  std::string path;
  TempElf() {
    char p[] = "/tmp/disco-memory-elf-XXXXXX";
    const int fd = mkstemp(p);
    EXPECT_GE(fd, 0);
    const std::vector<uint8_t> f = store_loop_elf();
    EXPECT_EQ(write(fd, f.data(), f.size()), static_cast<ssize_t>(f.size()));
    close(fd);
    path = p;
  }
  ~TempElf() { unlink(path.c_str()); }
};

// Two VMs ("alpha" on node 0, "beta" on node 1) booted from one ELF.
struct GuestMachine {
  TempElf elf;
  std::unique_ptr<Machine> m;
  explicit GuestMachine(Engine engine, bool sharing = true) {
    MachineSpec spec;
    spec.sharing = sharing;
    spec.nodes = 2;
    spec.cpus_per_node = 1;
    spec.mem_per_node = 32 * MiB;
    for (const char* name : {"alpha", "beta"}) {
      VmSpec v = small_vm(engine);
      v.name = name;
      v.kernel = elf.path;
      spec.vms.push_back(v);
    }
    std::string err;
    EXPECT_TRUE(validate_machine(spec, err)) << err;
    m = std::make_unique<Machine>(spec);
    for (size_t i = 0; i < 2; ++i) EXPECT_TRUE(m->add_vm(nullptr, err)) << err;
  }
  GuestMemory& mem(size_t i) { return m->vm(i).memory(); }
  // Runs VM i for `n` more instructions, storing `value`.
  void run(size_t i, uint32_t value, uint64_t n = 1000) {
    Vm& v = m->vm(i);
    v.cpu().s.gpr[T1] = value;
    Vm::Limits lim;
    lim.max_insns = v.instructions() + n;
    EXPECT_EQ(v.run(lim), VmExit::InsnLimit);
  }
  uint32_t word(size_t i, unsigned off = 0) {
    uint32_t w;
    std::memcpy(&w, mem(i).peek(kGuestDataGpn) + off, 4);
    return w;
  }
};

struct GuestParam {
  Engine engine;
  int storer;
};
void PrintTo(const GuestParam& p, std::ostream* os) {
  *os << (p.engine == Engine::Jit ? "jit" : "interpreter") << ", VM " << p.storer << " stores";
}

class GuestStores : public ::testing::TestWithParam<GuestParam> {};

TEST_P(GuestStores, BootImageSharedThenCopiedThenMergedThenCopied) {
  GuestMachine g(GetParam().engine);
  ASSERT_EQ(g.m->size(), 2u);
  const int s = GetParam().storer, o = 1 - s;
  constexpr uint32_t X = 0x11111111, Y = 0x22222222;

  // Booted once: beta maps alpha's image pages.
  EXPECT_EQ(g.mem(0).at(kImageGpn), g.mem(1).at(kImageGpn));
  EXPECT_EQ(g.mem(0).at(kGuestDataGpn), g.mem(1).at(kGuestDataGpn));
  const MPage image_data = g.mem(0).at(kGuestDataGpn);
  EXPECT_EQ(g.m->memory().refs(image_data), 3u);  // two VMs and the cache

  // Both store X: each gets its own copy of the image's data page.
  g.run(0, X);
  g.run(1, X);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(g.word(i), X);
    EXPECT_EQ(g.word(i, 8), kMarker);
    EXPECT_EQ(g.m->vm(i).cpu().s.gpr[V0], X);
    EXPECT_EQ(g.mem(i).stats().cow_breaks, 1u);
  }
  EXPECT_NE(g.mem(0).at(kGuestDataGpn), g.mem(1).at(kGuestDataGpn));
  EXPECT_EQ(g.m->memory().refs(image_data), 1u);
  uint32_t orig;
  std::memcpy(&orig, g.m->memory().host(image_data), 4);
  EXPECT_EQ(orig, 0u) << "the cached image is unchanged";

  // The scan merges the two equal data pages (both CPUs have them cached).
  g.m->settle_sharing();
  ASSERT_EQ(g.mem(0).at(kGuestDataGpn), g.mem(1).at(kGuestDataGpn));
  const MPage shared = g.mem(0).at(kGuestDataGpn);

  // One VM stores Y: it must get a copy; the other keeps X.
  g.run(s, Y);
  EXPECT_EQ(g.word(s), Y);
  EXPECT_EQ(g.m->vm(s).cpu().s.gpr[V0], Y);
  EXPECT_EQ(g.word(o), X) << "a store reached the other VM's memory";
  EXPECT_EQ(g.mem(o).at(kGuestDataGpn), shared);
  EXPECT_NE(g.mem(s).at(kGuestDataGpn), shared);
  EXPECT_EQ(g.mem(s).stats().cow_breaks, 2u);
  // The other VM runs on and still sees its own value.
  g.run(o, X);
  EXPECT_EQ(g.m->vm(o).cpu().s.gpr[V0], X);
  EXPECT_EQ(g.word(o), X);
  EXPECT_EQ(g.word(s), Y);
  EXPECT_EQ(g.word(s, 8), kMarker);
  EXPECT_EQ(g.word(o, 8), kMarker);
  if (GetParam().engine == Engine::Jit) {
    ASSERT_NE(g.m->vm(s).jit(), nullptr);
    EXPECT_GT(g.m->vm(s).jit()->stats().guest_insns_in_blocks, 0u) << "the stores ran in translated code";
  }
}

INSTANTIATE_TEST_SUITE_P(
    EngineAndStorer, GuestStores,
    ::testing::Values(GuestParam{Engine::Interp, 0}, GuestParam{Engine::Interp, 1},
                      GuestParam{Engine::Jit, 0}, GuestParam{Engine::Jit, 1}),
    [](const auto& info) {
      return std::string(info.param.engine == Engine::Jit ? "Jit" : "Interp") +
             (info.param.storer ? "Vm1" : "Vm0");
    });

// ---- stats JSON -------------------------------------------------------------

// A minimal JSON reader: enough to check the document is well formed and
// to look values up.
struct Json {
  enum Kind { Null, Bool, Num, Str, Arr, Obj } kind = Null;
  double num = 0;
  std::string str;
  std::vector<Json> arr;
  std::map<std::string, Json> obj;
  const Json& operator[](const std::string& k) const {
    static const Json none;
    auto it = obj.find(k);
    return it == obj.end() ? none : it->second;
  }
};

class JsonReader {
 public:
  explicit JsonReader(const std::string& s) : s_(s) {}
  bool document(Json& out) {
    if (!value(out)) return false;
    ws();
    return i_ == s_.size();
  }

 private:
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  bool eat(char ch) {
    ws();
    if (i_ < s_.size() && s_[i_] == ch) {
      ++i_;
      return true;
    }
    return false;
  }
  bool string(std::string& out) {
    if (!eat('"')) return false;
    while (i_ < s_.size() && s_[i_] != '"') {
      char ch = s_[i_++];
      if (static_cast<unsigned char>(ch) < 0x20) return false;
      if (ch == '\\') {
        if (i_ >= s_.size()) return false;
        ch = s_[i_++];
        if (ch == 'u') {
          if (i_ + 4 > s_.size()) return false;
          ch = static_cast<char>(std::stoi(s_.substr(i_, 4), nullptr, 16));
          i_ += 4;
        } else if (ch == 'n') {
          ch = '\n';
        } else if (ch != '"' && ch != '\\' && ch != '/') {
          return false;
        }
      }
      out += ch;
    }
    return eat('"');
  }
  bool value(Json& v) {
    ws();
    if (i_ >= s_.size()) return false;
    const char ch = s_[i_];
    if (ch == '{') {
      v.kind = Json::Obj;
      ++i_;
      if (eat('}')) return true;
      do {
        std::string k;
        Json item;
        if (!string(k) || !eat(':') || !value(item)) return false;
        if (v.obj.count(k)) return false;  // duplicate key
        v.obj.emplace(k, std::move(item));
      } while (eat(','));
      return eat('}');
    }
    if (ch == '[') {
      v.kind = Json::Arr;
      ++i_;
      if (eat(']')) return true;
      do {
        Json item;
        if (!value(item)) return false;
        v.arr.push_back(std::move(item));
      } while (eat(','));
      return eat(']');
    }
    if (ch == '"') {
      v.kind = Json::Str;
      return string(v.str);
    }
    for (const char* word : {"true", "false", "null"}) {
      if (s_.compare(i_, std::strlen(word), word) == 0) {
        v.kind = word[0] == 'n' ? Json::Null : Json::Bool;
        i_ += std::strlen(word);
        return true;
      }
    }
    size_t used = 0;
    try {
      v.num = std::stod(s_.substr(i_), &used);
    } catch (...) {
      return false;
    }
    if (used == 0 || !(ch == '-' || (ch >= '0' && ch <= '9'))) return false;
    v.kind = Json::Num;
    i_ += used;
    return true;
  }
  const std::string& s_;
  size_t i_ = 0;
};

TEST(JsonReaderSelfTest, AcceptsAndRejects) {
  Json j;
  EXPECT_TRUE(JsonReader(R"({"a": [1, 2.5, "x\"y"], "b": {"c": true, "d": null}})").document(j));
  EXPECT_EQ(j["a"].arr.size(), 3u);
  EXPECT_EQ(j["a"].arr[2].str, "x\"y");
  for (const char* bad : {"{", R"({"a": 1,})", R"({"a" 1})", R"({"a": 1} x)", R"([1 2])", R"({"a": 1, "a": 2})"}) {
    Json k;
    EXPECT_FALSE(JsonReader(bad).document(k)) << bad;
  }
}

// Reads the machine's statistics as `disco run --stats=json` prints them,
// checking the JSON is well formed.
Json stats_of(Machine& m) {
  const std::string text = stats_json(m.stats());
  Json j;
  EXPECT_TRUE(JsonReader(text).document(j)) << text;
  return j;
}

TEST(MachineStats, ImageCountersBeforeAndAfterTrim) {
  GuestMachine g(Engine::Interp);
  Json j = stats_of(*g.m);
  EXPECT_EQ(j["machine"]["image_pages"].num, 2);  // code and data
  EXPECT_EQ(j["machine"]["image_cache_hits"].num, 1);
  EXPECT_EQ(j["machine"]["cow_breaks"].num, 0);
  g.run(0, 5);
  g.run(1, 5);
  g.m->settle_sharing();  // trims the image whose data page both VMs copied
  j = stats_of(*g.m);
  EXPECT_EQ(j["machine"]["image_pages"].num, 0);
  EXPECT_EQ(j["machine"]["cow_breaks"].num, 2);
}

TEST(MachineStats, JsonHasTheMachineAndEveryVm) {
  GuestMachine g(Engine::Interp);
  g.run(0, 5);
  g.run(1, 5);
  g.mem(1).page(0x800000, false);  // one zero-page mapping
  g.m->settle_sharing();
  const std::string text = stats_json(g.m->stats());
  Json j;
  ASSERT_TRUE(JsonReader(text).document(j)) << text;
  ASSERT_EQ(j.kind, Json::Obj);
  const Json& m = j["machine"];
  ASSERT_EQ(m.kind, Json::Obj) << text;
  for (const char* k : {"nodes", "cpus_per_node", "mem_per_node_bytes", "local_latency_ns", "remote_latency_ns",
                        "page_bytes", "machine_pages_total", "machine_pages_used", "guest_pages_touched",
                        "shared_pages", "zero_page_mappings", "image_pages", "image_cache_hits", "cow_breaks",
                        "pages_scanned", "merges", "zero_merges", "scan_passes", "host_rss_bytes"})
    EXPECT_EQ(m[k].kind, Json::Num) << k;
  MachineMemory& mm = g.m->memory();
  EXPECT_EQ(m["nodes"].num, 2);
  EXPECT_EQ(m["page_bytes"].num, 4096);
  EXPECT_EQ(m["mem_per_node_bytes"].num, 32.0 * MiB);
  EXPECT_EQ(m["machine_pages_total"].num, static_cast<double>(mm.total_pages()));
  EXPECT_EQ(m["machine_pages_used"].num, static_cast<double>(mm.used_pages()));
  EXPECT_EQ(m["shared_pages"].num, static_cast<double>(mm.shared_pages()));
  EXPECT_EQ(m["image_cache_hits"].num, 1);
  EXPECT_EQ(m["cow_breaks"].num, 2);
  EXPECT_GE(m["merges"].num, 1);
  EXPECT_GE(m["scan_passes"].num, 1);
  EXPECT_GT(m["host_rss_bytes"].num, 0);
  const Json& nodes = m["node_pages_used"];
  ASSERT_EQ(nodes.kind, Json::Arr);
  ASSERT_EQ(nodes.arr.size(), 2u);
  EXPECT_EQ(nodes.arr[0].num, static_cast<double>(mm.used_pages_on(0)));
  EXPECT_EQ(nodes.arr[1].num, static_cast<double>(mm.used_pages_on(1)));
  EXPECT_EQ(nodes.arr[0].num + nodes.arr[1].num, m["machine_pages_used"].num);

  const Json& vms = j["vms"];
  ASSERT_EQ(vms.kind, Json::Arr);
  ASSERT_EQ(vms.arr.size(), 2u);
  double touched = 0;
  for (size_t i = 0; i < 2; ++i) {
    const Json& v = vms.arr[i];
    for (const char* k : {"home_node", "mem_bytes", "instructions", "guest_pages_touched", "machine_pages",
                          "shared_pages", "zero_pages", "remote_pages", "cow_breaks"})
      EXPECT_EQ(v[k].kind, Json::Num) << "vms[" << i << "]." << k;
    EXPECT_EQ(v["name"].str, i ? "beta" : "alpha");
    EXPECT_EQ(v["state"].str, "running");
    EXPECT_EQ(v["home_node"].num, static_cast<double>(i));
    EXPECT_EQ(v["mem_bytes"].num, 16.0 * MiB);
    EXPECT_EQ(v["instructions"].num, static_cast<double>(g.m->vm(i).instructions()));
    EXPECT_EQ(v["cow_breaks"].num, 1);
    const GuestMemory::Stats s = g.mem(i).stats();
    EXPECT_EQ(v["guest_pages_touched"].num, static_cast<double>(s.touched));
    EXPECT_EQ(v["machine_pages"].num, static_cast<double>(s.private_pages));
    EXPECT_EQ(v["shared_pages"].num, static_cast<double>(s.shared));
    EXPECT_GE(v["shared_pages"].num, 2) << "the code page and the merged data page";
    touched += v["guest_pages_touched"].num;
  }
  EXPECT_EQ(m["guest_pages_touched"].num, touched);
  EXPECT_EQ(m["zero_page_mappings"].num, vms.arr[0]["zero_pages"].num + vms.arr[1]["zero_pages"].num);
  EXPECT_GE(m["zero_page_mappings"].num, 1);
  // The text form names both VMs.
  const std::string t = stats_text(g.m->stats());
  EXPECT_NE(t.find("alpha"), std::string::npos);
  EXPECT_NE(t.find("beta"), std::string::npos);
}

// ---- the scheduler -----------------------------------------------------------

// The machine's own scheduler: the scan and the image trim run between
// slices while both guests store different values to the same address.
class MachineRun : public ::testing::TestWithParam<Engine> {};

TEST_P(MachineRun, ScanBetweenSlicesKeepsVmsApart) {
  GuestMachine g(GetParam());
  constexpr uint32_t A = 0x0aaa0000, B = 0x0bbb0000;
  g.m->vm(0).cpu().s.gpr[T1] = A;
  g.m->vm(1).cpu().s.gpr[T1] = B;
  Machine::RunLimits lim;
  lim.timeout_seconds = 0.3;
  lim.slice_cycles = 100'000;
  EXPECT_EQ(g.m->run(lim), Machine::End::Timeout);
  EXPECT_EQ(g.word(0), A);
  EXPECT_EQ(g.word(1), B);
  EXPECT_EQ(g.m->vm(0).cpu().s.gpr[V0], A);
  EXPECT_EQ(g.m->vm(1).cpu().s.gpr[V0], B);
  EXPECT_EQ(g.word(0, 8), kMarker);
  EXPECT_EQ(g.word(1, 8), kMarker);
  EXPECT_GT(g.m->sharing().stats().pages_scanned, 0u);
  EXPECT_EQ(g.m->exit_of(0), VmExit::Running);
  const Json j = stats_of(*g.m);
  EXPECT_EQ(j["machine"]["image_pages"].num, 0) << "trimmed once both VMs copied the data page";
  // The code page stays shared by the two VMs.
  EXPECT_EQ(g.mem(0).at(kImageGpn), g.mem(1).at(kImageGpn));
}

INSTANTIATE_TEST_SUITE_P(Engines, MachineRun, ::testing::Values(Engine::Interp, Engine::Jit),
                         [](const auto& info) {
                           return info.param == Engine::Jit ? std::string("Jit") : std::string("Interp");
                         });

// Without sharing there is no image cache and no scan either.
TEST(MachineNoSharing, EveryVmLoadsItsOwnImageAndNothingMerges) {
  GuestMachine g(Engine::Interp, /*sharing=*/false);
  EXPECT_NE(g.mem(0).at(kImageGpn), g.mem(1).at(kImageGpn));
  g.run(0, 5);
  g.run(1, 5);
  g.m->settle_sharing();
  EXPECT_NE(g.mem(0).at(kGuestDataGpn), g.mem(1).at(kGuestDataGpn));
  EXPECT_EQ(g.m->memory().shared_pages(), 0u);
  const Json j = stats_of(*g.m);
  EXPECT_EQ(j["machine"]["image_cache_hits"].num, 0);
  EXPECT_EQ(j["machine"]["merges"].num, 0);
  EXPECT_EQ(j["machine"]["cow_breaks"].num, 0);
}

// A machine whose VMs have not been added (or all failed to boot): settling
// the sharing has nothing to scan and must return. Run in a child process
// with an alarm, so that a hang fails the test instead of the suite.
// BUG (src/monitor/machine.cpp, page_sharing.cpp): PageSharing::scan returns
// at once when no VM was ever added, without counting a pass, so
// settle_sharing's `while (passes == before)` loop never ends. Disabled
// until fixed; run with --gtest_also_run_disabled_tests.
TEST(MachineDeathTest, SettleSharingWithoutVmsReturns) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  TempElf elf;
  MachineSpec spec;
  VmSpec v;
  v.kernel = elf.path;
  v.mem_bytes = 16 * MiB;
  spec.vms.push_back(v);
  std::string err;
  ASSERT_TRUE(validate_machine(spec, err)) << err;
  EXPECT_EXIT(
      {
        alarm(5);
        Machine m(spec);
        m.settle_sharing();
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace disco::test
