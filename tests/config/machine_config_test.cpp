// The machine description (docs/machine-config.md): TOML loading with
// errors that name the file, line and field; validation with the machine
// sized to fit the VMs; and a little fuzzing (no input may crash the loader).
#include <gtest/gtest.h>

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "cli/machine_file.h"
#include "monitor/machine.h"
#include "monitor/machine_config.h"
#include "monitor/numa_check.h"

namespace disco::test {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t MiB = 1ull << 20;

::testing::AssertionResult Has(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

class MachineConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    // Memory-backed when possible: the fuzz tests write a few thousand files.
    std::error_code ec;
    const fs::path base = fs::is_directory("/dev/shm", ec) && access("/dev/shm", W_OK) == 0
                              ? fs::path("/dev/shm") : fs::temp_directory_path();
    std::string tmpl = (base / "disco-cfg-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Writes `text` to `name` in the temp folder; returns its path.
  std::string write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

  bool load(const std::string& text, MachineSpec& spec) {
    path_ = write("machine.toml", text);
    return load_machine_toml(path_, spec, error_);
  }

  // Loads `text`, expecting an error; returns it.
  std::string load_error(const std::string& text) {
    MachineSpec spec;
    EXPECT_FALSE(load(text, spec)) << text;
    return error_;
  }

  static VmSpec vm(uint64_t mem = 256 * MiB, unsigned vcpus = 1) {
    VmSpec v;
    v.mem_bytes = mem;
    v.vcpus = vcpus;
    return v;
  }

  std::string validate_error(MachineSpec spec) {
    std::string error;
    EXPECT_FALSE(validate_machine(spec, error));
    return error;
  }

  fs::path dir_;
  std::string path_;
  std::string error_;
};

// ---- Loading ----

TEST_F(MachineConfig, ReadsEveryKey) {
  write("images/vmlinux", "k");
  write("images/initrd.gz", "i");
  MachineSpec s;
  ASSERT_TRUE(load(R"(
[machine]
nodes = 4
cpus_per_node = 3
mem_per_node = "512M"
local_latency_ns = 250
remote_latency_ns = 1000
overcommit = true

[sharing]
enabled = false
scan_rate = 1234
patching = false

[[vm]]
name = "web"
kernel = "images/vmlinux"
initrd = "images/initrd.gz"
append = "quiet loglevel=3"
mem = "256M"
vcpus = 2
home_node = 3
count = 4

[[vm]]
mem = 67108864
)", s)) << error_;
  EXPECT_EQ(s.nodes, 4u);
  EXPECT_EQ(s.cpus_per_node, 3u);
  EXPECT_EQ(s.mem_per_node, 512 * MiB);
  EXPECT_EQ(s.numa.local_latency_ns, 250u);
  EXPECT_EQ(s.numa.remote_latency_ns, 1000u);
  EXPECT_TRUE(s.overcommit);
  EXPECT_FALSE(s.sharing);
  EXPECT_EQ(s.scan_pages_per_sec, 1234u);
  EXPECT_FALSE(s.patching);
  ASSERT_EQ(s.vms.size(), 5u);
  for (int i = 0; i < 4; ++i) {
    const VmSpec& v = s.vms[i];
    EXPECT_EQ(v.name, "web" + std::to_string(i));
    EXPECT_EQ(v.kernel, (dir_ / "images/vmlinux").string());
    EXPECT_EQ(v.initrd, (dir_ / "images/initrd.gz").string());
    EXPECT_EQ(v.append, "quiet loglevel=3");
    EXPECT_EQ(v.mem_bytes, 256 * MiB);
    EXPECT_EQ(v.vcpus, 2u);
    EXPECT_EQ(v.home_node, 3);
  }
  const VmSpec& last = s.vms[4];
  EXPECT_EQ(last.name, "");
  EXPECT_EQ(last.kernel, "");
  EXPECT_EQ(last.mem_bytes, 64 * MiB);
  EXPECT_EQ(last.vcpus, 1u);
  EXPECT_EQ(last.home_node, -1);
  ASSERT_TRUE(validate_machine(s, error_)) << error_;
  EXPECT_EQ(s.vms[4].name, "vm4");
  EXPECT_EQ(s.vms[4].home_node, 0);
}

TEST_F(MachineConfig, EmptyFileGivesTheDefaults) {
  MachineSpec s;
  s.nodes = 7;  // overwritten: the file is the whole description
  ASSERT_TRUE(load("# nothing\n", s)) << error_;
  const MachineSpec d;
  EXPECT_EQ(s.nodes, 0u);
  EXPECT_EQ(s.cpus_per_node, 0u);
  EXPECT_EQ(s.mem_per_node, 0u);
  EXPECT_EQ(s.numa.local_latency_ns, d.numa.local_latency_ns);
  EXPECT_EQ(s.numa.remote_latency_ns, d.numa.remote_latency_ns);
  EXPECT_EQ(s.numa.policy, NumaPolicyKind::Both);
  EXPECT_TRUE(s.numa_origin.empty());
  EXPECT_FALSE(s.overcommit);
  EXPECT_TRUE(s.sharing);
  EXPECT_EQ(s.scan_pages_per_sec, 50'000u);
  EXPECT_TRUE(s.vms.empty());
  EXPECT_TRUE(Has(validate_error(s), "no VMs"));
}

TEST_F(MachineConfig, DefaultVmIsTheDefaultImageWith512M) {
  MachineSpec s;
  ASSERT_TRUE(load("[[vm]]\n", s)) << error_;
  ASSERT_EQ(s.vms.size(), 1u);
  EXPECT_EQ(s.vms[0].mem_bytes, 512 * MiB);
  EXPECT_EQ(s.vms[0].vcpus, 1u);
  EXPECT_TRUE(s.vms[0].kernel.empty());
  EXPECT_TRUE(s.vms[0].initrd.empty());
}

TEST_F(MachineConfig, SizesAsStringsOrBytes) {
  const std::pair<const char*, uint64_t> cases[] = {
      {"\"256M\"", 256 * MiB}, {"\"1G\"", 1024 * MiB},     {"\"65536K\"", 64 * MiB},
      {"\"512MiB\"", 512 * MiB}, {"\"16777216\"", 16 * MiB}, {"1048576000", 1000 * MiB},
  };
  for (const auto& [text, bytes] : cases) {
    MachineSpec s;
    ASSERT_TRUE(load(std::string("[[vm]]\nmem = ") + text + "\n", s)) << text << ": " << error_;
    EXPECT_EQ(s.vms[0].mem_bytes, bytes) << text;
  }
  MachineSpec s;
  ASSERT_TRUE(load("[machine]\nmem_per_node = 4294967296\n", s)) << error_;
  EXPECT_EQ(s.mem_per_node, 4096 * MiB);
}

TEST_F(MachineConfig, CountWithoutNameLeavesDefaultNames) {
  MachineSpec s;
  ASSERT_TRUE(load("[[vm]]\ncount = 3\n[[vm]]\nname = \"db\"\ncount = 1\n", s)) << error_;
  ASSERT_EQ(s.vms.size(), 4u);
  EXPECT_EQ(s.vms[3].name, "db");  // a single copy keeps its name
  ASSERT_TRUE(validate_machine(s, error_)) << error_;
  EXPECT_EQ(s.vms[0].name, "vm0");
  EXPECT_EQ(s.vms[2].name, "vm2");
}

TEST_F(MachineConfig, AbsolutePathsAreKept) {
  MachineSpec s;
  ASSERT_TRUE(load("[[vm]]\nkernel = \"/boot/vmlinux\"\n", s)) << error_;
  EXPECT_EQ(s.vms[0].kernel, "/boot/vmlinux");
}

TEST_F(MachineConfig, RelativePathsFollowTheFileNotTheWorkingFolder) {
  write("sub/k", "k");
  const std::string p = write("sub/m.toml", "[[vm]]\nkernel = \"k\"\n");
  MachineSpec s;
  ASSERT_TRUE(load_machine_toml(p, s, error_)) << error_;
  EXPECT_EQ(s.vms[0].kernel, (dir_ / "sub" / "k").string());
}

// ---- Load errors: file, line, field ----

TEST_F(MachineConfig, UnknownKeyIsNamedWithItsLine) {
  const std::string e = load_error("[machine]\nnodes = 2\nnodez = 4\n");
  EXPECT_TRUE(Has(e, path_ + ":3: machine.nodez: unknown key"));
  EXPECT_TRUE(Has(e, "cpus_per_node"));  // the keys it could have meant
}

TEST_F(MachineConfig, UnknownTableIsAnError) {
  EXPECT_TRUE(Has(load_error("[machine]\n\n[shareing]\nenabled = true\n"),
                  path_ + ":3: shareing: unknown key"));
  EXPECT_TRUE(Has(load_error("nodes = 4\n"), ":1: nodes: unknown key"));
}

TEST_F(MachineConfig, UnknownVmKeyNamesTheVm) {
  const std::string e = load_error("[[vm]]\nname = \"a\"\n\n[[vm]]\nkernal = \"x\"\n");
  EXPECT_TRUE(Has(e, path_ + ":5: vm[1].kernal: unknown key"));
}

TEST_F(MachineConfig, WrongTypesNameKeyExpectedTypeAndLine) {
  EXPECT_TRUE(Has(load_error("[machine]\nnodes = \"4\"\n"),
                  path_ + ":2: machine.nodes: expected an integer, got a string"));
  EXPECT_TRUE(Has(load_error("[machine]\n\novercommit = 1\n"),
                  ":3: machine.overcommit: expected a boolean, got an integer"));
  EXPECT_TRUE(Has(load_error("[sharing]\nscan_rate = 1.5\n"),
                  ":2: sharing.scan_rate: expected an integer, got a floating-point number"));
  EXPECT_TRUE(Has(load_error("[sharing]\npatching = \"yes\"\n"), ":2: sharing.patching: expected a boolean"));
  EXPECT_TRUE(Has(load_error("[[vm]]\nkernel = 3\n"), ":2: vm[0].kernel: expected a string, got an integer"));
  EXPECT_TRUE(Has(load_error("[[vm]]\nmem = true\n"), ":2: vm[0].mem: expected a size"));
  EXPECT_TRUE(Has(load_error("machine = 3\n"), ":1: machine: expected a table"));
  EXPECT_TRUE(Has(load_error("[vm]\nname = \"a\"\n"), ": vm: expected [[vm]] tables, got a table"));
  EXPECT_TRUE(Has(load_error("vm = [1]\n"), ":1: vm[0]: expected a table, got an integer"));
}

TEST_F(MachineConfig, BadSizesAreNamed) {
  EXPECT_TRUE(Has(load_error("[[vm]]\n\nmem = \"lots\"\n"),
                  path_ + ":3: vm[0].mem: expected a size such as \"512M\", got \"lots\""));
  EXPECT_TRUE(Has(load_error("[machine]\nmem_per_node = -1\n"), ":2: machine.mem_per_node: a size cannot"));
  EXPECT_TRUE(Has(load_error("[[vm]]\nmem = \"8M\"\n"), ":2: vm[0].mem: 8 MiB is outside 16 MiB .. 64 GiB"));
  EXPECT_TRUE(Has(load_error("[[vm]]\nmem = 16777217\n"),
                  "vm[0].mem: 16777217 bytes is not a multiple of 4 KiB"));
}

TEST_F(MachineConfig, OutOfRangeIntegersAreNamed) {
  EXPECT_TRUE(Has(load_error("[[vm]]\nvcpus = 0\n"), ":2: vm[0].vcpus: 0 is out of range (1 .. 16)"));
  EXPECT_TRUE(Has(load_error("[[vm]]\nvcpus = 17\n"), "vm[0].vcpus: 17 is out of range"));
  EXPECT_TRUE(Has(load_error("[[vm]]\ncount = 0\n"), "vm[0].count: 0 is out of range"));
  EXPECT_TRUE(Has(load_error("[[vm]]\ncount = 9223372036854775807\n"), "vm[0].count:"));
  EXPECT_TRUE(Has(load_error("[[vm]]\nhome_node = -2\n"), "vm[0].home_node:"));
  EXPECT_TRUE(Has(load_error("[machine]\nnodes = 65\n"), ":2: machine.nodes: 65 is out of range (0 .. 64)"));
  EXPECT_TRUE(Has(load_error("[machine]\nnodes = -1\n"), "machine.nodes:"));
  EXPECT_TRUE(Has(load_error("[machine]\nlocal_latency_ns = 0\n"), "machine.local_latency_ns:"));
  EXPECT_TRUE(Has(load_error("[machine]\ncpus_per_node = 4294967296\n"), "machine.cpus_per_node:"));
}

TEST_F(MachineConfig, BadNamesAndInitrdWithoutKernelAreLoadErrors) {
  EXPECT_TRUE(Has(load_error("[[vm]]\nname = \"a b\"\n"), ":2: vm[0].name: \"a b\" is not a valid name"));
  EXPECT_TRUE(Has(load_error("[[vm]]\nname = \"\"\n"), "vm[0].name:"));
  EXPECT_TRUE(Has(load_error("[[vm]]\ninitrd = \"i.gz\"\n"), ":2: vm[0].initrd: an initrd needs a kernel"));
}

// ---- [numa] ----

TEST_F(MachineConfig, ReadsTheNumaTable) {
  MachineSpec s;
  ASSERT_TRUE(load(R"([numa]
model = false
policy = "migrate"
placement = "interleave"
sample_rate = 16
cache_size = "512K"
cache_ways = 4
local_latency_ns = 200
remote_latency_ns = 800
insn_ns = 2.5
trigger = 32
reset_interval_ms = 20
sharing_ratio = 0.5
max_moves = 2
replication_budget = "64M"
migrate_us = 70
replicate_us = 60.5
collapse_us = 0
hot_page_us = 1

[[vm]]
)", s)) << error_;
  const NumaParams& n = s.numa;
  EXPECT_FALSE(n.model);
  EXPECT_EQ(n.policy, NumaPolicyKind::Migrate);
  EXPECT_EQ(n.placement, Placement::Interleave);
  EXPECT_EQ(n.sample_rate, 16u);
  EXPECT_EQ(n.cache_bytes, 512u << 10);
  EXPECT_EQ(n.cache_ways, 4u);
  EXPECT_EQ(n.local_latency_ns, 200u);
  EXPECT_EQ(n.remote_latency_ns, 800u);
  EXPECT_DOUBLE_EQ(n.insn_ns, 2.5);
  EXPECT_EQ(n.trigger, 32u);
  EXPECT_DOUBLE_EQ(n.reset_interval_ms, 20);
  EXPECT_DOUBLE_EQ(n.sharing_ratio, 0.5);
  EXPECT_EQ(n.max_moves, 2u);
  EXPECT_EQ(n.replication_budget, 64 * MiB);
  EXPECT_DOUBLE_EQ(n.migrate_us, 70);
  EXPECT_DOUBLE_EQ(n.replicate_us, 60.5);
  EXPECT_DOUBLE_EQ(n.collapse_us, 0);
  EXPECT_DOUBLE_EQ(n.hot_page_us, 1);
  EXPECT_EQ(s.numa_origin.at("sample_rate"), path_ + ":5: numa.sample_rate");
  ASSERT_TRUE(validate_machine(s, error_)) << error_;
  // Every policy and placement word.
  const std::pair<const char*, NumaPolicyKind> policies[] = {
      {"off", NumaPolicyKind::Off}, {"migrate", NumaPolicyKind::Migrate},
      {"replicate", NumaPolicyKind::Replicate}, {"both", NumaPolicyKind::Both}};
  for (const auto& [word, kind] : policies) {
    ASSERT_TRUE(load(std::string("[numa]\npolicy = \"") + word + "\"\n", s)) << error_;
    EXPECT_EQ(s.numa.policy, kind) << word;
  }
  ASSERT_TRUE(load("[numa]\nplacement = \"home\"\n", s)) << error_;
  EXPECT_EQ(s.numa.placement, Placement::Home);
}

TEST_F(MachineConfig, NumaDefaultsAreThePapers) {
  MachineSpec s;
  ASSERT_TRUE(load("[numa]\n", s)) << error_;
  const NumaParams d;
  EXPECT_TRUE(s.numa.model);
  EXPECT_EQ(s.numa.policy, d.policy);
  EXPECT_EQ(s.numa.sample_rate, d.sample_rate);
  EXPECT_EQ(s.numa.cache_bytes, d.cache_bytes);
  EXPECT_DOUBLE_EQ(s.numa.migrate_us, d.migrate_us);
  EXPECT_TRUE(s.numa_origin.empty());
}

TEST_F(MachineConfig, LatenciesStillReadFromMachine) {
  MachineSpec s;
  ASSERT_TRUE(load("[machine]\nlocal_latency_ns = 100\n[numa]\nremote_latency_ns = 400\n", s)) << error_;
  EXPECT_EQ(s.numa.local_latency_ns, 100u);
  EXPECT_EQ(s.numa.remote_latency_ns, 400u);
  EXPECT_EQ(s.numa_origin.at("local_latency_ns"), path_ + ":2: machine.local_latency_ns");
  EXPECT_EQ(s.numa_origin.at("remote_latency_ns"), path_ + ":4: numa.remote_latency_ns");
}

TEST_F(MachineConfig, ALatencyInBothTablesNamesBothLines) {
  const std::string e = load_error("[machine]\nnodes = 1\nremote_latency_ns = 900\n\n[numa]\nremote_latency_ns = 800\n");
  EXPECT_EQ(e, path_ + ":6: numa.remote_latency_ns: also given on line 3 (machine.remote_latency_ns); give it once");
}

TEST_F(MachineConfig, BadNumaValuesNameFileLineAndKey) {
  const std::pair<const char*, const char*> cases[] = {
      {"polcy = \"off\"", ":2: numa.polcy: unknown key (expected one of: model, policy,"},
      {"model = \"on\"", ":2: numa.model: expected a boolean, got a string"},
      {"policy = \"fast\"", ":2: numa.policy: expected one of off, migrate, replicate, both, got \"fast\""},
      {"policy = 1", ":2: numa.policy: expected a string, got an integer"},
      {"placement = \"spread\"", ":2: numa.placement: expected one of home, interleave, got \"spread\""},
      {"sample_rate = 0", ":2: numa.sample_rate: 0 is out of range (1 .. 32)"},
      {"sample_rate = 64", ":2: numa.sample_rate: 64 is out of range (1 .. 32)"},
      {"sample_rate = 12", ":2: numa.sample_rate: 12 is not a power of two from 1 to 32"},
      {"cache_size = \"8K\"", ":2: numa.cache_size: 8 KiB is outside 16 KiB .. 1024 MiB"},
      {"cache_size = \"96K\"", ":2: numa.cache_size: 96 KiB / 128-byte lines / 2 ways is not a power-of-two number of sets"},
      {"cache_size = \"big\"", ":2: numa.cache_size: expected a size such as \"512M\", got \"big\""},
      {"cache_ways = 0", ":2: numa.cache_ways: 0 is out of range (1 .. 16)"},
      {"cache_ways = 17", ":2: numa.cache_ways: 17 is out of range (1 .. 16)"},
      {"local_latency_ns = \"fast\"", ":2: numa.local_latency_ns: expected an integer, got a string"},
      {"remote_latency_ns = 0", ":2: numa.remote_latency_ns: 0 is out of range (1 .. 4294967295)"},
      {"remote_latency_ns = 2.5", ":2: numa.remote_latency_ns: expected an integer, got a floating-point number"},
      {"insn_ns = 0", ":2: numa.insn_ns: must be a number greater than 0, got 0"},
      {"insn_ns = \"5\"", ":2: numa.insn_ns: expected a number, got a string"},
      {"insn_ns = nan", ":2: numa.insn_ns: must be a number greater than 0, got nan"},
      {"trigger = 0", ":2: numa.trigger: 0 is out of range (1 .. 4294967295)"},
      {"reset_interval_ms = -1", ":2: numa.reset_interval_ms: must be a number greater than 0, got -1"},
      {"reset_interval_ms = inf", ":2: numa.reset_interval_ms: must be a number greater than 0, got inf"},
      {"sharing_ratio = 0", ":2: numa.sharing_ratio: must be greater than 0 and at most 1, got 0"},
      {"sharing_ratio = 1.5", ":2: numa.sharing_ratio: must be greater than 0 and at most 1, got 1.5"},
      {"max_moves = 0", ":2: numa.max_moves: 0 is out of range (1 .. 4294967295)"},
      {"replication_budget = -1", ":2: numa.replication_budget: a size cannot be negative"},
      {"migrate_us = -1", ":2: numa.migrate_us: must be a number >= 0, got -1"},
      {"replicate_us = true", ":2: numa.replicate_us: expected a number, got a boolean"},
      {"collapse_us = -0.5", ":2: numa.collapse_us: must be a number >= 0, got -0.5"},
      {"hot_page_us = -inf", ":2: numa.hot_page_us: must be a number >= 0, got -inf"},
  };
  for (const auto& [line, expected] : cases) {
    const std::string e = load_error(std::string("[numa]\n") + line + "\n");
    EXPECT_EQ(e.rfind(path_ + expected, 0), 0u) << line << "\n  got: " << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
  EXPECT_TRUE(Has(load_error("numa = 1\n"), ":1: numa: expected a table [numa], got an integer"));
  // The cache's shape is checked wherever its keys are.
  EXPECT_TRUE(Has(load_error("[numa]\ncache_size = \"16K\"\ncache_ways = 3\n"),
                  path_ + ":2: numa.cache_size: 16 KiB / 128-byte lines / 3 ways is not a power-of-two"));
  EXPECT_TRUE(Has(load_error("[numa]\ncache_ways = 3\n"), path_ + ": numa.cache_size: 1 MiB / 128-byte lines / 3 ways"));
}

// Sampling 1 in R lines keeps whole sets of a cache of 32 x R sets or more
// (cpu/mem_sampler.h).
TEST_F(MachineConfig, SampleRateNeedsEnoughCacheSets) {
  EXPECT_EQ(min_cache_sets(1), 1u);
  EXPECT_EQ(min_cache_sets(2), 64u);
  EXPECT_EQ(min_cache_sets(32), 1024u);
  MachineSpec s;
  // 16 KiB / 128 / 16 ways = 8 sets: too few for the default rate, 32.
  ASSERT_TRUE(load("[numa]\ncache_size = \"16K\"\ncache_ways = 16\n[[vm]]\n", s)) << error_;
  EXPECT_EQ(validate_error(s),
            path_ + ":2: numa.cache_size: sampling 1 in 32 lines needs a cache of at least 1024 sets (to sample "
                    "whole sets); this one has 8 (16 KiB / 128-byte lines / 16 ways)");
  ASSERT_TRUE(load("[numa]\nsample_rate = 2\ncache_size = \"16K\"\ncache_ways = 16\n[[vm]]\n", s)) << error_;
  EXPECT_TRUE(Has(validate_error(s), path_ + ":2: numa.sample_rate: sampling 1 in 2 lines needs a cache of at least 64"));
  s.numa.sample_rate = 1;  // every line: any cache
  EXPECT_TRUE(validate_machine(s, error_)) << error_;
  // Built in code: named by key.
  MachineSpec c;
  c.vms = {vm()};
  c.numa.cache_bytes = 128u << 10;  // 512 sets
  EXPECT_TRUE(Has(validate_error(c), "numa.sample_rate: sampling 1 in 32 lines needs a cache of at least 1024 sets"));
  c.numa.sample_rate = 16;
  EXPECT_TRUE(validate_machine(c, error_)) << error_;
  c.numa.cache_bytes = 256u << 10;  // 1024 sets: every rate
  c.numa.sample_rate = 32;
  EXPECT_TRUE(validate_machine(c, error_)) << error_;
  c.numa.sample_rate = 3;
  EXPECT_EQ(validate_error(c), "numa.sample_rate: 3 is not a power of two from 1 to 32");
}

TEST_F(MachineConfig, ReplicationBudgetWithinTheMachinesMemory) {
  MachineSpec s;
  // The machine is sized to fit after loading: 2 x 256 MiB on one node.
  ASSERT_TRUE(load("[numa]\nreplication_budget = \"1G\"\n\n[[vm]]\nmem = \"256M\"\ncount = 2\n", s)) << error_;
  EXPECT_EQ(validate_error(s), path_ + ":2: numa.replication_budget: 1024 MiB is more than the machine's memory "
                                       "(1 node x 512 MiB = 512 MiB)");
  s.numa.replication_budget = 512 * MiB;  // all of it is allowed
  EXPECT_TRUE(validate_machine(s, error_)) << error_;
  MachineSpec c;
  c.nodes = 2;
  c.mem_per_node = 256 * MiB;
  c.vms = {vm()};
  c.numa.replication_budget = 513 * MiB;
  EXPECT_EQ(validate_error(c),
            "numa.replication_budget: 513 MiB is more than the machine's memory (2 nodes x 256 MiB = 512 MiB)");
}

TEST_F(MachineConfig, LatencyOrderNamesWhereLocalWasGiven) {
  MachineSpec s;
  ASSERT_TRUE(load("[machine]\nlocal_latency_ns = 1000\n[[vm]]\n", s)) << error_;
  EXPECT_EQ(validate_error(s), path_ + ":2: machine.local_latency_ns: 1000 must not exceed remote_latency_ns (900)");
}

TEST_F(MachineConfig, SyntaxErrorsNameFileLineAndColumn) {
  const std::string e = load_error("[machine]\nnodes = 4\ncpus_per_node = = 2\n");
  EXPECT_EQ(e.rfind(path_ + ":3:", 0), 0u) << e;
  EXPECT_TRUE(Has(load_error("[machine]\nnodes = 1\nnodes = 2\n"), path_ + ":3:"));  // duplicate key
}

TEST_F(MachineConfig, UnreadableFilesAreNamed) {
  MachineSpec s;
  const std::string missing = (dir_ / "nope.toml").string();
  EXPECT_FALSE(load_machine_toml(missing, s, error_));
  EXPECT_TRUE(Has(error_, missing + ": cannot read"));
  EXPECT_TRUE(Has(error_, "No such file"));
  EXPECT_FALSE(load_machine_toml(dir_.string(), s, error_));
  EXPECT_TRUE(Has(error_, dir_.string() + ": cannot read"));
}

TEST_F(MachineConfig, FailedLoadLeavesTheSpecAlone) {
  MachineSpec s;
  s.nodes = 3;
  load_error("[machine]\nnodes = 2\nbogus = 1\n");
  EXPECT_FALSE(load_machine_toml(path_, s, error_));
  EXPECT_EQ(s.nodes, 3u);
}

// ---- Validation ----

TEST_F(MachineConfig, SizesAnUnsizedMachineToFit) {
  MachineSpec s;
  s.vms = {vm(256 * MiB, 1), vm(256 * MiB, 2), vm(512 * MiB, 1)};
  ASSERT_TRUE(validate_machine(s, error_)) << error_;
  EXPECT_EQ(s.nodes, 1u);
  EXPECT_EQ(s.cpus_per_node, 4u);
  EXPECT_EQ(s.mem_per_node, 1024 * MiB);
  for (const VmSpec& v : s.vms) EXPECT_EQ(v.home_node, 0);
  EXPECT_EQ(s.vms[1].name, "vm1");
  // A second pass changes nothing.
  const MachineSpec before = s;
  ASSERT_TRUE(validate_machine(s, error_)) << error_;
  EXPECT_EQ(s.cpus_per_node, before.cpus_per_node);
  EXPECT_EQ(s.mem_per_node, before.mem_per_node);
}

TEST_F(MachineConfig, GivenNodesSplitProcessorsAndMemoryRoundRobin) {
  MachineSpec s;
  s.nodes = 4;
  s.vms.assign(7, vm(256 * MiB, 1));
  ASSERT_TRUE(validate_machine(s, error_)) << error_;
  EXPECT_EQ(s.cpus_per_node, 2u);                     // 7 / 4 rounded up
  EXPECT_EQ(s.mem_per_node, 448 * MiB);               // 1792 MiB / 4
  for (size_t i = 0; i < s.vms.size(); ++i) EXPECT_EQ(s.vms[i].home_node, static_cast<int>(i % 4)) << i;
}

TEST_F(MachineConfig, MemoryPerNodeRoundsUpToAPage) {
  MachineSpec s;
  s.nodes = 2;
  s.vms.assign(3, vm(16 * MiB + 4096));
  ASSERT_TRUE(validate_machine(s, error_)) << error_;
  EXPECT_EQ(s.mem_per_node, 24 * MiB + 8192);  // (48 MiB + 12 KiB) / 2 = 24 MiB + 6 KiB, up to a page
}

TEST_F(MachineConfig, GivenProcessorsPerNodeSizeTheNodeCount) {
  MachineSpec s;
  s.cpus_per_node = 2;
  s.vms.assign(5, vm());
  ASSERT_TRUE(validate_machine(s, error_)) << error_;
  EXPECT_EQ(s.nodes, 3u);
  EXPECT_EQ(s.vms[4].home_node, 1);
}

TEST_F(MachineConfig, ExplicitHomeNodesAreKept) {
  MachineSpec s;
  s.nodes = 2;
  s.vms = {vm(), vm()};
  s.vms[0].home_node = 1;
  ASSERT_TRUE(validate_machine(s, error_)) << error_;
  EXPECT_EQ(s.vms[0].home_node, 1);
  EXPECT_EQ(s.vms[1].home_node, 1);  // round robin by index
}

TEST_F(MachineConfig, TooManyVcpus) {
  MachineSpec s;
  s.nodes = 4;
  s.cpus_per_node = 2;
  s.vms.assign(5, vm(256 * MiB, 2));
  EXPECT_EQ(validate_error(s),
            "the VMs ask for 10 vCPUs but the machine has 8 processors (4 nodes x 2; --overcommit time-slices them)");
}

TEST_F(MachineConfig, OvercommitTimeSlicesVcpus) {
  MachineSpec s;
  s.nodes = 1;
  s.cpus_per_node = 1;
  s.overcommit = true;
  s.vms.assign(2, vm(256 * MiB, 1));
  std::string error;
  EXPECT_TRUE(validate_machine(s, error)) << error;
  s.overcommit = false;
  EXPECT_FALSE(validate_machine(s, error));
  EXPECT_EQ(error, "the VMs ask for 2 vCPUs but the machine has 1 processor (1 node x 1; --overcommit time-slices them)");
  // A VM wider than the machine: its vCPUs take turns on the processors.
  s.vms.assign(1, vm(256 * MiB, 4));
  s.cpus_per_node = 2;
  EXPECT_EQ(validate_error(s),
            "vm vm0: vcpus = 4: more than the machine's 2 processors (1 node x 2; --overcommit time-slices them)");
  s.overcommit = true;
  EXPECT_TRUE(validate_machine(s, error)) << error;
}

// A VM wider than a node spans the nodes after its home node, a node's
// processors' worth of vCPUs on each.
TEST_F(MachineConfig, VmsSpanNodes) {
  MachineSpec s;
  s.nodes = 2;
  s.cpus_per_node = 2;
  s.vms = {vm(256 * MiB, 4)};
  s.vms[0].name = "wide";
  ASSERT_TRUE(validate_machine(s, error_)) << error_;
  for (unsigned k = 0; k < 4; ++k) EXPECT_EQ(vcpu_home_node(s, 0, k), k / 2) << k;
  s.vms[0].home_node = 1;
  ASSERT_TRUE(validate_machine(s, error_)) << error_;
  const unsigned from_one[] = {1, 1, 0, 0};
  for (unsigned k = 0; k < 4; ++k) EXPECT_EQ(vcpu_home_node(s, 0, k), from_one[k]) << k;
  // One vCPU more than the machine's processors.
  s.vms[0].vcpus = 5;
  EXPECT_EQ(validate_error(s),
            "vm wide: vcpus = 5: more than the machine's 4 processors (2 nodes x 2; --overcommit time-slices them)");
  // With overcommit it wraps around the machine.
  s.overcommit = true;
  ASSERT_TRUE(validate_machine(s, error_)) << error_;
  EXPECT_EQ(vcpu_home_node(s, 0, 4), 1u);
  // Spanning VMs still share the machine: 4 + 1 vCPUs on 4 processors.
  s.overcommit = false;
  s.vms = {vm(256 * MiB, 4), vm(256 * MiB, 1)};
  EXPECT_EQ(validate_error(s),
            "the VMs ask for 5 vCPUs but the machine has 4 processors (2 nodes x 2; --overcommit time-slices them)");
}

TEST_F(MachineConfig, VcpuHomeNodesOnAThreeNodeMachine) {
  MachineSpec s;
  s.nodes = 3;
  s.cpus_per_node = 2;
  s.vms = {vm(64 * MiB, 1), vm(64 * MiB, 5)};
  s.vms[1].home_node = 2;
  ASSERT_TRUE(validate_machine(s, error_)) << error_;
  EXPECT_EQ(vcpu_home_node(s, 0, 0), 0u);
  const unsigned expected[] = {2, 2, 0, 0, 1};
  for (unsigned k = 0; k < 5; ++k) EXPECT_EQ(vcpu_home_node(s, 1, k), expected[k]) << k;
  // The machine answers from its description.
  Machine m(s);
  for (unsigned k = 0; k < 5; ++k) EXPECT_EQ(m.vcpu_home_node(1, k), expected[k]) << k;
}

TEST_F(MachineConfig, SizingToFitKeepsAVmOnOneNode) {
  MachineSpec s;
  s.nodes = 2;
  s.vms = {vm(64 * MiB, 4), vm(64 * MiB, 1)};
  ASSERT_TRUE(validate_machine(s, error_)) << error_;
  EXPECT_EQ(s.cpus_per_node, 4u);  // not ceil(5 / 2) = 3, which would split the first VM
  for (unsigned k = 0; k < 4; ++k) EXPECT_EQ(vcpu_home_node(s, 0, k), 0u);
}

TEST_F(MachineConfig, OvercommitNeedsPermission) {
  MachineSpec s;
  s.nodes = 4;
  s.mem_per_node = 512 * MiB;
  s.vms.assign(8, vm(512 * MiB));
  const std::string e = validate_error(s);
  EXPECT_TRUE(Has(e, "4096 MiB"));
  EXPECT_TRUE(Has(e, "2048 MiB"));
  EXPECT_TRUE(Has(e, "overcommit"));
  s.overcommit = true;
  EXPECT_TRUE(validate_machine(s, error_)) << error_;
}

TEST_F(MachineConfig, NamesMustBeUniqueAndPlain) {
  MachineSpec s;
  s.vms = {vm(), vm()};
  s.vms[0].name = "vm1";  // clashes with the default name of the second
  EXPECT_TRUE(Has(validate_error(s), "vm[0] and vm[1] are both named \"vm1\""));
  s.vms[0].name = "web.1";
  EXPECT_TRUE(Has(validate_error(s), "vm[0]: name \"web.1\" is not valid"));
  s.vms[0].name = "web_1-A";
  EXPECT_TRUE(validate_machine(s, error_)) << error_;
}

TEST_F(MachineConfig, PerVmLimits) {
  MachineSpec s;
  s.vms = {vm()};
  s.vms[0].name = "big";
  s.vms[0].vcpus = 0;
  EXPECT_TRUE(Has(validate_error(s), "vm big: vcpus = 0"));
  s.vms[0].vcpus = 17;
  EXPECT_TRUE(Has(validate_error(s), "vm big: vcpus = 17: must be between 1 and 16 (the guest kernel's NR_CPUS)"));
  s.vms[0].vcpus = 5;
  s.nodes = 2;
  s.cpus_per_node = 2;
  EXPECT_TRUE(Has(validate_error(s), "vm big: vcpus = 5: more than the machine's 4 processors"));
  s.nodes = 0;
  s.cpus_per_node = 0;
  s.vms[0].vcpus = 1;
  for (uint64_t mem : {8 * MiB, 16 * MiB + 1, 64 * 1024 * MiB + 4096}) {
    s.vms[0].mem_bytes = mem;
    EXPECT_TRUE(Has(validate_error(s), "vm big: mem: ")) << mem;
  }
  s.vms[0].mem_bytes = 16 * MiB;
  EXPECT_TRUE(validate_machine(s, error_)) << error_;
}

TEST_F(MachineConfig, HomeNodeAndNodeCountInRange) {
  MachineSpec s;
  s.nodes = 2;
  s.vms = {vm()};
  s.vms[0].name = "a";
  s.vms[0].home_node = 2;
  EXPECT_TRUE(Has(validate_error(s), "vm a: home_node = 2: the machine has 2 nodes (0..1)"));
  s.vms[0].home_node = -3;
  EXPECT_TRUE(Has(validate_error(s), "vm a: home_node = -3"));
  s.vms[0].home_node = -1;
  s.nodes = 65;
  EXPECT_TRUE(Has(validate_error(s), "nodes = 65"));
  s.nodes = 64;
  EXPECT_TRUE(validate_machine(s, error_)) << error_;
}

TEST_F(MachineConfig, MemoryPerNodeMustBeWholePages) {
  MachineSpec s;
  s.mem_per_node = 1000000000;
  s.vms = {vm()};
  EXPECT_TRUE(Has(validate_error(s), "mem_per_node"));
}

TEST_F(MachineConfig, LatenciesAndScanRate) {
  MachineSpec s;
  s.vms = {vm()};
  s.numa.local_latency_ns = 1000;
  s.numa.remote_latency_ns = 900;
  EXPECT_EQ(validate_error(s), "numa.local_latency_ns: 1000 must not exceed remote_latency_ns (900)");
  s.numa.local_latency_ns = 0;
  EXPECT_EQ(validate_error(s), "numa.local_latency_ns: must be at least 1, got 0");
  s.numa.local_latency_ns = 900;  // equal is fine (a UMA machine)
  ASSERT_TRUE(validate_machine(s, error_)) << error_;
  s.scan_pages_per_sec = 0;
  EXPECT_TRUE(Has(validate_error(s), "scan_rate"));
  s.sharing = false;
  EXPECT_TRUE(validate_machine(s, error_)) << error_;
}

TEST_F(MachineConfig, ImagesMustBeReadable) {
  MachineSpec s;
  s.vms = {vm()};
  s.vms[0].name = "web";
  s.vms[0].kernel = (dir_ / "missing-vmlinux").string();
  std::string e = validate_error(s);
  EXPECT_TRUE(Has(e, "vm web: kernel " + s.vms[0].kernel));
  EXPECT_TRUE(Has(e, "No such file"));
  s.vms[0].kernel = write("vmlinux", "k");
  s.vms[0].initrd = dir_.string();
  EXPECT_TRUE(Has(validate_error(s), "vm web: initrd " + dir_.string()));
  s.vms[0].initrd = write("initrd.gz", "i");
  EXPECT_TRUE(validate_machine(s, error_)) << error_;
  s.vms[0].kernel.clear();
  EXPECT_TRUE(Has(validate_error(s), "vm web: initrd"));
}

TEST_F(MachineConfig, ExampleFileLoadsAndValidates) {
  const std::string example = std::string(DISCO_SOURCE_DIR) + "/examples/machine.toml";
  MachineSpec s;
  ASSERT_TRUE(load_machine_toml(example, s, error_)) << error_;
  ASSERT_TRUE(validate_machine(s, error_)) << error_;
  EXPECT_FALSE(s.vms.empty());
}

// ---- No input crashes the loader ----

constexpr const char* kValid = R"(# a machine
[machine]
nodes = 4
cpus_per_node = 2
mem_per_node = "512M"
local_latency_ns = 300
remote_latency_ns = 900
overcommit = false

[sharing]
enabled = true
scan_rate = 50000

[numa]
policy = "both"
placement = "home"
sample_rate = 32
cache_size = "1M"
insn_ns = 5.0
sharing_ratio = 0.25
replication_budget = "128M"

[[vm]]
name = "web"
mem = "256M"
vcpus = 1
home_node = 0
count = 4
append = "quiet"

[[vm]]
name = "db"
mem = 268435456
vcpus = 2
)";

class MachineConfigFuzz : public MachineConfig {
 protected:
  // Loads `text`; when it loads, validation must run cleanly too.
  void must_not_crash(const std::string& text) {
    MachineSpec s;
    std::string error;
    const std::string p = write("fuzz.toml", text);
    if (load_machine_toml(p, s, error)) {
      ++loaded_;
      validate_machine(s, error);
    } else {
      EXPECT_FALSE(error.empty());
      EXPECT_EQ(error.rfind(p, 0), 0u) << error;  // every load error names the file
    }
  }

  int loaded_ = 0;
};

TEST_F(MachineConfigFuzz, TruncatedValidFile) {
  const std::string valid = kValid;
  for (size_t n = 0; n <= valid.size(); ++n) must_not_crash(valid.substr(0, n));
  EXPECT_GT(loaded_, 0);
}

TEST_F(MachineConfigFuzz, MutatedValidFile) {
  std::mt19937 rng(12345);
  const std::string valid = kValid;
  for (int i = 0; i < 5000; ++i) {
    std::string text = valid;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % text.size();
      switch (rng() % 3) {
        case 0: text[at] = static_cast<char>(rng()); break;
        case 1: text.erase(at, 1 + rng() % 8); break;
        default: text.insert(at, 1, "[]=\"#.\n\\0-9{},'"[rng() % 16]); break;
      }
      if (text.empty()) text = "x";
    }
    must_not_crash(text);
  }
  EXPECT_GT(loaded_, 0);
}

TEST_F(MachineConfigFuzz, RandomBytes) {
  std::mt19937 rng(777);
  for (int i = 0; i < 3000; ++i) {
    std::string text(rng() % 200, '\0');
    for (char& c : text) c = static_cast<char>(rng());
    must_not_crash(text);
  }
  // Deep nesting and huge numbers.
  must_not_crash("vm = " + std::string(10000, '[') + "\n");
  must_not_crash("x = " + std::string(10000, '{') + "\n");
  must_not_crash("[[vm]]\nmem = 99999999999999999999999\n");
  must_not_crash("[[vm]]\nmem = \"99999999999999999999G\"\n");
  must_not_crash("[[vm]]\nmem = \"17179869184G\"\n");
}

}  // namespace
}  // namespace disco::test
