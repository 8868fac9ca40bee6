// The one exception the config component throws: a message tied to a place
// in the file, formatted the way compilers do so that editors can jump to it.
#pragma once

#include <stdexcept>
#include <string>

#include "config/spec.hpp"

namespace otpd::config {

class ConfigError : public std::runtime_error {
 public:
  // what() is "FILE:LINE:COL: MESSAGE", "FILE:LINE: MESSAGE" when `where`
  // has no column, or "FILE: MESSAGE" when it has no line.
  ConfigError(SourceLocation where, std::string message);

  const SourceLocation& where() const { return where_; }
  const std::string& message() const { return message_; }

 private:
  SourceLocation where_;
  std::string message_;
};

// What a failed load says: a ConfigError's own text, and for anything else
// (out of memory, a defect) a line that still names the cause, so that a
// reload or a check can report it and go on.
std::string describe_failure(const std::exception& error);

}  // namespace otpd::config
