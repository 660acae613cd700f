// The `disco` command on bad input: one-line errors naming the problem and
// a non-zero exit, never a crash.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace {

struct Result {
  int status;
  std::string output;
};

Result run(const std::string& args) {
  std::string cmd = std::string(DISCO_EXE) + " " + args + " 2>&1";
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
  EXPECT_EQ(run("run --frobnicate").status, 2);
  EXPECT_EQ(run("fly").status, 2);
  EXPECT_EQ(run("run --engine fast --kernel x").status, 2);
  EXPECT_EQ(run("--help").status, 0);
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

TEST(CliMachine, StatsJsonDescribesMachineAndVms) {
  auto r = run(std::string("run --vms 2 --deterministic --kernel ") + HELLO_ELF + " --console none --console-dir " +
               testing::TempDir() + "/consoles-json --stats=json --timeout 30 < /dev/null");
  EXPECT_EQ(r.status, 0) << r.output;
  for (const char* key : {"{\"machine\": {", "\"machine_pages_used\": ", "\"image_cache_hits\": 1",
                          "\"vms\": [", "\"name\": \"vm1\"", "\"state\": \"powered-off\"", "\"guest_pages_touched\": "})
    EXPECT_NE(r.output.find(key), std::string::npos) << key << " in\n" << r.output;
}

TEST(CliMachine, VmsAreSpreadOverNodesAndAllocateLocally) {
  auto r = run(std::string("run --vms 4 --nodes 2 --cpus-per-node 2 --mem-per-node 128M --mem 64M --deterministic") +
               " --kernel " + HELLO_ELF + " --console none --console-dir " + testing::TempDir() +
               "/consoles-numa --stats=json --timeout 30 < /dev/null");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("\"nodes\": 2"), std::string::npos) << r.output;
  // Round robin: vm0 and vm2 on node 0, vm1 and vm3 on node 1, every page local.
  for (const char* k : {"\"name\": \"vm1\", \"home_node\": 1", "\"name\": \"vm2\", \"home_node\": 0"})
    EXPECT_NE(r.output.find(k), std::string::npos) << k << " in\n" << r.output;
  EXPECT_EQ(count(r.output, "\"remote_pages\": 0,"), 4u) << r.output;
  const size_t at = r.output.find("\"node_pages_used\": [");
  ASSERT_NE(at, std::string::npos) << r.output;
  unsigned long n0 = 0, n1 = 0;
  ASSERT_EQ(std::sscanf(r.output.c_str() + at, "\"node_pages_used\": [%lu, %lu]", &n0, &n1), 2) << r.output;
  EXPECT_GT(n0, 0u);
  EXPECT_GT(n1, 0u);
}

TEST(CliMachine, BadMachineOptionsAreErrors) {
  const std::string k = std::string(" --kernel ") + HELLO_ELF;
  auto r = run("run --vms 2 --console vm7" + k);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("vm7"), std::string::npos) << r.output;
  EXPECT_EQ(run("run --vms 0" + k).status, 2);
  EXPECT_EQ(run("run --vms 2 --config /nonexistent.toml").status, 2);
  EXPECT_EQ(run("run --stats=json" + k).status, 2);
  r = run("run --vms 2 --nodes 1 --mem-per-node 64M --mem 48M" + k);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("overcommit"), std::string::npos) << r.output;
  r = run("run --vms 2 --lockstep --engine jit" + k);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("one VM"), std::string::npos) << r.output;
}
#endif
