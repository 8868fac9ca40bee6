#include "config/process_reader.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "config/signals.hpp"

namespace otpd::config {
namespace {

constexpr int kHighestExitCode = 255;
void add_once(std::vector<int>& values, int value) {
  if (std::find(values.begin(), values.end(), value) == values.end()) values.push_back(value);
}

bool all_digits(const std::string& text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

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
  if (path.is_relative()) path = std::filesystem::path(field.source().base_dir) / path;
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
