// Environment files (`env_file:`): the KEY=VALUE format shared by Docker,
// systemd's EnvironmentFile and dotenv, in its common subset.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace otpd::config {

using EnvVariables = std::vector<std::pair<std::string, std::string>>;

// One variable per line: `NAME=VALUE`, optionally after `export `. Blank
// lines and lines starting with '#' are skipped. A value is taken as written
// (surrounding blanks removed, and a ' #' comment after it), or quoted:
// '...' literally, "..." with \" \\ \$ \n \t escapes. Nothing is expanded.
// Throws ConfigError at FILE:LINE, with `file` as given.
EnvVariables parse_env_file(const std::string& text, const std::string& file);

}  // namespace otpd::config
