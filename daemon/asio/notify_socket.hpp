// The socket children with `ready: notify` send their sd_notify messages to:
// one datagram socket in the abstract namespace for all of them, so that a
// child running as another user can reach it, and each datagram is
// attributed by the sender's pid (SCM_CREDENTIALS, set by the kernel) to
// the child whose process group the sender is in.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "supervise/host.hpp"

namespace boost::asio {
class io_context;
}

namespace otpd::on_asio {

class NotifySocket {
 public:
  using Listener = std::function<void(const std::string& datagram)>;

  // Binds "@otpd/<otpd's pid>/notify"; when that fails, address() is empty
  // and failure() says why (children with ready: notify then fail to start).
  explicit NotifySocket(boost::asio::io_context& io);
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  // The NOTIFY_SOCKET value for children, '@' standing for the abstract
  // namespace's leading NUL; "" when there is no socket.
  const std::string& address() const { return address_; }
  const std::optional<std::string>& failure() const { return failure_; }

  // Calls fn, from the event loop, with each datagram sent by a process of
  // the group `pgid`, until the returned watch is destroyed. Datagrams from
  // any other process are dropped.
  std::unique_ptr<supervise::Watch> watch(int pgid, Listener fn);

  // Datagrams dropped because no watched group sent them (for tests and logs).
  std::size_t dropped() const { return dropped_; }

  struct Impl;  // public for the watches it hands out

 private:
  std::shared_ptr<Impl> impl_;
  std::string address_;
  std::optional<std::string> failure_;
  std::size_t dropped_ = 0;
};

}  // namespace otpd::on_asio
