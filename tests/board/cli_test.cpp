// The `disco` command on bad input: one-line errors naming the problem and
// a non-zero exit, never a crash.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace {

struct Result {
  int status;
  std::string output;
};

Result run(const std::string& args, const std::string& env = "") {
  std::string cmd = (env.empty() ? "" : "env " + env + " ") + std::string(DISCO_EXE) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  Result r{-1, {}};
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

TEST(Cli, MissingKernelFileIsNamed) {
  auto r = run("run --kernel /nonexistent/vmlinux");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("/nonexistent/vmlinux"), std::string::npos) << r.output;
}

TEST(Cli, NonElfKernelIsRejected) {
  const std::string path = testing::TempDir() + "/not-an-elf";
  std::ofstream(path) << "hello world, definitely not an ELF file\n";
  auto r = run("run --kernel " + path);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("not an ELF"), std::string::npos) << r.output;
}

TEST(Cli, HostElfIsRejectedAsNotMips) {
  auto r = run(std::string("run --kernel ") + DISCO_EXE);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("not a MIPS"), std::string::npos) << r.output;
}

TEST(Cli, ImpossibleMemorySizesAreRejected) {
  EXPECT_EQ(run("run --kernel x --mem 12Q").status, 2);
  auto r = run(std::string("run --kernel ") + DISCO_EXE + " --mem 1M");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("--mem"), std::string::npos) << r.output;
}

TEST(Cli, UnknownOptionsAndCommandsAreErrors) {
  auto r = run("run --frobnicate");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("disco: unknown option '--frobnicate'"), std::string::npos) << r.output;
  r = run("fly");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("unknown command 'fly'"), std::string::npos) << r.output;
  EXPECT_EQ(run("").status, 2);
  r = run("run --engine fast --kernel x");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("--engine"), std::string::npos) << r.output;
  EXPECT_EQ(run("--help").status, 0);
  EXPECT_EQ(run("run --help").status, 0);
}

// Bad values name their option, in one line, with exit status 2; both
// "--opt value" and "--opt=value" work.
TEST(Cli, BadValuesNameTheOption) {
  for (const char* args : {"--mem=12Q", "--mem 1M", "--timeout -3", "--timeout=soon", "--max-insns x",
                           "--reboot never", "--jit-disable alu,fpu", "--stats=yaml", "--vms 0", "--vms 5000",
                           "--nodes=0", "--trace-exceptions -1", "--trace-back 99999", "--numa-model maybe",
                           "--numa-model=1", "--numa-policy=fast", "--numa-policy ''", "--numa-sample 3",
                           "--numa-sample 64", "--numa-sample=0", "--numa-sample -2", "--placement spread"}) {
    auto r = run(std::string("run --kernel x ") + args);
    EXPECT_EQ(r.status, 2) << args << ": " << r.output;
    const std::string opt = std::string(args).substr(0, std::string(args).find_first_of(" ="));
    EXPECT_EQ(r.output.rfind("disco: " + opt, 0), 0u) << args << ": " << r.output;
  }
  auto r = run("run --kernel x --jit-disable=alu,fpu");
  EXPECT_NE(r.output.find("unknown class 'fpu'"), std::string::npos) << r.output;
  r = run("run --dump-continue");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("--dump-pages"), std::string::npos) << r.output;
  r = run("run --engine interp --lockstep --kernel x");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("--lockstep"), std::string::npos) << r.output;
  r = run("run --initrd y");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("--initrd needs --kernel"), std::string::npos) << r.output;
}

// The help is generated from the parser: every option is listed, in groups.
TEST(Cli, HelpListsEveryOptionInGroups) {
  auto r = run("run --help");
  EXPECT_EQ(r.status, 0);
  for (const char* s : {"Usage: disco run [OPTIONS]", "Guest:", "Engine:", "Time and limits:", "Console:",
                        "Several VMs on one machine", "Statistics:", "Debugging:", "--kernel PATH",
                        "--stats[=text|json]", "--no-sharing ", "--trace-back N", "--dump-pages DIR",
                        "Memory-system model and NUMA policy", "--numa-model on|off",
                        "--numa-policy off|migrate|replicate|both", "--numa-sample N", "--placement home|interleave"})
    EXPECT_NE(r.output.find(s), std::string::npos) << s << " in\n" << r.output;
  EXPECT_EQ(r.output.find("{false}"), std::string::npos) << r.output;
}

// The --numa-* options override the machine file's [numa], and validation
// names whichever gave the value at fault: the option, or the file's line.
// (The kernel is the host's disco: once the description passes, booting it
// fails with "not a MIPS", so nothing runs.)
TEST(Cli, NumaOptionsOverrideTheMachineFile) {
  const std::string path = testing::TempDir() + "/numa-machine.toml";
  const std::string vm = std::string("[[vm]]\nkernel = \"") + DISCO_EXE + "\"\nmem = \"64M\"\n";
  // 8 sets: enough for every line (rate 1), too few for 1 in 2 (64 sets).
  std::ofstream(path) << "[numa]\nsample_rate = 1\ncache_size = \"16K\"\ncache_ways = 16\n" << vm;
  auto r = run("run --config " + path + " --numa-sample 2 < /dev/null");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.output, "disco: --numa-sample: sampling 1 in 2 lines needs a cache of at least 64 sets (to sample whole "
                      "sets); this one has 8 (16 KiB / 128-byte lines / 16 ways)\n");
  r = run("run --config " + path + " --numa-sample 1 --numa-policy migrate --placement interleave --numa-model off"
          " --console none --console-dir " + testing::TempDir() + "/consoles-numa < /dev/null");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("not a MIPS"), std::string::npos) << r.output;
  std::ofstream(path, std::ios::trunc) << "[numa]\nreplication_budget = \"1G\"\n" << vm;
  r = run("run --config " + path + " < /dev/null");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.output, "disco: " + path + ":2: numa.replication_budget: 1024 MiB is more than the machine's memory "
                      "(1 node x 64 MiB = 64 MiB)\n");
  std::ofstream(path, std::ios::trunc) << "[numa]\npolicy = \"sometimes\"\n" << vm;
  r = run("run --config " + path + " < /dev/null");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.output, "disco: " + path + ":2: numa.policy: expected one of off, migrate, replicate, both, got "
                      "\"sometimes\"\n");
}

}  // namespace

// Several VMs on one machine (--vms): per-VM console logs, the terminal
// view (all prefixed, or one VM), statistics, and option errors.
#ifdef HELLO_ELF
namespace {
std::string slurp(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}
size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}
}  // namespace

TEST(CliMachine, AllConsolesArePrefixedAndLogged) {
  const std::string dir = testing::TempDir() + "/consoles-all";
  auto r = run(std::string("run --vms 2 --deterministic --kernel ") + HELLO_ELF + " --console-dir " + dir +
               " --timeout 30 < /dev/null");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(count(r.output, "[vm0] hello from disco guest"), 1u) << r.output;
  EXPECT_EQ(count(r.output, "[vm1] hello from disco guest"), 1u) << r.output;
  EXPECT_NE(r.output.find("vm0: powered off (status 0)"), std::string::npos) << r.output;
  for (const char* vm : {"vm0", "vm1"}) {
    const std::string log = slurp(dir + "/" + vm + ".log");
    EXPECT_EQ(count(log, "hello from disco guest"), 1u) << vm << ":\n" << log;
    EXPECT_EQ(log.find("[vm"), std::string::npos) << "logs are not prefixed:\n" << log;
  }
}

TEST(CliMachine, OneAttachedConsoleShowsOnlyThatVm) {
  const std::string dir = testing::TempDir() + "/consoles-one";
  auto r = run(std::string("run --vms 3 --deterministic --kernel ") + HELLO_ELF + " --console vm2 --console-dir " +
               dir + " --timeout 30 < /dev/null");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(count(r.output, "hello from disco guest"), 1u) << r.output;
  EXPECT_EQ(r.output.find("[vm"), std::string::npos) << r.output;
  EXPECT_EQ(count(slurp(dir + "/vm0.log"), "hello from disco guest"), 1u);
}

// The JSON line of --stats=json in `output` (the one starting with '{').
nlohmann::ordered_json stats_json_in(const std::string& output) {
  size_t at = 0;
  while (at < output.size() && output[at] != '{') {
    at = output.find('\n', at);
    if (at == std::string::npos) return nullptr;
    ++at;
  }
  const std::string line = output.substr(at, output.find('\n', at) - at);
  return nlohmann::ordered_json::parse(line, nullptr, /*allow_exceptions=*/false);
}

TEST(CliMachine, StatsJsonDescribesMachineAndVms) {
  auto r = run(std::string("run --vms 2 --deterministic --kernel ") + HELLO_ELF + " --console none --console-dir " +
               testing::TempDir() + "/consoles-json --stats=json --timeout 30 < /dev/null");
  EXPECT_EQ(r.status, 0) << r.output;
  const nlohmann::ordered_json j = stats_json_in(r.output);
  ASSERT_TRUE(j.is_object()) << r.output;
  EXPECT_TRUE(j["machine"]["machine_pages_used"].is_number()) << r.output;
  EXPECT_EQ(j["machine"]["image_cache_hits"], 1) << r.output;
  ASSERT_EQ(j["vms"].size(), 2u) << r.output;
  EXPECT_EQ(j["vms"][1]["name"], "vm1");
  EXPECT_EQ(j["vms"][1]["state"], "powered-off");
  EXPECT_TRUE(j["vms"][1]["guest_pages_touched"].is_number());
  // The keys in their documented order (docs/memory.md).
  EXPECT_EQ(j["vms"][0].begin().key(), "name");
  EXPECT_EQ(j.begin().key(), "machine");
}

// One VM: --stats=json reports instructions and, on the JIT, its counters.
TEST(CliVm, StatsJsonForOneVm) {
  auto r = run(std::string("run --deterministic --kernel ") + HELLO_ELF + " --stats=json --timeout 30 < /dev/null");
  EXPECT_EQ(r.status, 0) << r.output;
  const nlohmann::ordered_json j = stats_json_in(r.output);
  ASSERT_TRUE(j.is_object()) << r.output;
  EXPECT_GT(j["instructions"].get<uint64_t>(), 0u);
  EXPECT_EQ(j["engine"], "jit");
  EXPECT_GT(j["jit"]["blocks_compiled"].get<uint64_t>(), 0u) << r.output;
  ASSERT_EQ(j["vcpus"].size(), 1u) << r.output;
  EXPECT_EQ(j["vcpus"][0]["instructions"], j["instructions"]);
  EXPECT_GT(j["vcpus"][0]["host_tid"].get<long>(), 0);
  // Two vCPUs on host threads: the second stays in reset (the guest never
  // releases it) and the text lists both.
  r = run(std::string("run --smp 2 --kernel ") + HELLO_ELF + " --stats=json --timeout 30 < /dev/null");
  EXPECT_EQ(r.status, 0) << r.output;
  const nlohmann::ordered_json j2 = stats_json_in(r.output);
  ASSERT_TRUE(j2.is_object()) << r.output;
  ASSERT_EQ(j2["vcpus"].size(), 2u) << r.output;
  EXPECT_GT(j2["vcpus"][0]["instructions"].get<uint64_t>(), 0u);
  EXPECT_GT(j2["vcpus"][0]["run_seconds"].get<double>(), 0.0);
  EXPECT_EQ(j2["vcpus"][1]["instructions"], 0);
  r = run(std::string("run --smp 2 --kernel ") + HELLO_ELF + " --stats --timeout 30 < /dev/null");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("disco: vCPU 1: 0 instructions"), std::string::npos) << r.output;
  r = run(std::string("run --engine=interp --deterministic --kernel ") + HELLO_ELF + " --stats < /dev/null");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find(" instructions in "), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("JIT:"), std::string::npos) << r.output;
}

TEST(CliMachine, VmsAreSpreadOverNodesAndAllocateLocally) {
  auto r = run(std::string("run --vms 4 --nodes 2 --cpus-per-node 2 --mem-per-node 128M --mem 64M --deterministic") +
               " --kernel " + HELLO_ELF + " --console none --console-dir " + testing::TempDir() +
               "/consoles-numa --stats=json --timeout 30 < /dev/null");
  EXPECT_EQ(r.status, 0) << r.output;
  const nlohmann::ordered_json j = stats_json_in(r.output);
  ASSERT_TRUE(j.is_object()) << r.output;
  EXPECT_EQ(j["machine"]["nodes"], 2);
  // Round robin: vm0 and vm2 on node 0, vm1 and vm3 on node 1, every page local.
  ASSERT_EQ(j["vms"].size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(j["vms"][i]["home_node"], i % 2) << i;
    EXPECT_EQ(j["vms"][i]["remote_pages"], 0) << i;
  }
  const nlohmann::ordered_json& nodes = j["machine"]["node_pages_used"];
  ASSERT_EQ(nodes.size(), 2u) << r.output;
  EXPECT_GT(nodes[0].get<uint64_t>(), 0u);
  EXPECT_GT(nodes[1].get<uint64_t>(), 0u);
}

TEST(CliMachine, BadMachineOptionsAreErrors) {
  const std::string k = std::string(" --kernel ") + HELLO_ELF;
  auto r = run("run --vms 2 --console vm7" + k);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("vm7"), std::string::npos) << r.output;
  EXPECT_EQ(run("run --vms 0" + k).status, 2);
  EXPECT_EQ(run("run --vms 2 --config /nonexistent.toml").status, 2);
  r = run("run --config /nonexistent.toml --mem 64M");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("--mem and --config"), std::string::npos) << r.output;
  r = run("run --vms 2 --nodes 1 --mem-per-node 64M --mem 48M" + k);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("overcommit"), std::string::npos) << r.output;
  r = run("run --vms 2 --lockstep" + k);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("one VM"), std::string::npos) << r.output;
}

// Several vCPUs per VM (--smp, vcpus = N): the bare-metal guest runs on
// vCPU 0 and never releases the others from reset, so each VM powers off
// with its secondaries held; the statistics list every vCPU. On host
// threads (one per modelled processor, here 4) and on one thread.
TEST(CliMachine, SmpVmsRunAndListEachVcpu) {
  for (const char* mode : {"--cpus-per-node 2", "--deterministic"}) {
    auto r = run(std::string("run --vms 2 --smp 2 ") + mode + " --kernel " + HELLO_ELF +
                 " --console none --console-dir " + testing::TempDir() + "/consoles-smp --stats=json --timeout 30"
                 " < /dev/null");
    EXPECT_EQ(r.status, 0) << mode << "\n" << r.output;
    const nlohmann::ordered_json j = stats_json_in(r.output);
    ASSERT_TRUE(j.is_object()) << r.output;
    EXPECT_EQ(j["machine"]["host_threads"], std::string(mode) == "--deterministic" ? 1 : 4) << r.output;
    ASSERT_EQ(j["vms"].size(), 2u) << r.output;
    for (const auto& vm : j["vms"]) {
      EXPECT_EQ(vm["state"], "powered-off") << r.output;
      ASSERT_EQ(vm["vcpus"].size(), 2u) << r.output;
      const auto& c0 = vm["vcpus"][0];
      const auto& c1 = vm["vcpus"][1];
      EXPECT_EQ(c0["index"], 0);
      EXPECT_TRUE(c0["started"].get<bool>());
      EXPECT_GT(c0["instructions"].get<uint64_t>(), 0u);
      EXPECT_EQ(c0["instructions"], vm["instructions"]) << r.output;
      EXPECT_GT(c0["slices"].get<uint64_t>(), 0u);
      EXPECT_GE(c0["processor"].get<int>(), 0);
      EXPECT_GT(c0["host_tid"].get<long>(), 0);
      EXPECT_GT(c0["run_seconds"].get<double>(), 0.0);
      EXPECT_EQ(c1["index"], 1);
      EXPECT_FALSE(c1["started"].get<bool>());
      EXPECT_EQ(c1["instructions"], 0);
      EXPECT_EQ(c1["slices"], 0);
      EXPECT_EQ(c1["processor"], -1);
    }
  }
}

// A machine file's vcpus = N: the VM runs; --gdb refuses it (one vCPU only).
TEST(CliMachine, MachineFileVcpus) {
  const std::string path = testing::TempDir() + "/smp-machine.toml";
  {
    std::ofstream f(path);
    f << "[[vm]]\nname = \"duo\"\nkernel = \"" << HELLO_ELF << "\"\nmem = \"64M\"\nvcpus = 2\n"
      << "[[vm]]\nname = \"solo\"\nkernel = \"" << HELLO_ELF << "\"\nmem = \"64M\"\n";
  }
  const std::string dir = " --console none --console-dir " + testing::TempDir() + "/consoles-file";
  auto r = run("run --config " + path + dir + " --stats --timeout 30 < /dev/null");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("duo: powered off"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("duo        vCPU 1: held in reset"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("solo       vCPU 0: "), std::string::npos) << r.output;
  r = run("run --config " + path + dir + " --gdb tcp::0 --gdb-vm duo --timeout 30 < /dev/null");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("disco: --gdb follows one vCPU: vm duo has vcpus = 2\n"), std::string::npos) << r.output;
}

// vCPU counts out of range, or more than the machine's processors, are
// one-line errors.
TEST(CliMachine, BadVcpuCountsAreErrors) {
  const std::string k = std::string(" --kernel ") + HELLO_ELF + " < /dev/null";
  for (const char* n : {"0", "17"}) {
    auto r = run(std::string("run --vms 2 --smp ") + n + k);
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_NE(r.output.find("--smp"), std::string::npos) << r.output;
  }
  auto r = run("run --vms 1 --smp 5 --nodes 2 --cpus-per-node 2" + k);
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_EQ(r.output, "disco: vm vm0: vcpus = 5: more than the machine's 4 processors (2 nodes x 2; --overcommit "
                      "time-slices them)\n");
  r = run("run --vms 2 --smp 2 --nodes 1 --cpus-per-node 2" + k);
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_EQ(r.output,
            "disco: the VMs ask for 4 vCPUs but the machine has 2 processors (1 node x 2; --overcommit "
            "time-slices them)\n");
  // Allowed with --overcommit: three vCPUs take turns on two processors.
  r = run("run --vms 1 --smp 3 --nodes 1 --cpus-per-node 2 --overcommit --console none --console-dir " +
          testing::TempDir() + "/consoles-over --timeout 30" + k);
  EXPECT_EQ(r.status, 0) << r.output;
}

// The host threads stand for processors of the nodes the vCPUs prefer: a
// vCPU's home node is its VM's, or for a VM wider than a node the next ones.
TEST(CliMachine, ThreadsRunTheProcessorsOfTheVcpusHomeNodes) {
  const std::string path = testing::TempDir() + "/span-machine.toml";
  const std::string opts = " --console none --console-dir " + testing::TempDir() + "/consoles-span" +
                           " --stats=json --timeout 30 < /dev/null";
  auto processors = [](const nlohmann::ordered_json& j) {
    std::vector<std::pair<unsigned, unsigned>> out;  // index, node
    for (const auto& p : j["machine"]["processors"]) out.emplace_back(p["index"], p["node"]);
    return out;
  };
  using Procs = std::vector<std::pair<unsigned, unsigned>>;
  // One vCPU on node 2 of 4: one thread (processor 2), and the vCPU ran there.
  std::ofstream(path) << "[machine]\nnodes = 4\ncpus_per_node = 1\n[[vm]]\nkernel = \"" << HELLO_ELF
                      << "\"\nmem = \"64M\"\nhome_node = 2\n";
  auto r = run("run --config " + path + opts);
  ASSERT_EQ(r.status, 0) << r.output;
  const nlohmann::ordered_json j = stats_json_in(r.output);
  EXPECT_EQ(processors(j), (Procs{{2, 2}})) << r.output;
  EXPECT_EQ(j["vms"][0]["vcpus"][0]["processor"], 2) << r.output;
  // Two VMs on nodes 0 and 1 of 4 x 2: processors 0 and 2, not 0 and 1.
  r = run(std::string("run --vms 2 --mem 64M --nodes 4 --cpus-per-node 2 --kernel ") + HELLO_ELF + opts);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(processors(stats_json_in(r.output)), (Procs{{0, 0}, {2, 1}})) << r.output;
  // Three vCPUs from node 2 of 3 x 2 span nodes 2 and 0: processors 0, 4, 5.
  std::ofstream(path, std::ios::trunc) << "[machine]\nnodes = 3\ncpus_per_node = 2\n[[vm]]\nkernel = \""
                                       << HELLO_ELF << "\"\nmem = \"64M\"\nvcpus = 3\nhome_node = 2\n";
  r = run("run --config " + path + opts);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(processors(stats_json_in(r.output)), (Procs{{0, 0}, {4, 2}, {5, 2}})) << r.output;
}

// Without --console-dir the logs go to a per-run folder outside the source
// tree, and the command says where.
TEST(CliMachine, DefaultConsoleDirIsPerRunAndNamed) {
  const std::string runtime = testing::TempDir() + "/xdg-runtime";
  std::filesystem::create_directories(runtime);
  auto r = run("run --vms 2 --deterministic --console none --kernel " + std::string(HELLO_ELF) +
               " --timeout 30 < /dev/null", "XDG_RUNTIME_DIR=" + runtime);
  EXPECT_EQ(r.status, 0) << r.output;
  const size_t at = r.output.find("disco: console logs in " + runtime + "/disco/consoles-");
  ASSERT_NE(at, std::string::npos) << r.output;
  const size_t from = r.output.find(runtime, at);
  const std::string dir = r.output.substr(from, r.output.find("/\n", from) - from);
  EXPECT_EQ(count(slurp(dir + "/vm1.log"), "hello from disco guest"), 1u) << dir;
}
#endif
