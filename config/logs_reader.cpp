#include "config/logs_reader.hpp"

#include <cctype>
#include <filesystem>
#include <limits>
#include <string>

namespace otpd::config {
namespace {

// A file must hold at least a few lines; a cut piece of a long line is 16 KiB.
constexpr std::uint64_t kMinMaxSize = 1024;
constexpr int kMaxKeep = 1000;
constexpr int kMaxBuffer = 1'000'000;

struct Unit {
  std::string_view name;
  std::uint64_t factor;
};

constexpr std::array<Unit, 10> kUnits{{
    {"", 1},
    {"B", 1},
    {"K", 1024},
    {"KiB", 1024},
    {"KB", 1000},
    {"M", 1024 * 1024},
    {"MiB", 1024 * 1024},
    {"MB", 1000 * 1000},
    {"G", 1024 * 1024 * 1024},
    {"GiB", 1024 * 1024 * 1024},
}};

struct LogsKey {
  std::string_view name;
  void (*read)(const Field&, LogsSpec&);
};

void read_dir(const Field& field, LogsSpec& logs) {
  const std::string written = field.non_empty_text();
  if (written.front() == '~') field.fail("'~' is not expanded: write an absolute path");
  std::filesystem::path path(written);
  if (path.is_relative()) path = std::filesystem::path(field.source().base_dir.str()) / path;
  std::string normal = path.lexically_normal().string();
  if (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  logs.dir = std::move(normal);
}

void read_max_size(const Field& field, LogsSpec& logs) {
  const std::string expected = "a size such as 10MiB, 512KiB or 1G";
  if (!field.node().IsScalar()) field.fail_expected(expected);
  const auto size = parse_size(field.text());
  if (!size) field.fail_expected(expected);
  if (*size < kMinMaxSize) {
    field.fail("must be at least 1KiB, found '" + field.text() + "'");
  }
  logs.max_size = *size;
}

constexpr std::array<LogsKey, 6> kLogsKeys{{
    {"dir", read_dir},
    {"max_size", read_max_size},
    {"keep",
     [](const Field& f, LogsSpec& l) { l.keep = static_cast<int>(f.integer(0, kMaxKeep)); }},
    {"output", [](const Field& f, LogsSpec& l) { l.output = choose<Output>(f, kOutputs); }},
    {"streams", [](const Field& f, LogsSpec& l) { l.streams = choose<Streams>(f, kStreams); }},
    {"buffer",
     [](const Field& f, LogsSpec& l) { l.buffer = static_cast<int>(f.integer(0, kMaxBuffer)); }},
}};

}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0) return std::nullopt;
  std::uint64_t number = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    const auto digit = static_cast<std::uint64_t>(text[i] - '0');
    if (number > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return std::nullopt;
    number = number * 10 + digit;
  }
  std::string_view unit = text.substr(digits);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  for (const Unit& candidate : kUnits) {
    if (candidate.name != unit) continue;
    if (number > std::numeric_limits<std::uint64_t>::max() / candidate.factor) return std::nullopt;
    return number * candidate.factor;
  }
  return std::nullopt;
}

LogsSpec read_logs(const Field& field) {
  field.require_mapping("a mapping with dir, max_size, keep, output, streams and buffer");
  std::vector<std::string_view> names;
  for (const LogsKey& key : kLogsKeys) names.push_back(key.name);

  LogsSpec logs;
  for (const Field& entry : field.entries()) {
    const LogsKey* key = nullptr;
    for (const LogsKey& candidate : kLogsKeys) {
      if (candidate.name == entry.key()) key = &candidate;
    }
    if (!key) fail_unknown_key(entry, names);
    key->read(entry, logs);
  }
  return logs;
}

void apply_default_output(SupervisorSpec& tree, Output fallback, Streams streams) {
  for (ChildSpec& child : tree.children) {
    if (child.is_supervisor()) {
      apply_default_output(std::get<SupervisorSpec>(child.body), fallback, streams);
      continue;
    }
    // A worker's command (a health check's probe, a cron job) writes where
    // processes do.
    ProcessSpec* process = child.is_worker()
                               ? std::get<Boxed<WorkerSpec>>(child.body).edit().command()
                               : &std::get<ProcessSpec>(child.body);
    if (process == nullptr) continue;
    if (!process->output) process->output = fallback;
    if (!process->streams) process->streams = streams;
  }
}

}  // namespace otpd::config
