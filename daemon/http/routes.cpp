#include "http/routes.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace otpd::http {
namespace {

constexpr std::size_t kMaxTarget = 4096;
constexpr int kDefaultLogLines = 100;
constexpr int kMaxLogLines = 1000;

// What every answer carries: nothing is cached, nothing sniffed, and no
// other site frames the page (clickjacking the actions).
void common_headers(HttpResponse& response) {
  response.headers.emplace_back("Cache-Control", "no-store");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("X-Frame-Options", "DENY");
  response.headers.emplace_back("Referrer-Policy", "no-referrer");
}

HttpResponse json(unsigned status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.content_type = "application/json";
  response.body = std::move(body);
  common_headers(response);
  return response;
}

struct Target {
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;

  const std::string* param(std::string_view name) const {
    for (const auto& [key, value] : query) {
      if (key == name) return &value;
    }
    return nullptr;
  }
};

std::optional<Target> parse_target(std::string_view text) {
  if (text.empty() || text.front() != '/') return std::nullopt;
  Target target;
  const auto mark = text.find('?');
  const auto path = percent_decode(text.substr(0, mark));
  if (!path) return std::nullopt;
  target.path = *path;
  if (mark == std::string_view::npos) return target;
  std::string_view rest = text.substr(mark + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const auto equals = pair.find('=');
    auto key = percent_decode(pair.substr(0, equals));
    auto value = percent_decode(equals == std::string_view::npos ? std::string_view()
                                                                 : pair.substr(equals + 1));
    if (!key || !value) return std::nullopt;
    target.query.emplace_back(std::move(*key), std::move(*value));
  }
  return target;
}

bool is_ip_literal(std::string_view name) {
  std::string text(name);
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
    in6_addr v6{};
    return inet_pton(AF_INET6, text.c_str(), &v6) == 1;
  }
  in_addr v4{};
  return inet_pton(AF_INET, text.c_str(), &v4) == 1;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// An Origin names the page a browser request came from: it must be this
// very host, as the page's own scripts send.
bool same_origin(std::string_view origin, std::string_view host) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (origin.size() == scheme.size() + host.size() &&
        iequals(origin.substr(0, scheme.size()), scheme) &&
        iequals(origin.substr(scheme.size()), host)) {
      return true;
    }
  }
  return false;
}

std::string_view bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "Bearer ";
  if (authorization.size() <= kScheme.size() ||
      !iequals(authorization.substr(0, kScheme.size()), kScheme)) {
    return {};
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return token;
}

HttpResponse method_not_allowed(std::string_view allow) {
  HttpResponse response =
      plain(405, "method not allowed; this endpoint takes " + std::string(allow));
  response.headers.emplace_back("Allow", std::string(allow));
  return response;
}

bool reads(const HttpRequest& request) {
  return request.method == "GET" || request.method == "HEAD";
}

std::optional<Action> action_named(std::string_view name) {
  if (name == "start") return Action::start;
  if (name == "stop") return Action::stop;
  if (name == "restart") return Action::restart;
  return std::nullopt;
}

unsigned action_failure_status(ActionFailure::Kind kind) {
  switch (kind) {
    case ActionFailure::Kind::no_such_child:
      return 404;
    case ActionFailure::Kind::ambiguous:
      return 400;
    case ActionFailure::Kind::refused:
      return 409;
  }
  return 409;
}

// Refusals of a request that would act, before it does: actions must be on,
// come from this host's page (or no browser at all) and carry the token.
std::optional<HttpResponse> refuse_action(const HttpRequest& request, const Site& site) {
  if (!site.admin_configured()) {
    return plain(403, "actions are off: otpd's http section names no admin_token_file");
  }
  if (!request.origin.empty() && !same_origin(request.origin, request.host)) {
    return plain(403,
                 "cross-origin request refused: Origin '" + request.origin + "' is not this host");
  }
  const std::string_view token = bearer_token(request.authorization);
  if (token.empty() || !site.admin_token_is(token)) {
    HttpResponse response = plain(401, token.empty() ? "this action needs the admin token in "
                                                       "'Authorization: Bearer TOKEN'"
                                                     : "wrong admin token");
    response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"otpd\"");
    return response;
  }
  return std::nullopt;
}

void serve_page(const Target& target, const HttpRequest& request, Site& site,
                const std::function<void(HttpResponse)>& reply) {
  const std::string& path = target.path;
  if (path == "/api/action/start" || path == "/api/action/stop" || path == "/api/action/restart" ||
      path == "/api/login") {
    if (request.method != "POST") return reply(method_not_allowed("POST"));
    if (auto refusal = refuse_action(request, site)) return reply(std::move(*refusal));
    if (path == "/api/login") return reply(json(200, "{\"admin\":true}"));
    const std::string* child = target.param("path");
    if (child == nullptr || child->empty()) {
      return reply(plain(400, "name the child: ?path=SUPERVISOR/CHILD"));
    }
    const Action action = *action_named(std::string_view(path).substr(sizeof "/api/action/" - 1));
    site.act(action, *child,
             [reply](const std::optional<ActionFailure>& failure, const std::string& node) {
               if (!failure) {
                 reply(json(200, node));
               } else {
                 reply(plain(action_failure_status(failure->kind), failure->text));
               }
             });
    return;
  }
  if (!reads(request)) return reply(method_not_allowed("GET, HEAD"));
  if (const PageAsset* asset = find_page_asset(path == "/" ? "/index.html" : path)) {
    HttpResponse response;
    response.content_type = std::string(asset->content_type);
    response.body = std::string(asset->body);
    common_headers(response);
    response.headers.emplace_back(
        "Content-Security-Policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    return reply(std::move(response));
  }
  if (path == "/api/tree") return reply(json(200, site.tree_json()));
  if (path == "/api/info") {
    return reply(json(200, std::string("{\"version\":\"" OTPD_VERSION "\",\"admin\":") +
                               (site.admin_configured() ? "true" : "false") + "}"));
  }
  if (path == "/api/events") {
    HttpResponse response;
    response.content_type = "text/event-stream";
    response.event_stream = true;
    common_headers(response);
    return reply(std::move(response));
  }
  if (path == "/api/logs") {
    const std::string* child = target.param("path");
    if (child == nullptr || child->empty()) {
      return reply(plain(400, "name the child: ?path=SUPERVISOR/CHILD"));
    }
    int lines = kDefaultLogLines;
    if (const std::string* text = target.param("lines")) {
      const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), lines);
      if (error != std::errc() || end != text->data() + text->size() || lines < 0 ||
          lines > kMaxLogLines) {
        return reply(plain(400, "lines: a number from 0 to " + std::to_string(kMaxLogLines)));
      }
    }
    auto logs = site.logs_json(*child, lines);
    if (!logs) return reply(plain(404, "no process '" + *child + "' with output in the tree"));
    return reply(json(200, std::move(*logs)));
  }
  reply(plain(404, "not found: " + path));
}

}  // namespace

HttpResponse plain(unsigned status, std::string text) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(text);
  if (response.body.empty() || response.body.back() != '\n') response.body += '\n';
  common_headers(response);
  return response;
}

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int value = 0;
      const auto [end, error] =
          std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
      if (error != std::errc() || end != text.data() + i + 3) return std::nullopt;
      out += static_cast<char>(value);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

bool host_allowed(std::string_view host, const std::vector<std::string>& allowed) {
  // The name without its port: "[::1]:9100" -> "[::1]", "a.b:80" -> "a.b".
  std::string_view name = host;
  if (!name.empty() && name.front() == '[') {
    const auto close = name.find(']');
    if (close == std::string_view::npos) return false;
    name = name.substr(0, close + 1);
  } else if (const auto colon = name.rfind(':'); colon != std::string_view::npos) {
    name = name.substr(0, colon);
  }
  if (name.empty()) return false;
  if (is_ip_literal(name) || iequals(name, "localhost")) return true;
  return std::any_of(allowed.begin(), allowed.end(),
                     [&](const std::string& a) { return iequals(a, name); });
}

void route(const HttpRequest& request, Site& site, const RoutePolicy& policy,
           std::function<void(HttpResponse)> reply) {
  if (request.target.size() > kMaxTarget) return reply(plain(414, "the URL is too long"));
  const auto target = parse_target(request.target);
  if (!target) return reply(plain(400, "malformed URL"));
  for (const auto& [key, value] : target->query) {
    if (key == "token" || key == "access_token" || key == "admin_token") {
      return reply(plain(400, "the admin token goes in the Authorization header, never in a URL"));
    }
  }
  const std::string& path = target->path;
  if (path == "/metrics") {
    if (!reads(request)) return reply(method_not_allowed("GET, HEAD"));
    HttpResponse response;
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = site.metrics();
    common_headers(response);
    return reply(std::move(response));
  }
  if (path == "/healthz") {
    if (!reads(request)) return reply(method_not_allowed("GET, HEAD"));
    site.liveness([reply](bool live, std::string why) {
      reply(live ? plain(200, "ok") : plain(503, std::move(why)));
    });
    return;
  }
  if (path == "/readyz") {
    if (!reads(request)) return reply(method_not_allowed("GET, HEAD"));
    std::string why;
    const bool ready = site.readiness(why);
    return reply(ready ? plain(200, "ready") : plain(503, "not ready: " + why));
  }
  // Everything a browser reads or acts through: only under a name that
  // cannot be an attacker's (DNS rebinding).
  if (policy.check_host && !host_allowed(request.host, policy.allowed_hosts)) {
    return reply(plain(421,
                       "this page answers to localhost, IP addresses and http.allowed_hosts, "
                       "not to Host '" +
                           request.host + "'"));
  }
  serve_page(*target, request, site, reply);
}

}  // namespace otpd::http
