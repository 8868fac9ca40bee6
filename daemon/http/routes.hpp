// What each HTTP request gets (docs/http.md), apart from the connection
// that carries it: the checks of Host, Origin and the admin token, the
// endpoints, and the answers to requests that are refused. Free of Asio, so
// that the fuzz target and unit tests drive it without sockets.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace otpd::http {

struct HttpRequest {
  std::string method{};  // as sent: "GET", "POST", ...
  std::string target{};  // "/metrics", "/api/logs?path=app%2Fapi"
  std::string host{};    // the Host header, empty when absent
  std::string origin{};  // the Origin header, empty when absent
  std::string authorization{};
  std::string body{};
};

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // The connection turns into a Server-Sent Events stream of the tree.
  bool event_stream = false;
};

enum class Action { start, stop, restart };

// Why an action was not done, in the words the operator reads. Its kind
// picks the status: no node at the path (404), a name several children have,
// which names none of them (400, as a request that names no child), or the
// node is there but its supervisor refused the action in its current state
// (409).
struct ActionFailure {
  enum class Kind { no_such_child, ambiguous, refused };
  Kind kind;
  std::string text;
};

// The parts of otpd the endpoints read and act on.
class Site {
 public:
  virtual ~Site() = default;
  virtual std::string metrics() = 0;
  // Whether the loop answers within its bound; `why` when not.
  virtual void liveness(std::function<void(bool live, std::string why)> done) = 0;
  // Whether the tree is ready; `why` when not.
  virtual bool readiness(std::string& why) = 0;
  // The status JSON of the whole tree, as the control socket's `status`.
  virtual std::string tree_json() = 0;
  // The last `lines` captured lines of the process at `path`, as a JSON
  // object; nothing when there is no such process.
  virtual std::optional<std::string> logs_json(const std::string& path, int lines) = 0;
  // Performs `action` on the node `path` stands for (a path, or a name
  // unique in the tree, as the control socket takes it): `done` gets no
  // failure and the node's JSON, or why not.
  virtual void act(
      Action action, const std::string& path,
      std::function<void(std::optional<ActionFailure> failure, std::string node)> done) = 0;
  // Whether an admin token is configured, and whether `token` is it.
  virtual bool admin_configured() const = 0;
  virtual bool admin_token_is(std::string_view token) const = 0;
};

struct RoutePolicy {
  // Host names the page and its API answer to besides IP literals and
  // localhost (DNS rebinding: a name the attacker controls is refused).
  std::vector<std::string> allowed_hosts{};
  // A Unix socket is reached through a proxy the operator set up: the Host
  // a browser sent it is the proxy's business.
  bool check_host = true;
};

// Answers `request` through `reply`, at once or later (health and
// actions); exactly once.
void route(const HttpRequest& request, Site& site, const RoutePolicy& policy,
           std::function<void(HttpResponse)> reply);

// A plain-text answer with `status`, for refusals made before routing.
HttpResponse plain(unsigned status, std::string text);

// "%2F" and '+' decoded; nothing for a malformed escape.
std::optional<std::string> percent_decode(std::string_view text);

// Whether `host` (a Host header: a name or IP literal, perhaps with a
// port) is one the page answers to.
bool host_allowed(std::string_view host, const std::vector<std::string>& allowed);

// The page's own files, compiled into otpd (page_assets.cpp, generated).
struct PageAsset {
  std::string_view path;
  std::string_view content_type;
  std::string_view body;
};
const PageAsset* find_page_asset(std::string_view path);

}  // namespace otpd::http
