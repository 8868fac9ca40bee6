// The pure parts of the HTTP side: Prometheus's text format, the metrics of
// a tree, readiness, and the routing rules (Host, Origin, token).
#include <doctest/doctest.h>

#include <map>

#include "config/hooks_reader.hpp"
#include "config/loader.hpp"
#include "http/metrics.hpp"
#include "http/prometheus_text.hpp"
#include "http/routes.hpp"
#include "supervise/tree_health.hpp"

namespace {

using namespace otpd::http;
using otpd::supervise::NodeStatus;

std::string label(std::string_view value) {
  std::string out;
  append_label_value(out, value);
  return out;
}

NodeStatus process(std::string path, std::string state, int pid) {
  NodeStatus node;
  node.path = path;
  node.name = path.substr(path.rfind('/') + 1);
  node.state = std::move(state);
  node.pid = pid;
  return node;
}

// A Site whose answers are fixed, for the routing rules alone.
class FixedSite final : public Site {
 public:
  std::string token;
  std::vector<std::string> acted;
  // What act answers for these paths; success for any other.
  std::map<std::string, ActionFailure> failures;
  std::string metrics() override { return "m 1\n"; }
  void liveness(std::function<void(bool, std::string)> done) override { done(true, {}); }
  bool readiness(std::string& why) override {
    why = "waiting for x (starting)";
    return false;
  }
  std::string tree_json() override { return "{}"; }
  std::optional<std::string> logs_json(const std::string& path, int) override {
    if (path != "a") return std::nullopt;
    return "{\"lines\":[]}";
  }
  void act(Action, const std::string& path,
           std::function<void(std::optional<ActionFailure>, std::string)> done) override {
    acted.push_back(path);
    if (const auto failure = failures.find(path); failure != failures.end()) {
      return done(failure->second, {});
    }
    done(std::nullopt, "{}");
  }
  bool admin_configured() const override { return !token.empty(); }
  bool admin_token_is(std::string_view t) const override { return t == token; }
};

HttpResponse routed(Site& site, HttpRequest request, RoutePolicy policy = {}) {
  if (request.method.empty()) request.method = "GET";
  if (request.host.empty()) request.host = "127.0.0.1:9100";
  HttpResponse out;
  int answers = 0;
  route(request, site, policy, [&](HttpResponse r) {
    out = std::move(r);
    ++answers;
  });
  CHECK(answers == 1);
  return out;
}

}  // namespace

TEST_CASE("Label values escape backslash, quote and line feed, and replace bad UTF-8") {
  CHECK(label("app/api") == "app/api");
  CHECK(label("a\"b") == "a\\\"b");
  CHECK(label("a\\b") == "a\\\\b");
  CHECK(label("a\nb") == "a\\nb");
  CHECK(label("caf\xC3\xA9") == "caf\xC3\xA9");
  CHECK(label("bad\xFF") == "bad\xEF\xBF\xBD");
  CHECK(label("\xC3") == "\xEF\xBF\xBD");
}

TEST_CASE("Samples are grouped under their family, and empty families are left out") {
  MetricsText m;
  const auto a = m.family("x_total", MetricsText::Type::counter, "help with \\ and\nline");
  const auto b = m.family("y", MetricsText::Type::gauge, "unused");
  const auto c = m.family("z", MetricsText::Type::gauge, "z");
  m.sample(a, {{"path", "p"}}, 1);
  m.sample(c, {}, 0.25);
  m.sample(a, {{"path", "q\""}}, 2);
  (void)b;
  CHECK(m.text() ==
        "# HELP x_total help with \\\\ and\\nline\n# TYPE x_total counter\n"
        "x_total{path=\"p\"} 1\nx_total{path=\"q\\\"\"} 2\n"
        "# HELP z z\n# TYPE z gauge\nz 0.25\n");
}

TEST_CASE("Metrics of a tree name each child by path and supervisor") {
  NodeStatus root;
  root.path = "/";
  root.is_supervisor = true;
  root.state = "running";
  root.intensity = 3;
  root.period = std::chrono::milliseconds(5000);
  root.intensity_used = 1;
  NodeStatus sub;
  sub.path = "app";
  sub.name = "app";
  sub.is_supervisor = true;
  sub.state = "running";
  NodeStatus api = process("app/api", "running", 42);
  api.restarts = 2;
  api.uptime = std::chrono::milliseconds(3000);
  api.last_exit = otpd::supervise::ChildExit{
      .status = otpd::supervise::ExitStatus{.signaled = true, .code = 9}};
  api.since_exit = std::chrono::milliseconds(3000);
  sub.children.push_back(api);
  root.children.push_back(sub);
  root.children.push_back(process("db", "backoff", 0));
  root.children.back().restart_in = std::chrono::milliseconds(2000);
  EventTally tally;
  tally.count({.kind = otpd::supervise::EventKind::exited, .path = "app/api"});
  tally.count({.kind = otpd::supervise::EventKind::intensity_exceeded, .path = "app"});

  const std::string text = render_metrics({.walk =
                                               [&](otpd::supervise::TreeVisitor& visitor) {
                                                 otpd::supervise::walk_status(root, visitor);
                                               },
                                           .events = &tally,
                                           .ready = [] { return true; },
                                           .now_seconds = 1000});
  const auto has = [&](const std::string& line) {
    return text.find(line + "\n") != std::string::npos;
  };
  CHECK(has("otpd_child_up{path=\"app/api\",supervisor=\"app\",kind=\"process\"} 1"));
  CHECK(has("otpd_child_up{path=\"db\",supervisor=\"/\",kind=\"process\"} 0"));
  CHECK(has("otpd_child_up{path=\"app\",supervisor=\"/\",kind=\"supervisor\"} 1"));
  CHECK(has("otpd_child_restarts_total{path=\"app/api\",supervisor=\"app\"} 2"));
  CHECK(has("otpd_child_last_exit_signal{path=\"app/api\",supervisor=\"app\"} 9"));
  CHECK(has("otpd_child_start_time_seconds{path=\"app/api\",supervisor=\"app\"} 997"));
  CHECK(has("otpd_child_last_exit_time_seconds{path=\"app/api\",supervisor=\"app\"} 997"));
  CHECK(has("otpd_child_next_restart_time_seconds{path=\"db\",supervisor=\"/\"} 1002"));
  CHECK(has("otpd_supervisor_intensity_used{supervisor=\"/\"} 1"));
  CHECK(has("otpd_supervisor_period_seconds{supervisor=\"/\"} 5"));
  CHECK(has("otpd_supervisor_gave_up_total{supervisor=\"app\"} 1"));
  CHECK(has("otpd_events_total{kind=\"exited\"} 1"));
  CHECK(has("otpd_tree_ready 1"));
}

TEST_CASE("The tree is ready once started, with its gated children running") {
  NodeStatus root;
  root.path = "/";
  root.is_supervisor = true;
  root.state = "running";
  NodeStatus db = process("db", "starting", 0);
  db.ready = "tcp";
  root.children.push_back(db);
  root.children.push_back(process("plain", "exited", 0));
  using otpd::supervise::readiness_of;
  CHECK(readiness_of({.started = false}, root).reason == "the tree is starting");
  auto r = readiness_of({.started = true}, root);
  CHECK_FALSE(r.ready);
  CHECK(r.reason == "waiting for db (starting)");
  root.children[0].state = "running";
  CHECK(readiness_of({.started = true}, root).ready);
  CHECK_FALSE(readiness_of({.started = true, .stopping = true}, root).ready);
  CHECK_FALSE(readiness_of({.started = true}, std::nullopt).ready);
}

TEST_CASE("Host names: IP literals, localhost and the configured ones") {
  CHECK(host_allowed("127.0.0.1:9100", {}));
  CHECK(host_allowed("[::1]:9100", {}));
  CHECK(host_allowed("localhost", {}));
  CHECK(host_allowed("LOCALHOST:80", {}));
  CHECK(host_allowed("otpd.example.com:9100", {"otpd.example.com"}));
  CHECK_FALSE(host_allowed("evil.example:9100", {"otpd.example.com"}));
  CHECK_FALSE(host_allowed("", {}));
  CHECK_FALSE(host_allowed("[::1", {}));
  CHECK_FALSE(host_allowed("127.0.0.1.evil.example", {}));
}

TEST_CASE("Percent-decoding refuses broken escapes") {
  CHECK(percent_decode("app%2Fapi") == "app/api");
  CHECK(percent_decode("a+b") == "a b");
  CHECK_FALSE(percent_decode("%").has_value());
  CHECK_FALSE(percent_decode("%4").has_value());
  CHECK_FALSE(percent_decode("%zz").has_value());
}

TEST_CASE("Routing: probes for anyone, the page for local names, actions for the token") {
  FixedSite site;
  CHECK(routed(site, {.target = "/metrics", .host = "anything"}).status == 200);
  CHECK(routed(site, {.target = "/readyz"}).body == "not ready: waiting for x (starting)\n");
  CHECK(routed(site, {.target = "/", .host = "evil.example"}).status == 421);
  CHECK(routed(site, {.target = "/", .host = "evil.example"}, {.check_host = false}).status == 200);
  CHECK(routed(site, {.target = "/api/logs?path=a"}).status == 200);
  CHECK(routed(site, {.target = "/api/logs?path=b"}).status == 404);
  CHECK(routed(site, {.target = "/api/logs"}).status == 400);
  CHECK(routed(site, {.target = "nope"}).status == 400);
  CHECK(routed(site, {.target = "/x?token=abc"}).status == 400);
  CHECK(routed(site, {.method = "DELETE", .target = "/metrics"}).status == 405);

  HttpRequest act{.method = "POST", .target = "/api/action/restart?path=app%2Fapi"};
  CHECK(routed(site, act).status == 403);  // no token configured
  site.token = "0123456789abcdef";
  CHECK(routed(site, act).status == 401);
  act.authorization = "Bearer 0123456789abcdeX";
  CHECK(routed(site, act).status == 401);
  act.authorization = "bearer 0123456789abcdef";
  act.origin = "http://evil.example";
  CHECK(routed(site, act).status == 403);
  act.origin = "http://127.0.0.1:9100";
  CHECK(routed(site, act).status == 200);
  REQUIRE(site.acted.size() == 1);
  CHECK(site.acted[0] == "app/api");
}

TEST_CASE("A failed action's status comes from its kind, and its text is the body") {
  FixedSite site;
  site.token = "0123456789abcdef";
  using Kind = ActionFailure::Kind;
  site.failures["gone"] = {.kind = Kind::no_such_child, .text = "no child 'gone' in the tree"};
  // A refusal whose words happen to start like a missing child's is still a refusal.
  site.failures["busy"] = {.kind = Kind::refused, .text = "no child of a stopped supervisor"};
  site.failures["idle"] = {.kind = Kind::refused, .text = "supervisor /app is not running"};
  site.failures["web"] = {.kind = Kind::ambiguous,
                          .text =
                              "'web' is the name of 2 children (a/web, b/web): write the "
                              "path of one"};
  const auto acted_on = [&](std::string path) {
    return routed(site, {.method = "POST",
                         .target = "/api/action/stop?path=" + path,
                         .authorization = "Bearer 0123456789abcdef"});
  };
  auto response = acted_on("gone");
  CHECK(response.status == 404);
  CHECK(response.body.starts_with("no child 'gone' in the tree"));
  CHECK(acted_on("busy").status == 409);
  response = acted_on("idle");
  CHECK(response.status == 409);
  CHECK(response.body.starts_with("supervisor /app is not running"));
  response = acted_on("web");
  CHECK(response.status == 400);
  CHECK(response.body.starts_with("'web' is the name of 2 children"));
  CHECK(acted_on("here").status == 200);
}

TEST_CASE("Hooks know every event kind by the name events carry") {
  const auto names = otpd::config::hook_event_names();
  REQUIRE(names.size() == EventTally::kKinds);
  for (std::size_t k = 0; k < names.size(); ++k) {
    CHECK(names[k] == otpd::supervise::to_string(static_cast<otpd::supervise::EventKind>(k)));
  }
}

TEST_CASE("The http and hooks sections are read with their errors in place") {
  using otpd::config::load_string;
  const std::string tree = "tree:\n  children:\n    - {name: a, command: [x]}\n";
  auto config =
      load_string("http: {listen: '[::1]:9100', max_connections: 5}\n" + tree, "t.yaml", "/etc");
  CHECK(config.http.host == "::1");
  CHECK(config.http.port == 9100);
  CHECK(config.http.max_connections == 5);
  config =
      load_string("http: {listen: ./h.sock, admin_token_file: tok}\n" + tree, "t.yaml", "/etc");
  CHECK(config.http.listen == "/etc/h.sock");
  CHECK(config.http.unix_socket());
  CHECK(config.http.admin_token_file == "/etc/tok");
  const auto error = [&](const std::string& text) {
    try {
      load_string(text + tree, "t.yaml", "/etc");
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error("http: {listen: localhost:9100}\n")
            .find("t.yaml:1:16: http.listen: expected ADDRESS:PORT") != std::string::npos);
  CHECK(error("http: {listen: 127.0.0.1:70000}\n").find("expected ADDRESS:PORT") !=
        std::string::npos);
  CHECK(error("http: {admin_token_file: x}\n").find("needs 'listen'") != std::string::npos);
  CHECK(error("http: {listen: 127.0.0.1:1, max_conections: 3}\n")
            .find("did you mean 'max_connections'") != std::string::npos);

  config = load_string(
      "hooks:\n  - {name: h, on: [gave_up, restarted, exited], paths: /app/*, command: 'echo hi', "
      "timeout: 2s, max_running: 3, max_queued: 0}\n" +
          tree,
      "t.yaml", "/etc");
  REQUIRE(config.hooks.size() == 1);
  const auto& hook = config.hooks[0];
  CHECK(hook.events == std::vector<std::string>{"intensity_exceeded", "restarting", "exited"});
  CHECK(hook.paths == std::vector<std::string>{"app/*"});
  CHECK(hook.command.via_shell);
  CHECK(hook.command.cwd == "/etc");
  CHECK(hook.timeout == std::chrono::milliseconds(2000));
  CHECK(hook.max_running == 3);
  CHECK(hook.max_queued == 0);
  CHECK(error("hooks:\n  - {name: h}\n").find("needs a 'command'") != std::string::npos);
  CHECK(error("hooks:\n  - {name: h, command: [x]}\n  - {name: h, command: [y]}\n")
            .find("a second hook named 'h'") != std::string::npos);
  CHECK(error("hooks:\n  - {name: h, command: [x], max_running: 0}\n").find("max_running") !=
        std::string::npos);
}
