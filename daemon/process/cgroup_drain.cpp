#include "process/cgroup_drain.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <map>
#include <optional>

#include "process/cgroup_fs.hpp"

namespace otpd::process {

namespace asio = boost::asio;

namespace {

// Without inotify: how often an emptying cgroup is looked at.
constexpr std::chrono::milliseconds kPollInterval{5};

bool emptied(const std::string& dir) {
  int error = 0;
  const auto text = cgroupfs::read_record(dir + "/cgroup.events", &error);
  if (!text) return error == ENOENT;  // the cgroup has gone
  return cgroupfs::keyed_value(*text, "populated").value_or(1) == 0;
}

}  // namespace

struct CgroupDrain::Impl : std::enable_shared_from_this<Impl> {
  struct Waiter {
    std::string dir;
    int wd = -1;  // inotify watch, -1 when polled
    std::function<void(bool)> done;
    std::unique_ptr<asio::steady_timer> deadline;
    std::unique_ptr<asio::steady_timer> poll;
  };

  explicit Impl(asio::io_context& io) : io(io) {}

  ~Impl() {
    if (events) {
      boost::system::error_code ignored;
      events->close(ignored);
    }
  }

  void open_inotify() {
    const int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) return;  // polled instead
    events = std::make_unique<asio::posix::stream_descriptor>(io, fd);
  }

  void read_events() {
    events->async_wait(asio::posix::descriptor_base::wait_read,
                       [weak = weak_from_this()](const boost::system::error_code& ec) {
                         auto self = weak.lock();
                         if (!self || ec) return;
                         self->drain_events();
                         if (!self->waiters.empty())
                           self->read_events();
                         else
                           self->reading = false;
                       });
  }

  void drain_events() {
    alignas(inotify_event) char buffer[4096];
    for (;;) {
      const ssize_t n = read(events->native_handle(), buffer, sizeof buffer);
      if (n <= 0) break;
    }
    // Which watch fired matters little: few cgroups empty at once, and each
    // check is one read of a small file.
    check_all();
  }

  void check_all() {
    std::vector<std::uint64_t> done;
    for (const auto& [id, waiter] : waiters) {
      if (emptied(waiter.dir)) done.push_back(id);
    }
    for (std::uint64_t id : done) finish(id, true);
  }

  void finish(std::uint64_t id, bool empty) {
    auto found = waiters.find(id);
    if (found == waiters.end()) return;
    Waiter waiter = std::move(found->second);
    waiters.erase(found);
    if (waiter.wd >= 0 && events) {
      bool shared = false;
      for (const auto& [other_id, other] : waiters) shared = shared || other.wd == waiter.wd;
      if (!shared) inotify_rm_watch(events->native_handle(), waiter.wd);
    }
    waiter.deadline.reset();
    waiter.poll.reset();
    asio::post(io, [done = std::move(waiter.done), empty] { done(empty); });
  }

  void poll_later(std::uint64_t id) {
    auto found = waiters.find(id);
    if (found == waiters.end()) return;
    Waiter& waiter = found->second;
    if (!waiter.poll) waiter.poll = std::make_unique<asio::steady_timer>(io);
    waiter.poll->expires_after(kPollInterval);
    waiter.poll->async_wait([weak = weak_from_this(), id](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (!self || ec) return;
      auto found = self->waiters.find(id);
      if (found == self->waiters.end()) return;
      if (emptied(found->second.dir)) {
        self->finish(id, true);
      } else {
        self->poll_later(id);
      }
    });
  }

  asio::io_context& io;
  std::unique_ptr<asio::steady_timer> later;
  bool later_pending = false;
  std::unique_ptr<asio::posix::stream_descriptor> events;
  bool reading = false;
  std::uint64_t next_id = 1;
  std::map<std::uint64_t, Waiter> waiters;
};

CgroupDrain::CgroupDrain(asio::io_context& io) : impl_(std::make_shared<Impl>(io)) {
  impl_->open_inotify();
}

CgroupDrain::~CgroupDrain() {
  impl_->waiters.clear();
  impl_->later.reset();
}

void CgroupDrain::wait(const std::string& dir, std::chrono::milliseconds patience,
                       std::function<void(bool)> done) {
  const std::uint64_t id = impl_->next_id++;
  Impl::Waiter waiter;
  waiter.dir = dir;
  waiter.done = std::move(done);
  // The watch first, then the look: a change in between is not missed.
  if (impl_->events) {
    waiter.wd = inotify_add_watch(impl_->events->native_handle(), (dir + "/cgroup.events").c_str(),
                                  IN_MODIFY);
  }
  waiter.deadline = std::make_unique<asio::steady_timer>(impl_->io, patience);
  waiter.deadline->async_wait(
      [weak = std::weak_ptr<Impl>(impl_), id](const boost::system::error_code& ec) {
        auto self = weak.lock();
        if (!self || ec) return;
        self->finish(id, false);
      });
  const bool polled = waiter.wd < 0;
  impl_->waiters.emplace(id, std::move(waiter));
  if (emptied(dir)) {
    impl_->finish(id, true);
    return;
  }
  if (polled) {
    impl_->poll_later(id);
  } else if (!impl_->reading) {
    impl_->reading = true;
    impl_->read_events();
  }
}

std::size_t CgroupDrain::waiting() const {
  return impl_->waiters.size();
}

void CgroupDrain::later(std::chrono::milliseconds delay, std::function<void()> fn) {
  if (impl_->later_pending) return;
  if (!impl_->later) impl_->later = std::make_unique<asio::steady_timer>(impl_->io);
  impl_->later_pending = true;
  impl_->later->expires_after(delay);
  impl_->later->async_wait(
      [weak = std::weak_ptr<Impl>(impl_), fn = std::move(fn)](const boost::system::error_code& ec) {
        auto self = weak.lock();
        if (!self || ec) return;
        self->later_pending = false;
        fn();
      });
}

void CgroupDrain::soon(std::function<void()> fn) {
  asio::post(impl_->io, [weak = std::weak_ptr<Impl>(impl_), fn = std::move(fn)] {
    if (weak.lock()) fn();
  });
}

}  // namespace otpd::process
