// Writing JSON text straight into an output buffer. Replies are built this
// way rather than through a JSON DOM because a status of a large tree and a
// flood of pings must not cost an allocation per value.
#pragma once

#include <string>
#include <string_view>

namespace otpd::control {

// Appends `text` as a JSON string literal. Bytes that are not valid UTF-8
// become U+FFFD, so whatever a child's command line holds, the reply parses.
void append_json_string(std::string& out, std::string_view text);

void append_json_int(std::string& out, long long value);

// At a byte text[i] of 0x80 or more: appends the valid UTF-8 sequence that
// starts there, or U+FFFD when none does, and moves `i` past what it took.
// The escapers of JSON and of Prometheus labels share it.
void append_utf8_sequence(std::string& out, std::string_view text, std::size_t& i);

}  // namespace otpd::control
