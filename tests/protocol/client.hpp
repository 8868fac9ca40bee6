// A raw control-socket client for tests: bytes in, lines out, with every
// wait bounded and otpd's own output pumped meanwhile (otpd blocks on a
// full stderr pipe otherwise).
#pragma once

#include <sys/types.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "harness.hpp"

namespace otpd::pt {

using it::Ms;

class Client {
 public:
  // Connects to the socket at `path`; check ok().
  explicit Client(const std::string& path);
  ~Client();
  Client(Client&& other) noexcept;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  // Writes all of `bytes` (blocking).
  void send(std::string_view bytes);
  void send_line(const nlohmann::json& request) { send(request.dump() + "\n"); }
  // The next line, waiting while pumping `otpd`; nothing on timeout or EOF.
  std::optional<std::string> line(it::Otpd& otpd, Ms timeout = it::default_timeout);
  std::optional<nlohmann::json> reply(it::Otpd& otpd, Ms timeout = it::default_timeout);
  // Sends a request and returns its reply (null on timeout).
  nlohmann::json call(it::Otpd& otpd, const nlohmann::json& request);
  // Reads everything until otpd closes the connection; false on timeout.
  bool read_to_eof(it::Otpd& otpd, Ms timeout = it::default_timeout);
  bool eof() const { return eof_; }
  const std::string& unread() const { return buffer_; }
  void close();

 private:
  bool fill();  // non-blocking read of what is there; false when nothing

  int fd_ = -1;
  std::string buffer_;
  bool eof_ = false;
};

// The socket path tests use: short, inside the sandbox.
inline std::string socket_in(const it::Sandbox& box) {
  return box.path("s.sock");
}
// Starts otpd on `yaml` listening on socket_in(box), and waits until the tree
// has started (check with otpd.transcript() on failure).
it::Otpd start_otpd(const it::Sandbox& box, std::string_view yaml);

// Number of descriptors open in process `pid`.
int open_fds(pid_t pid);

// Runs `body` in a forked child as uid/gid (no supplementary groups); its
// result is the child's exit status (99: the ids could not be taken). The
// child must not use doctest.
int as_user(uid_t uid, gid_t gid, const std::function<int()>& body);

}  // namespace otpd::pt
