#include "config/error.hpp"

#include <new>
#include <utility>

namespace otpd::config {
namespace {

std::string format(const SourceLocation& where, const std::string& message) {
  if (where.line <= 0) return where.file + ": " + message;
  // Files without columns worth naming, such as env files, say FILE:LINE.
  if (where.column <= 0) return where.file + ":" + std::to_string(where.line) + ": " + message;
  return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) + ": " +
         message;
}

}  // namespace

ConfigError::ConfigError(SourceLocation where, std::string message)
    : std::runtime_error(format(where, message)),
      where_(std::move(where)),
      message_(std::move(message)) {}

std::string describe_failure(const std::exception& error) {
  if (dynamic_cast<const ConfigError*>(&error)) return error.what();
  if (dynamic_cast<const std::bad_alloc*>(&error)) return "out of memory while reading the config";
  return std::string("cannot read the config: ") + error.what();
}

}  // namespace otpd::config
