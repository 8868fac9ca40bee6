// The engine's Host on a Boost.Asio io_context: real time, steady_timers and
// post(). Asio stays out of this header because it is costly to compile.
#pragma once

#include "supervise/host.hpp"

namespace boost::asio {
class io_context;
}

namespace otpd::on_asio {

// All calls, and the destruction of timer handles, happen on the thread that
// runs the io_context.
class AsioHost : public supervise::Host {
 public:
  explicit AsioHost(boost::asio::io_context& io) : io_(io) {}

  supervise::TimePoint now() const override;
  [[nodiscard]] std::unique_ptr<supervise::TimerHandle> start_timer(
      supervise::Duration delay, std::function<void()> fn) override;
  void post(std::function<void()> fn) override;

 private:
  boost::asio::io_context& io_;
};

}  // namespace otpd::on_asio
