#include "config/env_file.hpp"

#include <string_view>

#include "config/error.hpp"

namespace otpd::config {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && (is_blank(text.back()) || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

bool is_name(std::string_view name) {
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (name.empty() || !letter(name.front())) return false;
  for (char c : name) {
    if (!letter(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::string shown(std::string_view text) {
  constexpr std::size_t longest = 40;
  if (text.size() <= longest) return "'" + std::string(text) + "'";
  return "'" + std::string(text.substr(0, longest)) + "...'";
}

class LineReader {
 public:
  LineReader(const std::string& file, int line) : file_(file), line_(line) {}

  [[noreturn]] void fail(const std::string& message) const {
    throw ConfigError({file_, line_, 0}, message);
  }

  // The value after '=': unquoted, '...' or "...", then only blanks or a comment.
  std::string value(std::string_view rest) const {
    rest = trim(rest);
    if (rest.empty()) return {};
    if (rest.front() != '\'' && rest.front() != '"') return unquoted(rest);
    const char quote = rest.front();
    std::string result;
    std::size_t at = 1;
    for (; at < rest.size() && rest[at] != quote; ++at) {
      if (quote == '"' && rest[at] == '\\' && at + 1 < rest.size()) {
        result += escaped(rest[++at]);
      } else {
        result += rest[at];
      }
    }
    if (at >= rest.size()) fail(std::string("unterminated ") + quote + " quote");
    const std::string_view after = trim(rest.substr(at + 1));
    if (!after.empty() && after.front() != '#') {
      fail("unexpected " + shown(after) + " after the closing quote");
    }
    return result;
  }

 private:
  static std::string unquoted(std::string_view rest) {
    for (std::size_t at = 1; at < rest.size(); ++at) {
      if (rest[at] == '#' && is_blank(rest[at - 1])) return std::string(trim(rest.substr(0, at)));
    }
    return std::string(rest);
  }

  static std::string escaped(char c) {
    switch (c) {
      case 'n':
        return "\n";
      case 't':
        return "\t";
      case '"':
      case '\\':
      case '$':
      case '`':
        return std::string(1, c);
      default:
        return std::string("\\") + c;
    }
  }

  const std::string& file_;
  int line_;
};

}  // namespace

EnvVariables parse_env_file(const std::string& text, const std::string& file) {
  EnvVariables variables;
  std::string_view rest = text;
  for (int number = 1; !rest.empty(); ++number) {
    const std::size_t end = rest.find('\n');
    std::string_view line = trim(rest.substr(0, end));
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    if (line.empty() || line.front() == '#') continue;

    const LineReader reader(file, number);
    if (line.starts_with("export") && line.size() > 6 && is_blank(line[6])) {
      line = trim(line.substr(6));
    }
    const std::size_t equals = line.find('=');
    if (equals == std::string_view::npos) reader.fail("expected NAME=VALUE, found " + shown(line));
    const std::string_view name = trim(line.substr(0, equals));
    if (!is_name(name)) {
      reader.fail(shown(name) +
                  " is not a variable name (letters, digits and '_', not starting with a digit)");
    }
    variables.emplace_back(std::string(name), reader.value(line.substr(equals + 1)));
  }
  return variables;
}

}  // namespace otpd::config
