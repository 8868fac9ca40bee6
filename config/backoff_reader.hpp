// Reads a `backoff:` mapping: how long to wait between restarts of a child.
#pragma once

#include "config/spec.hpp"
#include "config/yaml_reader.hpp"

namespace otpd::config {

// Missing keys take Backoff's defaults, except reset_after, which defaults to
// `max`: a child that stayed up as long as the longest wait counts as healthy.
Backoff read_backoff(const Field& field);

}  // namespace otpd::config
