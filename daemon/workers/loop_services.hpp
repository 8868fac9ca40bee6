// What a worker asks of the supervisor's loop: running a command, a TCP
// connection, an HTTP request, an event, killing, restarting or signalling a
// sibling, watching files. Workers never fork (otpd's reaper owns every
// child) and never block on I/O; they ask here, from their own thread, and
// the answer comes back later.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/spec.hpp"
#include "supervise/event.hpp"
#include "supervise/host.hpp"

namespace otpd::workers {

struct ProbeResult {
  bool ok = false;
  std::string detail = {};  // what happened, for events: "exited with status 1"
};

// A command started with start_command, for kill_command.
using CommandId = std::uint64_t;

// How a command started with start_command ended.
struct CommandOutcome {
  int pid = 0;                                       // 0 when it could not be started
  std::string error = {};                            // why it could not be started
  std::optional<supervise::ExitStatus> status = {};  // once started
  bool timed_out = false;                            // SIGKILLed for outlasting its timeout
  bool killed = false;                               // SIGKILLed through kill_command
  supervise::Duration ran_for{};
};

// What a watch saw since it last reported (one batch of inotify events).
struct PathChanges {
  // Absolute: a watched file, or DIR/ENTRY for an entry of a watched
  // directory; each named once.
  std::vector<std::string> paths = {};
  // What happened to the watch itself, "" when nothing did: "the kernel's
  // event queue overflowed", "directory /x was removed; ...". A note with no
  // paths is still a change: the watch cannot say what it missed.
  std::string note = {};
  // The watch cannot work at all (no inotify descriptor: `note` says why)
  // and reports nothing more.
  bool failed = false;
};

// A watch's handle, for stop_watching; never 0.
using WatchId = std::uint64_t;

// What an action on a sibling did: `detail` says what, for events.
struct ActionResult {
  bool ok = false;
  std::string detail = {};
};

class LoopServices {
 public:
  virtual ~LoopServices() = default;
  // Any thread. Each callback runs once, on the loop; it must hand the
  // result to its worker as a message.
  // Starts `spec` under the tree path `path` (its output goes there) and
  // calls `started` with its pid once it runs, then `ended` once it has been
  // reaped (or `ended` alone when it cannot start). Past `timeout` (none:
  // no limit) its process group is sent SIGKILL. A worker kills what it
  // started when it ends (kill_command), so that no command outlives it.
  virtual CommandId start_command(const std::string& path, const config::ProcessSpec& spec,
                                  std::optional<supervise::Duration> timeout,
                                  std::function<void(int pid)> started,
                                  std::function<void(CommandOutcome)> ended) = 0;
  // SIGKILL to the process group of a command from start_command, if it
  // still runs; its outcome then says `killed`. Any thread; a command
  // started by the same thread before is never missed.
  virtual void kill_command(CommandId id) = 0;
  // ok when a TCP connection to host:port (numeric) is accepted in time.
  virtual void connect(const std::string& host, int port, supervise::Duration timeout,
                       std::function<void(ProbeResult)> done) = 0;
  // ok when `GET target` answers with a 2xx or 3xx status in time.
  virtual void http_get(const std::string& host, int port, const std::string& target,
                        supervise::Duration timeout, std::function<void(ProbeResult)> done) = 0;
  virtual void emit(supervise::Event event) = 0;
  // SIGKILL to the process group of the process child at `path`.
  virtual void kill_process(const std::string& path) = 0;

  // Watches `paths` (absolute, as in FileWatchSettings) with inotify until
  // stop_watching; `changed` runs on the loop for each batch of changes.
  // Entries of watched directories whose names match an `ignore` pattern
  // (fnmatch) are left out. A directory that is missing is watched for
  // again every second, and a note says so.
  virtual WatchId watch_paths(const std::vector<config::FileWatchSettings::Path>& paths,
                              const std::vector<std::string>& ignore,
                              std::function<void(PathChanges)> changed) = 0;
  // Ends the watch and closes its descriptor; `changed` is not run again.
  virtual void stop_watching(WatchId id) = 0;
  // Restarts the child at `path` as `otpctl restart PATH` does (an operator's
  // restart, not a crash); `done` runs once it is up again, or with why not.
  virtual void restart_child(const std::string& path, std::function<void(ActionResult)> done) = 0;
  // Sends `signo` to the process child at `path` as its kill_mode says: its
  // process group, or its main process alone. Not ok when it is not running.
  virtual void signal_child(const std::string& path, int signo,
                            std::function<void(ActionResult)> done) = 0;
};

}  // namespace otpd::workers
