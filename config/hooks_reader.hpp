// Reads the `hooks:` section: commands run when the tree's events match
// (docs/http.md, "Hooks").
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "config/spec.hpp"
#include "config/yaml_reader.hpp"

namespace otpd::config {

std::vector<HookSpec> read_hooks(const Field& hooks);

// The event kinds a hook may name, as events name them; `gave_up` and
// `restarted` are read as intensity_exceeded and restarting.
std::span<const std::string_view> hook_event_names();

}  // namespace otpd::config
