// Reads the supervision tree: the `tree:` mapping and every child below it.
#pragma once

#include "config/spec.hpp"
#include "config/yaml_reader.hpp"

namespace otpd::config {

SupervisorSpec read_tree(const Field& tree);

}  // namespace otpd::config
