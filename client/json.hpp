// The JSON type otpctl reads otpd's messages into. Ordered, so that what
// `--json` prints has otpd's members in otpd's order, as otpd sent them.
#pragma once

#include <nlohmann/json.hpp>

namespace otpd::client {

using Json = nlohmann::ordered_json;

}  // namespace otpd::client
