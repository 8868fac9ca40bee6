// A Unix stream socket carrying lines, with a deadline on every wait. Plain
// POSIX and poll(2): a command-line client has one conversation at a time
// and needs no event loop.
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

namespace otpd::client {

using Clock = std::chrono::steady_clock;
// No deadline means wait as long as it takes (events --follow).
using Deadline = std::optional<Clock::time_point>;

// otpd could not be reached or stopped talking: exit status 3.
struct Unreachable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// No answer before the deadline.
struct TimedOut : Unreachable {
  using Unreachable::Unreachable;
};

// Lines longer than this are not otpd talking: refuse rather than grow.
inline constexpr std::size_t max_line = 256u << 20;

class Connection {
 public:
  // Connects to the socket at `path`; throws Unreachable naming the path
  // and the reason.
  static Connection open(const std::string& path, Deadline deadline);
  ~Connection();
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&&) = delete;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends `line` and a newline; throws Unreachable.
  void send_line(const std::string& line, Deadline deadline);
  // The next line without its newline, or nothing once the peer has closed
  // the connection after a whole line; throws Unreachable on a timeout, an
  // error, or a connection closed in the middle of a line.
  std::optional<std::string> read_line(Deadline deadline);

  const std::string& path() const { return path_; }

 private:
  Connection(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  // Waits for `events` on the socket; false when the deadline passed.
  bool wait(short events, Deadline deadline);

  int fd_ = -1;
  std::string path_;
  std::string buffer_;
};

}  // namespace otpd::client
