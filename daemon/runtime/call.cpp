#include "runtime/call.hpp"

#include <atomic>

namespace otpd::runtime {

std::uint64_t next_call_id() {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace otpd::runtime
