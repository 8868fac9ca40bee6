// otpd [OPTIONS] -- COMMAND ARGS...: the command as the one significant
// child of the tree, as a container's init (tini) runs its one program.
// Its end, whatever it is, ends the tree, and otpd exits as it did.
#pragma once

#include <string>
#include <vector>

#include "config/spec.hpp"

namespace otpd {

// Its path in the tree, for otpctl.
inline constexpr const char* command_child_name = "main";

// A tree of nothing but a root supervisor, for otpd -- COMMAND without a
// config file; add_command_child then gives it its child.
config::Config empty_tree();

// Appends the command to the root supervisor of `config`: temporary (never
// restarted), significant, with the root shutting down when it ends; it
// runs in `cwd` with otpd's environment, stdout and stderr, and its stop
// signal goes to it alone, as tini's signals do. Throws std::runtime_error
// when the config already has a child of its name or significant children
// of its own at the root, which would make its end not the tree's end.
void add_command_child(config::Config& config, const std::vector<std::string>& command,
                       const std::string& cwd);

}  // namespace otpd
