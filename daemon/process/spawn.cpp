#include "process/spawn.hpp"

#include <fcntl.h>
#include <unistd.h>

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
  return {.failure = std::move(why)};
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

// The PATH a program is looked up in when the child gets no environment of
// otpd's and the config gives none: the usual one of a root shell.
constexpr const char* kCleanSearchPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string shown_limit(rlim_t value) {
  return value == RLIM_INFINITY ? "unlimited" : std::to_string(value);
}

std::string shown_groups(const std::vector<unsigned>& groups) {
  std::string text;
  for (unsigned gid : groups) text += (text.empty() ? "" : ", ") + std::to_string(gid);
  return text.empty() ? "none" : text;
}

std::string explain(const ChildFailure& failure, const std::string& program,
                    const config::ProcessSpec& spec, const SpawnOptions& opts) {
  const std::string& cwd = spec.cwd;
  const config::Credentials& who = *spec.credentials;
  switch (failure.step) {
    case ChildStep::cgroup: {
      const char* dir = failure.index >= 0 && failure.index < opts.cgroup_count
                            ? opts.cgroup_dirs[failure.index]
                            : nullptr;
      return with_reason(std::string("cannot move the process into its cgroup") +
                             (dir ? std::string(" ") + dir : ""),
                         failure.error);
    }
    case ChildStep::parent_death_signal:
      return with_reason("cannot tie the process to otpd's life (PR_SET_PDEATHSIG)", failure.error);
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
    case ChildStep::passed_fd:
      return with_reason("cannot pass the readiness descriptor", failure.error);
    case ChildStep::close_fds:
      return with_reason("cannot close inherited file descriptors", failure.error);
    case ChildStep::fd_limit:
      return with_reason("cannot restore the open-file limit", failure.error);
    case ChildStep::rlimit: {
      const auto& limit = spec.rlimits.at(static_cast<std::size_t>(failure.index));
      return with_reason("cannot set the " + limit.name + " limit to " + shown_limit(limit.soft) +
                             " (soft), " + shown_limit(limit.hard) + " (hard)",
                         failure.error);
    }
    case ChildStep::groups:
      return with_reason("cannot set the supplementary groups" +
                             (who.user.empty() ? std::string() : " of user " + who.user) + " (" +
                             shown_groups(who.groups.value_or(std::vector<unsigned>{})) + ")",
                         failure.error);
    case ChildStep::gid:
      return with_reason(
          "cannot switch to group " + who.group + " (gid " + std::to_string(*who.gid) + ")",
          failure.error);
    case ChildStep::uid:
      return with_reason(
          "cannot switch to user " + who.user + " (uid " + std::to_string(*who.uid) + ")",
          failure.error);
    case ChildStep::cwd:
      return with_reason("cannot change directory to " + cwd, failure.error);
    case ChildStep::exec:
      return with_reason("cannot execute " + shown_program(program, cwd), failure.error);
    case ChildStep::none:
      break;
  }
  return "cannot start the process";
}

// Lowest precedence first: the user's variables, the env files in order,
// then `env` (ChildEnvironment lets later ones win).
ChildEnvironment::Overrides environment_of(const config::ProcessSpec& spec) {
  ChildEnvironment::Overrides variables;
  const config::Credentials& who = *spec.credentials;
  if (!who.login.empty()) {
    variables.emplace_back("HOME", who.home.empty() ? "/" : who.home);
    variables.emplace_back("USER", who.login);
    variables.emplace_back("LOGNAME", who.login);
    // passwd(5): an empty shell field means /bin/sh.
    variables.emplace_back("SHELL", who.shell.empty() ? "/bin/sh" : who.shell);
  }
  variables.insert(variables.end(), spec.file_env.begin(), spec.file_env.end());
  variables.insert(variables.end(), spec.env.begin(), spec.env.end());
  return variables;
}

}  // namespace

supervise::SpawnResult spawn_process(const config::ProcessSpec& spec, const SpawnOptions& opts,
                                     int* pidfd) {
  if (pidfd != nullptr) *pidfd = -1;
  if (spec.argv.empty() || spec.argv.front().empty()) return failed("empty command");

  const ChildEnvironment::Overrides variables = environment_of(spec);
  const ChildEnvironment env(variables, spec.inherit_env);
  if (const std::string* name = env.invalid_name()) {
    return failed("invalid environment variable name: '" + *name + "'");
  }
  const char* search_path = env.get("PATH");
  if (search_path == nullptr && !spec.inherit_env) search_path = kCleanSearchPath;
  const ProgramPath program = resolve_program(spec.argv.front(), search_path, spec.cwd);
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
  plan.passed_fd = opts.passed_fd;
  plan.passed_fd_target = opts.passed_fd_target;

  std::vector<ChildLimit> limits;
  for (const config::ResourceLimit& limit : spec.rlimits) {
    limits.push_back({limit.resource, {limit.soft, limit.hard}});
    // An explicit open-file limit replaces the one otpd would restore.
    if (limit.resource == RLIMIT_NOFILE) plan.fd_limit = nullptr;
  }
  plan.limits = limits.data();
  plan.limit_count = static_cast<int>(limits.size());

  const config::Credentials& who = *spec.credentials;
  std::vector<gid_t> groups;
  if (who.groups) {
    groups.assign(who.groups->begin(), who.groups->end());
    plan.set_groups = true;
    plan.groups = groups.data();
    plan.group_count = static_cast<int>(groups.size());
  }
  plan.set_gid = who.gid.has_value();
  plan.gid = who.gid.value_or(0);
  plan.set_uid = who.uid.has_value();
  plan.uid = who.uid.value_or(0);
  plan.umask = spec.umask ? static_cast<int>(*spec.umask) : -1;
  plan.cgroup_fds = opts.cgroup_fds;
  plan.cgroup_fd_count = opts.cgroup_count;
  plan.die_with_parent = opts.die_with_parent;
  plan.parent_pid = opts.die_with_parent ? getpid() : 0;

  ChildFailure failure;
  const int pid = launch_child(plan, failure, pidfd);
  if (pid > 0) return {.pid = pid};
  return failed(explain(failure, program.path, spec, opts));
}

}  // namespace otpd::process
