#include "cli/console.h"

#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace disco {

namespace {
constexpr char kEscape = 0x01;  // Ctrl-A
termios g_saved_termios;
bool g_termios_saved = false;

void restore_terminal() {
  if (g_termios_saved) tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_termios);
}
void on_fatal_signal(int sig) {
  restore_terminal();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}
}  // namespace

Console::Console(const Options& o) : opt_(o) {
  if (pipe(wake_pipe_) != 0 || pipe(stop_pipe_) != 0) throw std::runtime_error("cannot create console pipes");
  if (!o.until.empty()) {
    try {
      until_re_ = std::regex(o.until, std::regex::extended);
    } catch (const std::regex_error&) {
      throw std::runtime_error("--until: invalid regular expression '" + o.until + "'");
    }
  }
  if (!o.input_file.empty()) {
    std::ifstream in(o.input_file);
    if (!in) throw std::runtime_error("--input: cannot read " + o.input_file);
    std::string l;
    while (std::getline(in, l)) script_.push_back(l + "\n");
  }
  if (o.interactive && o.input_file.empty()) {
    tty_ = isatty(STDIN_FILENO);
    if (tty_ && tcgetattr(STDIN_FILENO, &g_saved_termios) == 0) {
      g_termios_saved = true;
      std::atexit(restore_terminal);
      for (int sig : {SIGTERM, SIGHUP, SIGSEGV, SIGABRT}) std::signal(sig, on_fatal_signal);
      termios raw = g_saved_termios;
      cfmakeraw(&raw);
      raw.c_oflag |= OPOST | ONLCR;  // the guest sends "\n"; the host terminal wants "\r\n"
      tcsetattr(STDIN_FILENO, TCSANOW, &raw);
      raw_active_ = true;
      std::fprintf(stderr, "disco: console attached; Ctrl-A x quits\r\n");
    }
    reader_ = std::thread([this] { reader_loop(); });
  }
}

Console::~Console() {
  if (reader_.joinable()) {
    (void)!write(stop_pipe_[1], "x", 1);
    reader_.join();
  }
  if (raw_active_) restore_terminal();
  for (int fd : {wake_pipe_[0], wake_pipe_[1], stop_pipe_[0], stop_pipe_[1]})
    if (fd >= 0) close(fd);
}

void Console::reader_loop() {
  char buf[256];
  for (;;) {
    pollfd p[2] = {{STDIN_FILENO, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (poll(p, 2, -1) < 0) continue;
    if (p[1].revents) return;
    if (!(p[0].revents & (POLLIN | POLLHUP))) continue;
    const ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n <= 0) return;  // EOF: no more input
    std::string bytes;
    for (ssize_t i = 0; i < n; ++i) {
      const char ch = buf[i];
      if (tty_ && escape_) {
        escape_ = false;
        if (ch == 'x' || ch == 'X') {
          quit_ = true;
          (void)!write(wake_pipe_[1], "q", 1);
          return;
        }
        if (ch == kEscape) bytes += ch;
        continue;
      }
      if (tty_ && ch == kEscape) {
        escape_ = true;
        continue;
      }
      bytes += ch;
    }
    push(bytes);
  }
}

void Console::push(const std::string& bytes) {
  if (bytes.empty()) return;
  {
    std::lock_guard<std::mutex> g(mu_);
    pending_ += bytes;
  }
  (void)!write(wake_pipe_[1], "i", 1);
}

void Console::output(uint8_t ch, bool show) {
  if (show) {
    std::fputc(ch, stdout);
    if (ch == '\n') std::fflush(stdout);
  }
  if (ch == '\n') {
    line_.clear();
    return;
  }
  if (ch == '\r') return;
  if (line_.size() < 4096) line_ += static_cast<char>(ch);
  if (!opt_.until.empty() && !matched_ && std::regex_search(line_, until_re_)) matched_ = true;
  // A shell prompt ("... # " or "... $ ") lets the next script line go.
  if (line_.size() >= 2 && line_[line_.size() - 1] == ' ' &&
      (line_[line_.size() - 2] == '#' || line_[line_.size() - 2] == '$'))
    prompt_seen_ = true;
}

void Console::feed_script_line_if_ready() {
  if (!prompt_seen_.load()) return;
  std::lock_guard<std::mutex> g(mu_);
  if (script_.empty() || !prompt_seen_.exchange(false)) return;
  std::fflush(stdout);
  pending_ += script_.front();
  script_.pop_front();
}

bool Console::take_input(std::string& out) {
  feed_script_line_if_ready();
  std::lock_guard<std::mutex> g(mu_);
  if (pending_.empty()) return false;
  out.swap(pending_);
  pending_.clear();
  return true;
}

bool Console::wait_input(uint64_t ns) {
  if (prompt_seen_) {
    std::lock_guard<std::mutex> g(mu_);
    if (!script_.empty()) return true;
  }
  pollfd p{wake_pipe_[0], POLLIN, 0};
  const int ms = static_cast<int>(std::min<uint64_t>(ns / 1'000'000 + 1, 1000));
  if (poll(&p, 1, ms) > 0) {
    char drain[64];
    (void)!read(wake_pipe_[0], drain, sizeof drain);
    return true;
  }
  return false;
}

}  // namespace disco
