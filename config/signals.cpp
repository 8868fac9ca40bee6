#include "config/signals.hpp"

#include <array>
#include <cctype>
#include <csignal>
#include <string_view>
#include <vector>

#include "protocol/suggest.hpp"

namespace otpd::config {
namespace {

struct NamedSignal {
  int number;
  std::string_view name;
};

// Linux's standard signals, spelt as kill(1) and signal(7) spell them. A
// static table rather than strsignal/sigabbrev_np: those are descriptions
// or glibc-only, and their output is locale- or version-dependent.
constexpr std::array<NamedSignal, 31> kSignals{{
    {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},       {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},
    {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"},     {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},
    {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"},     {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"},
    {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"},     {SIGTERM, "SIGTERM"}, {SIGSTKFLT, "SIGSTKFLT"},
    {SIGCHLD, "SIGCHLD"}, {SIGCONT, "SIGCONT"},     {SIGSTOP, "SIGSTOP"}, {SIGTSTP, "SIGTSTP"},
    {SIGTTIN, "SIGTTIN"}, {SIGTTOU, "SIGTTOU"},     {SIGURG, "SIGURG"},   {SIGXCPU, "SIGXCPU"},
    {SIGXFSZ, "SIGXFSZ"}, {SIGVTALRM, "SIGVTALRM"}, {SIGPROF, "SIGPROF"}, {SIGWINCH, "SIGWINCH"},
    {SIGIO, "SIGIO"},     {SIGPWR, "SIGPWR"},       {SIGSYS, "SIGSYS"},
}};

// Older names the kernel still accepts; only ever parsed, never printed.
constexpr std::array<NamedSignal, 3> kAliases{{
    {SIGABRT, "SIGIOT"},
    {SIGIO, "SIGPOLL"},
    {SIGCHLD, "SIGCLD"},
}};

std::string upper(std::string_view text) {
  std::string result(text);
  for (char& c : result) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return result;
}

// Parses a whole, unsigned decimal number; -1 if `text` is anything else.
int whole_number(std::string_view text) {
  if (text.empty() || text.size() > 4) return -1;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  return value;
}

bool is_signal_number(int n) {
  return n >= 1 && n <= SIGRTMAX;
}

// "RTMIN+3" / "RTMAX-1" / "RTMIN", as kill(1) accepts them; 0 otherwise.
int realtime_signal(std::string_view name) {
  auto offset_from = [&](std::string_view base, int base_number, int sign) {
    std::string_view rest = name.substr(base.size());
    if (rest.empty()) return base_number;
    if (rest.front() != (sign > 0 ? '+' : '-')) return 0;
    const int offset = whole_number(rest.substr(1));
    if (offset < 0) return 0;
    const int number = base_number + sign * offset;
    return number >= SIGRTMIN && number <= SIGRTMAX ? number : 0;
  };
  if (name.starts_with("RTMIN")) return offset_from("RTMIN", SIGRTMIN, +1);
  if (name.starts_with("RTMAX")) return offset_from("RTMAX", SIGRTMAX, -1);
  return 0;
}

}  // namespace

std::string signal_name(int signo) {
  for (const NamedSignal& signal : kSignals) {
    if (signal.number == signo) return std::string(signal.name);
  }
  return "signal " + std::to_string(signo);
}

int signal_number(const std::string& name) {
  const int number = whole_number(name);
  if (number >= 0) return is_signal_number(number) ? number : 0;

  std::string canonical = upper(name);
  if (!canonical.starts_with("SIG")) canonical = "SIG" + canonical;
  for (const NamedSignal& signal : kSignals) {
    if (signal.name == canonical) return signal.number;
  }
  for (const NamedSignal& signal : kAliases) {
    if (signal.name == canonical) return signal.number;
  }
  return realtime_signal(std::string_view(canonical).substr(3));
}

std::string signal_suggestion(const std::string& written) {
  if (whole_number(written) >= 0) return "";  // a number is no misspelt name
  std::vector<std::string_view> names;
  for (const NamedSignal& signal : kSignals) names.push_back(signal.name);
  std::string canonical = upper(written);
  if (!canonical.starts_with("SIG")) canonical = "SIG" + canonical;
  return protocol::did_you_mean(canonical, names);
}

}  // namespace otpd::config
