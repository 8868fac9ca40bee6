#include "http/server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <unordered_set>

#include "http/page_feed.hpp"
#include "http/request_parse.hpp"

namespace otpd::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Socket = asio::generic::stream_protocol::socket;

// A request must arrive whole within this time of its first byte being
// awaited (slow clients: one byte a second gets nowhere), and an idle
// keep-alive connection is closed after the same time.
constexpr std::chrono::seconds kRequestTime{10};
// An answer must be taken by the client within this time.
constexpr std::chrono::seconds kWriteTime{10};
constexpr int kAcceptsPerRound = 64;
// The kernel's send buffer of an event stream, on top of kMaxStreamQueue.
constexpr std::size_t kStreamSendBuffer = 64 * 1024;
// How long, and how much, a closing connection's late input is read.
constexpr std::chrono::seconds kLingerTime{2};
constexpr std::size_t kMaxLingerBytes = 1024 * 1024;
constexpr std::chrono::milliseconds kFirstPause{50};
constexpr std::chrono::milliseconds kLongestPause{1600};

std::string canned(unsigned status, std::string_view reason, std::string_view text) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
                    "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
                    std::to_string(text.size()) + "\r\nConnection: close\r\nRetry-After: 1\r\n\r\n";
  out += text;
  return out;
}

int open_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 1 << 20;
  return static_cast<int>(std::min<rlim_t>(limit.rlim_cur, 1 << 30));
}

}  // namespace

class HttpSession;

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::io_context& io, int fd, const config::HttpSpec& spec, Site& site, PageFeed& feed,
       log::EventLog& log)
      : io(io),
        listener(io, fd),
        pause(io),
        spec(spec),
        site(site),
        feed(feed),
        log(log),
        family(spec.unix_socket()                         ? AF_UNIX
               : spec.host.find(':') != std::string::npos ? AF_INET6
                                                          : AF_INET) {
    policy.allowed_hosts = spec.allowed_hosts;
    policy.check_host = !spec.unix_socket();
  }

  void wait_for_clients();
  void accept_waiting();
  void admit(int fd);
  void refuse_busy(int fd, std::string_view why);
  void back_off(int error);
  void close_all();

  asio::io_context& io;
  asio::posix::stream_descriptor listener;
  asio::steady_timer pause;
  std::chrono::milliseconds pause_length = kFirstPause;
  bool backing_off = false;
  bool closed = false;
  config::HttpSpec spec;
  Site& site;
  PageFeed& feed;
  log::EventLog& log;
  int family;
  RoutePolicy policy;
  std::unordered_set<HttpSession*> sessions;
  HttpFigures figures;
  std::size_t bytes_in_flight = 0;
  std::uint64_t busy_logged_at = 0;  // figures.refused_busy when last logged
};

class HttpSession final : public std::enable_shared_from_this<HttpSession>, public StreamReader {
 public:
  HttpSession(std::shared_ptr<HttpServer::Impl> server, Socket socket)
      : server_(std::move(server)), socket_(std::move(socket)), deadline_(server_->io) {
    server_->sessions.insert(this);
    ++server_->figures.connections;
  }

  ~HttpSession() override {
    release_in_flight();
    if (!server_->closed) {
      server_->sessions.erase(this);
      if (streaming_) server_->feed.leave(*this);
    }
    --server_->figures.connections;
  }

  void start() { read_request(); }

  void close() {
    if (closed_) return;
    closed_ = true;
    if (streaming_ && !server_->closed) server_->feed.leave(*this);
    streaming_ = false;
    deadline_.cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

  void send(std::string_view messages) override {
    if (closed_) return;
    if (stream_out_.size() + stream_sending_.size() + messages.size() >
        HttpServer::kMaxStreamQueue) {
      // The page reconnects by itself and gets the whole tree again.
      ++server_->figures.streams_dropped;
      close();
      return;
    }
    stream_out_.append(messages);
    // Written after the handlers already queued: the events of a restart
    // come a few turns of the loop apart, and each write costs the reader
    // and otpd a trip through TCP.
    if (flush_posted_ || writing_) return;
    flush_posted_ = true;
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      self->flush_posted_ = false;
      self->flush_stream();
    });
  }

 private:
  void read_request() {
    parser_.emplace();
    limit(*parser_);
    budget_ = {};
    arm(kRequestTime, [this] { request_timed_out(); });
    read_some();
  }

  // Parses what has arrived, one put at a time so that the header's size
  // is counted as a whole (HeaderBudget), and reads more while the request
  // is incomplete.
  void read_some() {
    while (buffer_.size() > 0 && !parser_->is_done()) {
      budget_.before_read(*parser_);
      beast::error_code error;
      const std::size_t used = parser_->put(buffer_.data(), error);
      budget_.after_read(*parser_, used);
      buffer_.consume(used);
      if (error == bhttp::error::need_more) {
        if (used == 0) break;
        continue;
      }
      if (error) {
        on_read(error);
        return;
      }
    }
    if (parser_->is_done()) {
      on_read({});
      return;
    }
    const std::size_t room = std::min<std::size_t>(4096, buffer_.max_size() - buffer_.size());
    if (room == 0) {
      on_read(bhttp::error::buffer_overflow);
      return;
    }
    socket_.async_read_some(
        buffer_.prepare(room),
        [self = shared_from_this()](const boost::system::error_code& error, std::size_t bytes) {
          if (self->closed_ || self->timed_out_) return;
          self->buffer_.commit(bytes);
          if (error) {
            // A client that leaves mid-request sent a partial one.
            const bool partial = error == asio::error::eof && self->parser_->got_some();
            self->on_read(partial ? beast::error_code(bhttp::error::partial_message) : error);
            return;
          }
          self->read_some();
        });
  }

  template <typename Fn>
  void arm(std::chrono::seconds time, Fn fn) {
    deadline_.expires_after(time);
    deadline_.async_wait([weak = weak_from_this(), fn](const boost::system::error_code& error) {
      if (error) return;
      if (auto self = weak.lock()) fn();
    });
  }

  void request_timed_out() {
    if (closed_ || answering_) return;
    // The read under way ends with operation_aborted, which on_read ignores.
    timed_out_ = true;
    boost::system::error_code ignored;
    socket_.cancel(ignored);
    if (parser_ && parser_->got_some()) {
      ++server_->figures.refused_timeout;
      refuse(plain(
          408, "the request did not arrive within " + std::to_string(kRequestTime.count()) + " s"));
      return;
    }
    close();  // an idle keep-alive connection
  }

  void on_read(beast::error_code error) {
    if (closed_ || timed_out_) return;
    if (error) {
      auto refusal = refusal_for(error);
      if (!refusal) {
        close();
        return;
      }
      ++server_->figures.refused_invalid;
      refuse(std::move(*refusal));
      return;
    }
    answering_ = true;
    deadline_.cancel();
    keep_alive_ = parser_->get().keep_alive();
    version_ = parser_->get().version() == 10 ? 10 : 11;
    std::optional<HttpResponse> refusal;
    request_ = request_of(*parser_, refusal);
    ++server_->figures.requests;
    if (refusal) {
      ++server_->figures.refused_invalid;
      refuse(std::move(*refusal));
      return;
    }
    // The answer may come later (a probe, an action), when nothing else
    // holds the session: the callback does until then.
    route(
        request_, server_->site, server_->policy,
        [self = shared_from_this()](HttpResponse response) { self->answer(std::move(response)); });
  }

  // A refusal ends the connection: what follows the bad part cannot be read.
  void refuse(HttpResponse response) {
    keep_alive_ = false;
    answering_ = true;
    version_ = 11;
    request_.method.clear();
    answer(std::move(response));
  }

  void answer(HttpResponse response) {
    if (closed_) return;
    if (response.event_stream) {
      start_stream(response);
      return;
    }
    const bool head = request_.method == "HEAD";
    if (!head && server_->bytes_in_flight + response.body.size() > HttpServer::kMaxBytesInFlight) {
      ++server_->figures.refused_busy;
      response = plain(503, "otpd has too many answers waiting to be read; try again");
      keep_alive_ = false;
    }
    auto out = std::make_shared<bhttp::response<bhttp::string_body>>();
    out->version(version_);
    out->result(response.status);
    out->set(bhttp::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) out->set(name, value);
    out->keep_alive(keep_alive_);
    const std::size_t length = response.body.size();
    if (!head) out->body() = std::move(response.body);
    out->content_length(length);
    in_flight_ = head ? 0 : length;
    server_->bytes_in_flight += in_flight_;
    arm(kWriteTime, [this] { close(); });
    bhttp::async_write(socket_, *out,
                       [self = shared_from_this(), out](beast::error_code error, std::size_t) {
                         self->on_written(error);
                       });
  }

  void release_in_flight() {
    server_->bytes_in_flight -= in_flight_;
    in_flight_ = 0;
  }

  void on_written(beast::error_code error) {
    release_in_flight();
    answering_ = false;
    if (closed_) return;
    if (error) {
      close();
      return;
    }
    if (!keep_alive_) {
      linger();
      return;
    }
    read_request();
  }

  // Closing a socket with unread input makes the kernel send a reset,
  // which can destroy the answer before the client reads it (a 413 for a
  // body the client is still sending). So the sending side is shut, and
  // what still arrives is read and dropped until the client closes, up to
  // a bound in bytes and time.
  void linger() {
    boost::system::error_code ignored;
    socket_.shutdown(asio::socket_base::shutdown_send, ignored);
    arm(kLingerTime, [this] { close(); });
    discard_more();
  }

  void discard_more() {
    socket_.async_read_some(
        asio::buffer(discard_.data(), discard_.size()),
        [self = shared_from_this()](const boost::system::error_code& error, std::size_t bytes) {
          self->discarded_ += bytes;
          if (error || self->discarded_ > kMaxLingerBytes) {
            self->close();
            return;
          }
          self->discard_more();
        });
  }

  void start_stream(const HttpResponse& response) {
    deadline_.cancel();
    // What the kernel holds for a reader that does not read counts too.
    const int send_buffer = static_cast<int>(kStreamSendBuffer);
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof send_buffer);
    std::string head = "HTTP/1.1 200 OK\r\nContent-Type: " + response.content_type + "\r\n";
    for (const auto& [name, value] : response.headers) head += name + ": " + value + "\r\n";
    head += "Connection: close\r\n\r\n";
    // The browser retries 1 s after a lost connection.
    head += "retry: 1000\n\n";
    stream_out_ = std::move(head);
    streaming_ = true;
    server_->feed.join(*this);
    flush_stream();
    watch_hangup();
  }

  // A page says nothing more once it follows the stream; reading tells
  // when it goes away, so that its descriptor is let go at once rather than
  // at the next event. Whatever it sends is dropped.
  void watch_hangup() {
    socket_.async_read_some(
        asio::buffer(discard_.data(), discard_.size()),
        [self = shared_from_this()](const boost::system::error_code& error, std::size_t) {
          if (error) {
            self->close();
            return;
          }
          self->watch_hangup();
        });
  }

  void flush_stream() {
    if (writing_ || closed_ || stream_out_.empty()) return;
    writing_ = true;
    stream_sending_.swap(stream_out_);
    stream_out_.clear();
    asio::async_write(
        socket_, asio::buffer(stream_sending_),
        [self = shared_from_this()](const boost::system::error_code& error, std::size_t) {
          self->writing_ = false;
          self->stream_sending_.clear();
          if (error) {
            self->close();
            return;
          }
          self->flush_stream();
        });
  }

  std::shared_ptr<HttpServer::Impl> server_;
  Socket socket_;
  asio::steady_timer deadline_;
  beast::flat_buffer buffer_{kMaxHeaderBytes + kMaxBodyBytes};
  std::optional<RequestParser> parser_;
  HeaderBudget budget_;
  HttpRequest request_;
  bool keep_alive_ = false;
  unsigned version_ = 11;
  bool answering_ = false;
  bool flush_posted_ = false;
  bool timed_out_ = false;
  bool closed_ = false;
  std::size_t in_flight_ = 0;
  bool streaming_ = false;
  bool writing_ = false;
  std::string stream_out_;
  std::string stream_sending_;
  std::array<char, 4096> discard_{};
  std::size_t discarded_ = 0;

  friend struct HttpServer::Impl;
};

void HttpServer::Impl::wait_for_clients() {
  listener.async_wait(asio::posix::stream_descriptor::wait_read,
                      [weak = weak_from_this()](const boost::system::error_code& error) {
                        auto self = weak.lock();
                        if (error || !self || self->closed) return;
                        self->accept_waiting();
                      });
}

// accept4 as the control socket does: close-on-exec from the first moment.
void HttpServer::Impl::accept_waiting() {
  for (int round = 0; round < kAcceptsPerRound; ++round) {
    const int fd =
        accept4(listener.native_handle(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0) {
      if (backing_off) log.info("http: accepting connections again");
      backing_off = false;
      pause_length = kFirstPause;
      admit(fd);
      continue;
    }
    const int error = errno;
    if (error == EINTR || error == ECONNABORTED) continue;
    if (error == EAGAIN || error == EWOULDBLOCK) break;
    back_off(error);
    return;
  }
  wait_for_clients();
}

void HttpServer::Impl::admit(int fd) {
  // Descriptors are handed out lowest first: a number this high means the
  // table is nearly full, and what is left belongs to the tree and the
  // control socket.
  if (fd >= open_limit() - kDescriptorHeadroom) {
    refuse_busy(fd, "otpd is short of file descriptors");
    return;
  }
  if (sessions.size() >= static_cast<std::size_t>(spec.max_connections)) {
    refuse_busy(fd, "otpd has as many HTTP connections open as http.max_connections allows");
    return;
  }
  if (family != AF_UNIX) {
    const int on = 1;
    // Events are small writes that must not wait for an ACK (Nagle).
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  }
  boost::system::error_code error;
  Socket socket(io);
  socket.assign(asio::generic::stream_protocol(family, family == AF_UNIX ? 0 : IPPROTO_TCP), fd,
                error);
  if (error) {
    ::close(fd);
    return;
  }
  std::make_shared<HttpSession>(shared_from_this(), std::move(socket))->start();
}

// Told at once, never kept waiting: one small answer fits any socket buffer.
void HttpServer::Impl::refuse_busy(int fd, std::string_view why) {
  const std::string answer = canned(503, "Service Unavailable", std::string(why) + "; try again\n");
  [[maybe_unused]] const ssize_t sent = ::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
  ::close(fd);
  // The first refusal of a burst is logged, then one line per 1000.
  if (figures.refused_busy++ == busy_logged_at) {
    log.warning("http: refused a connection with 503: " + std::string(why));
    busy_logged_at = figures.refused_busy + 999;
  }
}

void HttpServer::Impl::back_off(int error) {
  if (!backing_off) {
    log.warning(std::string("http: cannot accept connections: ") + std::strerror(error) +
                "; trying again");
    backing_off = true;
  }
  pause.expires_after(pause_length);
  pause_length = std::min(pause_length * 2, kLongestPause);
  pause.async_wait([weak = weak_from_this()](const boost::system::error_code& error) {
    auto self = weak.lock();
    if (error || !self || self->closed) return;
    self->wait_for_clients();
  });
}

void HttpServer::Impl::close_all() {
  // Before `closed` is set: the streams leave the page feed, which outlives
  // a listener that a reload replaced.
  const std::vector<HttpSession*> open(sessions.begin(), sessions.end());
  sessions.clear();
  for (HttpSession* session : open) session->close();
  closed = true;
  boost::system::error_code ignored;
  listener.close(ignored);
  pause.cancel();
  if (spec.unix_socket()) ::unlink(spec.listen.c_str());
}

namespace {

int listen_tcp(const config::HttpSpec& spec, std::string& error) {
  const bool v6 = spec.host.find(':') != std::string::npos;
  const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    error = std::string("cannot make a socket: ") + std::strerror(errno);
    return -1;
  }
  const int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_storage address{};
  socklen_t length = 0;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&address);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<std::uint16_t>(spec.port));
    inet_pton(AF_INET6, spec.host.c_str(), &a->sin6_addr);
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    length = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&address);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<std::uint16_t>(spec.port));
    inet_pton(AF_INET, spec.host.c_str(), &a->sin_addr);
    length = sizeof *a;
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0 || ::listen(fd, 128) != 0) {
    error = "cannot listen on " + spec.listen + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

// A socket file left by an otpd that died is replaced; one that someone
// answers on, or any other file, is not.
int listen_unix(const config::HttpSpec& spec, std::string& error) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, spec.listen.c_str(), spec.listen.size() + 1);
  struct stat existing {};
  if (::lstat(spec.listen.c_str(), &existing) == 0) {
    if (!S_ISSOCK(existing.st_mode)) {
      error = "cannot listen on " + spec.listen + ": a file that is not a socket is there";
      return -1;
    }
    const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const bool answered =
        probe >= 0 && ::connect(probe, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    if (probe >= 0) ::close(probe);
    if (answered) {
      error = "cannot listen on " + spec.listen + ": another process listens there";
      return -1;
    }
    ::unlink(spec.listen.c_str());
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    error = std::string("cannot make a socket: ") + std::strerror(errno);
    return -1;
  }
  // Owner and group: a proxy in otpd's group may connect, nobody else.
  const mode_t old_mask = ::umask(0117);
  const int bound = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  const int bind_errno = errno;
  ::umask(old_mask);
  if (bound != 0 || ::listen(fd, 128) != 0) {
    error =
        "cannot listen on " + spec.listen + ": " + std::strerror(bound != 0 ? bind_errno : errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

int HttpServer::listen(const config::HttpSpec& spec, std::string& error) {
  return spec.unix_socket() ? listen_unix(spec, error) : listen_tcp(spec, error);
}

std::unique_ptr<HttpServer> HttpServer::serve(asio::io_context& io, int fd,
                                              const config::HttpSpec& spec, Site& site,
                                              PageFeed& feed, log::EventLog& log) {
  auto impl = std::make_shared<Impl>(io, fd, spec, site, feed, log);
  impl->wait_for_clients();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  impl_->close_all();
}

HttpFigures HttpServer::figures() const {
  return impl_->figures;
}

void HttpServer::carry_counts(const HttpFigures& before) {
  impl_->figures.requests += before.requests;
  impl_->figures.refused_busy += before.refused_busy;
  impl_->figures.refused_timeout += before.refused_timeout;
  impl_->figures.refused_invalid += before.refused_invalid;
  impl_->figures.streams_dropped += before.streams_dropped;
}

void HttpServer::update(const config::HttpSpec& spec) {
  // Connections past a lowered max_connections stay; new ones wait for room.
  impl_->spec.max_connections = spec.max_connections;
  impl_->spec.allowed_hosts = spec.allowed_hosts;
  impl_->spec.admin_token_file = spec.admin_token_file;
  impl_->policy.allowed_hosts = spec.allowed_hosts;
}

std::string HttpServer::where() const {
  if (impl_->spec.unix_socket()) return impl_->spec.listen;
  return "http://" + impl_->spec.listen + "/";
}

}  // namespace otpd::http
