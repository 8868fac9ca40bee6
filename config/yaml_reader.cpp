#include "config/yaml_reader.hpp"

#include <charconv>
#include <cmath>
#include <unordered_map>
#include <utility>

#include "config/load_context.hpp"
#include "protocol/duration.hpp"

namespace otpd::config {
namespace {

constexpr std::size_t kLongestQuotedValue = 40;

bool looks_numeric(const std::string& text) {
  double ignored = 0;
  const char* end = text.data() + text.size();
  auto [stop, error] = std::from_chars(text.data(), end, ignored);
  return error == std::errc{} && stop == end;
}

std::string shortest_text(double value) {
  char buffer[32];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return error == std::errc{} ? std::string(buffer, end) : std::string("?");
}

}  // namespace

std::string quoted(const std::string& text) {
  if (text.size() <= kLongestQuotedValue) return "'" + text + "'";
  return "'" + text.substr(0, kLongestQuotedValue) + "...'";
}

SourceLocation locate(const Source& source, const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0) return {source.file, 0, 0};
  return {source.file, mark.line + 1, mark.column + 1};
}

SourceLocation locate(const Source& source, const YamlNode& node) {
  return locate(source, node.Mark());
}

std::string kind_of(const YamlNode& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      // A quoted "5" is text to YAML, whatever it looks like.
      return node.Tag() == "?" && looks_numeric(node.Scalar()) ? "a number" : "a string";
    default:
      return "nothing";
  }
}

std::string describe(const YamlNode& node) {
  if (node.IsScalar()) return quoted(node.Scalar());
  return kind_of(node);
}

std::string join(const std::vector<std::string_view>& words, std::string_view last_separator) {
  std::string result;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) result += (i + 1 == words.size()) ? last_separator : std::string_view(", ");
    result += words[i];
  }
  return result;
}

Field::Field(const Source& source, std::string label, YamlNode key, YamlNode value)
    : source_(&source), label_(std::move(label)), key_(std::move(key)), value_(std::move(value)) {}

Field document_field(const Source& source, const YamlNode& root) {
  return Field(source, "", root, root);
}

SourceLocation Field::value_location() const {
  return value_.IsNull() ? key_location() : locate(*source_, value_);
}

void Field::fail(const std::string& message) const {
  throw ConfigError(value_location(), label_.empty() ? message : label_ + ": " + message);
}

void Field::fail_expected(const std::string& what, const std::string& hint) const {
  std::string found = describe(value_);
  if (value_.IsScalar()) {
    // What was read, and what it was read from.
    try {
      const std::string value = expanded(true);
      if (value != value_.Scalar()) found = quoted(value) + " (from " + found + ")";
    } catch (const ConfigError&) {
      // The value as written will do.
    }
  }
  fail("expected " + what + ", found " + found + hint);
}

SourceLocation Field::place_in_value(const std::string& token) const {
  const SourceLocation start = value_location();
  const YAML::Mark mark = value_.Mark();
  if (source_->text == nullptr || mark.is_null() || mark.pos < 0 || token.empty()) return start;
  const std::string_view text = *source_->text;
  const auto from = static_cast<std::size_t>(mark.pos);
  if (from >= text.size()) return start;
  // A quoted or folded value is written longer than it reads, but not
  // much: the search stays near the value.
  const std::size_t window = std::min(text.size() - from, value_.Scalar().size() * 4 + 1024);
  const std::size_t found = text.substr(from, window).find(token);
  if (found == std::string_view::npos) return start;
  SourceLocation place = start;
  for (std::size_t i = from; i < from + found; ++i) {
    if (text[i] == '\n') {
      ++place.line;
      place.column = 1;
    } else {
      ++place.column;
    }
  }
  return place;
}

std::string Field::expanded(bool variables_too) const {
  const std::string& written = value_.Scalar();
  const Expansion how{.variables = source_->variables,
                      .instance = source_->instance,
                      .variables_too = variables_too};
  if (!needs_expansion(written, how)) return written;
  std::string result;
  try {
    result = expand(written, how);
  } catch (const ExpansionError& error) {
    throw ConfigError(place_in_value(error.token),
                      label_.empty() ? error.message : label_ + ": " + error.message);
  }
  if (LoadContext* context = source_->context; context && result.size() > written.size()) {
    const std::size_t growth = result.size() - written.size();
    if (growth > context->growth_left) {
      fail("expanding its variables makes the values of the config longer than " +
           std::to_string(LoadContext::kMaxExpansionGrowth >> 20) + " MiB in all");
    }
    context->growth_left -= growth;
  }
  return result;
}

std::string Field::text() const {
  if (!value_.IsScalar()) fail_expected("a string");
  return expanded(true);
}

std::string Field::script_text() const {
  if (!value_.IsScalar()) fail_expected("a string");
  std::string result = expanded(false);
  if (result.empty()) fail("must not be empty");
  return result;
}

std::string Field::non_empty_text() const {
  std::string result = text();
  if (result.empty()) fail("must not be empty");
  return result;
}

long long Field::integer(long long min, long long max) const {
  const std::string expected = "a whole number >= " + std::to_string(min);
  if (!value_.IsScalar()) fail_expected(expected);
  const std::string written = expanded(true);
  long long result = 0;
  const char* end = written.data() + written.size();
  auto [stop, error] = std::from_chars(written.data(), end, result);
  if (error == std::errc::result_out_of_range) fail("too large, found " + quoted(written));
  if (error != std::errc{} || stop != end) fail_expected(expected);
  if (result < min) fail("must be at least " + std::to_string(min) + ", found " + quoted(written));
  if (result > max) fail("must be at most " + std::to_string(max) + ", found " + quoted(written));
  return result;
}

double Field::number_at_least(double min) const {
  const std::string expected = "a number";
  if (!value_.IsScalar()) fail_expected(expected);
  const std::string written = expanded(true);
  double result = 0;
  const char* end = written.data() + written.size();
  auto [stop, error] = std::from_chars(written.data(), end, result);
  if (error != std::errc{} || stop != end || !std::isfinite(result)) fail_expected(expected);
  if (result < min) {
    fail("must be at least " + shortest_text(min) + ", found " + quoted(written));
  }
  return result;
}

// YAML 1.2's core schema: only true and false, so that a "yes" or "on"
// meant as a string is never taken for a boolean, nor the other way round.
bool Field::boolean() const {
  if (value_.IsScalar()) {
    const std::string written = expanded(true);
    if (written == "true" || written == "True" || written == "TRUE") return true;
    if (written == "false" || written == "False" || written == "FALSE") return false;
  }
  fail_expected("true or false");
}

Duration Field::duration() const {
  const std::string expected = "a duration such as 5s, 250ms or 1m30s";
  if (!value_.IsScalar()) fail_expected(expected);
  const std::string written = expanded(true);
  if (auto parsed = protocol::parse_duration(written)) return *parsed;
  fail_expected(expected, " (" + protocol::duration_error(written) + ")");
}

Duration Field::positive_duration() const {
  const Duration result = duration();
  if (result <= Duration::zero()) fail("must be longer than 0s, found " + quoted(expanded(true)));
  return result;
}

void Field::require_mapping(const std::string& what) const {
  if (!value_.IsMap()) fail("expected " + what + ", found " + kind_of(value_));
}

void Field::require_list(const std::string& what) const {
  if (!value_.IsSequence()) fail("expected " + what + ", found " + kind_of(value_));
}

std::vector<Field> Field::entries(Labels labels) const {
  std::vector<Field> result;
  // Each key's index in `result`, so that a mapping of any size is checked
  // for duplicates in one pass.
  std::unordered_map<std::string_view, std::size_t> seen;
  for (std::size_t i = 0; i < value_.size() && value_.IsMap(); ++i) {
    const YamlNode key = value_.key(i);
    if (!key.IsScalar()) {
      throw ConfigError(locate(*source_, key), "a key must be a plain word, found " + kind_of(key));
    }
    // The node owns the text; it lives as long as the document.
    const std::string& name = key.Scalar();
    const auto [first, inserted] = seen.emplace(name, result.size());
    if (!inserted) {
      throw ConfigError(locate(*source_, key),
                        "duplicate key " + quoted(name) + " (first at line " +
                            std::to_string(result[first->second].key_location().line) + ")");
    }
    std::string label = labels == Labels::plain || label_.empty() ? name : label_ + "." + name;
    result.emplace_back(*source_, std::move(label), key, value_.value(i));
  }
  return result;
}

std::vector<Field> Field::elements() const {
  std::vector<Field> result;
  result.reserve(value_.size());
  for (std::size_t i = 0; i < value_.size(); ++i) {
    const YamlNode element = value_.element(i);
    result.emplace_back(*source_, label_, element, element);
  }
  return result;
}

void fail_unknown_key(const Field& entry, const std::vector<std::string_view>& valid) {
  const std::string key = entry.key();
  if (key == "<<") {
    // yaml-cpp keeps a merge key as an ordinary key instead of merging.
    throw ConfigError(entry.key_location(),
                      "merge keys ('<<') are not supported: alias a whole value instead");
  }
  std::string hint = protocol::did_you_mean(key, valid);
  if (hint.empty()) hint = " (valid keys: " + join(valid) + ")";
  throw ConfigError(entry.key_location(), "unknown key " + quoted(key) + hint);
}

}  // namespace otpd::config
