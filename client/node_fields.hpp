// Tolerant reads of the members of otpd's JSON objects (nodes, events): a
// member that is missing or of another type reads as absent, so that a newer
// otpd adding or changing a member never makes otpctl throw.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "client/json.hpp"

namespace otpd::client {

std::optional<std::string> text_field(const Json& object, const char* key);
std::optional<std::int64_t> int_field(const Json& object, const char* key);
bool bool_field(const Json& object, const char* key);

// "exited with status 1", "killed by SIGKILL (core dumped)": otpd's `reason`
// when it gave one, else words built from `exit_status` or `signal`.
std::optional<std::string> exit_reason(const Json& exit);

}  // namespace otpd::client
