#include "config/indentation.hpp"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

namespace otpd::config {
namespace {

struct Line {
  int number = 0;         // 1-based
  int indent = 0;         // spaces before the content
  bool tab = false;       // a tab among the blanks before the content
  bool dash = false;      // a list entry: "- ..."
  int key_column = 0;     // where a key starts: indent, or after "- "
  std::string key;        // "command" in "command: [x]" or "- command: [x]"
  bool complete = false;  // "key: value" with the value on the same line
};

// The line that starts at `begin`, without its end.
std::string_view line_at(std::string_view text, std::size_t begin) {
  const std::size_t end = text.find('\n', begin);
  std::string_view line =
      text.substr(begin, end == std::string_view::npos ? text.npos : end - begin);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// Where line `number` (1-based) starts, or npos when the text is shorter.
std::size_t start_of_line(std::string_view text, int number) {
  std::size_t begin = 0;
  for (int at = 1; at < number; ++at) {
    const std::size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) return std::string_view::npos;
    begin = end + 1;
  }
  return begin;
}

// Where the line before the one starting at `begin` (> 0) starts.
std::size_t start_of_previous_line(std::string_view text, std::size_t begin) {
  const std::size_t newline = begin - 1;
  if (newline == 0) return 0;
  const std::size_t before = text.rfind('\n', newline - 1);
  return before == std::string_view::npos ? 0 : before + 1;
}

// Keys are named in messages; a long one is cut.
constexpr std::size_t kLongestKeyShown = 40;

// "command" when `content` starts with a plain key followed by ':'.
std::string key_of(std::string_view content, std::size_t& value_at) {
  std::size_t i = 0;
  while (i < content.size() && content[i] != ':' && content[i] != ' ' && content[i] != '#' &&
         content[i] != '[' && content[i] != '{' && content[i] != '"' && content[i] != '\'') {
    ++i;
  }
  if (i == 0 || i >= content.size() || content[i] != ':') return "";
  if (i + 1 < content.size() && content[i + 1] != ' ') return "";  // "a:b" is a scalar
  value_at = i + 1;
  if (i > kLongestKeyShown) return std::string(content.substr(0, kLongestKeyShown)) + "...";
  return std::string(content.substr(0, i));
}

// Whether what follows "key:" is a whole value (not nothing, a comment, a
// block scalar's '|' or '>', or an anchor or tag alone).
bool has_value(std::string_view rest) {
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (rest.empty() || rest.front() == '#') return false;
  if (rest.front() == '|' || rest.front() == '>') return false;
  if ((rest.front() == '&' || rest.front() == '!') && rest.find(' ') == std::string_view::npos) {
    return false;
  }
  return true;
}

// nullopt for a blank or comment-only line.
std::optional<Line> parse_line(std::string_view text, int number) {
  Line line;
  line.number = number;
  std::size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) {
    if (text[i] == '\t') line.tab = true;
    ++i;
  }
  if (i >= text.size() || text[i] == '#') return std::nullopt;
  line.indent = static_cast<int>(i);
  std::string_view content = text.substr(i);
  line.key_column = line.indent;
  if (content == "-" || content.starts_with("- ")) {
    line.dash = true;
    std::size_t after = 1;
    while (after < content.size() && content[after] == ' ') ++after;
    line.key_column = line.indent + static_cast<int>(after);
    content.remove_prefix(after);
  }
  std::size_t value_at = 0;
  line.key = key_of(content, value_at);
  line.complete =
      !line.key.empty() ? has_value(content.substr(value_at)) : (line.dash && has_value(content));
  return line;
}

std::string spaces(int n) {
  return std::to_string(n) + (n == 1 ? " space" : " spaces");
}

std::string name_of(const Line& line) {
  if (!line.key.empty()) return "'" + std::string(line.dash ? "- " : "") + line.key + "'";
  return line.dash ? "the list entry" : "the value";
}

std::string on_line(const Line& line) {
  return name_of(line) + " on line " + std::to_string(line.number);
}

// An indentation a line may take, and the line above that sets it.
struct Level {
  int column;
  const Line* line;
};

}  // namespace

std::optional<IndentationError> explain_indentation(std::string_view text, int error_line,
                                                    int error_column) {
  if (error_line < 1) return std::nullopt;
  const std::size_t here_begin = start_of_line(text, error_line);
  if (here_begin == std::string_view::npos) return std::nullopt;
  const std::optional<Line> parsed = parse_line(line_at(text, here_begin), error_line);
  if (!parsed) return std::nullopt;
  const Line& here = *parsed;
  const int column = here.indent + 1;
  if (here.tab) {
    return IndentationError{error_line, 1,
                            "a tab in the indentation of line " + std::to_string(error_line) +
                                "; YAML indents with spaces only"};
  }
  // yaml-cpp stopped inside the line, not at its start: something other
  // than the indentation is wrong there.
  if (error_column != here.indent + 1) return std::nullopt;

  // Walking up from here: the meaningful line just above, and the lines
  // that open the columns this one may line up with, innermost first (each
  // less indented than every line between it and here). Only those are
  // kept, so that a file of a million lines costs no more than its depth.
  std::optional<Line> above_line;
  std::vector<Line> openers;
  int limit = here.indent + 1'000'000;
  std::size_t begin = here_begin;
  for (int number = error_line - 1; number >= 1 && begin > 0 && limit > 0; --number) {
    begin = start_of_previous_line(text, begin);
    std::optional<Line> line = parse_line(line_at(text, begin), number);
    if (!line) continue;
    if (!above_line) above_line = line;
    if (line->indent >= limit) continue;
    limit = line->indent;
    openers.push_back(std::move(*line));
  }
  if (!above_line) return std::nullopt;
  const Line& above = *above_line;

  // Deeper than the line above, whose value is already whole: nothing can
  // continue it.
  if (here.indent > above.key_column && above.complete) {
    std::string message = "line " + std::to_string(error_line) + " is indented more than " +
                          on_line(above) + ", whose value is complete";
    if (!here.dash && !above.key.empty()) {
      message += "; to add it to the same mapping, line it up with '" + above.key + "' (" +
                 spaces(above.key_column) + ")";
    }
    return IndentationError{error_line, column, message};
  }

  // The columns the lines above open, innermost first: each line less
  // indented than every line between it and here.
  std::vector<Level> levels;
  int opened = here.indent + 1'000'000;
  for (const Line& line : openers) {
    if (line.dash && line.key_column < opened && line.key_column != line.indent) {
      levels.push_back({line.key_column, &line});
    }
    levels.push_back({line.indent, &line});
    opened = line.indent;
  }
  const auto level = std::find_if(levels.begin(), levels.end(),
                                  [&](const Level& l) { return l.column == here.indent; });

  if (level == levels.end()) {
    // Lines up with nothing: name the nearest columns it may have meant.
    std::vector<Level> nearest = levels;
    std::stable_sort(nearest.begin(), nearest.end(), [&](const Level& a, const Level& b) {
      return std::abs(a.column - here.indent) < std::abs(b.column - here.indent);
    });
    if (nearest.size() > 2) nearest.resize(2);
    std::string message = "line " + std::to_string(error_line) + " is indented " +
                          spaces(here.indent) + ", which lines up with no line above it";
    for (std::size_t i = 0; i < nearest.size(); ++i) {
      const bool on_key = !nearest[i].line->dash || nearest[i].column != nearest[i].line->indent;
      const std::string what = on_key && !nearest[i].line->key.empty()
                                   ? "'" + nearest[i].line->key + "'"
                                   : name_of(*nearest[i].line);
      message += (i == 0 ? "; did you mean " : " or ") + spaces(nearest[i].column) + ", like " +
                 what + " on line " + std::to_string(nearest[i].line->number);
    }
    if (!nearest.empty()) message += "?";
    return IndentationError{error_line, column, message};
  }

  const Line& owner = *level->line;
  const bool owner_is_key = !owner.dash || level->column != owner.indent;
  if (here.dash && owner_is_key) {
    // "- x" where the keys of a mapping are: the list it meant is above.
    std::string message = "a list entry at the indentation of " +
                          std::string(owner.key.empty() ? "the keys" : "'" + owner.key + "'") +
                          " on line " + std::to_string(owner.number) +
                          ", a key of a mapping, not an entry of a list";
    for (const Level& l : levels) {
      if (l.column < here.indent && l.line->dash && l.column == l.line->indent) {
        message += "; to add an entry to the list of line " + std::to_string(l.line->number) +
                   ", indent it like that one (" + spaces(l.column) + ")";
        break;
      }
    }
    return IndentationError{error_line, column, message};
  }
  if (!here.dash && !owner_is_key) {
    std::string message = std::string(here.key.empty() ? "this line" : "'" + here.key + "'") +
                          " lines up with the '-' of the list entry on line " +
                          std::to_string(owner.number);
    message +=
        "; a key of that entry lines up with its first key (" + spaces(owner.key_column) + ")";
    return IndentationError{error_line, column, message};
  }
  return std::nullopt;
}

}  // namespace otpd::config
