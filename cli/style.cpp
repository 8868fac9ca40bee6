#include "cli/style.hpp"

#include <algorithm>
#include <cctype>

namespace otpd::ctl {

Style choose_style(bool no_color_flag, bool stdout_is_tty, const Getenv& getenv) {
  Style style;
  const char* no_color = getenv("NO_COLOR");
  const char* term = getenv("TERM");
  const bool dumb = term != nullptr && std::string_view(term) == "dumb";
  style.colour =
      stdout_is_tty && !no_color_flag && (no_color == nullptr || *no_color == '\0') && !dumb;
  style.unicode = locale_is_utf8(getenv);
  return style;
}

bool locale_is_utf8(const Getenv& getenv) {
  // The first of these that is set and not empty decides, as in setlocale(3).
  for (const char* name : {"LC_ALL", "LC_CTYPE", "LANG"}) {
    const char* value = getenv(name);
    if (value == nullptr || *value == '\0') continue;
    std::string lower(value);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return lower.find("utf-8") != std::string::npos || lower.find("utf8") != std::string::npos;
  }
  return false;
}

Tone tone_of_state(std::string_view state) {
  if (state == "running") return Tone::healthy;
  if (state == "starting" || state == "stopping" || state == "backoff") return Tone::transient;
  if (state == "exited" || state == "failed") return Tone::broken;
  if (state == "stopped") return Tone::idle;
  return Tone::plain;
}

std::string paint(std::string_view text, Tone tone, const Style& style) {
  const char* code = nullptr;
  switch (tone) {
    case Tone::healthy:
      code = "\x1b[32m";
      break;  // green
    case Tone::transient:
      code = "\x1b[33m";
      break;  // yellow
    case Tone::broken:
      code = "\x1b[31m";
      break;  // red
    case Tone::idle:
      code = "\x1b[2m";
      break;  // dim
    case Tone::plain:
      break;
  }
  if (!style.colour || code == nullptr) return std::string(text);
  return code + std::string(text) + "\x1b[0m";
}

}  // namespace otpd::ctl
