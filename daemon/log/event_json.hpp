// The JSON form of a tree event. The log (`--log-format json`) and the
// control socket's event stream share it, so that a line means the same
// wherever a script reads it.
#pragma once

#include <string>
#include <string_view>

#include "supervise/event.hpp"

namespace otpd::log {

// One JSON object, without a newline: time, path, event, and where they
// apply pid, exit_status or signal, core_dumped, delay_ms, duration_ms, reason.
std::string event_json(const supervise::Event& event, std::string_view time);

}  // namespace otpd::log
