// The environment a child is given: otpd's own (or none at all), with the
// spec's variables added or replaced, in the char* array form execve wants.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace otpd::process {

class ChildEnvironment {
 public:
  using Overrides = std::vector<std::pair<std::string, std::string>>;

  // Later overrides of the same name win. With `inherit`, points into
  // otpd's `environ`, so it is valid only until otpd's environment changes;
  // without, the overrides are the whole environment.
  explicit ChildEnvironment(const Overrides& overrides, bool inherit = true);
  ChildEnvironment(const ChildEnvironment&) = delete;
  ChildEnvironment& operator=(const ChildEnvironment&) = delete;

  // The name of an override that cannot be a variable name ("" or with '='),
  // or nullptr when all are valid.
  const std::string* invalid_name() const { return invalid_; }
  char* const* envp() const;
  // The value the child will see, or nullptr.
  const char* get(std::string_view name) const;

 private:
  std::vector<std::string> owned_;  // "NAME=value" for each override
  std::vector<char*> entries_;      // NULL-terminated unless otpd's environ is used as is
  bool own_ = false;                // whether entries_ is the environment
  const std::string* invalid_ = nullptr;
};

}  // namespace otpd::process
