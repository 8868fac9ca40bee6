#include "process/spawn.hpp"

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "process/child_env.hpp"
#include "process/child_launch.hpp"
#include "process/fd_limit.hpp"
#include "process/program_path.hpp"

namespace otpd::process {
namespace {

supervise::SpawnResult failed(std::string why) {
  return {0, std::move(why)};
}

std::string with_reason(std::string what, int error) {
  return what + ": " + std::strerror(error);
}

struct DevNull {
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int error = fd < 0 ? errno : 0;
};

// Opened once: every child without an input gets the same descriptor, kept
// close-on-exec here and dup'ed onto 0 in the child.
const DevNull& dev_null() {
  static const DevNull shared;
  return shared;
}

// The program as the user will recognise it in an error message.
std::string shown_program(const std::string& program, const std::string& cwd) {
  if (program.front() == '/' || cwd.empty()) return program;
  return cwd + "/" + program;
}

std::string explain(const ChildFailure& failure, const std::string& program,
                    const std::string& cwd) {
  switch (failure.step) {
    case ChildStep::stack:
      return with_reason("cannot allocate a stack for the child", failure.error);
    case ChildStep::clone:
      return with_reason("cannot create a process", failure.error);
    case ChildStep::process_group:
      return with_reason("cannot create a process group", failure.error);
    case ChildStep::session:
      return with_reason("cannot create a session", failure.error);
    case ChildStep::stdio:
      return with_reason("cannot set up standard input/output", failure.error);
    case ChildStep::close_fds:
      return with_reason("cannot close inherited file descriptors", failure.error);
    case ChildStep::fd_limit:
      return with_reason("cannot restore the open-file limit", failure.error);
    case ChildStep::cwd:
      return with_reason("cannot change directory to " + cwd, failure.error);
    case ChildStep::exec:
      return with_reason("cannot execute " + shown_program(program, cwd), failure.error);
    case ChildStep::none:
      break;
  }
  return "cannot start the process";
}

}  // namespace

supervise::SpawnResult spawn_process(const config::ProcessSpec& spec, const SpawnOptions& opts,
                                     int* pidfd) {
  if (pidfd != nullptr) *pidfd = -1;
  if (spec.argv.empty() || spec.argv.front().empty()) return failed("empty command");

  const ChildEnvironment env(spec.env);
  if (const std::string* name = env.invalid_name()) {
    return failed("invalid environment variable name: '" + *name + "'");
  }
  const ProgramPath program = resolve_program(spec.argv.front(), env.get("PATH"), spec.cwd);
  if (program.path.empty()) return failed(program.error);

  int stdin_fd = opts.stdin_fd;
  if (stdin_fd < 0) {
    stdin_fd = dev_null().fd;
    if (stdin_fd < 0) return failed(with_reason("cannot open /dev/null", dev_null().error));
  }

  std::vector<char*> argv;
  argv.reserve(spec.argv.size() + 1);
  // execve does not write through argv; the const_cast is its historical signature.
  for (const std::string& arg : spec.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  ChildPlan plan;
  plan.program = program.path.c_str();
  plan.argv = argv.data();
  plan.envp = env.envp();
  plan.cwd = spec.cwd.empty() ? nullptr : spec.cwd.c_str();
  plan.stdio[0] = stdin_fd;
  plan.stdio[1] = opts.stdout_fd;
  plan.stdio[2] = opts.stderr_fd;
  plan.new_session = opts.new_session;
  plan.fd_limit = child_fd_limit();

  ChildFailure failure;
  const int pid = launch_child(plan, failure, pidfd);
  if (pid > 0) return {pid, {}};
  return failed(explain(failure, program.path, spec.cwd));
}

}  // namespace otpd::process
