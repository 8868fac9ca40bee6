// What a value in the config may refer to: ${NAME} (a variable of otpd's
// environment, or of the child's env_file and env), ${NAME:-default}, $$
// for a '$', and {{i}} (the copy's number, in a child with `instances`).
// Values are expanded when the file is loaded, so `otpd check`, a dry run
// and a reload all see what a start would run.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace otpd::config {

// Where ${NAME} finds its value: what a child sets (its env_files, then its
// env, later winning), then otpd's own environment.
class Variables {
 public:
  void set(const std::string& name, const std::string& value) { own_[name] = value; }
  std::optional<std::string_view> find(const std::string& name) const;

 private:
  std::unordered_map<std::string, std::string> own_;
};

// Why a value cannot be expanded: `token` is the text as written where the
// problem is (for its place in the file), `message` what is wrong.
struct ExpansionError {
  std::string token;
  std::string message;
};

struct Expansion {
  // nullptr: only otpd's environment.
  const Variables* variables = nullptr;
  // The copy's number for {{i}}; 0 outside a child with `instances`,
  // where {{i}} is left as written.
  int instance = 0;
  // ${...} expanded; false leaves it (and $$) as written, for a shell
  // script, which the shell expands from the child's environment.
  bool variables_too = true;
  // The longest value expansion may make.
  std::size_t max_size = std::size_t{1} << 20;
};

// Whether `written` holds anything expand() would change.
bool needs_expansion(std::string_view written, const Expansion& how);

// `written` expanded, or an ExpansionError thrown.
std::string expand(std::string_view written, const Expansion& how);

}  // namespace otpd::config
