// Protocol 1 (docs/protocol.md) from the client's side: hello first, then
// requests with ids and their replies, or one stream.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/connection.hpp"
#include "cli/duration_text.hpp"

namespace otpd::ctl {

inline constexpr int protocol_version = 1;

// otpd answered, but with no: exit status 1.
struct Refused : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Failure {
  std::string code;  // "not_found", "failed", ... (docs/protocol.md, Error codes)
  std::string message;
};

struct Reply {
  nlohmann::json result;
  std::optional<Failure> error;
};

class Client {
 public:
  // Connects to otpd and says hello; throws Unreachable when otpd cannot be
  // reached, Refused when it speaks another protocol.
  Client(const std::string& socket_path, Ms timeout);

  // otpd's answer to hello: protocol, server, pid.
  const nlohmann::json& hello() const { return hello_; }
  const std::string& socket_path() const { return connection_.path(); }

  // One request and its reply, within the timeout; `args` are the request's
  // members besides id and cmd. Throws Unreachable only.
  Reply call(const std::string& cmd, nlohmann::json args = nlohmann::json::object());

  // Sends a streaming request and returns its first reply; the stream's
  // messages then come from next_message().
  Reply open_stream(const std::string& cmd, nlohmann::json args);
  // The next message of the stream ({"id", "event"} or {"id", "error"}), or
  // nothing once otpd has closed the connection. Waits as long as it takes.
  std::optional<nlohmann::json> next_message();

 private:
  void send(const std::string& cmd, nlohmann::json args);
  Reply receive(Deadline deadline);
  nlohmann::json parse(const std::string& line) const;
  Deadline deadline() const { return Clock::now() + timeout_; }

  Connection connection_;
  Ms timeout_;
  int next_id_ = 1;
  nlohmann::json hello_;
};

}  // namespace otpd::ctl
