// Where a child's stdout and stderr go, decided per spawn by whoever
// captures output (daemon/output/). Kept as an interface so that spawning
// knows nothing of pipes, files or the event loop.
#pragma once

#include <string>

#include "config/spec.hpp"

namespace otpd::process {

struct ChildStdio {
  // Descriptors that become the child's 1 and 2. They must be low numbers
  // (see docs/spawning.md: the child copies every descriptor below the
  // highest it keeps).
  int out = 1;
  int err = 2;
  std::string error;  // non-empty: the child cannot be started, and why
};

class ChildStdioRouting {
 public:
  virtual ~ChildStdioRouting() = default;
  // Before the spawn of the child at `path`. The descriptors stay valid
  // until spawned() is called.
  virtual ChildStdio prepare(const std::string& path, const config::ProcessSpec& spec) = 0;
  // Right after the spawn: the new child's pid, or 0 when it did not start.
  virtual void spawned(const std::string& path, int pid) = 0;
};

}  // namespace otpd::process
