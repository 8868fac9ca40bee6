#include "config/cron_expression.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

#include "protocol/suggest.hpp"

namespace otpd::config {
namespace {

struct FieldRule {
  const char* name;
  int min;
  int max;
  // Names for min, min+1, ...; empty: the field takes numbers only.
  std::vector<std::string_view> names;
  const char* names_shown;  // "jan-dec", for messages
};

const std::array<FieldRule, 5> kFields{{
    {"minute", 0, 59, {}, ""},
    {"hour", 0, 23, {}, ""},
    {"day-of-month", 1, 31, {}, ""},
    {"month",
     1,
     12,
     {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"},
     "jan-dec"},
    // 7 is Sunday as well as 0.
    {"day-of-week", 0, 7, {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}, "sun-sat"},
}};

struct Macro {
  std::string_view name;
  std::string_view expansion;
};

constexpr std::array<Macro, 7> kMacros{{
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
    {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
}};

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// A YAML block scalar (`schedule: >`) ends the expression with a newline.
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// One field's text and where it starts in the whole expression.
struct FieldText {
  std::string_view text;
  std::size_t offset;
};

class FieldParser {
 public:
  FieldParser(const FieldRule& rule, FieldText field) : rule_(rule), field_(field) {}

  // The field's values as bits (bit v for value v).
  std::uint64_t parse() {
    std::uint64_t bits = 0;
    std::size_t start = 0;
    while (true) {
      const std::size_t comma = field_.text.find(',', start);
      const std::size_t end = comma == std::string_view::npos ? field_.text.size() : comma;
      bits |= item(start, end);
      if (comma == std::string_view::npos) return bits;
      start = comma + 1;
    }
  }

 private:
  [[noreturn]] void fail(std::size_t at, const std::string& message) const {
    throw CronSyntaxError(field_.offset + at, std::string(rule_.name) + " field: " + message);
  }

  // The end of `*`: on the day of week 6, as 7 only repeats Sunday.
  int last() const {
    return rule_.names.empty() ? rule_.max : rule_.min + static_cast<int>(rule_.names.size()) - 1;
  }

  std::string range_shown() const {
    return std::to_string(rule_.min) + "-" + std::to_string(rule_.max);
  }

  // RANGE or RANGE/STEP, where RANGE is `*`, VALUE or VALUE-VALUE.
  std::uint64_t item(std::size_t start, std::size_t end) {
    if (start == end) fail(start, "an empty item in the list (two commas, or one at an end)");
    const std::string_view text = field_.text.substr(start, end - start);
    const std::size_t slash = text.find('/');
    const std::string_view range = text.substr(0, slash);
    int low = rule_.min;
    int high = rule_.max;
    bool single = false;
    if (range == "*") {
      high = last();
    } else {
      const std::size_t dash = range.find('-');
      low = value(range.substr(0, dash), start);
      if (dash == std::string_view::npos) {
        high = low;
        single = true;
      } else {
        high = value(range.substr(dash + 1), start + dash + 1);
        if (low > high) {
          fail(start, "the range " + std::string(range) + " goes backwards (" +
                          std::to_string(low) + " is after " + std::to_string(high) +
                          "); write it as two ranges");
        }
      }
    }
    int step = 1;
    if (slash != std::string_view::npos) {
      const std::size_t at = start + slash + 1;
      const std::string_view written = text.substr(slash + 1);
      const int widest = rule_.max - rule_.min + 1;
      if (written.empty()) fail(at, "a step needs a number after '/'");
      step = number(written, at, "a step");
      if (step < 1 || step > widest) {
        fail(at, "step " + std::string(written) + " is out of range 1-" + std::to_string(widest));
      }
      // A/N means from A to the end of the field, as in cronie: on the day
      // of week up to 7, so that 1/2 includes Sunday and 7/1 means Sunday.
      if (single) high = rule_.max;
    }
    std::uint64_t bits = 0;
    for (int v = low; v <= high; v += step) bits |= std::uint64_t{1} << v;
    return bits;
  }

  int number(std::string_view written, std::size_t at, const std::string& what) const {
    if (written.empty() ||
        !std::all_of(written.begin(), written.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      fail(at, "'" + std::string(written) + "' is not a number (" + what + ")");
    }
    // Long enough to overflow is out of range anyway.
    if (written.size() > 4) return 9999;
    return std::stoi(std::string(written));
  }

  // A number in the field's range, or a name.
  int value(std::string_view written, std::size_t at) const {
    if (written.empty()) fail(at, "expected a number before or after '-'");
    if (std::isdigit(static_cast<unsigned char>(written.front())) == 0) {
      if (rule_.names.empty()) {
        fail(at, "'" + std::string(written) + "' is not a number in " + range_shown());
      }
      const std::string name = lower(written);
      const auto found = std::find(rule_.names.begin(), rule_.names.end(), name);
      if (found == rule_.names.end()) {
        fail(at, "'" + std::string(written) + "' is neither a number in " + range_shown() +
                     " nor a name in " + rule_.names_shown +
                     protocol::did_you_mean(name, rule_.names));
      }
      return rule_.min + static_cast<int>(found - rule_.names.begin());
    }
    const int v = number(written, at, "a value in " + range_shown());
    if (v < rule_.min || v > rule_.max) {
      fail(at, std::string(written) + " is out of range " + range_shown());
    }
    return v;
  }

  const FieldRule& rule_;
  FieldText field_;
};

std::vector<FieldText> split_fields(std::string_view text) {
  std::vector<FieldText> fields;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    if (i == text.size()) break;
    const std::size_t start = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    fields.push_back({text.substr(start, i - start), start});
  }
  return fields;
}

int days_in_month_at_most(int month) {
  constexpr std::array<int, 13> days{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return days[static_cast<std::size_t>(month)];
}

// With the day of week unrestricted, some month must have one of the days.
void check_days_exist(const CronExpression& e, const FieldText& days) {
  if (!e.any_day_of_week && !e.any_day_of_month) return;  // either matches
  for (int month = 1; month <= 12; ++month) {
    if ((e.months & (1U << month)) == 0) continue;
    for (int day = 1; day <= days_in_month_at_most(month); ++day) {
      if ((e.days & (1U << day)) != 0) return;
    }
  }
  throw CronSyntaxError(days.offset, "day-of-month field: " + std::string(days.text) +
                                         " never falls in the months of the month field, so "
                                         "the schedule never runs");
}

CronExpression parse_fields(std::string_view text, std::size_t shown_offset,
                            const std::string& shown) {
  const std::vector<FieldText> fields = split_fields(text);
  if (fields.size() != kFields.size()) {
    const std::size_t at =
        fields.size() > kFields.size() ? fields[kFields.size()].offset : text.size();
    throw CronSyntaxError(shown_offset + at,
                          "has " + std::to_string(fields.size()) + " field" +
                              (fields.size() == 1 ? "" : "s") +
                              "; expected 5: minute hour day-of-month month day-of-week, or a "
                              "macro such as @daily");
  }
  std::array<std::uint64_t, 5> bits{};
  for (std::size_t i = 0; i < kFields.size(); ++i) {
    FieldText field = fields[i];
    field.offset += shown_offset;
    bits[i] = FieldParser(kFields[i], field).parse();
  }
  CronExpression e;
  e.minutes = bits[0];
  e.hours = static_cast<std::uint32_t>(bits[1]);
  e.days = static_cast<std::uint32_t>(bits[2]);
  e.months = static_cast<std::uint16_t>(bits[3]);
  // Sunday written as 7 is Sunday.
  e.weekdays = static_cast<std::uint8_t>((bits[4] | (bits[4] >> 7)) & 0x7f);
  e.any_hour = fields[1].text.front() == '*';
  e.any_day_of_month = fields[2].text.front() == '*';
  e.any_day_of_week = fields[4].text.front() == '*';
  e.text = shown;
  check_days_exist(e, {fields[2].text, fields[2].offset + shown_offset});
  return e;
}

}  // namespace

CronExpression parse_cron_expression(std::string_view text) {
  std::size_t first = 0;
  while (first < text.size() && is_space(text[first])) ++first;
  std::size_t last = text.size();
  while (last > first && is_space(text[last - 1])) --last;
  const std::string_view trimmed = text.substr(first, last - first);
  if (trimmed.empty()) {
    throw CronSyntaxError(0,
                          "is empty; expected 5 fields (minute hour day-of-month month "
                          "day-of-week) or a macro such as @daily");
  }
  if (trimmed.front() != '@') return parse_fields(text, 0, std::string(trimmed));

  const std::string name = lower(trimmed);
  if (name == "@reboot") {
    throw CronSyntaxError(first, "@reboot is not a schedule here; use run_at_start: true");
  }
  for (const Macro& macro : kMacros) {
    if (macro.name == name) {
      CronExpression e = parse_fields(macro.expansion, 0, std::string(trimmed));
      return e;
    }
  }
  std::vector<std::string_view> names;
  for (const Macro& macro : kMacros) names.push_back(macro.name);
  throw CronSyntaxError(first, "unknown macro " + std::string(trimmed) + "; expected one of " +
                                   "@yearly, @annually, @monthly, @weekly, @daily, @midnight " +
                                   "or @hourly" + protocol::did_you_mean(name, names));
}

}  // namespace otpd::config
