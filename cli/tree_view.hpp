// `otpctl status`: a node of otpd's tree (docs/protocol.md, "A node") drawn
// as an indented table, one line per node, like pstree or systemctl status.
#pragma once

#include <string>

#include "cli/client_names.hpp"
#include "cli/style.hpp"

namespace otpd::ctl {

// Every line ends in '\n'. The top node is labelled with its path, the
// others with their names under tree glyphs.
std::string render_tree(const Json& node, const Style& style);

}  // namespace otpd::ctl
