#include "workers/json_calls.hpp"

#include <memory>

#include "runtime/call.hpp"
#include "workers/json_interface.hpp"
#include "workers/worker_pool.hpp"

namespace otpd::workers {
namespace {

// What the worker's thread hands back: the reply, or why there is none.
using Answer = JsonOutcome;

// Runs on the worker's thread, as the worker.
Answer answer(runtime::Process& worker, const std::string& what, const std::string& message) {
  auto* json = dynamic_cast<JsonInterface*>(&worker);
  if (json == nullptr) return {.error = what + " takes no calls (it has no JSON interface)"};
  const Json parsed = Json::parse(message, nullptr, false);
  if (parsed.is_discarded()) return {.error = "the message is not JSON"};
  try {
    return {.ok = true,
            .reply = json->json_call(parsed).dump(-1, ' ', false, Json::error_handler_t::replace)};
  } catch (const BadRequest& e) {
    return {.error = e.what()};
  }
  // Anything else escapes: the worker ends with it, and the caller hears
  // that it failed.
}

// The loop side of one call: the first of the reply and the timeout wins.
struct PendingCall {
  std::function<void(JsonOutcome)> done;
  std::unique_ptr<supervise::TimerHandle> timer;

  void finish(JsonOutcome outcome) {
    timer.reset();
    if (done) std::exchange(done, nullptr)(std::move(outcome));
  }
};

}  // namespace

runtime::Pid JsonCalls::whereis(const std::string& path) const {
  return workers_.whereis(path);
}

void JsonCalls::call(const runtime::Pid& worker, const std::string& what, std::string message,
                     supervise::Duration timeout, std::function<void(JsonOutcome)> done) {
  auto pending = std::make_shared<PendingCall>();
  pending->done = std::move(done);
  pending->timer = host_.start_timer(timeout, [pending, what, timeout] {
    pending->finish(
        {.error = what + " did not reply within " + std::to_string(timeout.count()) + "ms"});
  });
  supervise::Host& host = host_;
  // The reply arrives on the worker's thread (or on this one when the
  // worker has already ended); either way it goes back through the loop.
  auto on_reply = [&host, pending, what](runtime::Outcome<Answer> outcome) {
    Answer result;
    try {
      result = outcome.take();
    } catch (const std::exception& e) {
      result = {.error = what + ": " + e.what()};
    }
    host.post(
        [pending, result = std::move(result)]() mutable { pending->finish(std::move(result)); });
  };
  auto handler = [what, message = std::move(message)](
                     runtime::Process& process, std::unique_ptr<runtime::ReplySink<Answer>>& sink) {
    try {
      sink->reply({answer(process, what, message), nullptr});
    } catch (const std::exception& e) {
      sink->reply(runtime::Outcome<Answer>::failure(runtime::CallError::Kind::failed, e.what()));
      throw;  // the worker ends with it, as in OTP
    }
  };
  worker.send(new runtime::CallEnvelope<Answer>(
      std::move(handler), std::make_unique<runtime::CallbackReply<Answer>>(std::move(on_reply))));
}

void JsonCalls::cast(const runtime::Pid& worker, std::string message) {
  worker.send(runtime::make_envelope([message = std::move(message)](runtime::Process& process) {
    auto* json = dynamic_cast<JsonInterface*>(&process);
    if (json == nullptr) return;
    const Json parsed = Json::parse(message, nullptr, false);
    if (!parsed.is_discarded()) json->json_cast(parsed);
  }));
}

}  // namespace otpd::workers
