// Typed access to yaml-cpp nodes that never loses track of where a value was
// written, so that every parser can fail with FILE:LINE:COL and a message
// saying what was expected and what was found.
#pragma once

#include <yaml-cpp/mark.h>

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/error.hpp"
#include "config/expansion.hpp"
#include "config/spec.hpp"
#include "protocol/suggest.hpp"
#include "config/yaml_tree.hpp"

namespace otpd::config {

struct LoadContext;

// What every parser needs to know about the file being read.
struct Source {
  // Shared with the locations and specs read from the file.
  SharedString file;      // as it should appear in messages
  SharedString base_dir;  // absolute; relative paths in the file resolve against it
  // Where readers record an error and go on, so that one run reports all
  // of a file's errors; without it the first error is thrown.
  ErrorList* errors = nullptr;
  // What the files of one load share (includes, bounds); may be null.
  LoadContext* context = nullptr;
  // The text as written, to place an error inside a value; may be null.
  const std::string* text = nullptr;

  // What the value being read may refer to, set by the reader of a child
  // for the time it reads it: ${NAME} finds the child's env_file and env
  // (null: otpd's environment only), {{i}} is the copy's number (0: not a
  // copy).
  mutable const Variables* variables = nullptr;
  mutable int instance = 0;
};

// Runs `read`. When the source collects errors, a ConfigError it throws is
// recorded and false returned, so that the caller goes on with the next
// value; otherwise the error propagates.
template <typename Read>
bool attempt(const Source& source, Read&& read) {
  if (source.errors == nullptr) {
    read();
    return true;
  }
  try {
    read();
    return true;
  } catch (const ConfigErrors& many) {
    for (const ConfigError& error : many.errors()) source.errors->add(error);
  } catch (const ConfigError& error) {
    source.errors->add(error);
  }
  return false;
}

// How many errors have been recorded so far: a reader compares counts to
// know whether a value it read is whole.
inline std::size_t error_count(const Source& source) {
  return source.errors == nullptr ? 0 : source.errors->size();
}

SourceLocation locate(const Source& source, const YAML::Mark& mark);
SourceLocation locate(const Source& source, const YamlNode& node);

// 'TEXT' in quotes, cut after 40 characters: a value named in a message.
std::string quoted(const std::string& text);

// "a mapping", "a list", "a number", "a string" or "nothing".
std::string kind_of(const YamlNode& node);
// Like kind_of, but a scalar is shown as its quoted text.
std::string describe(const YamlNode& node);

// A value in the file together with the key it was written under (a list
// element is its own key). Parsers read values only through a Field.
class Field {
 public:
  Field(const Source& source, std::string label, YamlNode key, YamlNode value);

  const Source& source() const { return *source_; }
  // How messages name the value: "restart", "backoff.initial", "env.PATH".
  const std::string& label() const { return label_; }
  // The key as written, e.g. "initial" for label "backoff.initial".
  std::string key() const { return key_.Scalar(); }
  const YamlNode& node() const { return value_; }

  SourceLocation key_location() const { return locate(*source_, key_); }
  // An empty value has no place of its own (yaml-cpp marks the next token),
  // so it is reported at its key.
  SourceLocation value_location() const;

  // Throws "LABEL: MESSAGE" at the value.
  [[noreturn]] void fail(const std::string& message) const;
  // "LABEL: expected WHAT, found <describe(value)>" plus an optional hint.
  [[noreturn]] void fail_expected(const std::string& what, const std::string& hint = "") const;

  // Any scalar, as written, with ${NAME}, $$ and {{i}} expanded
  // (config/expansion.hpp). Numbers, booleans and durations are read from
  // the same expanded text.
  std::string text() const;
  std::string non_empty_text() const;
  // A shell script: {{i}} expanded, but ${NAME} and $$ left to the shell,
  // which expands them from the child's environment when it runs.
  std::string script_text() const;
  long long integer(long long min, long long max) const;
  double number_at_least(double min) const;
  bool boolean() const;
  Duration duration() const;
  Duration positive_duration() const;

  // Fails unless the value is a mapping / a list; `what` completes "expected ...".
  void require_mapping(const std::string& what) const;
  void require_list(const std::string& what) const;

  // How the entries of a mapping are labelled: "backoff.initial" inside a
  // value, but plain "restart" for the keys of a child, however deep.
  enum class Labels { nested, plain };
  // The pairs of a mapping in file order. Fails on a duplicate key, at the
  // second occurrence, and on keys that are not plain scalars.
  std::vector<Field> entries(Labels labels = Labels::nested) const;
  // The elements of a list, each labelled like the list itself.
  std::vector<Field> elements() const;

 private:
  // The scalar expanded as `text()` returns it, or as a script.
  std::string expanded(bool variables_too) const;
  // Where `token` is written in the value, for an error inside it; the
  // value's own place when the text is not at hand.
  SourceLocation place_in_value(const std::string& token) const;

  const Source* source_;
  std::string label_;
  YamlNode key_;
  YamlNode value_;
};

// Reads the top of a document as a Field with an empty label.
Field document_field(const Source& source, const YamlNode& root);

[[noreturn]] void fail_unknown_key(const Field& entry, const std::vector<std::string_view>& valid);

// "a, b, c" and "a, b or c".
std::string join(const std::vector<std::string_view>& words,
                 std::string_view last_separator = ", ");

template <typename Value>
struct Choice {
  std::string_view name;
  Value value;
};

// One of a fixed set of words; a misspelling gets "did you mean".
template <typename Value>
Value choose(const Field& field, std::span<const Choice<Value>> choices) {
  std::vector<std::string_view> names;
  for (const auto& choice : choices) names.push_back(choice.name);
  const std::string expected = "one of " + join(names);
  if (!field.node().IsScalar()) field.fail_expected(expected);
  const std::string written = field.text();
  for (const auto& choice : choices) {
    if (choice.name == written) return choice.value;
  }
  field.fail_expected(expected, protocol::did_you_mean(written, names));
}

}  // namespace otpd::config
