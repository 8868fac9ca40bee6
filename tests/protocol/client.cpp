#include "client.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

namespace otpd::pt {

Client::Client(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) return;
  std::memcpy(address.sun_path, path.data(), path.size());
  fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  if (connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

Client::~Client() {
  close();
}

Client::Client(Client&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), buffer_(std::move(other.buffer_)), eof_(other.eof_) {}

void Client::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void Client::send(std::string_view bytes) {
  while (!bytes.empty() && fd_ >= 0) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

bool Client::fill() {
  if (fd_ < 0 || eof_) return false;
  char chunk[65536];
  const ssize_t n = recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    eof_ = true;
    return false;
  }
  if (n < 0) return false;
  buffer_.append(chunk, static_cast<std::size_t>(n));
  return true;
}

std::optional<std::string> Client::line(it::Otpd& otpd, Ms timeout) {
  std::optional<std::string> result;
  otpd.wait_for(
      [&] {
        for (;;) {
          const auto newline = buffer_.find('\n');
          if (newline != std::string::npos) {
            result = buffer_.substr(0, newline);
            buffer_.erase(0, newline + 1);
            return true;
          }
          if (!fill()) return eof_;
        }
      },
      timeout);
  return result;
}

std::optional<nlohmann::json> Client::reply(it::Otpd& otpd, Ms timeout) {
  const auto text = line(otpd, timeout);
  if (!text) return std::nullopt;
  return nlohmann::json::parse(*text, nullptr, false);
}

nlohmann::json Client::call(it::Otpd& otpd, const nlohmann::json& request) {
  send_line(request);
  return reply(otpd).value_or(nlohmann::json());
}

bool Client::read_to_eof(it::Otpd& otpd, Ms timeout) {
  return otpd.wait_for(
      [&] {
        while (fill()) {
        }
        return eof_;
      },
      timeout);
}

it::Otpd start_otpd(const it::Sandbox& box, std::string_view yaml) {
  it::Options options;
  options.env.push_back("OTPD_SOCKET=" + socket_in(box));
  it::Otpd otpd = it::Otpd::run(box, yaml, options);
  otpd.wait_message("tree started");
  return otpd;
}

int as_user(uid_t uid, gid_t gid, const std::function<int()>& body) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0) _exit(99);
    _exit(body());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

int open_fds(pid_t pid) {
  std::error_code error;
  int count = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    ++count;
  }
  return count;
}

}  // namespace otpd::pt
