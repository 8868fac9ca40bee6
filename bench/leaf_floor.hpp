// The least a supervisor that keeps each child in a cgroup of its own could
// do: the plain floor's posix_spawn loop and SIGTERM+waitpid, plus a leaf
// per child made before the spawn, and at the stop the leaf's removal (whose
// success says nothing of the child is left). Against it, what otpd adds
// above the kernel's share of containment shows.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace otpd::bench {

struct LeafFloor {
  double start_s = 0;
  double stop_s = 0;
  // The part of stop_s spent in the leaves' rmdir: the rest is the
  // children's exit (slower in a leaf than outside one) and the waits.
  double stop_rmdir_s = 0;
  std::size_t spawned = 0;
  std::string skipped;  // why it was not measured (no writable cgroup v2), or empty
};

// Starts `n` children running `args` in leaves under this process's own
// cgroup v2, then stops them newest first. Every child it started is ended
// and every leaf removed, whatever fails.
LeafFloor run_leaf_floor(long long n, const std::vector<std::string>& args);

}  // namespace otpd::bench
