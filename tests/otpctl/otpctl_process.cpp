#include "otpctl_process.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace otpd::ctl_test {
namespace {

using Clock = std::chrono::steady_clock;

bool named(const std::string& entry, std::string_view name) {
  return entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 &&
         entry[name.size()] == '=';
}

std::vector<std::string> environment(const std::vector<std::string>& extra) {
  // Variables that change otpctl's output or target: a test states them.
  constexpr std::string_view controlled[] = {"NO_COLOR", "OTPD_SOCKET", "LANG",
                                             "LC_ALL",   "LC_CTYPE",    "TERM"};
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const bool dropped = std::any_of(std::begin(controlled), std::end(controlled),
                                     [&](std::string_view name) { return named(entry, name); });
    const bool replaced = std::any_of(extra.begin(), extra.end(), [&](const std::string& o) {
      return named(entry, o.substr(0, o.find('=')));
    });
    if (!dropped && !replaced) env.push_back(entry);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

void drain(int& fd, std::string& into) {
  char chunk[8192];
  for (;;) {
    const ssize_t n = read(fd, chunk, sizeof chunk);
    if (n > 0) {
      into.append(chunk, static_cast<std::size_t>(n));
    } else if (n == 0) {
      close(fd);
      fd = -1;
      return;
    } else if (errno != EINTR) {
      return;  // EAGAIN: nothing more for now
    }
  }
}

}  // namespace

std::vector<std::string> Outcome::out_lines() const {
  std::vector<std::string> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string Outcome::shown() const {
  return "exit " + (code ? std::to_string(*code) : std::string("(none)")) + "\nstdout:\n" + out +
         "stderr:\n" + err;
}

Otpctl::Otpctl(std::vector<std::string> args, std::vector<std::string> env) {
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  }
  args.insert(args.begin(), OTPCTL_PATH);
  std::vector<std::string> envs = environment(env);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  const int error = posix_spawn(&pid_, OTPCTL_PATH, &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  close(err[1]);
  out_fd_ = out[0];
  err_fd_ = err[0];
  if (error != 0) {
    pid_ = -1;
    throw std::runtime_error(std::string("posix_spawn " OTPCTL_PATH ": ") + std::strerror(error));
  }
  fcntl(out_fd_, F_SETFL, O_NONBLOCK);
  fcntl(err_fd_, F_SETFL, O_NONBLOCK);
}

Otpctl::~Otpctl() {
  // Under -Db_sanitize a sanitizer report may not change otpctl's exit code.
  if (outcome_.err.find("Sanitizer") != std::string::npos ||
      outcome_.err.find("runtime error:") != std::string::npos) {
    FAIL_CHECK("otpctl reported: " << outcome_.err);
  }
  if (pid_ > 0 && !outcome_.code) {
    kill(pid_, SIGKILL);
    reap(true);
  }
  if (out_fd_ >= 0) close(out_fd_);
  if (err_fd_ >= 0) close(err_fd_);
}

void Otpctl::reap(bool block) {
  if (pid_ <= 0 || outcome_.code) return;
  int status = 0;
  pid_t got;
  do {
    got = waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (got < 0 && errno == EINTR);
  if (got != pid_) return;
  outcome_.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void Otpctl::pump(Ms timeout) {
  pollfd fds[2];
  nfds_t n = 0;
  if (out_fd_ >= 0) fds[n++] = {out_fd_, POLLIN, 0};
  if (err_fd_ >= 0) fds[n++] = {err_fd_, POLLIN, 0};
  if (n > 0) poll(fds, n, static_cast<int>(timeout.count()));
  if (out_fd_ >= 0) drain(out_fd_, outcome_.out);
  if (err_fd_ >= 0) drain(err_fd_, outcome_.err);
  // Both pipes closed: the exit is at most a moment away.
  reap(out_fd_ < 0 && err_fd_ < 0);
}

bool Otpctl::wait_output(std::string_view text, Ms timeout) {
  return wait_until([&](const Outcome& o) { return o.out.find(text) != std::string::npos; },
                    timeout);
}

bool Otpctl::wait_until(const std::function<bool(const Outcome&)>& done, Ms timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!done(outcome_)) {
    if (out_fd_ < 0 && err_fd_ < 0) return false;
    const auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pump(std::min(left, Ms(50)));
  }
  return true;
}

std::optional<int> Otpctl::wait_exit(Ms timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!outcome_.code) {
    const auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now());
    if (left.count() <= 0) break;
    pump(std::min(left, Ms(50)));
  }
  return outcome_.code;
}

Outcome run_otpctl(std::vector<std::string> args, std::vector<std::string> env, Ms timeout) {
  Otpctl otpctl(std::move(args), std::move(env));
  otpctl.wait_exit(timeout);
  return otpctl.outcome();
}

}  // namespace otpd::ctl_test
