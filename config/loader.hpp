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

// One child spec, YAML or JSON (a mapping such as an element of `children:`),
// read by the same rules as the file; errors name `source_name` and a line
// and column in `text`. A process without `output` gets `default_output`,
// one without `streams` `default_streams`.
ChildSpec load_child_string(const std::string& text, const std::string& source_name,
                            const std::string& base_dir, Output default_output,
                            Streams default_streams = Streams::merged);

}  // namespace otpd::config
