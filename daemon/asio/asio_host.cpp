#include "asio/asio_host.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace otpd::on_asio {
namespace {

namespace asio = boost::asio;

// Shared by the handle and the pending completion: cancelling an Asio timer
// does not stop a completion that is already queued, so the handle also
// clears `fn`, and the completion calls only what is still there.
struct PendingTimer {
  explicit PendingTimer(asio::io_context& io) : timer(io) {}
  asio::steady_timer timer;
  std::function<void()> fn;
};

class AsioTimerHandle : public supervise::TimerHandle {
 public:
  explicit AsioTimerHandle(std::shared_ptr<PendingTimer> pending) : pending_(std::move(pending)) {}
  ~AsioTimerHandle() override {
    pending_->fn = nullptr;
    pending_->timer.cancel();
  }

 private:
  std::shared_ptr<PendingTimer> pending_;
};

}  // namespace

supervise::TimePoint AsioHost::now() const {
  return supervise::Clock::now();
}

std::unique_ptr<supervise::TimerHandle> AsioHost::start_timer(supervise::Duration delay,
                                                              std::function<void()> fn) {
  auto pending = std::make_shared<PendingTimer>(io_);
  pending->fn = std::move(fn);
  pending->timer.expires_after(delay);
  pending->timer.async_wait([pending](const boost::system::error_code&) {
    // Moved out first: fn may destroy its own handle.
    std::function<void()> fn = std::move(pending->fn);
    pending->fn = nullptr;
    if (fn) fn();
  });
  return std::make_unique<AsioTimerHandle>(std::move(pending));
}

void AsioHost::post(std::function<void()> fn) {
  asio::post(io_, std::move(fn));
}

}  // namespace otpd::on_asio
