#include "asio/notify_socket.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <vector>

namespace otpd::on_asio {
namespace asio = boost::asio;

namespace {

// sd_notify messages are short; a longer datagram is truncated by the
// kernel and dropped here.
constexpr std::size_t kMaxDatagram = 4096;
// Datagrams read per wake-up, so that a chatty child cannot hold the loop.
constexpr int kBatch = 64;
// Room for descriptors a child may send along (FDSTORE=1), which otpd
// does not keep: they are closed at once.
constexpr std::size_t kMaxPassedFds = 16;

}  // namespace

struct NotifySocket::Impl {
  explicit Impl(asio::io_context& io) : socket(io) {}
  asio::posix::stream_descriptor socket;
  std::unordered_map<int, std::shared_ptr<Listener>> listeners;  // by process group
  std::size_t* dropped = nullptr;

  void wait(std::weak_ptr<Impl> self) {
    socket.async_wait(asio::posix::stream_descriptor::wait_read,
                      [self](const boost::system::error_code& error) {
                        auto impl = self.lock();
                        if (!impl || error) return;
                        impl->read_batch();
                        impl->wait(self);
                      });
  }

  void read_batch() {
    std::vector<char> buffer(kMaxDatagram + 1);
    alignas(
        cmsghdr) char control[CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(int) * kMaxPassedFds)];
    for (int i = 0; i < kBatch; ++i) {
      iovec iov{buffer.data(), buffer.size()};
      msghdr message{};
      message.msg_iov = &iov;
      message.msg_iovlen = 1;
      message.msg_control = control;
      message.msg_controllen = sizeof control;
      const ssize_t n = recvmsg(socket.native_handle(), &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
      if (n < 0) return;  // EAGAIN: read all there was
      pid_t sender = 0;
      for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
        if (c->cmsg_level != SOL_SOCKET) continue;
        if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len == CMSG_LEN(sizeof(ucred))) {
          ucred credentials;
          std::memcpy(&credentials, CMSG_DATA(c), sizeof credentials);
          sender = credentials.pid;
        } else if (c->cmsg_type == SCM_RIGHTS) {
          const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
          for (std::size_t k = 0; k < count; ++k) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof fd);
            close(fd);
          }
        }
      }
      const bool truncated = (message.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 ||
                             static_cast<std::size_t>(n) > kMaxDatagram;
      if (sender <= 0 || truncated || !deliver(sender, std::string(buffer.data(), n))) {
        ++*dropped;
      }
    }
  }

  bool deliver(pid_t sender, const std::string& datagram) {
    auto found = listeners.find(sender);  // the leader itself, even once it is a zombie
    if (found == listeners.end()) {
      const pid_t group = getpgid(sender);
      if (group <= 0) return false;  // gone already: nobody can vouch for it
      found = listeners.find(group);
      if (found == listeners.end()) return false;
    }
    // A copy: the listener may end its own watch, which empties the original.
    const Listener listener = *found->second;
    if (listener) listener(datagram);
    return true;
  }
};

namespace {

class NotifyWatch final : public supervise::Watch {
 public:
  NotifyWatch(std::weak_ptr<NotifySocket::Impl> impl, int pgid,
              std::shared_ptr<NotifySocket::Listener> listener)
      : impl_(std::move(impl)), pgid_(pgid), listener_(std::move(listener)) {}
  ~NotifyWatch() override {
    *listener_ = nullptr;
    auto impl = impl_.lock();
    if (!impl) return;
    auto found = impl->listeners.find(pgid_);
    if (found != impl->listeners.end() && found->second == listener_) impl->listeners.erase(found);
  }

 private:
  std::weak_ptr<NotifySocket::Impl> impl_;
  int pgid_;
  std::shared_ptr<NotifySocket::Listener> listener_;
};

}  // namespace

NotifySocket::NotifySocket(asio::io_context& io) : impl_(std::make_shared<Impl>(io)) {
  impl_->dropped = &dropped_;
  const std::string name = "otpd/" + std::to_string(getpid()) + "/notify";
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    failure_ = std::string("cannot create the notify socket: ") + std::strerror(errno);
    return;
  }
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  // Abstract: a leading NUL, and the length says where the name ends.
  std::memcpy(address.sun_path + 1, name.data(), name.size());
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  const int on = 1;
  bool bound = setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) == 0 &&
               bind(fd, reinterpret_cast<const sockaddr*>(&address), length) == 0;
  std::string bound_name = name;
  if (!bound && errno == EADDRINUSE) {
    // Another otpd with the same pid in this network namespace (PID 1 of a
    // sibling PID namespace): let the kernel choose a free abstract name.
    const auto family_only = static_cast<socklen_t>(sizeof(sa_family_t));
    socklen_t size = sizeof address;
    bound = bind(fd, reinterpret_cast<const sockaddr*>(&address), family_only) == 0 &&
            getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0 &&
            size > offsetof(sockaddr_un, sun_path) + 1;
    if (bound) {
      bound_name.assign(address.sun_path + 1, size - offsetof(sockaddr_un, sun_path) - 1);
    }
  }
  if (!bound) {
    failure_ = "cannot bind the notify socket @" + name + ": " + std::strerror(errno);
    close(fd);
    return;
  }
  impl_->socket.assign(fd);
  address_ = "@" + bound_name;
  impl_->wait(impl_);
}

NotifySocket::~NotifySocket() {
  boost::system::error_code ignored;
  impl_->socket.close(ignored);
}

std::unique_ptr<supervise::Watch> NotifySocket::watch(int pgid, Listener fn) {
  if (address_.empty()) return nullptr;
  auto listener = std::make_shared<Listener>(std::move(fn));
  impl_->listeners[pgid] = listener;
  return std::make_unique<NotifyWatch>(impl_, pgid, std::move(listener));
}

}  // namespace otpd::on_asio
