// The HTTP listener as the config has it, at start and after each reload
// (docs/http.md, "Reload"): a reload that changes `http:` binds the new
// address before it lets the old one go, so that a port in use keeps the
// old listener (with a warning); it reads the admin token file again at
// every reload, and takes new limits and host names at once.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "config/spec.hpp"
#include "http/daemon_site.hpp"
#include "http/page_feed.hpp"
#include "http/server.hpp"
#include "log/event_log.hpp"

namespace otpd::http {

class HttpSide {
 public:
  HttpSide(boost::asio::io_context& io, DaemonSite& site, PageFeed& feed, log::EventLog& log);

  // At start: serves `spec` on `fd` (from HttpServer::listen; -1: no
  // listener), with the admin token otpd read (empty: none).
  void serve(int fd, const config::HttpSpec& spec, std::string token);

  // What a reload did with the section: what changed, for the reload's
  // answer ("http: listening on ... instead of ..."), empty when nothing
  // did; or why it changed nothing (the section as it was stays).
  struct Applied {
    std::string changed = {};
    std::optional<std::string> refused = {};
  };
  Applied apply(const config::HttpSpec& next);

  // The section as applied: what a reload's diff compares with.
  const config::HttpSpec& spec() const { return spec_; }
  // "http://127.0.0.1:9100/" or the socket's path; empty without a listener.
  std::string where() const;

 private:
  boost::asio::io_context& io_;
  DaemonSite& site_;
  PageFeed& feed_;
  log::EventLog& log_;
  config::HttpSpec spec_;
  std::unique_ptr<HttpServer> server_;
  std::string token_;
};

}  // namespace otpd::http
