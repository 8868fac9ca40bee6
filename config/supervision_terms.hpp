// The words of OTP's supervisor, shared by every supervisor in otpd: the
// tree read from the YAML file (daemon/supervise) and the runtime's
// Supervisor and DynamicSupervisor (daemon/runtime) alike, so that a
// strategy, a restart type or a shutdown spec means one thing everywhere.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace otpd::config {

enum class Strategy : std::uint8_t {
  one_for_one,   // restart the child that ended
  one_for_all,   // stop all the others (last started first), then start all again
  rest_for_one,  // stop those started after it (last started first), then start them again
};

// When a child that ended is started again.
enum class RestartType : std::uint8_t {
  permanent,  // always
  transient,  // only after an abnormal end (not normal, not shutdown)
  temporary,  // never; the child is forgotten when it ends
};

// How a child ended, as its restart type reads it: a transient child is
// restarted only after an abnormal end.
enum class ExitKind : std::uint8_t { normal, shutdown, abnormal };

// How a child is stopped: asked to stop (a process's stop signal, SIGTERM
// unless it sets stop_signal; a runtime process's `shutdown` exit signal),
// then killed once `timeout` has passed; killed at once (brutal_kill); or
// asked and waited for as long as it takes (infinity).
struct Shutdown {
  enum class Kind : std::uint8_t { brutal_kill, timeout, infinity };
  Kind kind = Kind::timeout;
  std::chrono::milliseconds timeout{5000};

  static Shutdown brutal_kill() { return {Kind::brutal_kill, {}}; }
  static Shutdown after(std::chrono::milliseconds d) { return {Kind::timeout, d}; }
  static Shutdown infinity() { return {Kind::infinity, {}}; }
  bool operator==(const Shutdown&) const = default;

  // The steps of every stop, whoever carries them out (a node of the tree,
  // supervise/node.cpp; a runtime supervisor, runtime/supervisor_core.cpp):
  // ask the child to stop unless brutal_kill, then kill it once
  // kill_after() has passed; never for infinity.
  bool asks() const { return kind != Kind::brutal_kill; }
  std::optional<std::chrono::milliseconds> kill_after() const {
    if (kind == Kind::infinity) return std::nullopt;
    return kind == Kind::timeout ? timeout : std::chrono::milliseconds{0};
  }
};

// OTP's restart intensity as Elixir's Supervisor and DynamicSupervisor set
// it by default: more than 3 restarts within 5 s and a supervisor gives up.
// (Erlang's supervisor module defaults to 1 in 5 s.)
inline constexpr int kDefaultIntensity = 3;
inline constexpr std::chrono::milliseconds kDefaultPeriod{5000};

}  // namespace otpd::config
