// The control protocol's version (docs/protocol.md, Versions), which otpd
// and otpctl both speak: a client says it in `hello`, otpd refuses another.
#pragma once

namespace otpd::protocol {

inline constexpr int kProtocolVersion = 1;

}  // namespace otpd::protocol
