// The same children under runit, for comparison: a runsvdir over one
// service directory per child, whose `run` is the idle child itself, so no
// shell sits between runsv and the child.
#pragma once

#include <cstdint>
#include <string>

namespace otpd::bench {

struct RunitFigures {
  double start_s = 0;  // runsvdir's exec → every child has reached main
  double stop_s = 0;   // SIGHUP to runsvdir → runsvdir, every runsv and child gone
  std::size_t started = 0;
  std::string failure;  // empty when the run was clean
};

// runsvdir supervises at most this many services (runit's MAXSERVICES).
constexpr long long kRunsvdirMaxServices = 1000;

// Starts `children` copies of `idle_child` under `runsvdir` in a directory
// made under `scratch`, waits until each has started (the child writes a
// byte on the descriptor named by OTPD_BENCH_READY_FD), then stops them all
// with runsvdir's SIGHUP (a TERM to each runsv, which stops its child and
// exits). Everything it started is ended, by pid, whatever happens.
RunitFigures run_runit(long long children, const std::string& runsvdir,
                       const std::string& idle_child, const std::string& scratch, int timeout_s);

}  // namespace otpd::bench
