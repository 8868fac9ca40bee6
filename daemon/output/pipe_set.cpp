#include "output/pipe_set.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <system_error>

namespace otpd::output {
namespace {

namespace asio = boost::asio;

// Pipes told per round; more wait for the next round.
constexpr int kPerRound = 64;

int make_epoll() {
  const int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  return fd;
}

}  // namespace

struct PipeSet::Impl : std::enable_shared_from_this<Impl> {
  explicit Impl(asio::io_context& io) : io(io), set(io, make_epoll()) {}

  // Handlers hold only a weak reference: a round queued when the set goes
  // finds nothing.
  void wait() {
    if (waiting) return;
    waiting = true;
    set.async_wait(asio::posix::descriptor_base::wait_read,
                   [weak = weak_from_this()](const boost::system::error_code& error) {
                     auto self = weak.lock();
                     if (!self || error) return;
                     self->waiting = false;
                     self->round();
                   });
  }

  void round() {
    std::array<epoll_event, kPerRound> events{};
    int ready;
    while ((ready = epoll_wait(set.native_handle(), events.data(), kPerRound, 0)) < 0 &&
           errno == EINTR) {
    }
    if (ready <= 0) {
      wait();
      return;
    }
    for (int i = 0; i < ready; ++i) static_cast<Pipe*>(events[i].data.ptr)->readable();
    // Whatever is still ready (a pipe with more than one chunk, pipes
    // beyond this round's share) is read in the next round, after the
    // loop's other work. The set's pipes are level-triggered: when fewer
    // than a round's share were ready, re-arming the wait reports any that
    // still are, without a look that usually finds none.
    if (ready < kPerRound) {
      wait();
      return;
    }
    asio::post(io, [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->round();
    });
  }

  asio::io_context& io;
  asio::posix::stream_descriptor set;  // closes the epoll set
  bool waiting = false;
};

PipeSet::PipeSet(asio::io_context& io) : impl_(std::make_shared<Impl>(io)) {}

PipeSet::~PipeSet() {
  boost::system::error_code ignored;
  impl_->set.close(ignored);
}

bool PipeSet::add(int fd, Pipe& pipe) {
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.ptr = &pipe;
  if (epoll_ctl(impl_->set.native_handle(), EPOLL_CTL_ADD, fd, &event) != 0) return false;
  // A pipe may hold data already: the next round looks.
  impl_->wait();
  return true;
}

void PipeSet::remove(int fd) {
  epoll_ctl(impl_->set.native_handle(), EPOLL_CTL_DEL, fd, nullptr);
}

}  // namespace otpd::output
