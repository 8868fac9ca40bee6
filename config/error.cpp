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
    : std::runtime_error(message),
      text_(format(where, message)),
      where_(std::move(where)),
      message_(std::move(message)) {}

namespace {

std::string joined(const std::vector<ConfigError>& errors, bool stopped_early) {
  std::string text;
  for (const ConfigError& error : errors) {
    if (!text.empty()) text += '\n';
    text += error.what();
  }
  if (stopped_early && !errors.empty()) {
    text += "\n" + errors.front().where().file + ": too many errors; stopped after " +
            std::to_string(errors.size());
  }
  return text;
}

}  // namespace

ConfigErrors::ConfigErrors(std::vector<ConfigError> errors, bool stopped_early)
    : ConfigError(errors.front()), errors_(std::move(errors)) {
  text_ = joined(errors_, stopped_early);
}

void ErrorList::add(const ConfigError& error) {
  if (errors_.size() >= limit_) throw TooManyErrors{};
  errors_.push_back(error);
}

void ErrorList::raise(bool stopped_early) const {
  if (errors_.empty()) return;
  if (errors_.size() == 1 && !stopped_early) throw errors_.front();
  throw ConfigErrors(errors_, stopped_early);
}

std::string describe_failure(const std::exception& error) {
  if (dynamic_cast<const ConfigError*>(&error)) return error.what();
  if (dynamic_cast<const std::bad_alloc*>(&error)) return "out of memory while reading the config";
  return std::string("cannot read the config: ") + error.what();
}

}  // namespace otpd::config
