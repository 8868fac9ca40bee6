// The codes of the control protocol's errors (docs/protocol.md, Error
// codes): what otpd answers and what a client tells apart.
#pragma once

#include <optional>
#include <string_view>

namespace otpd::protocol {

enum class ErrorCode {
  parse_error,
  invalid_request,
  unknown_command,
  not_found,
  forbidden,
  too_large,
  unsupported_version,
  failed,
  busy,  // only a connection earns it: otpd is out of file descriptors
};

std::string_view name_of(ErrorCode code);
// Nothing for a code this version does not know (a newer otpd's).
std::optional<ErrorCode> error_code_named(std::string_view name);

}  // namespace otpd::protocol
