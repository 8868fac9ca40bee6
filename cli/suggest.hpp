// "did you mean ...?" for mistyped commands and options.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace otpd::ctl {

// The candidate closest to `word`, if it is close enough to be a likely typo.
std::optional<std::string> nearest(std::string_view word,
                                   std::span<const std::string_view> candidates);

}  // namespace otpd::ctl
