// The `agent` kind: a JSON value owned by a worker, read and changed with
// calls (docs/workers.md):
//   "get"                  the value
//   {"get": "/a/b"}        the part at a JSON pointer (RFC 6901)
//   {"put": V}             replaces the value; replies with it
//   {"update": PATCH}      applies a JSON merge patch (RFC 7386); replies with the result
// The same messages may be cast. The value starts as the config's `value`
// on every start, restarts included: like an OTP agent, it keeps nothing
// across a crash.
#pragma once

#include "config/spec.hpp"
#include "workers/builtin_worker.hpp"
#include "workers/json_interface.hpp"

namespace otpd::workers {

class Agent final : public BuiltinWorker<Agent>, public JsonInterface {
 public:
  Agent(Ended ended, const config::AgentSettings& settings);

  Json json_call(const Json& message) override;
  void json_cast(const Json& message) override;

 private:
  Json value_;
};

}  // namespace otpd::workers
