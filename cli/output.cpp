#include "cli/output.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace otpd::ctl {
namespace {

// Returns 0 or the errno that stopped the write.
int write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

}  // namespace

void print(std::string_view text) {
  const int error = write_all(STDOUT_FILENO, text);
  if (error == EPIPE) throw StdoutClosed{};
  if (error != 0)
    throw std::runtime_error(std::string("cannot write to stdout: ") + std::strerror(error));
}

// Each line of a message says who speaks: otpd's answer may hold several
// (all the errors of a config file).
void complain(std::string_view message) {
  std::string text;
  for (;;) {
    const std::size_t end = message.find('\n');
    text += "otpctl: ";
    text += message.substr(0, end);
    text += '\n';
    if (end == std::string_view::npos || end + 1 == message.size()) break;
    message.remove_prefix(end + 1);
  }
  print_error(text);
}

void print_error(std::string_view text) {
  (void)write_all(STDERR_FILENO, text);
}

}  // namespace otpd::ctl
