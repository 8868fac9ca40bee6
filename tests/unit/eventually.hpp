// For tests on real threads: whether a condition comes true within a bound,
// for what no event announces (a process that has finished ending).
#pragma once

#include <chrono>
#include <thread>

namespace otpd::test {

template <typename Done>
bool eventually(Done done, std::chrono::milliseconds bound = std::chrono::seconds(5)) {
  const auto until = std::chrono::steady_clock::now() + bound;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace otpd::test
