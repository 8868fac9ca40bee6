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

#include "harness.hpp"

extern char** environ;

namespace otpd::ctl_test {
namespace {

using Clock = std::chrono::steady_clock;

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

Otpctl::Otpctl(std::vector<std::string> args, std::vector<std::string> env,
               const std::string& input) {
  // Variables that change otpctl's output or target: a test states them.
  std::vector<std::string> environment =
      it::environment_with(env, {"NO_COLOR", "OTPD_SOCKET", "LANG", "LC_ALL", "LC_CTYPE", "TERM"});
  args.insert(args.begin(), OTPCTL_PATH);
  const it::Piped started = it::start_piped(std::move(args), std::move(environment), {}, input);
  pid_ = started.pid;
  out_fd_ = started.out_fd;
  err_fd_ = started.err_fd;
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

Outcome run_otpctl(std::vector<std::string> args, std::vector<std::string> env, Ms timeout,
                   const std::string& input) {
  Otpctl otpctl(std::move(args), std::move(env), input);
  otpctl.wait_exit(timeout);
  return otpctl.outcome();
}

}  // namespace otpd::ctl_test
