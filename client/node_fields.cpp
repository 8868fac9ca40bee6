#include "client/node_fields.hpp"

namespace otpd::client {

std::optional<std::string> text_field(const Json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  const auto found = object.find(key);
  if (found == object.end() || !found->is_string()) return std::nullopt;
  return found->get<std::string>();
}

std::optional<std::int64_t> int_field(const Json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  const auto found = object.find(key);
  if (found == object.end() || !found->is_number_integer()) return std::nullopt;
  return found->get<std::int64_t>();
}

bool bool_field(const Json& object, const char* key) {
  if (!object.is_object()) return false;
  const auto found = object.find(key);
  return found != object.end() && found->is_boolean() && found->get<bool>();
}

std::optional<std::string> exit_reason(const Json& exit) {
  if (!exit.is_object()) return std::nullopt;
  if (auto reason = text_field(exit, "reason"); reason && !reason->empty()) return reason;
  std::string text;
  if (auto status = int_field(exit, "exit_status")) {
    text = "exited with status " + std::to_string(*status);
  } else if (auto signal = text_field(exit, "signal")) {
    text = "killed by " + *signal;
  } else if (auto number = int_field(exit, "signal")) {
    text = "killed by signal " + std::to_string(*number);
  } else {
    return std::nullopt;
  }
  if (bool_field(exit, "core_dumped")) text += " (core dumped)";
  return text;
}

}  // namespace otpd::client
