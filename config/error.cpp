#include "config/error.hpp"

#include <algorithm>
#include <new>
#include <tuple>
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

std::string joined(const std::vector<ConfigError>& errors, const std::string& stopped_in) {
  std::string text;
  for (const ConfigError& error : errors) {
    if (!text.empty()) text += '\n';
    text += error.what();
  }
  if (!stopped_in.empty()) {
    text += "\n" + stopped_in + ": too many errors; stopped after " + std::to_string(errors.size());
  }
  return text;
}

}  // namespace

ConfigErrors::ConfigErrors(std::vector<ConfigError> errors, const std::string& stopped_in)
    : ConfigError(errors.front()), errors_(std::move(errors)) {
  text_ = joined(errors_, stopped_in);
}

void ErrorList::add(const ConfigError& error) {
  // The copies of a child (`instances`) are read alike: one error of
  // theirs is one error of the file.
  for (const ConfigError& known : errors_) {
    if (known.where() == error.where() && known.message() == error.message()) return;
  }
  if (errors_.size() >= limit_) throw TooManyErrors{};
  errors_.push_back(error);
}

void ErrorList::raise(bool stopped_early) const {
  if (errors_.empty()) return;
  if (errors_.size() == 1 && !stopped_early) throw errors_.front();
  // In the order of the file (a child's env is read before its other keys,
  // which may refer to it), each file's together, in the order first met.
  std::vector<std::string> files;
  for (const ConfigError& error : errors_) {
    if (std::find(files.begin(), files.end(), error.where().file) == files.end()) {
      files.push_back(error.where().file);
    }
  }
  auto rank = [&](const ConfigError& error) {
    const auto file = std::find(files.begin(), files.end(), error.where().file) - files.begin();
    return std::tuple(file, error.where().line, error.where().column);
  };
  std::vector<ConfigError> sorted = errors_;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [&](const ConfigError& a, const ConfigError& b) { return rank(a) < rank(b); });
  // Reading stopped in the file being loaded, whichever file it included
  // held the errors.
  throw ConfigErrors(
      std::move(sorted),
      stopped_early ? (file_.empty() ? errors_.front().where().file.str() : file_) : "");
}

std::string describe_failure(const std::exception& error) {
  if (dynamic_cast<const ConfigError*>(&error)) return error.what();
  if (dynamic_cast<const std::bad_alloc*>(&error)) return "out of memory while reading the config";
  return std::string("cannot read the config: ") + error.what();
}

}  // namespace otpd::config
