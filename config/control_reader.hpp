// Reads the `control:` section: where the control socket lives and which
// groups besides otpd's own user may use it.
#pragma once

#include "config/spec.hpp"
#include "config/yaml_reader.hpp"

namespace otpd::config {

ControlSpec read_control(const Field& control);

}  // namespace otpd::config
