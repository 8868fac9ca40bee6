// The names of the control protocol's fields (docs/protocol.md), as both
// sides spell them: a request's, a reply's envelope, an error's.
#pragma once

#include <string_view>

namespace otpd::protocol::field {

// Every message: the request's id, echoed in each reply to it.
inline constexpr std::string_view id = "id";
// A request.
inline constexpr std::string_view cmd = "cmd";
// A reply: exactly one of these.
inline constexpr std::string_view result = "result";
inline constexpr std::string_view error = "error";
inline constexpr std::string_view event = "event";  // a stream of events
inline constexpr std::string_view line = "line";    // a stream of output lines
// Inside "error".
inline constexpr std::string_view code = "code";
inline constexpr std::string_view message = "message";

// A request's arguments besides id and cmd.
inline constexpr std::string_view path = "path";
inline constexpr std::string_view signal = "signal";
inline constexpr std::string_view follow = "follow";
inline constexpr std::string_view backlog = "backlog";
inline constexpr std::string_view protocol = "protocol";
inline constexpr std::string_view client = "client";
inline constexpr std::string_view lines = "lines";
inline constexpr std::string_view stream = "stream";
inline constexpr std::string_view dry_run = "dry_run";
inline constexpr std::string_view text = "text";
inline constexpr std::string_view file = "file";
inline constexpr std::string_view spec = "spec";
inline constexpr std::string_view name = "name";
// `message` (above) is also call's and cast's argument.
inline constexpr std::string_view timeout_ms = "timeout_ms";

}  // namespace otpd::protocol::field
