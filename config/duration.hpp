// Durations as users write them in a config file: 250ms, 5s, 2m, 1h, 1.5s, 1m30s.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/spec.hpp"

namespace otpd::config {

// Units go from largest to smallest, each at most once; a decimal part is
// allowed as long as the total is a whole number of milliseconds. A number
// without a unit is rejected: "5" could mean seconds or milliseconds.
std::optional<Duration> parse_duration(std::string_view text);

// Why parse_duration rejected `text`, phrased as advice the user can act on,
// e.g. "a bare number needs a unit: write 5s or 5000ms".
std::string duration_error(std::string_view text);

}  // namespace otpd::config
