#include "runtime/call.hpp"

#include <atomic>
#include <stdexcept>

namespace otpd::runtime {

std::uint64_t next_call_id() {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

std::string what_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

Process& calling_process(const char* what) {
  Process* caller = Process::current();
  if (caller == nullptr) {
    throw std::logic_error(std::string(what) +
                           " acts for the calling process: call it from a handler (see its "
                           "header for the form that takes a pid or a scheduler)");
  }
  return *caller;
}

}  // namespace otpd::runtime
