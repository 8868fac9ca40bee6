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

void complain(std::string_view message) {
  print_error("otpctl: " + std::string(message) + "\n");
}

void print_error(std::string_view text) {
  (void)write_all(STDERR_FILENO, text);
}

}  // namespace otpd::ctl
