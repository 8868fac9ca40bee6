// Durations as people write them, in a config file, in a request's
// arguments and on otpctl's command line, and as otpd and otpctl print
// them: 250ms, 5s, 2m, 1h, 1.5s, 1m30s.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace otpd::protocol {

// Units go from largest to smallest, each at most once; a decimal part is
// allowed as long as the total is a whole number of milliseconds. A number
// without a unit is rejected: "5" could mean seconds or milliseconds.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// Why parse_duration rejected `text`, phrased as advice the user can act on,
// e.g. "a bare number needs a unit: write 5s or 5000ms".
std::string duration_error(std::string_view text);

// The same compound form, exact ("1m30s", "300ms", "0s"), so that a value
// printed in a log or by otpctl can be pasted back into a config file.
std::string format_duration(std::chrono::milliseconds duration);

}  // namespace otpd::protocol
