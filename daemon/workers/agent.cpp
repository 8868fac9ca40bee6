#include "workers/agent.hpp"

namespace otpd::workers {
namespace {

constexpr const char* kVocabulary =
    "expected \"get\", {\"get\": \"/json/pointer\"}, {\"put\": VALUE} or {\"update\": "
    "MERGE_PATCH}";

}  // namespace

// The text was produced by the config reader from YAML, so it parses.
Agent::Agent(Ended ended, const config::AgentSettings& settings)
    : BuiltinWorker(std::move(ended)), value_(Json::parse(settings.value)) {}

Json Agent::json_call(const Json& message) {
  if (message == "get") return value_;
  if (!message.is_object() || message.size() != 1) throw BadRequest(kVocabulary);
  const std::string& operation = message.begin().key();
  const Json& argument = message.begin().value();
  if (operation == "get") {
    if (!argument.is_string()) throw BadRequest("get: expected a JSON pointer such as \"/a/b\"");
    try {
      const Json::json_pointer pointer(argument.get<std::string>());
      if (!value_.contains(pointer)) {
        throw BadRequest("get: the value has nothing at '" + argument.get<std::string>() + "'");
      }
      return value_.at(pointer);
    } catch (const Json::exception& e) {
      throw BadRequest(std::string("get: ") + e.what());
    }
  }
  if (operation == "put") {
    value_ = argument;
    return value_;
  }
  if (operation == "update") {
    value_.merge_patch(argument);
    return value_;
  }
  throw BadRequest("unknown operation '" + operation + "': " + kVocabulary);
}

void Agent::json_cast(const Json& message) {
  try {
    json_call(message);
  } catch (const BadRequest&) {
    // Nobody waits for an answer: a cast the agent does not understand is
    // dropped, as an unknown cast is in OTP when the server ignores it.
  }
}

}  // namespace otpd::workers
