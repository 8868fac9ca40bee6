// yaml-cpp answers a misplaced line with "end of map not found" or "illegal
// map value", at a place after the mistake. Most such mistakes are in the
// indentation of that line; this reads the lines up to it and says what is
// wrong with it in the file's own words.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace otpd::config {

struct IndentationError {
  int line;    // 1-based
  int column;  // 1-based
  std::string message;
};

// What is wrong with the indentation of `line` (1-based) of `text`, where
// yaml-cpp stopped at `column` (1-based), or nothing when the indentation
// looks right or the parser stopped further into the line.
std::optional<IndentationError> explain_indentation(std::string_view text, int line, int column);

}  // namespace otpd::config
