#include "config/expansion.hpp"

#include <algorithm>
#include <cstdlib>

namespace otpd::config {
namespace {

constexpr std::string_view kInstance = "{{i}}";

bool starts_name(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

bool continues_name(char c) {
  return starts_name(c) || (c >= '0' && c <= '9');
}

// "${...}" cut short for a message: the rest of a long value adds nothing.
std::string shown(std::string_view token) {
  constexpr std::size_t kLongest = 60;
  if (token.size() <= kLongest) return std::string(token);
  return std::string(token.substr(0, kLongest)) + "...";
}

// The value being built, within its size.
class Builder {
 public:
  explicit Builder(std::size_t max_size) : max_size_(max_size) {}

  void append(std::string_view text, std::string_view token) {
    if (text.size() > max_size_ - result_.size()) {
      throw ExpansionError{std::string(token), "expanding " + shown(token) +
                                                   " makes the value longer than " +
                                                   std::to_string(max_size_ >> 20) + " MiB"};
    }
    result_.append(text);
  }
  std::string take() { return std::move(result_); }

 private:
  std::size_t max_size_;
  std::string result_;
};

// ${NAME} or ${NAME:-default}, at the start of `rest`; appends its value
// and returns how much of `rest` it took.
std::size_t expand_variable(std::string_view rest, const Expansion& how, Builder& out) {
  const std::size_t close = rest.find('}');
  if (close == std::string_view::npos) {
    throw ExpansionError{std::string(rest.substr(0, 2)),
                         "'${' without its closing '}' (write $$ for a '$')"};
  }
  const std::string_view token = rest.substr(0, close + 1);
  const std::string_view inside = rest.substr(2, close - 2);
  const std::size_t dash = inside.find(":-");
  const std::string_view name = inside.substr(0, dash);
  bool valid = !name.empty() && starts_name(name.front());
  for (char c : name) valid = valid && continues_name(c);
  if (!valid) {
    throw ExpansionError{std::string(token),
                         "'" + shown(token) +
                             "' does not name a variable (letters, digits and '_', not "
                             "starting with a digit; write $$ for a '$')"};
  }
  const std::string variable(name);
  std::optional<std::string_view> value;
  if (how.variables != nullptr) {
    value = how.variables->find(variable);
  } else if (const char* own = std::getenv(variable.c_str())) {
    value = own;
  }
  if (value) {
    out.append(*value, token);
  } else if (dash != std::string_view::npos) {
    out.append(inside.substr(dash + 2), token);
  } else {
    throw ExpansionError{
        std::string(token),
        "${" + shown(variable) + "} is not set in otpd's environment" +
            (how.variables != nullptr ? ", nor by the child's env_file or env" : std::string()) +
            "; write ${" + shown(variable) + ":-DEFAULT} for a default, or $${" + shown(variable) +
            "} for the text itself"};
  }
  return token.size();
}

}  // namespace

std::optional<std::string_view> Variables::find(const std::string& name) const {
  if (const auto found = own_.find(name); found != own_.end()) return found->second;
  if (const char* own = std::getenv(name.c_str())) return std::string_view(own);
  return std::nullopt;
}

bool needs_expansion(std::string_view written, const Expansion& how) {
  if (how.variables_too && written.find('$') != std::string_view::npos) return true;
  return how.instance > 0 && written.find(kInstance) != std::string_view::npos;
}

std::string expand(std::string_view written, const Expansion& how) {
  // $$ and {{i}} only shorten a value: only a variable can make it too long.
  Builder out(std::max(how.max_size, written.size()));
  const std::string number = std::to_string(how.instance);
  std::size_t plain = 0;  // start of the text not yet copied
  std::size_t at = 0;
  while (at < written.size()) {
    const std::string_view rest = written.substr(at);
    std::size_t taken = 0;
    if (how.instance > 0 && rest.starts_with(kInstance)) {
      out.append(written.substr(plain, at - plain), rest.substr(0, 1));
      out.append(number, kInstance);
      taken = kInstance.size();
    } else if (how.variables_too && rest.starts_with("$$")) {
      out.append(written.substr(plain, at - plain), rest.substr(0, 1));
      out.append("$", "$$");
      taken = 2;
    } else if (how.variables_too && rest.starts_with("${")) {
      out.append(written.substr(plain, at - plain), rest.substr(0, 2));
      taken = expand_variable(rest, how, out);
    } else {
      ++at;
      continue;
    }
    at += taken;
    plain = at;
  }
  out.append(written.substr(plain), written.substr(plain, 1));
  return out.take();
}

}  // namespace otpd::config
