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
