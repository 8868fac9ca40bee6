#include "cli/connection.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>
#include <utility>

#include "cli/socket_path.hpp"

namespace otpd::ctl {
namespace {

std::string cannot_connect(const std::string& path, const std::string& why) {
  return "cannot connect to " + path + ": " + why +
         " (is otpd running? use --socket or OTPD_SOCKET)";
}

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// otpd runs and its socket is there, but closed to this user: say which of
// the socket and its directories is, and who may pass.
std::string permission_denied(const std::string& path) {
  const std::string who = "uid " + std::to_string(geteuid());
  std::string closed;
  struct stat st {};
  for (std::size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    const std::string dir = path.substr(0, slash);
    if (::stat(dir.c_str(), &st) == 0 && ::access(dir.c_str(), X_OK) != 0) {
      closed = "its directory " + dir + " (owner uid " + std::to_string(st.st_uid) + ", mode " +
               octal_mode(st.st_mode) + ") is closed to " + who;
      break;
    }
  }
  if (closed.empty() && ::stat(path.c_str(), &st) == 0) {
    closed = "the socket (owner uid " + std::to_string(st.st_uid) + ", group " +
             std::to_string(st.st_gid) + ", mode " + octal_mode(st.st_mode) + ") is closed to " +
             who;
  }
  if (closed.empty()) closed = "it is closed to " + who;
  return "cannot connect to " + path + ": Permission denied: " + closed +
         "; run otpctl as otpd's user or root, or as a member of the control.group or "
         "read_group otpd's config names";
}

}  // namespace

Connection Connection::open(const std::string& path, Deadline deadline) {
  if (path.size() > max_socket_path) {
    throw Unreachable(cannot_connect(path, "the path is longer than the " +
                                               std::to_string(max_socket_path) +
                                               " bytes a Unix socket address holds"));
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) throw Unreachable("cannot create a socket: " + std::string(std::strerror(errno)));
  Connection connection(fd, path);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  const auto* raw = reinterpret_cast<const sockaddr*>(&address);
  for (;;) {
    if (::connect(fd, raw, sizeof address) == 0) return connection;
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      // The listener's backlog is full: otpd is alive but busy. Unix sockets
      // offer nothing to poll for here, so look again shortly.
      if (deadline && Clock::now() >= *deadline) {
        throw Unreachable(cannot_connect(path, "otpd is not accepting connections"));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    if (errno == EINPROGRESS) {
      if (!connection.wait(POLLOUT, deadline)) {
        throw TimedOut(cannot_connect(path, "timed out"));
      }
      int error = 0;
      socklen_t size = sizeof error;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size);
      if (error == 0) return connection;
      errno = error;
    }
    if (errno == EACCES || errno == EPERM) throw Unreachable(permission_denied(path));
    throw Unreachable(cannot_connect(path, std::strerror(errno)));
  }
}

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

Connection::Connection(Connection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      buffer_(std::move(other.buffer_)) {}

bool Connection::wait(short events, Deadline deadline) {
  for (;;) {
    int timeout_ms = -1;
    if (deadline) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now()).count();
      if (left <= 0) return false;
      timeout_ms = left > 1'000'000'000 ? 1'000'000'000 : static_cast<int>(left);
    }
    pollfd entry{fd_, events, 0};
    const int ready = ::poll(&entry, 1, timeout_ms);
    if (ready > 0) return true;
    if (ready < 0 && errno != EINTR) {
      throw Unreachable("waiting for otpd at " + path_ + ": " + std::strerror(errno));
    }
  }
}

void Connection::send_line(const std::string& line, Deadline deadline) {
  const std::string framed = line + "\n";
  std::size_t sent = 0;
  while (sent < framed.size()) {
    const ssize_t n = ::send(fd_, framed.data() + sent, framed.size() - sent, MSG_NOSIGNAL);
    if (n >= 0) {
      sent += static_cast<std::size_t>(n);
    } else if (errno == EAGAIN) {
      if (!wait(POLLOUT, deadline)) {
        throw TimedOut("otpd at " + path_ + " is not reading requests");
      }
    } else if (errno == EPIPE || errno == ECONNRESET) {
      // otpd has closed the connection, perhaps after a line that says why
      // (a refused user, 'busy'): reading the reply finds it, or the end.
      return;
    } else if (errno != EINTR) {
      throw Unreachable("lost the connection to otpd at " + path_ + ": " + std::strerror(errno));
    }
  }
}

std::optional<std::string> Connection::read_line(Deadline deadline) {
  for (;;) {
    const std::size_t end = buffer_.find('\n');
    if (end != std::string::npos) {
      std::string line = buffer_.substr(0, end);
      buffer_.erase(0, end + 1);
      return line;
    }
    if (buffer_.size() > max_line) {
      throw Unreachable("otpd at " + path_ + " sent a line longer than " +
                        std::to_string(max_line >> 20) + " MiB");
    }
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
    } else if (n == 0) {
      if (buffer_.empty()) return std::nullopt;
      throw Unreachable("otpd at " + path_ + " closed the connection in the middle of a line");
    } else if (errno == EAGAIN) {
      if (!wait(POLLIN, deadline)) throw TimedOut("otpd at " + path_ + " did not answer in time");
    } else if (errno != EINTR) {
      throw Unreachable("lost the connection to otpd at " + path_ + ": " + std::strerror(errno));
    }
  }
}

}  // namespace otpd::ctl
