#include "supervise/node.hpp"

namespace otpd::supervise {

void Node::escalate_stop(const config::Shutdown& shutdown, const std::function<void()>& ask,
                         const char* killing) {
  if (!shutdown.asks()) {
    kill();
    return;
  }
  ask();
  const auto after = shutdown.kill_after();
  if (!after) return;
  kill_timer_ = context_.host.start_timer(*after, [this, after, killing] {
    emit({.kind = EventKind::stopping,
          .pid = pid(),
          .reason =
              "shutdown timeout of " + config::format_duration(*after) + " ran out, " + killing});
    kill();
  });
}

}  // namespace otpd::supervise
