#include "program_check.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>

#include "process/program_path.hpp"

namespace otpd {
namespace {

// The PATH without otpd's environment (inherit_env: false), as spawning
// uses it for the lookup (docs/config.md).
constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The child's PATH: `env` wins over env files, which win over otpd's own.
std::optional<std::string> child_path(const config::ProcessSpec& process) {
  std::optional<std::string> path;
  if (process.inherit_env) {
    if (const char* own = std::getenv("PATH")) path = own;
  }
  for (const auto& [name, value] : process.file_env) {
    if (name == "PATH") path = value;
  }
  for (const auto& [name, value] : process.env) {
    if (name == "PATH") path = value;
  }
  return path;
}

std::string where(const config::SourceLocation& at) {
  std::string text = at.file;
  if (at.line > 0) text += ":" + std::to_string(at.line);
  if (at.column > 0) text += ":" + std::to_string(at.column);
  return text;
}

// Why the program cannot be run now; none when it can.
std::optional<std::string> problem(const config::ProcessSpec& process) {
  if (process.argv.empty()) return std::nullopt;
  const std::string& program = process.argv.front();
  if (program.find('/') == std::string::npos) {
    const std::optional<std::string> path = child_path(process);
    const auto found = process::resolve_program(program,
                                                path                  ? path->c_str()
                                                : process.inherit_env ? nullptr
                                                                      : kDefaultPath,
                                                process.cwd);
    if (found.path.empty()) {
      return found.error + (path ? " in the child's PATH" : " in the default PATH");
    }
    return std::nullopt;
  }
  const std::string full = program.front() == '/' ? program : process.cwd + "/" + program;
  struct stat st {};
  if (stat(full.c_str(), &st) != 0) {
    return "'" + program + "' does not exist" +
           (program.front() == '/' ? std::string() : " (in " + process.cwd + ")");
  }
  if (!S_ISREG(st.st_mode)) return "'" + program + "' is not a regular file";
  if ((st.st_mode & 0111) == 0) return "'" + program + "' is not executable";
  return std::nullopt;
}

void walk(const config::SupervisorSpec& supervisor, std::vector<std::string>& warnings) {
  for (const config::ChildSpec& child : supervisor.children) {
    if (child.is_supervisor()) {
      walk(child.supervisor(), warnings);
      continue;
    }
    // A worker's command (a health check's probe, a cron job) is spawned
    // the same way, each time it runs.
    const config::ProcessSpec* process =
        child.is_process() ? &child.process() : child.worker().command();
    if (process == nullptr) continue;
    if (const auto why = problem(*process)) {
      warnings.push_back(
          where(child.where) + ": warning: " + child.name + ": " + *why +
          (child.is_process() ? "; it will fail to start" : "; it will fail to run"));
    }
  }
}

}  // namespace

std::vector<std::string> program_warnings(const config::SupervisorSpec& tree) {
  std::vector<std::string> warnings;
  walk(tree, warnings);
  return warnings;
}

}  // namespace otpd
