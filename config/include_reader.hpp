// `- include: PATH` among a supervisor's children: the children of other
// files (a conf.d directory where packages drop their own), read in their
// place, as if written there. docs/config.md "Included files".
#pragma once

#include <functional>

#include "config/yaml_reader.hpp"

namespace otpd::config {

// Whether a list element is an include entry rather than a child.
bool is_include(const Field& element);

// Reads the files the include entry `element` names, in order (a directory's
// *.yaml and *.yml files, or those a pattern in its last part matches, by
// name), and calls `read` with each one's `children` list. Each file counts
// against the load's bounds (LoadContext) and is refused when it is already
// being read (a cycle) or includes lie deeper than allowed.
void read_included(const Field& element, const std::function<void(const Field& children)>& read);

}  // namespace otpd::config
