// A status snapshot as the protocol's node objects (docs/protocol.md, "A node").
#pragma once

#include <string>

#include "supervise/status.hpp"

namespace otpd::control {

// Appends `node` and everything below it as one JSON object.
void append_node_json(std::string& out, const supervise::NodeStatus& node);

}  // namespace otpd::control
