// The host side of a VM's serial console: guest output to stdout; input
// from the terminal (raw mode, Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A),
// from a non-terminal stdin as is, or from a script file fed one line per
// shell prompt (--input).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <regex>
#include <string>
#include <thread>

namespace disco {

class Console {
 public:
  struct Options {
    bool interactive = true;   // read stdin (terminal or not)
    std::string input_file;    // --input: script to type
    std::string until;         // --until: stop when output matches (ERE)
  };
  // Throws std::runtime_error with a message naming the problem.
  explicit Console(const Options& o);
  ~Console();
  Console(const Console&) = delete;
  Console& operator=(const Console&) = delete;

  // Guest → host. Without `show`, the byte only feeds --until and the
  // prompt detection of --input (another part shows it). With an SMP VM
  // it runs on the vCPU threads (one at a time: the VM's device lock)
  // while another thread calls take_input/wait_input.
  void output(uint8_t ch, bool show = true);
  // Host → guest: takes the bytes ready now.
  bool take_input(std::string& out);
  // Blocks up to `ns` until input may be ready.
  bool wait_input(uint64_t ns);

  // Read from any thread (the reader thread sets quit_, the VM's matched_).
  bool quit_requested() const { return quit_.load(std::memory_order_relaxed); }
  bool until_matched() const { return matched_.load(std::memory_order_relaxed); }
  bool has_input_source() const { return reader_.joinable() || !script_.empty(); }

 private:
  void reader_loop();
  void feed_script_line_if_ready();
  void push(const std::string& bytes);

  Options opt_;
  bool tty_ = false;
  bool raw_active_ = false;
  bool escape_ = false;
  std::atomic<bool> quit_{false};
  std::atomic<bool> matched_{false};
  std::regex until_re_;
  std::string line_;  // current output line (for --until and prompt detection)

  // --input script: lines waiting to be typed (under mu_ once the guest
  // runs). The prompt is seen by the thread writing the console (a vCPU's)
  // and taken by the one feeding input (another vCPU's, or the
  // coordinator's in wait_input).
  std::deque<std::string> script_;
  std::atomic<bool> prompt_seen_{false};

  std::mutex mu_;
  std::string pending_;
  int wake_pipe_[2] = {-1, -1};
  std::thread reader_;
  int stop_pipe_[2] = {-1, -1};
};

}  // namespace disco
