// How output looks on this terminal: colours or not, box-drawing glyphs or
// ASCII. Decided once, from flags and the environment, then passed along so
// that renderers stay pure functions of their input.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "protocol/socket_path.hpp"

namespace otpd::ctl {

struct Style {
  bool colour = false;
  bool unicode = true;
};

// Reads an environment variable; nullptr when unset. Tests pass their own.
using Getenv = protocol::Getenv;

// Colour only for a person at a terminal: not when stdout is a pipe or a
// file, when NO_COLOR is set (https://no-color.org), when TERM is "dumb", or
// with --no-color. Box-drawing glyphs only when the locale's charset is UTF-8.
Style choose_style(bool no_color_flag, bool stdout_is_tty, const Getenv& getenv);

// Whether LC_ALL, else LC_CTYPE, else LANG names a UTF-8 charset.
bool locale_is_utf8(const Getenv& getenv);

// What a child's state means to an operator, shown as its colour.
enum class Tone { plain, healthy, transient, broken, idle };
Tone tone_of_state(std::string_view state);

// `text` wrapped in the escape codes for `tone` when colour is on.
std::string paint(std::string_view text, Tone tone, const Style& style);

}  // namespace otpd::ctl
