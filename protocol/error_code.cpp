#include "protocol/error_code.hpp"

#include <array>

namespace otpd::protocol {
namespace {

constexpr std::size_t kCount = static_cast<std::size_t>(ErrorCode::busy) + 1;

// In the order of the enum.
constexpr std::array<std::string_view, kCount> kNames{
    "parse_error", "invalid_request",     "unknown_command", "not_found", "forbidden",
    "too_large",   "unsupported_version", "failed",          "busy"};

}  // namespace

std::string_view name_of(ErrorCode code) {
  return kNames[static_cast<std::size_t>(code)];
}

std::optional<ErrorCode> error_code_named(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<ErrorCode>(i);
  }
  return std::nullopt;
}

}  // namespace otpd::protocol
