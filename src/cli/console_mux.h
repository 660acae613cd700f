// The consoles of several VMs: each VM's UART output goes to its own log
// file (<dir>/<name>.log); one VM can be attached to the terminal (its
// output shown as is, input typed into it), or all are shown at once, each
// line prefixed with "[name] " (input then goes to the first VM).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <vector>

#include "cli/console.h"

namespace disco {

class ConsoleMux {
 public:
  static constexpr int kAll = -1, kNone = -2;
  // `shown`: a VM index, kAll or kNone. `until`: ERE that each VM's output
  // must match before the run stops (empty: none). Throws
  // std::runtime_error naming the folder or file that cannot be written.
  ConsoleMux(Console& term, const std::vector<std::string>& names, int shown, const std::string& dir,
             const std::string& until);
  ~ConsoleMux();
  ConsoleMux(const ConsoleMux&) = delete;
  ConsoleMux& operator=(const ConsoleMux&) = delete;

  // VM `vm`'s UART output. VMs run on several host threads: a VM's own log
  // and line are touched only by its thread; the terminal is shared (mutex).
  void output(size_t vm, uint8_t ch);
  // The VM that receives terminal input (-1: none).
  int input_vm() const { return shown_ == kNone ? -1 : shown_ == kAll ? 0 : shown_; }
  bool matched(size_t vm) const { return matched_[vm].load(std::memory_order_relaxed); }
  // --stats-mark: the text a VM's output line must contain to set its mark
  // (empty: none), and whether it did.
  void set_mark(const std::string& text) { mark_ = text; }
  bool marked(size_t vm) const { return marked_[vm].load(std::memory_order_relaxed); }
  std::string log_path(size_t vm) const { return dir_ + "/" + names_[vm] + ".log"; }
  // Ends partial lines on the terminal (at exit).
  void finish();

 private:
  Console& term_;
  std::vector<std::string> names_;
  int shown_;
  std::string dir_;
  bool has_until_ = false;
  std::regex until_re_;
  std::vector<FILE*> logs_;
  std::vector<std::string> lines_;
  std::unique_ptr<std::atomic<bool>[]> matched_;
  std::string mark_;
  std::unique_ptr<std::atomic<bool>[]> marked_;
  std::mutex term_mu_;  // the terminal and stdout
};

}  // namespace disco
