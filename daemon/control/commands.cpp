#include "control/commands.hpp"

#include <unistd.h>

#include <filesystem>
#include <string_view>

#include "config/loader.hpp"
#include "config/signals.hpp"
#include "control/json_text.hpp"
#include "control/node_json.hpp"
#include "control/reply.hpp"
#include "supervise/worker_node.hpp"

namespace otpd::control {
namespace {

std::string_view trimmed(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return path;
}

// "jobs/job1" for the child `name` of the supervisor at `supervisor`.
std::string child_path(std::string_view supervisor, const std::string& name) {
  supervisor = trimmed(supervisor);
  return supervisor.empty() ? name : std::string(supervisor) + "/" + name;
}

}  // namespace

Commands::Commands(supervise::Tree& tree, const EventHub& events, std::function<void()> shutdown,
                   output::OutputHub* outputs, ReloadService reload, workers::JsonCalls* calls)
    : tree_(tree),
      events_(events),
      shutdown_(std::move(shutdown)),
      outputs_(outputs),
      reload_(std::move(reload)),
      calls_(calls) {}

bool Commands::resolve_path(ClientRequest& request, std::string& out) const {
  if (request.path.empty()) return true;
  supervise::ResolvedPath resolved = tree_.resolve(request.path);
  if (resolved.failure) {
    append_error(out, request.id, ErrorCode::not_found, *resolved.failure);
    return false;
  }
  request.path = std::move(resolved.path);
  return true;
}

bool Commands::answers_later(Command cmd) {
  return cmd == Command::start || cmd == Command::stop || cmd == Command::restart ||
         cmd == Command::reload || cmd == Command::start_child || cmd == Command::terminate_child ||
         cmd == Command::call;
}

void Commands::answer(const ClientRequest& request, std::string& out) {
  switch (request.cmd) {
    case Command::ping:
      append_result(out, request.id, "\"pong\"");
      return;
    case Command::hello:
      // Protocol 1 is the oldest there is, so every client that passed the
      // version check speaks it.
      scratch_ = "{\"protocol\":";
      append_json_int(scratch_, kProtocolVersion);
      scratch_ += ",\"server\":\"otpd " OTPD_VERSION "\",\"pid\":";
      append_json_int(scratch_, getpid());
      scratch_ += '}';
      append_result(out, request.id, scratch_);
      return;
    case Command::version:
      scratch_ = "{\"version\":\"" OTPD_VERSION "\",\"protocol\":";
      append_json_int(scratch_, kProtocolVersion);
      scratch_ += '}';
      append_result(out, request.id, scratch_);
      return;
    case Command::status:
      status(request, out);
      return;
    case Command::signal:
      signal(request, out);
      return;
    case Command::events:
      events(request, out);
      return;
    case Command::logs:
      logs(request, out);
      return;
    case Command::shutdown:
      append_result(out, request.id, "{\"stopping\":true}");
      shutdown_();
      return;
    case Command::cast:
      cast(request, out);
      return;
    case Command::whereis:
      whereis(request, out);
      return;
    case Command::health:
      health(request, out);
      return;
    case Command::start:
    case Command::stop:
    case Command::restart:
    case Command::reload:
    case Command::start_child:
    case Command::terminate_child:
    case Command::call:
      append_error(out, request.id, ErrorCode::failed, "internal error: asynchronous command");
      return;
  }
}

const supervise::WorkerNode* Commands::worker_node(const ClientRequest& request,
                                                   std::string_view refusal, ErrorCode& code,
                                                   std::string& error) const {
  const std::string path(trimmed(request.path));
  code = ErrorCode::failed;
  if (!tree_.contains(request.path)) {
    code = ErrorCode::not_found;
    error = tree_.not_found(path);
    return nullptr;
  }
  const supervise::WorkerNode* worker = tree_.worker(request.path);
  if (worker == nullptr) {
    error = "'" + (path.empty() ? std::string("/") : path) + "' is not an in-process worker" +
            std::string(refusal);
  }
  return worker;
}

// The tree says what is at the path; the worker pool's registry, which
// process runs there now.
runtime::Pid Commands::running_worker(const ClientRequest& request, ErrorCode& code,
                                      std::string& error) const {
  const std::string path(trimmed(request.path));
  if (worker_node(request, ": only workers take messages", code, error) == nullptr) return {};
  if (calls_ == nullptr) {
    error = "this otpd does not pass messages to workers";
    return {};
  }
  runtime::Pid pid = calls_->whereis(path);
  if (!pid) error = "'" + path + "' is not running";
  return pid;
}

void Commands::cast(const ClientRequest& request, std::string& out) {
  ErrorCode code{};
  std::string error;
  const runtime::Pid worker = running_worker(request, code, error);
  if (!worker) {
    append_error(out, request.id, code, error);
    return;
  }
  calls_->cast(worker, request.message);
  scratch_ = "{\"path\":";
  append_json_string(scratch_, trimmed(request.path));
  scratch_ += ",\"sent\":true}";
  append_result(out, request.id, scratch_);
}

// Answers from the registry the worker pool keeps; the tree adds the kind.
void Commands::whereis(const ClientRequest& request, std::string& out) {
  const std::string path(trimmed(request.path));
  ErrorCode code{};
  std::string error;
  const supervise::WorkerNode* worker = worker_node(request, "", code, error);
  if (worker == nullptr) {
    append_error(out, request.id, code, error);
    return;
  }
  const runtime::Pid pid = calls_ != nullptr ? calls_->whereis(path) : runtime::Pid();
  scratch_ = "{\"path\":";
  append_json_string(scratch_, path);
  scratch_ += ",\"worker_kind\":";
  append_json_string(scratch_, config::to_string(worker->spec().kind()));
  scratch_ +=
      pid ? ",\"running\":true,\"runtime_pid\":" : ",\"running\":false,\"runtime_pid\":null}";
  if (pid) {
    append_json_int(scratch_, static_cast<long long>(pid.id()));
    scratch_ += '}';
  }
  append_result(out, request.id, scratch_);
}

// The loop never waits for the worker: JsonCalls posts its outcome back.
void Commands::call(const ClientRequest& request, std::function<void(std::string)> done) {
  ErrorCode code{};
  std::string error;
  const runtime::Pid worker = running_worker(request, code, error);
  if (!worker) {
    std::string line;
    append_error(line, request.id, code, error);
    done(std::move(line));
    return;
  }
  const std::string path(trimmed(request.path));
  calls_->call(worker, "'" + path + "'", request.message, supervise::Duration(request.timeout_ms),
               [id = request.id, path, done = std::move(done)](workers::JsonOutcome outcome) {
                 std::string line;
                 if (!outcome.ok) {
                   append_error(line, id, ErrorCode::failed, outcome.error);
                 } else {
                   std::string result = "{\"path\":";
                   append_json_string(result, path);
                   result += ",\"reply\":";
                   result += outcome.reply;
                   result += '}';
                   append_result(line, id, result);
                 }
                 done(std::move(line));
               });
}

// The answer that /readyz gives, for `otpctl health`: that otpd answers at
// all is the liveness.
void Commands::health(const ClientRequest& request, std::string& out) {
  supervise::TreePhase phase{.started = tree_.running(), .stopping = false};
  if (phase_ != nullptr) phase = *phase_;
  const supervise::TreeReadiness readiness = supervise::readiness_of(phase, tree_);
  scratch_ = "{\"live\":true,\"ready\":";
  scratch_ += readiness.ready ? "true" : "false";
  scratch_ += ",\"reason\":";
  append_json_string(scratch_, readiness.reason);
  scratch_ += ",\"waiting\":[";
  for (std::size_t i = 0; i < readiness.waiting.size(); ++i) {
    if (i > 0) scratch_ += ',';
    scratch_ += "{\"path\":";
    append_json_string(scratch_, readiness.waiting[i].path);
    scratch_ += ",\"state\":";
    append_json_string(scratch_, readiness.waiting[i].state);
    scratch_ += '}';
  }
  scratch_ += "]}";
  append_result(out, request.id, scratch_);
}

void Commands::not_found(const ClientRequest& request, std::string& out) const {
  append_error(out, request.id, ErrorCode::not_found,
               tree_.not_found(std::string(trimmed(request.path))));
}

void Commands::status(const ClientRequest& request, std::string& out) {
  auto node = tree_.status(request.path);
  if (!node) {
    not_found(request, out);
    return;
  }
  if (workers_ != nullptr) workers_->annotate(*node);
  scratch_.clear();
  append_node_json(scratch_, *node);
  append_result(out, request.id, scratch_);
}

void Commands::signal(const ClientRequest& request, std::string& out) {
  if (!tree_.contains(request.path)) {
    not_found(request, out);
    return;
  }
  const supervise::Signalled sent = tree_.signal_child(request.path, request.signal);
  if (sent.failure) {
    append_error(out, request.id, ErrorCode::failed, *sent.failure);
    return;
  }
  scratch_ = "{\"path\":";
  append_json_string(scratch_, trimmed(request.path));
  scratch_ += ",\"pid\":";
  append_json_int(scratch_, sent.pid);
  scratch_ += ",\"signal\":";
  append_json_string(scratch_, config::signal_name(request.signal));
  scratch_ += sent.group ? ",\"to\":\"group\"}" : ",\"to\":\"process\"}";
  append_result(out, request.id, scratch_);
}

void Commands::events(const ClientRequest& request, std::string& out) {
  const auto backlog = static_cast<std::size_t>(request.backlog);
  if (request.follow) {
    append_result(out, request.id, "{\"stream\":\"events\"}");
    events_.recent(backlog, [&](std::string_view event) { append_event(out, request.id, event); });
    return;
  }
  scratch_ = "{\"events\":[";
  bool first = true;
  events_.recent(backlog, [&](std::string_view event) {
    if (!first) scratch_ += ',';
    first = false;
    scratch_ += event;
  });
  scratch_ += "]}";
  append_result(out, request.id, scratch_);
}

namespace {

output::StreamFilter filter_of(const ClientRequest& request) {
  switch (request.streams) {
    case ClientRequest::Streams::out:
      return output::StreamFilter::out;
    case ClientRequest::Streams::err:
      return output::StreamFilter::err;
    case ClientRequest::Streams::both:
      break;
  }
  return output::StreamFilter::both;
}

bool is_captured(config::Output mode) {
  return mode == config::Output::log || mode == config::Output::file;
}

// One stream asked of a child whose two are one: nothing could answer
// what was asked.
std::string one_of_merged(const std::string& path) {
  return "the stdout and stderr of '" + path +
         "' are one stream ('streams: merged', the default); give it 'streams: separate' to "
         "read them apart";
}

}  // namespace

bool Commands::follows_logs(const ClientRequest& request) const {
  if (outputs_ == nullptr || !tree_.contains(request.path)) return false;
  const auto mode = outputs_->mode_of(request.path);
  if (!mode || !is_captured(*mode)) return false;
  return request.streams == ClientRequest::Streams::both || !outputs_->merged(request.path);
}

// The reply names where the output goes besides the buffer, so that
// `otpctl logs` can say why there is nothing to show for a child whose
// output is not captured.
void Commands::logs(const ClientRequest& request, std::string& out) {
  if (!tree_.contains(request.path)) {
    not_found(request, out);
    return;
  }
  const std::string path(trimmed(request.path));
  const auto mode = outputs_ != nullptr ? outputs_->mode_of(path) : std::nullopt;
  if (!mode) {
    const auto node = tree_.status(request.path);
    const bool supervisor = node && node->is_supervisor;
    append_error(out, request.id, ErrorCode::failed,
                 supervisor ? "'" + (path.empty() ? std::string("/") : path) +
                                  "' is a supervisor: only processes have output"
                            : "the output of '" + path + "' is not known to otpd");
    return;
  }
  const bool captured = is_captured(*mode);
  const bool merged = outputs_->merged(path);
  if (captured && merged && request.streams != ClientRequest::Streams::both) {
    append_error(out, request.id, ErrorCode::failed, one_of_merged(path));
    return;
  }
  scratch_ = "{\"path\":";
  append_json_string(scratch_, path);
  scratch_ += ",\"output\":";
  append_json_string(scratch_, config::to_string(*mode));
  scratch_ += captured ? ",\"captured\":true" : ",\"captured\":false";
  if (captured) {
    scratch_ += ",\"streams\":";
    append_json_string(scratch_, merged ? "merged" : "separate");
  }
  if (const auto why = outputs_->not_captured_because(path)) {
    scratch_ += ",\"not_captured\":";
    append_json_string(scratch_, *why);
  }
  if (const std::string file = outputs_->file_of(path); !file.empty()) {
    scratch_ += ",\"file\":";
    append_json_string(scratch_, file);
  }
  const auto count = static_cast<std::size_t>(request.lines);
  std::string line_json;
  if (request.follow && captured) {
    scratch_ += ",\"stream\":\"logs\"}";
    append_result(out, request.id, scratch_);
    outputs_->last_lines(path, count, filter_of(request), [&](const output::OutputLine& line) {
      line_json.clear();
      output::append_line_json(line_json, path, line);
      append_line(out, request.id, line_json);
    });
    return;
  }
  scratch_ += ",\"lines\":[";
  bool first = true;
  outputs_->last_lines(path, count, filter_of(request), [&](const output::OutputLine& line) {
    if (!first) scratch_ += ',';
    first = false;
    output::append_line_json(scratch_, path, line);
  });
  scratch_ += "]}";
  append_result(out, request.id, scratch_);
}

// The spec is read as the config file is, relative paths from the file's
// directory; its errors place themselves in the text sent.
void Commands::start_child(const ClientRequest& request, std::function<void(std::string)> done) {
  const config::Config& running = tree_.config();
  config::ChildSpec child;
  try {
    const std::string base_dir =
        std::filesystem::absolute(running.file).lexically_normal().parent_path().string();
    child =
        config::load_child_string(request.spec, request.file.empty() ? "start_child" : request.file,
                                  base_dir, running.logs.output, running.logs.streams);
  } catch (const std::exception& error) {
    std::string line;
    append_error(line, request.id, ErrorCode::invalid_request, error.what());
    // From the loop, never inside the request that asked.
    tree_.host().post([done = std::move(done), line = std::move(line)] { done(line); });
    return;
  }
  // A temporary child that ended at once has left the tree by the answer.
  const std::string path = child_path(request.path, child.name);
  tree_.add_child(request.path, std::move(child), node_reply(request, path, std::move(done)));
}

void Commands::terminate_child(const ClientRequest& request,
                               std::function<void(std::string)> done) {
  const ErrorCode refusal = tree_.contains(request.path) ? ErrorCode::failed : ErrorCode::not_found;
  const std::string path = child_path(request.path, request.name);
  tree_.terminate_child(
      request.path, request.name,
      [id = request.id, path, refusal, done = std::move(done)](supervise::Failure failure) {
        std::string line;
        if (failure) {
          append_error(line, id, refusal, *failure);
        } else {
          std::string result = "{\"path\":";
          append_json_string(result, path);
          result += ",\"terminated\":true}";
          append_result(line, id, result);
        }
        done(std::move(line));
      });
}

// The engine refuses an unknown path too, but answers asynchronously like
// any operation: look it up now to tell the two refusals apart.
std::function<void(supervise::Failure)> Commands::node_reply(
    const ClientRequest& request, const std::string& path, std::function<void(std::string)> done) {
  const ErrorCode refusal = tree_.contains(request.path) ? ErrorCode::failed : ErrorCode::not_found;
  return
      [this, id = request.id, path, refusal, done = std::move(done)](supervise::Failure failure) {
        std::string line;
        if (failure) {
          append_error(line, id, refusal, *failure);
        } else if (const auto node = tree_.status(path)) {
          std::string result;
          append_node_json(result, *node);
          append_result(line, id, result);
        } else {
          append_error(line, id, ErrorCode::failed, "'" + path + "' left the tree");
        }
        done(std::move(line));
      };
}

void Commands::answer_later(const ClientRequest& request, std::function<void(std::string)> done) {
  if (request.cmd == Command::call) return call(request, std::move(done));
  if (request.cmd == Command::start_child) return start_child(request, std::move(done));
  if (request.cmd == Command::terminate_child) return terminate_child(request, std::move(done));
  if (request.cmd == Command::reload) {
    reload_(request, [id = request.id, done = std::move(done)](ReloadOutcome outcome) {
      std::string line;
      if (outcome.failure) {
        append_error(line, id, ErrorCode::failed, *outcome.failure);
      } else {
        append_result(line, id, reload_json(outcome));
      }
      done(std::move(line));
    });
    return;
  }
  auto finish = node_reply(request, request.path, std::move(done));
  switch (request.cmd) {
    case Command::start:
      tree_.start_child(request.path, std::move(finish));
      return;
    case Command::stop:
      tree_.stop_child(request.path, std::move(finish));
      return;
    case Command::restart:
      tree_.restart_child(request.path, std::move(finish));
      return;
    default:
      finish("internal error: not an asynchronous command");
  }
}

}  // namespace otpd::control
