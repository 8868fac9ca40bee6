// Reads a file that a config names (the config itself, an env file) without
// trusting it: only a regular file is read, so a FIFO cannot block otpd's
// loop, and only up to a size, so /dev/zero or a runaway log cannot fill
// its memory.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace otpd::config {

// The whole file, or nothing and `error` saying why, e.g. "No such file or
// directory", "not a regular file" or "larger than 16 MiB".
std::optional<std::string> read_text_file(const std::string& path, std::size_t max_bytes,
                                          std::string& error);

}  // namespace otpd::config
