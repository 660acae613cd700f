#include "cli/console_mux.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace disco {

ConsoleMux::ConsoleMux(Console& term, const std::vector<std::string>& names, int shown, const std::string& dir,
                       const std::string& until)
    : term_(term), names_(names), shown_(shown), dir_(dir) {
  if (!until.empty()) {
    try {
      until_re_ = std::regex(until, std::regex::extended);
      has_until_ = true;
    } catch (const std::regex_error&) {
      throw std::runtime_error("--until: invalid regular expression '" + until + "'");
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("--console-dir: cannot create " + dir + ": " + ec.message());
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw std::runtime_error("--console-dir: " + dir + " exists and is not a folder");
  for (size_t i = 0; i < names.size(); ++i) {
    FILE* f = std::fopen(log_path(i).c_str(), "w");
    if (!f) {
      for (FILE* g : logs_) std::fclose(g);
      throw std::runtime_error("cannot write console log " + log_path(i) + ": " + std::strerror(errno));
    }
    logs_.push_back(f);
  }
  lines_.resize(names.size());
  matched_ = std::make_unique<std::atomic<bool>[]>(names.size());
  marked_ = std::make_unique<std::atomic<bool>[]>(names.size());
}

ConsoleMux::~ConsoleMux() {
  for (FILE* f : logs_) std::fclose(f);
}

void ConsoleMux::output(size_t vm, uint8_t ch) {
  std::fputc(ch, logs_[vm]);
  if (ch == '\n') std::fflush(logs_[vm]);
  const bool input_side = static_cast<int>(vm) == input_vm();
  // The attached VM goes through the terminal console unchanged (it also
  // paces --input on its prompts); in "all" mode lines are prefixed here.
  if (input_side) {
    std::lock_guard<std::mutex> lk(term_mu_);
    term_.output(ch, shown_ != kAll);
  }
  std::string& line = lines_[vm];
  if (ch == '\n') {
    if (shown_ == kAll) {
      std::lock_guard<std::mutex> lk(term_mu_);
      std::fprintf(stdout, "[%s] %s\n", names_[vm].c_str(), line.c_str());
      std::fflush(stdout);
    }
    line.clear();
    return;
  }
  if (ch == '\r') return;
  if (line.size() < 4096) line += static_cast<char>(ch);
  if (has_until_ && !matched(vm) && std::regex_search(line, until_re_)) matched_[vm].store(true);
  if (!mark_.empty() && !marked(vm) && line.size() >= mark_.size() && line.find(mark_) != std::string::npos)
    marked_[vm].store(true);
}

void ConsoleMux::finish() {
  if (shown_ != kAll) return;
  std::lock_guard<std::mutex> lk(term_mu_);
  for (size_t i = 0; i < lines_.size(); ++i)
    if (!lines_[i].empty()) std::fprintf(stdout, "[%s] %s\n", names_[i].c_str(), lines_[i].c_str());
  std::fflush(stdout);
}

}  // namespace disco
