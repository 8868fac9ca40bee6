#include "config/worker_pool_reader.hpp"

#include <array>
#include <string_view>

namespace otpd::config {
namespace {

// More threads than this only adds contention: workers are small.
constexpr int kMaxThreads = 64;

constexpr std::array<std::string_view, 2> kKeys{"threads", "slow_handler"};

}  // namespace

WorkerPoolSpec read_worker_pool(const Field& field) {
  field.require_mapping("a mapping with threads and slow_handler");
  WorkerPoolSpec pool;
  for (const Field& entry : field.entries()) {
    const std::string key = entry.key();
    if (key == "threads") {
      pool.threads = static_cast<int>(entry.integer(1, kMaxThreads));
    } else if (key == "slow_handler") {
      pool.slow_handler = entry.duration();  // 0s turns the report off
    } else {
      fail_unknown_key(entry, {kKeys.begin(), kKeys.end()});
    }
  }
  return pool;
}

}  // namespace otpd::config
