// `otpctl events`: one event object (docs/protocol.md, Streams) as a line in
// the layout of otpd's own human-readable log, so both read the same.
#pragma once

#include <string>

#include "cli/client_names.hpp"

namespace otpd::ctl {

// "2026-11-24T12:50:01.113Z started            app/api pid=4242", without
// a newline.
std::string render_event(const Json& event);

}  // namespace otpd::ctl
