// Reads a configuration file into the typed spec, or explains precisely why
// it cannot: every error carries FILE:LINE:COL and what was expected.
#pragma once

#include <string>

#include "config/error.hpp"
#include "config/spec.hpp"

namespace otpd::config {

// Relative paths in the file (cwd) resolve against the file's own directory.
// Throws ConfigError, also when the file cannot be read.
Config load_file(const std::string& path);

// `file_name` is used in Config::file and in error messages; relative paths
// in the text resolve against `base_dir`.
Config load_string(const std::string& yaml_text, const std::string& file_name,
                   const std::string& base_dir);

}  // namespace otpd::config
