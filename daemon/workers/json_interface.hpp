// What `otpctl call` and `otpctl cast` reach: a worker that derives from
// JsonInterface answers JSON messages (docs/workers.md, docs/protocol.md).
// Both hooks run on the worker's own thread, one message at a time.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace otpd::workers {

using Json = nlohmann::json;

// Thrown by a hook for a message it does not understand: the caller gets
// the message and the worker goes on. Any other exception ends the worker
// with that error, as an exception in a gen_server's handler does in OTP.
class BadRequest : public std::runtime_error {
 public:
  explicit BadRequest(const std::string& what) : std::runtime_error(what) {}
};

class JsonInterface {
 public:
  virtual ~JsonInterface() = default;
  // The reply to `message`.
  virtual Json json_call(const Json& message) = 0;
  // `message` without a reply; a message it does not understand is dropped.
  virtual void json_cast(const Json& message) = 0;
};

}  // namespace otpd::workers
