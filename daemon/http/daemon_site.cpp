#include "http/daemon_site.hpp"

#include <sys/stat.h>

#include <chrono>

#include "config/text_file.hpp"
#include "control/json_text.hpp"
#include "control/node_json.hpp"
#include "http/server.hpp"
#include "output/output_line.hpp"

namespace otpd::http {
namespace {

constexpr std::size_t kMinTokenBytes = 16;
constexpr std::size_t kMaxTokenFile = 4096;

std::string_view trimmed(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return path;
}

}  // namespace

std::optional<std::string> read_admin_token(const std::string& file, std::string& error) {
  struct stat info {};
  if (::stat(file.c_str(), &info) == 0 && (info.st_mode & S_IROTH) != 0) {
    error = "http.admin_token_file " + file + " may be read by anyone; chmod o-r it";
    return std::nullopt;
  }
  std::string why;
  const auto text = config::read_text_file(file, kMaxTokenFile, why);
  if (!text) {
    error = "cannot read http.admin_token_file " + file + ": " + why;
    return std::nullopt;
  }
  std::string token = text->substr(0, text->find('\n'));
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  while (!token.empty() && token.front() == ' ') token.erase(0, 1);
  if (token.size() < kMinTokenBytes) {
    error = "http.admin_token_file " + file + ": the token must have at least " +
            std::to_string(kMinTokenBytes) + " characters (try: head -c 32 /dev/urandom | base64)";
    return std::nullopt;
  }
  return token;
}

DaemonSite::DaemonSite(supervise::Tree& tree, output::OutputHub* outputs, const EventTally& events,
                       const supervise::TreePhase& phase, std::string admin_token)
    : tree_(tree),
      outputs_(outputs),
      events_(events),
      phase_(phase),
      admin_token_(std::move(admin_token)) {}

std::string DaemonSite::metrics() {
  // One walk for the samples and the readiness both.
  supervise::ReadinessWalk readiness;
  MetricsInput input;
  input.walk = [this, &readiness](supervise::TreeVisitor& writer) {
    supervise::BothVisitors both(writer, readiness);
    tree_.walk(both);
  };
  input.events = &events_;
  input.process = read_process_figures();
  input.control_clients = control_clients ? control_clients() : 0;
  if (server_ != nullptr) input.http = server_->figures();
  if (hooks) input.hooks = hooks();
  input.ready = [this, &readiness] { return readiness.judge(phase_).ready; };
  input.now_seconds =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return render_metrics(input);
}

void DaemonSite::liveness(std::function<void(bool, std::string)> done) {
  supervise::Host& host = tree_.host();
  const auto asked = host.now();
  host.post([&host, asked, done = std::move(done)] {
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(host.now() - asked);
    if (took > kLivenessBound) {
      done(false, "otpd's loop took " + std::to_string(took.count()) + " ms to answer");
      return;
    }
    done(true, {});
  });
}

bool DaemonSite::readiness(std::string& why) {
  const auto readiness = supervise::readiness_of(phase_, tree_);
  why = readiness.reason;
  return readiness.ready;
}

std::string DaemonSite::tree_json() {
  std::string out;
  auto root = tree_.status("/");
  if (!root) return out;
  if (workers != nullptr) workers->annotate(*root);
  control::append_node_json(out, *root);
  return out;
}

std::string DaemonSite::node_json(const std::string& path) const {
  auto node = tree_.status(path);
  if (!node) return {};
  node->children.clear();
  if (workers != nullptr) workers->annotate(*node);
  std::string out;
  control::append_node_json(out, *node);
  return out;
}

// Resolved as act() resolves it: `otpctl logs redis` and
// /api/logs?path=redis show the same child.
std::optional<std::string> DaemonSite::logs_json(const std::string& path, int lines) {
  // Without capture there are no lines to show whoever the path names:
  // known before a walk of the tree.
  if (outputs_ == nullptr) return std::nullopt;
  const std::string child = tree_.resolve(std::string(trimmed(path))).path;
  if (child.empty() || !tree_.contains(child)) return std::nullopt;
  const auto mode = outputs_->mode_of(child);
  if (!mode) return std::nullopt;
  std::string out = "{\"path\":";
  control::append_json_string(out, child);
  out += ",\"output\":";
  control::append_json_string(out, config::to_string(*mode));
  out += ",\"lines\":[";
  bool first = true;
  outputs_->last_lines(child, static_cast<std::size_t>(lines), output::StreamFilter::both,
                       [&](const output::OutputLine& line) {
                         if (!first) out += ',';
                         first = false;
                         output::append_line_json(out, child, line);
                       });
  out += "]}";
  return out;
}

// The path is resolved as the control socket resolves it (a name unique in
// the tree will do), and one that names no node is answered here; the
// engine's requests then only ever see a node that exists, so whatever they
// refuse is refused in the node's current state.
void DaemonSite::act(Action action, const std::string& path,
                     std::function<void(std::optional<ActionFailure>, std::string)> done) {
  supervise::ResolvedPath resolved = tree_.resolve(std::string(trimmed(path)));
  if (resolved.failure) {
    done(
        ActionFailure{.kind = ActionFailure::Kind::ambiguous, .text = std::move(*resolved.failure)},
        {});
    return;
  }
  const std::string child = std::move(resolved.path);
  if (child.empty() || !tree_.contains(child)) {
    done(ActionFailure{.kind = ActionFailure::Kind::no_such_child, .text = tree_.not_found(child)},
         {});
    return;
  }
  auto finish = [this, child, done = std::move(done)](supervise::Failure failure) {
    if (failure) {
      done(ActionFailure{.kind = ActionFailure::Kind::refused, .text = std::move(*failure)}, {});
      return;
    }
    std::string node = node_json(child);
    done(std::nullopt, node.empty() ? std::string("{}") : node);
  };
  switch (action) {
    case Action::start:
      tree_.start_child(child, std::move(finish));
      return;
    case Action::stop:
      tree_.stop_child(child, std::move(finish));
      return;
    case Action::restart:
      tree_.restart_child(child, std::move(finish));
      return;
  }
}

// Compared in constant time, so that the time of a refusal says nothing
// about how much of a guess was right.
bool DaemonSite::admin_token_is(std::string_view token) const {
  if (admin_token_.empty()) return false;
  unsigned char differs = token.size() == admin_token_.size() ? 0 : 1;
  for (std::size_t i = 0; i < admin_token_.size(); ++i) {
    const char guess = i < token.size() ? token[i] : '\0';
    differs |= static_cast<unsigned char>(guess ^ admin_token_[i]);
  }
  return differs == 0;
}

}  // namespace otpd::http
