// Where a child's stdout and stderr go, decided per spawn by whoever
// captures output (daemon/output/). Kept as an interface so that spawning
// knows nothing of pipes, files or the event loop.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "config/spec.hpp"

namespace otpd::process {

struct ChildStdio {
  // Descriptors that become the child's 1 and 2. They must be low numbers
  // (see docs/spawning.md: the child copies every descriptor below the
  // highest it keeps).
  int out = 1;
  int err = 2;
  std::optional<std::string> failure;  // why the child cannot be started
  // otpd reads what the child writes through a pipe whose end it reports
  // (see ChildStdioRouting::when_ended): that tells when the child exits,
  // and the child needs no pidfd.
  bool ends_at_exit = false;
};

class ChildStdioRouting {
 public:
  virtual ~ChildStdioRouting() = default;
  // Before the spawn of the child at `path`. The descriptors stay valid
  // until spawned() is called.
  virtual ChildStdio prepare(const std::string& path, const config::ProcessSpec& spec) = 0;
  // Right after the spawn: the new child's pid, or 0 when it did not start.
  virtual void spawned(const std::string& path, int pid) = 0;
  // `fn` is called, from the loop, with the pid of a child whose output
  // pipe has ended: the child, and whatever it passed the pipe to, closed
  // it, which is usually because it exited.
  virtual void when_ended(std::function<void(int pid)> fn) = 0;
};

}  // namespace otpd::process
