#include "http_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <stdexcept>

namespace otpd::http_test {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool send_all(int fd, const std::string& data, Clock::time_point deadline) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, remaining_ms(deadline)) <= 0) return false;
      continue;
    }
    return false;
  }
  return true;
}

}  // namespace

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw std::runtime_error("no free port");
  }
  const int port = ntohs(address.sin_port);
  ::close(fd);
  return port;
}

int connect_to(const Endpoint& endpoint, Ms timeout, int receive_buffer) {
  const bool unix_socket = !endpoint.socket_path.empty();
  const int fd =
      ::socket(unix_socket ? AF_UNIX : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  if (receive_buffer > 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  }
  int result;
  if (unix_socket) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, endpoint.socket_path.c_str(), sizeof address.sun_path - 1);
    result = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  } else {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(endpoint.port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    result = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  }
  if (result != 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    int error = 0;
    socklen_t length = sizeof error;
    if (::poll(&p, 1, static_cast<int>(timeout.count())) == 1 &&
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0) {
      result = 0;
    }
  }
  if (result != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

Reply read_reply(int fd, Ms timeout) {
  const auto deadline = Clock::now() + timeout;
  Reply reply;
  std::string data;
  std::size_t header_end = std::string::npos;
  std::size_t wanted = std::string::npos;  // total bytes, once known
  char buffer[65536];
  for (;;) {
    if (header_end == std::string::npos) {
      header_end = data.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        const std::string head = data.substr(0, header_end);
        if (head.rfind("HTTP/1.", 0) == 0 && head.size() > 12) {
          reply.status = std::atoi(head.c_str() + 9);
        }
        std::size_t line = head.find("\r\n");
        while (line != std::string::npos) {
          const std::size_t next = head.find("\r\n", line + 2);
          const std::string text = head.substr(
              line + 2, next == std::string::npos ? std::string::npos : next - line - 2);
          const auto colon = text.find(':');
          if (colon != std::string::npos) {
            std::string value = text.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.erase(0, 1);
            reply.headers[lower(text.substr(0, colon))] = value;
          }
          line = next;
        }
        const auto length = reply.headers.find("content-length");
        if (length != reply.headers.end()) {
          wanted = header_end + 4 + std::stoul(length->second);
        }
      }
    }
    if (wanted != std::string::npos && data.size() >= wanted) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) {
      reply.error = "timed out";
      if (header_end == std::string::npos) reply.status = 0;
      break;
    }
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n > 0) {
      data.append(buffer, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (header_end == std::string::npos) {
      reply.error = n == 0 ? "closed without an answer" : std::strerror(errno);
    }
    break;
  }
  if (header_end != std::string::npos) {
    reply.body = data.substr(
        header_end + 4, wanted == std::string::npos ? std::string::npos : wanted - header_end - 4);
  }
  return reply;
}

Reply exchange(const Endpoint& endpoint, const std::string& raw, Ms timeout) {
  const auto deadline = Clock::now() + timeout;
  const int fd = connect_to(endpoint, timeout);
  if (fd < 0) return {.error = "cannot connect"};
  Reply reply;
  if (!send_all(fd, raw, deadline)) {
    reply.error = "cannot send";
  } else {
    reply = read_reply(fd, Ms(remaining_ms(deadline)));
  }
  ::close(fd);
  return reply;
}

Reply request(const Endpoint& endpoint, const std::string& method, const std::string& target,
              const std::vector<std::string>& headers, const std::string& body, Ms timeout) {
  std::string raw = method + " " + target + " HTTP/1.1\r\n";
  bool has_host = false;
  for (const std::string& header : headers) {
    has_host = has_host || lower(header).rfind("host:", 0) == 0;
    raw += header + "\r\n";
  }
  if (!has_host) raw += "Host: 127.0.0.1:" + std::to_string(endpoint.port) + "\r\n";
  raw += "Connection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return exchange(endpoint, raw, timeout);
}

}  // namespace otpd::http_test
