// Prometheus's text exposition format (version 0.0.4): families with HELP
// and TYPE lines, samples grouped under their family whatever order they
// are added in, label values escaped. Child names are whatever the config
// says, so every label value goes through append_label_value.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace otpd::http {

// Appends `value` as the inside of a quoted label value: backslash, double
// quote and line feed escaped, bytes that are not UTF-8 replaced by U+FFFD.
void append_label_value(std::string& out, std::string_view value);

// Appends `value` as Prometheus reads a sample value: integers without a
// fraction, NaN and infinities by their names.
void append_sample_value(std::string& out, double value);

struct Label {
  std::string_view name;
  std::string_view value;
};

class MetricsText {
 public:
  enum class Type { counter, gauge };

  // Declares a family; returns its index for sample(). Families are written
  // in the order they are declared.
  std::size_t family(std::string_view name, Type type, std::string_view help);
  void sample(std::size_t family, std::initializer_list<Label> labels, double value);
  // The same with the labels already written and escaped, as
  // `name="value",name="value"` (empty for none).
  void sample_labelled(std::size_t family, std::string_view labels, double value);

  // Every family that has at least one sample, as one document.
  std::string text() const;

 private:
  struct Family {
    std::string name;
    std::string header;   // HELP and TYPE
    std::string samples;  // one line each
  };
  std::vector<Family> families_;
};

}  // namespace otpd::http
