#include "config/process_reader.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>

#include "config/logs_reader.hpp"
#include "config/signals.hpp"

namespace otpd::config {
namespace {

constexpr int kHighestExitCode = 255;
void add_once(LeanVector<int>& values, int value) {
  if (std::find(values.begin(), values.end(), value) == values.end()) values.push_back(value);
}

bool all_digits(const std::string& text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A program needs room to start at all; a smaller limit is surely a slip.
constexpr std::uint64_t kLeastMemoryMax = 1024 * 1024;
// The kernel's bounds for cpu.max: a period of 1 ms to 1 s, a quota of at
// least 1 ms.
constexpr std::uint64_t kLeastCpuPeriod = 1000;
constexpr std::uint64_t kMostCpuPeriod = 1000000;
constexpr std::uint64_t kLeastCpuQuota = 1000;

std::optional<std::uint64_t> whole_number(std::string_view text) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [stop, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc{} || stop != end) return std::nullopt;
  return value;
}

// "50%", "2.5%": tenths of a percent of one CPU, at most one decimal.
std::optional<std::uint64_t> percent_tenths(std::string_view text) {
  if (text.size() < 2 || text.back() != '%') return std::nullopt;
  text.remove_suffix(1);
  const std::size_t dot = text.find('.');
  const auto whole = whole_number(text.substr(0, dot));
  if (!whole || *whole > 100000) return std::nullopt;
  std::uint64_t tenths = *whole * 10;
  if (dot != std::string_view::npos) {
    const std::string_view decimals = text.substr(dot + 1);
    if (decimals.size() != 1 || !std::isdigit(static_cast<unsigned char>(decimals[0]))) {
      return std::nullopt;
    }
    tenths += static_cast<std::uint64_t>(decimals[0] - '0');
  }
  return tenths;
}

}  // namespace

void read_memory_max(const Field& field, ProcessSpec& process) {
  const std::string expected = "a size such as 512M or 2G, or max";
  if (!field.node().IsScalar()) field.fail_expected(expected);
  const std::string written = field.text();
  if (written == "max") {
    process.limits.edit().memory_max = CgroupLimits::unlimited;
    return;
  }
  const auto bytes = parse_size(written);
  if (!bytes) field.fail_expected(expected);
  if (*bytes < kLeastMemoryMax) {
    field.fail("must be at least 1M (a program needs room to start), found '" + written + "'");
  }
  process.limits.edit().memory_max = *bytes;
}

void read_cpu_max(const Field& field, ProcessSpec& process) {
  const std::string expected =
      "a share of one CPU such as 50% or 150%, 'QUOTA PERIOD' in microseconds as in cpu.max, or "
      "max";
  if (!field.node().IsScalar()) field.fail_expected(expected);
  const std::string written = field.text();
  CgroupLimits::Cpu cpu;
  if (written == "max") {
    process.limits.edit().cpu_max = cpu;
    return;
  }
  if (const auto tenths = percent_tenths(written)) {
    cpu.quota = *tenths * cpu.period / 1000;
    if (cpu.quota < kLeastCpuQuota) {
      field.fail("must be at least 1% (the kernel's least quota is 1ms), found '" + written + "'");
    }
    process.limits.edit().cpu_max = cpu;
    return;
  }
  const std::size_t space = written.find(' ');
  if (space == std::string::npos) field.fail_expected(expected);
  const std::string_view quota_text = std::string_view(written).substr(0, space);
  const auto period = whole_number(std::string_view(written).substr(space + 1));
  const auto quota =
      quota_text == "max" ? std::optional(CgroupLimits::unlimited) : whole_number(quota_text);
  if (!quota || !period) field.fail_expected(expected);
  if (*period < kLeastCpuPeriod || *period > kMostCpuPeriod) {
    field.fail("the period must be 1000 to 1000000 microseconds, found '" + written + "'");
  }
  if (*quota < kLeastCpuQuota) {
    field.fail("the quota must be at least 1000 microseconds, found '" + written + "'");
  }
  cpu.quota = *quota;
  cpu.period = *period;
  process.limits.edit().cpu_max = cpu;
}

void read_pids_max(const Field& field, ProcessSpec& process) {
  if (field.node().IsScalar() && field.node().Scalar() == "max") {
    process.limits.edit().pids_max = CgroupLimits::unlimited;
    return;
  }
  if (!field.node().IsScalar() || !all_digits(field.node().Scalar())) {
    field.fail_expected("a number of processes (at least 1), or max");
  }
  process.limits.edit().pids_max = static_cast<std::uint64_t>(field.integer(1, 4194304));
}

void read_command(const Field& field, ProcessSpec& process) {
  const std::string expected = "a list of strings";
  if (field.node().IsScalar()) {
    field.fail("expected " + expected + ", found " + kind_of(field.node()) +
               " (write [program, arg, ...], or use 'shell' for a command line)");
  }
  field.require_list(expected);
  std::vector<std::string> argv;
  for (const Field& element : field.elements()) argv.push_back(element.text());
  if (argv.empty()) field.fail("must name at least the program to run");
  if (argv.front().empty()) field.elements().front().fail("the program name must not be empty");
  process.argv = std::move(argv);
  process.via_shell = false;
}

void read_shell(const Field& field, ProcessSpec& process) {
  process.argv = {"/bin/sh", "-c", field.script_text()};
  process.via_shell = true;
}

void read_env(const Field& field, ProcessSpec& process) {
  field.require_mapping("a mapping of NAME: value");
  for (const Field& variable : field.entries()) {
    const std::string name = variable.key();
    if (name.empty() || name.find('=') != std::string::npos) {
      throw ConfigError(
          variable.key_location(),
          "env: '" + name + "' is not a variable name (it must be non-empty, " + "without '=')");
    }
    if (variable.node().IsNull()) {
      variable.fail("expected a string, found nothing (write '' for an empty value)");
    }
    process.env.emplace_back(name, variable.text());
  }
}

// Resolved here, not at spawn time, so that the engine never depends on the
// daemon's own working directory.
void read_cwd(const Field& field, ProcessSpec& process) {
  const std::string written = field.non_empty_text();
  if (written.front() == '~') field.fail("'~' is not expanded: write an absolute path");
  std::filesystem::path path(written);
  if (path.is_relative()) path = std::filesystem::path(field.source().base_dir.str()) / path;
  std::string normal = path.lexically_normal().string();
  if (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  // Checked now so that a typo stops otpd (and `otpd check`) at this line
  // rather than failing the child's start; the spawn still reports a
  // directory that has gone since.
  std::error_code error;
  const auto status = std::filesystem::status(normal, error);
  if (status.type() == std::filesystem::file_type::not_found) {
    field.fail("'" + normal + "' does not exist");
  }
  if (error) field.fail("cannot use '" + normal + "': " + error.message());
  if (status.type() != std::filesystem::file_type::directory) {
    field.fail("'" + normal + "' is not a directory");
  }
  process.cwd = std::move(normal);
}

void read_normal_exit(const Field& field, ProcessSpec& process) {
  const std::string expected = "a list of exit codes and signal names";
  if (field.node().IsScalar()) {
    field.fail("expected " + expected + ", found " + kind_of(field.node()) + " (write [" +
               field.text() + "])");
  }
  field.require_list(expected);
  for (const Field& element : field.elements()) {
    const std::string written = element.text();
    if (all_digits(written) || (!written.empty() && written.front() == '-')) {
      add_once(process.normal_exit_codes, static_cast<int>(element.integer(0, kHighestExitCode)));
      continue;
    }
    const int signo = signal_number(written);
    if (signo == 0) {
      element.fail("expected an exit code (0-255) or a signal name such as SIGTERM, found '" +
                   written + "'" + signal_suggestion(written));
    }
    add_once(process.normal_exit_signals, signo);
  }
}

}  // namespace otpd::config
