// Reads `worker: {kind: dynamic_supervisor, ...}`: a supervisor whose
// children are added and removed at run time (docs/workers.md).
#pragma once

#include "config/spec.hpp"
#include "config/yaml_reader.hpp"

namespace otpd::config {

inline constexpr std::string_view kDynamicSupervisorKind = "dynamic_supervisor";

// `worker` is the whole `worker:` mapping, `kind` included. The result is
// marked dynamic, one_for_one, with no children; unset settings keep OTP's
// defaults (intensity 3 in 5s, no max_children).
SupervisorSpec read_dynamic_supervisor(const Field& worker);

}  // namespace otpd::config
