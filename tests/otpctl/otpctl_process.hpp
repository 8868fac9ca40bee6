// Runs the real otpctl binary, as a user's shell would, and collects what it
// prints and how it exits; every run is bounded in time and ended by pid.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace otpd::ctl_test {

using Ms = std::chrono::milliseconds;

struct Outcome {
  std::optional<int> code;  // nothing when it had to be killed
  std::string out;
  std::string err;

  std::vector<std::string> out_lines() const;
  // For CHECK messages.
  std::string shown() const;
};

// otpctl ARGS in an environment of this process's own, with `env`
// (NAME=VALUE) added or replacing, and with NO_COLOR, OTPD_SOCKET, LANG,
// LC_ALL and LC_CTYPE removed unless `env` sets them.
class Otpctl {
 public:
  // Its stdin is the file `input`, or /dev/null.
  Otpctl(std::vector<std::string> args, std::vector<std::string> env,
         const std::string& input = {});
  ~Otpctl();
  Otpctl(const Otpctl&) = delete;
  Otpctl& operator=(const Otpctl&) = delete;

  // Reads output until stdout holds `text`, otpctl has exited, or `timeout`
  // passes; whether stdout holds `text`.
  bool wait_output(std::string_view text, Ms timeout);
  // Reads output until `done(outcome())` holds, otpctl has exited, or
  // `timeout` passes; returns `done(outcome())`.
  bool wait_until(const std::function<bool(const Outcome&)>& done, Ms timeout);
  // Waits for otpctl to exit and reads the rest of its output.
  std::optional<int> wait_exit(Ms timeout);
  const Outcome& outcome() const { return outcome_; }

 private:
  void pump(Ms timeout);
  void reap(bool block);

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  Outcome outcome_;
};

// Runs otpctl to the end, killing it after `timeout`.
Outcome run_otpctl(std::vector<std::string> args, std::vector<std::string> env = {},
                   Ms timeout = Ms(20'000), const std::string& input = {});

}  // namespace otpd::ctl_test
