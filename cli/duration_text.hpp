// Durations as otpctl reads them (--timeout) and shows them (uptimes,
// backoff delays).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace otpd::ctl {

using Ms = std::chrono::milliseconds;

// "500ms", "10s", "2m", "1h", "1m30s", "1.5s": the protocol's duration
// grammar (protocol/duration.hpp), as in otpd's configuration. A bare number
// is refused, as there: "5" could mean seconds or milliseconds. On failure
// returns nothing and says why in `error`.
std::optional<Ms> parse_duration(std::string_view text, std::string& error);

// "3s", "4m12s", "2h03m", "5d": short enough for a table column, precise
// enough to tell a child in a restart loop from one that has been up for days.
std::string format_uptime(std::int64_t ms);

// "300ms", "1s", "1m30s": exact, as otpd's own log writes backoff delays
// (protocol::format_duration); a negative count reads as 0s.
std::string format_exact(std::int64_t ms);

}  // namespace otpd::ctl
