#include "http/http_side.hpp"

namespace otpd::http {

HttpSide::HttpSide(boost::asio::io_context& io, DaemonSite& site, PageFeed& feed,
                   log::EventLog& log)
    : io_(io), site_(site), feed_(feed), log_(log) {}

void HttpSide::serve(int fd, const config::HttpSpec& spec, std::string token) {
  spec_ = spec;
  token_ = std::move(token);
  site_.set_admin_token(token_);
  if (fd < 0) return;
  server_ = HttpServer::serve(io_, fd, spec, site_, feed_, log_);
  site_.attach(server_.get());
}

std::string HttpSide::where() const {
  return server_ ? server_->where() : std::string();
}

HttpSide::Applied HttpSide::apply(const config::HttpSpec& next) {
  std::string error;
  // The token file is read again even when its name did not change: a
  // reload is how a new token takes effect.
  std::string token;
  if (!next.listen.empty() && !next.admin_token_file.empty()) {
    auto read = read_admin_token(next.admin_token_file, error);
    if (!read) {
      return {.refused = "http: " + error + "; the http section stays as it was"};
    }
    token = std::move(*read);
  }
  std::string done;
  if (next.listen != spec_.listen) {
    const std::string was = where();
    std::unique_ptr<HttpServer> replacement;
    if (!next.listen.empty()) {
      const int fd = HttpServer::listen(next, error);
      if (fd < 0) {
        return {.refused = "http: " + error + "; the http section stays as it was" +
                           (was.empty() ? "" : ", on " + was)};
      }
      replacement = HttpServer::serve(io_, fd, next, site_, feed_, log_);
    }
    // The old listener's connections close; a page reconnects to its own
    // address, which is the old one.
    const HttpFigures counts = server_ ? server_->figures() : HttpFigures{};
    site_.attach(nullptr);
    server_ = std::move(replacement);
    if (server_) {
      server_->carry_counts(counts);
      site_.attach(server_.get());
      done = "http: listening on " + where() + (was.empty() ? "" : " instead of " + was);
    } else {
      done = "http: no longer listening on " + was;
    }
  } else if (server_) {
    std::string keys;
    const auto note = [&keys](const char* key) {
      keys += (keys.empty() ? "" : ", ") + std::string(key);
    };
    if (next.max_connections != spec_.max_connections) note("max_connections");
    if (next.allowed_hosts != spec_.allowed_hosts) note("allowed_hosts");
    if (next.admin_token_file != spec_.admin_token_file) note("admin_token_file");
    server_->update(next);
    if (!keys.empty()) done = "http: " + keys + " applied on " + where();
  }
  if (!done.empty() || token != token_) {
    if (token != token_ && done.empty()) done = "http: admin token read again";
    log_.info(done);
  }
  token_ = token;
  site_.set_admin_token(token_);
  spec_ = next;
  return {.changed = done};
}

}  // namespace otpd::http
