// Protocol 1 (docs/protocol.md) from the client's side: hello first, then
// requests with ids and their replies, or one stream.
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

#include "client/connection.hpp"
#include "client/json.hpp"
#include "protocol/commands.hpp"

namespace otpd::client {

using Ms = std::chrono::milliseconds;

// otpd answered, but with no: exit status 1.
struct Refused : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// otpd's error answer to a request.
struct ErrorReply {
  std::string code;  // "not_found", "failed", ... (docs/protocol.md, Error codes)
  std::string message;
};

struct Reply {
  Json result;
  std::optional<ErrorReply> error;
};

class Client {
 public:
  // Connects to otpd and says hello; throws Unreachable when otpd cannot be
  // reached, Refused when it speaks another protocol.
  Client(const std::string& socket_path, Ms timeout);

  // otpd's answer to hello: protocol, server, pid.
  const Json& hello() const { return hello_; }
  const std::string& socket_path() const { return connection_.path(); }

  // One request and its reply, within the timeout; `args` are the request's
  // members besides id and cmd. Throws Unreachable only.
  Reply call(protocol::Command cmd, Json args = Json::object());

  // Sends a streaming request and returns its first reply; the stream's
  // messages then come from next_message().
  Reply open_stream(protocol::Command cmd, Json args);
  // The next message of the stream ({"id", "event"} or {"id", "error"}), or
  // nothing once otpd has closed the connection. Waits as long as it takes.
  std::optional<Json> next_message();

 private:
  void send(protocol::Command cmd, Json args);
  Reply receive(Deadline deadline);
  Json parse(const std::string& line) const;
  Deadline deadline() const { return Clock::now() + timeout_; }

  Connection connection_;
  Ms timeout_;
  int next_id_ = 1;
  Json hello_;
};

}  // namespace otpd::client
