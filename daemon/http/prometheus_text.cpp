#include "http/prometheus_text.hpp"

#include <charconv>
#include <cmath>

#include "control/json_text.hpp"

namespace otpd::http {

void append_label_value(std::string& out, std::string_view value) {
  std::size_t i = 0;
  while (i < value.size()) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c >= 0x80) {
      control::append_utf8_sequence(out, value, i);
      continue;
    }
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += static_cast<char>(c);
    }
    ++i;
  }
}

void append_sample_value(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buffer[32];
  // Most samples are counts and flags: integers print faster as integers,
  // and read the same.
  constexpr double kExactIntegers = 9007199254740992.0;  // 2^53
  if (value == std::trunc(value) && std::fabs(value) < kExactIntegers) {
    const auto [end, error] =
        std::to_chars(buffer, buffer + sizeof buffer, static_cast<long long>(value));
    out.append(buffer, end);
    (void)error;
    return;
  }
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  if (error != std::errc()) {
    out += "NaN";
    return;
  }
  out.append(buffer, end);
}

std::size_t MetricsText::family(std::string_view name, Type type, std::string_view help) {
  Family family{std::string(name), {}, {}};
  family.header = "# HELP ";
  family.header += name;
  family.header += ' ';
  // HELP text escapes backslash and line feed only.
  for (char c : help) {
    if (c == '\\') {
      family.header += "\\\\";
    } else if (c == '\n') {
      family.header += "\\n";
    } else {
      family.header += c;
    }
  }
  family.header += "\n# TYPE ";
  family.header += name;
  family.header += type == Type::counter ? " counter\n" : " gauge\n";
  families_.push_back(std::move(family));
  return families_.size() - 1;
}

void MetricsText::sample(std::size_t index, std::initializer_list<Label> labels, double value) {
  Family& family = families_.at(index);
  std::string& out = family.samples;
  out += family.name;
  if (labels.size() > 0) {
    out += '{';
    bool first = true;
    for (const Label& label : labels) {
      if (!first) out += ',';
      first = false;
      out += label.name;
      out += "=\"";
      append_label_value(out, label.value);
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  append_sample_value(out, value);
  out += '\n';
}

void MetricsText::sample_labelled(std::size_t index, std::string_view labels, double value) {
  Family& family = families_.at(index);
  std::string& out = family.samples;
  out += family.name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  append_sample_value(out, value);
  out += '\n';
}

std::string MetricsText::text() const {
  std::size_t size = 0;
  for (const Family& family : families_) size += family.header.size() + family.samples.size();
  std::string out;
  out.reserve(size);
  for (const Family& family : families_) {
    if (family.samples.empty()) continue;
    out += family.header;
    out += family.samples;
  }
  return out;
}

}  // namespace otpd::http
