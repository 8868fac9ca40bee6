// Runs a real otpd over real children in a temporary directory and lets a
// test wait, with a bound on every wait, for what otpd logs and what the
// children record (see tests/helpers/test_child.c).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace otpd::it {

using Ms = std::chrono::milliseconds;
inline constexpr Ms default_timeout{10000};

// A temporary directory holding the config files and the record file that
// every test child appends to.
class Sandbox {
 public:
  Sandbox();
  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  const std::string& dir() const { return dir_; }
  std::string path(std::string_view name) const { return dir_ + "/" + std::string(name); }
  std::string record_file() const { return path("record"); }
  // Writes `text` to dir/name after replacing @CHILD@ (the test child),
  // @DIR@ (this directory) and @RECORD@ (the record file); returns the path.
  std::string write(std::string_view name, std::string_view text) const;

  // The record file's lines.
  std::vector<std::string> records() const;
  // "kind name" of each record line whose kind is one of `kinds`, in order.
  std::vector<std::string> recorded(std::initializer_list<std::string_view> kinds) const;
  // The field after the name (a pid, usually) of the n-th (0-based) record
  // "kind name ...", or empty.
  std::string recorded_value(std::string_view kind, std::string_view name, int nth = 0) const;
  int count_recorded(std::string_view kind, std::string_view name) const;
  // Pid of the n-th recorded start of `name`, or 0.
  pid_t pid(std::string_view name, int nth = 0) const;

 private:
  std::string dir_;
};

// One line otpd wrote on stderr: an event, a daemon message, or plain text.
struct Line {
  std::string text;
  nlohmann::json json;  // discarded (null) when the line is not JSON

  std::string str(const char* key) const;
  int num(const char* key) const;  // 0 when absent
  bool has(const char* key) const { return json.is_object() && json.contains(key); }
  bool is(std::string_view path, std::string_view event) const;
};

struct Options {
  std::vector<std::string> env = {};  // extra NAME=VALUE entries
  std::string cwd = "/";
  // A command that runs otpd, such as {"unshare", "--pid", "--fork"}; its
  // first word is an absolute path.
  std::vector<std::string> wrapper = {};
  // More arguments for Otpd::run's otpd, such as {"--no-cgroups"}.
  std::vector<std::string> args = {};
};

// This process's environment with `extra` (NAME=VALUE) entries replacing or
// added, and the variables named in `dropped` left out.
std::vector<std::string> environment_with(const std::vector<std::string>& extra,
                                          const std::vector<std::string_view>& dropped = {});

// A program started with stdin on /dev/null, stdout and stderr on
// non-blocking pipes (close-on-exec), an empty signal mask and default
// signal dispositions, in `cwd` (empty: this process's).
struct Piped {
  pid_t pid;
  int out_fd;
  int err_fd;
};
// argv[0] is the program's absolute path; stdin is the file `input`, or
// /dev/null. Throws std::runtime_error when it cannot be started.
Piped start_piped(std::vector<std::string> argv, std::vector<std::string> env,
                  const std::string& cwd = {}, const std::string& input = {});

class Otpd {
 public:
  // Starts `otpd args...` with stdout and stderr on pipes.
  explicit Otpd(std::vector<std::string> args, Options options);
  explicit Otpd(std::vector<std::string> args) : Otpd(std::move(args), Options{}) {}
  // Starts `otpd --config FILE --log-format json` on the sandbox's config
  // file written from `yaml`, with the record file in the environment.
  static Otpd run(const Sandbox& box, std::string_view yaml, Options options = {});
  // Stops otpd if the test did not (SIGTERM; a second one after 2 s, which
  // kills its children; SIGKILL after 3 s more), and kills every process
  // left below it.
  ~Otpd();
  Otpd(Otpd&& other) noexcept;
  Otpd(const Otpd&) = delete;
  Otpd& operator=(const Otpd&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int signo) const;

  // Reads otpd's output until `done()` holds, otpd has exited with nothing
  // more to read, or `timeout` passes; returns `done()`.
  bool wait_for(const std::function<bool()>& done, Ms timeout = default_timeout);
  // Waits for the `count`-th `event` of `path`.
  bool wait_event(std::string_view path, std::string_view event, int count = 1,
                  Ms timeout = default_timeout);
  // Whether a daemon message containing `text` has been read so far.
  bool logged(std::string_view text) const;
  // Waits for the daemon message `message` (a prefix is enough).
  bool wait_message(std::string_view message, Ms timeout = default_timeout);
  // Waits until the record file holds `count` lines "kind name ...".
  bool wait_recorded(const Sandbox& box, std::string_view kind, std::string_view name,
                     int count = 1, Ms timeout = default_timeout);
  // Waits for otpd to exit; its exit code, or 128 + signal when killed.
  std::optional<int> wait_exit(Ms timeout = default_timeout);

  const std::vector<Line>& lines() const { return lines_; }
  const std::string& out() const { return out_; }
  // Events, optionally of one kind, as "event path" strings, in order.
  std::vector<std::string> events(std::initializer_list<std::string_view> kinds = {}) const;
  int count(std::string_view path, std::string_view event) const;
  // The n-th (0-based) event of a kind for a path, if it happened.
  const Line* event(std::string_view path, std::string_view event, int nth = 0) const;
  // Pid in the latest `started` event of `path`, or 0.
  int pid_of(std::string_view path) const;
  // Everything otpd has written, for failure messages.
  std::string transcript() const;

 private:
  void pump(Ms timeout);
  void take(int& fd, std::string& buffer, bool is_stderr);
  void reap(bool block);

  pid_t pid_ = -1;
  int err_fd_ = -1;
  int out_fd_ = -1;
  std::optional<int> exit_code_;
  std::string err_buffer_;
  std::string out_;
  std::vector<Line> lines_;
};

// Runs `otpd args...` to completion (bounded): exit code, stdout, stderr.
struct Result {
  std::optional<int> code;
  std::string out;
  std::string err;
};
Result run_to_end(std::vector<std::string> args, Ms timeout = default_timeout);

// Whether a process exists and is not a zombie.
bool running(pid_t pid);
// Waits up to `timeout` until `pid` has been reaped (not even a zombie is
// left); whether it has.
bool reaped(pid_t pid, Ms timeout = Ms(3000));
// Processes still below this test process (it is their subreaper): none
// should outlive the otpd that started them.
std::vector<pid_t> strays();
// Whether otpd can be run as PID 1 of a new PID namespace here (root and
// `unshare --pid` are needed), as Options::wrapper
// {"/usr/bin/unshare", "--pid", "--fork", "--mount-proc", "--kill-child"}.
bool can_unshare_pid();
// Pids of zombies whose parent is `parent`.
std::vector<pid_t> zombies_of(pid_t parent);
// The path a process's descriptor points to, or empty.
std::string fd_target(pid_t pid, int fd);

}  // namespace otpd::it
