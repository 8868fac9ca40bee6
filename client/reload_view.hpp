// A reload's answer (docs/protocol.md, reload) for people: one line per
// change, `+ app/new`, `- old`, `~ db (command, env)`, then a summary.
// Shared by `otpctl reload` and `otpd check --diff`.
#pragma once

#include <string>

#include "client/json.hpp"

namespace otpd::client {

// The lines for stdout.
std::string render_reload(const Json& result);
// Children that failed to start and warnings, one line each, for stderr.
std::string reload_problems(const Json& result);
// Whether any added or changed child failed to start.
bool reload_failed(const Json& result);

}  // namespace otpd::client
