#include "runtime/exit_reason.hpp"

namespace otpd::runtime {

std::string ExitReason::text() const {
  switch (kind_) {
    case Kind::normal:
      return "normal";
    case Kind::shutdown:
      return detail_.empty() ? "shutdown" : "{shutdown, " + detail_ + "}";
    case Kind::killed:
      return "killed";
    case Kind::error:
      return "error: " + detail_;
  }
  return "unknown";
}

}  // namespace otpd::runtime
