// The control socket: accepts connections, checks who is connecting, and
// serves each with a session, all on the supervision io_context's thread.
#pragma once

#include <cstdint>
#include <memory>

#include "control/commands.hpp"
#include "control/event_hub.hpp"
#include "control/peer_access.hpp"
#include "control/refusal_tally.hpp"
#include "control/socket_path.hpp"
#include "log/event_log.hpp"

namespace boost::asio {
class io_context;
}

namespace otpd::control {

class Server {
 public:
  // Takes over `socket` (from listen_on) and starts accepting.
  Server(boost::asio::io_context& io, ListeningSocket socket, AccessPolicy policy,
         Commands& commands, EventHub& events, log::EventLog& log);
  // Closes every connection and removes the socket file.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::size_t connections() const;
  // Connections and requests refused (or answered 'busy') since otpd
  // started, by kind: what a status or metrics command can report.
  std::uint64_t refused(Refusal kind) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace otpd::control
