// The HTTP listener (docs/http.md): accepts on a TCP address or a Unix
// socket, on the supervision loop, and serves each connection with bounds
// on everything a client can make otpd hold: the request's size, the time
// it takes to arrive, the connections open, the bytes waiting to be sent.
// It never touches the control socket's descriptor reserve: it stops
// accepting while descriptors are short, answering 503 rather than taking
// the last ones.
#pragma once

#include <memory>
#include <string>

#include "config/spec.hpp"
#include "control/event_hub.hpp"
#include "http/metrics.hpp"
#include "http/routes.hpp"
#include "log/event_log.hpp"

namespace boost::asio {
class io_context;
}

namespace otpd::http {

class PageFeed;

class HttpServer {
 public:
  // Bounds a client cannot move (docs/http.md, "Limits").
  static constexpr std::size_t kMaxStreamQueue = 256 * 1024;
  static constexpr std::size_t kMaxBytesInFlight = 64 * 1024 * 1024;
  // Descriptors left free for everything else otpd opens (children's pipes,
  // control clients, log files): the listener stops short of them.
  static constexpr int kDescriptorHeadroom = 64;

  // Binds and listens, before the tree starts (a port in use stops otpd
  // there); the listening descriptor, or -1 and `error`.
  static int listen(const config::HttpSpec& spec, std::string& error);
  // Serves connections on `fd`, from listen().
  static std::unique_ptr<HttpServer> serve(boost::asio::io_context& io, int fd,
                                           const config::HttpSpec& spec, Site& site, PageFeed& feed,
                                           log::EventLog& log);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  HttpFigures figures() const;
  // Counts since otpd started, from the listener this one replaces.
  void carry_counts(const HttpFigures& before);
  // A reload's limits and host names, for the same address.
  void update(const config::HttpSpec& spec);
  // "http://127.0.0.1:9100/" or the socket's path, for the log.
  std::string where() const;

  struct Impl;

 private:
  explicit HttpServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace otpd::http
