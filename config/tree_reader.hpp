// Reads the supervision tree: the `tree:` mapping and every child below it.
#pragma once

#include "config/spec.hpp"
#include "config/yaml_reader.hpp"

namespace otpd::config {

SupervisorSpec read_tree(const Field& tree);

// Reads one child, exactly as an element of a `children:` list is read
// (what `otpctl start-child` adds to a dynamic supervisor).
ChildSpec read_child(const Field& mapping);

}  // namespace otpd::config
