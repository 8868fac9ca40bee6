// Waits for what children write to files in the sandbox: the condition is
// looked at again each time a file in the directory is written, closed or
// created (inotify), so a test waits on the write itself, with a deadline.
#pragma once

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <string>

namespace otpd::test {

inline bool wait_for_file_change(const std::string& dir, const std::function<bool()>& done,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (fd < 0) return done();
  inotify_add_watch(fd, dir.c_str(), IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool held = done();
  while (!held) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd changed{.fd = fd, .events = POLLIN, .revents = 0};
    poll(&changed, 1, static_cast<int>(left.count()));
    char events[4096];
    while (read(fd, events, sizeof events) > 0) {
    }
    held = done();
  }
  close(fd);
  return held;
}

}  // namespace otpd::test
