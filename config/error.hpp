// The one exception the config component throws: a message tied to a place
// in the file, formatted the way compilers do so that editors can jump to it.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/spec.hpp"

namespace otpd::config {

class ConfigError : public std::runtime_error {
 public:
  // what() is "FILE:LINE:COL: MESSAGE", "FILE:LINE: MESSAGE" when `where`
  // has no column, or "FILE: MESSAGE" when it has no line.
  ConfigError(SourceLocation where, std::string message);

  const SourceLocation& where() const { return where_; }
  const std::string& message() const { return message_; }
  const char* what() const noexcept override { return text_.c_str(); }

 protected:
  std::string text_;

 private:
  SourceLocation where_;
  std::string message_;
};

// Several errors of one file, reported together: what() holds one
// "FILE:LINE:COL: MESSAGE" line per error; where() and message() are the
// first one's.
class ConfigErrors : public ConfigError {
 public:
  // `stopped_in`: the file whose reading stopped at too many errors, for a
  // last line that says so; empty when it did not stop.
  ConfigErrors(std::vector<ConfigError> errors, const std::string& stopped_in);
  const std::vector<ConfigError>& errors() const { return errors_; }

 private:
  std::vector<ConfigError> errors_;
};

// Thrown by ErrorList::add when it is full: stops the reading of the file.
// Not a ConfigError, so that no reader takes it for one error among others.
struct TooManyErrors {};

// Collects the errors of one file while its readers go on past each of
// them, up to `limit`; beyond that reading stops (TooManyErrors).
class ErrorList {
 public:
  static constexpr std::size_t kDefaultLimit = 20;
  explicit ErrorList(std::size_t limit = kDefaultLimit) : limit_(limit) {}

  // The file being loaded, named when reading stops.
  void set_file(std::string file) { file_ = std::move(file); }

  void add(const ConfigError& error);
  std::size_t size() const { return errors_.size(); }
  bool empty() const { return errors_.empty(); }
  // Throws the one error, or a ConfigErrors for several; nothing when empty.
  void raise(bool stopped_early = false) const;

 private:
  std::size_t limit_;
  std::string file_;
  std::vector<ConfigError> errors_;
};

// What a failed load says: a ConfigError's own text, and for anything else
// (out of memory, a defect) a line that still names the cause, so that a
// reload or a check can report it and go on.
std::string describe_failure(const std::exception& error);

}  // namespace otpd::config
