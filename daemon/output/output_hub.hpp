// Child output: the pipes each child writes its stdout and stderr into, the
// reading of them on the event loop, and where the lines go (otpd's log, a
// rotated file per child, the in-memory buffer `otpctl logs` reads, and the
// connections following a child). docs/output.md explains the rules.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/spec.hpp"
#include "log/event_log.hpp"
#include "output/output_line.hpp"
#include "process/child_stdio.hpp"
#include "process/descriptor_budget.hpp"

namespace boost::asio {
class io_context;
}

namespace otpd::output {

class LineFollower {
 public:
  virtual ~LineFollower() = default;
  // One captured line of the followed child; `json` is its JSON object
  // (output/output_line.hpp). Called on the event loop; a follower must not
  // block, and may unfollow from here.
  virtual void on_line(const OutputLine& line, std::string_view json) = 0;
};

// Which lines a reader wants.
enum class StreamFilter { both, out, err };

// The directory used when the config names none: /var/log/otpd for root,
// else $XDG_STATE_HOME/otpd, else ~/.local/state/otpd.
std::string default_log_dir(bool root, const char* xdg_state_home, const char* home);

// "app/api" -> "app.api.log"
std::string log_file_name(std::string_view path);

class OutputHub final : public process::ChildStdioRouting {
 public:
  // Reserves the low descriptors that children's pipes are passed on (see
  // docs/spawning.md); construct it early, before otpd holds many
  // descriptors. Checks the log directory when a child logs to a file.
  // The descriptors it holds for children (pipes, log files) come out of
  // `budget`; a child that does not fit in it runs with otpd's own output.
  OutputHub(boost::asio::io_context& io, log::EventLog& log, const config::Config& config,
            process::DescriptorBudget* budget = nullptr);
  ~OutputHub() override;
  OutputHub(const OutputHub&) = delete;
  OutputHub& operator=(const OutputHub&) = delete;

  process::ChildStdio prepare(const std::string& path, const config::ProcessSpec& spec) override;
  void spawned(const std::string& path, int pid) override;
  void when_ended(std::function<void(int pid)> fn) override;

  // The directory of the log files, as resolved.
  const std::string& dir() const;
  // How the process at `path` outputs: as configured, or `inherit` when
  // its output could not be captured for want of descriptors; nothing for
  // a path that is not a process of the tree.
  std::optional<config::Output> mode_of(const std::string& path) const;
  // Whether its stdout and stderr are one stream (streams: merged).
  bool merged(const std::string& path) const;
  // Why its output is not captured (no descriptor was left for it); none
  // when it is, or never was to be.
  std::optional<std::string> not_captured_because(const std::string& path) const;
  // Spawns whose output could not be captured for want of descriptors.
  std::size_t starved() const;
  // Where `file` output of `path` goes, or why it goes to otpd's log
  // instead; empty when the child does not log to a file.
  std::string file_of(const std::string& path) const;
  // The last `count` buffered lines of `path` that `filter` accepts.
  void last_lines(const std::string& path, std::size_t count, StreamFilter filter,
                  const std::function<void(const OutputLine&)>& fn) const;
  void follow(const std::string& path, LineFollower& follower);
  void unfollow(const std::string& path, LineFollower& follower);
  // The child at `path` and those under it have left the tree (removed by
  // a reload or terminate-child, a temporary child's end): their buffers,
  // modes and log files go, once the pipes still open reach their end and
  // the last follower leaves.
  void forget(const std::string& path);
  // Children whose buffered output is kept now, for tests.
  std::size_t channels() const;

  // Descriptors held for capture now (read ends of pipes), for tests.
  std::size_t open_pipes() const;

  // The state shared with the pipe readers, which may outlive the hub by
  // the handlers still queued on the io_context; internal to output_hub.cpp.
  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

bool accepts(StreamFilter filter, Stream stream);

}  // namespace otpd::output
