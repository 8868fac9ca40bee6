// Why an in-process worker ended, in OTP's terms. `normal` and `shutdown`
// (with or without a term) are the ends a transient worker is not restarted
// for; only `normal` leaves a linked process that does not trap exits alive.
#pragma once

#include <string>

#include "config/supervision_terms.hpp"

namespace otpd::runtime {

class ExitReason {
 public:
  enum class Kind {
    normal,    // returned from its work, or stop(normal)
    shutdown,  // stopped by its supervisor or with {shutdown, term}
    killed,    // `kill`: not trappable, ends the worker between two messages
    error,     // an exception escaped a handler, or an abnormal stop
  };

  static ExitReason normal() { return {Kind::normal, {}}; }
  static ExitReason shutdown(std::string term = {}) { return {Kind::shutdown, std::move(term)}; }
  static ExitReason killed() { return {Kind::killed, {}}; }
  static ExitReason error(std::string what) { return {Kind::error, std::move(what)}; }
  // A process that was dead (or never existed) when linked or monitored.
  static ExitReason noproc() { return {Kind::error, "noproc"}; }

  Kind kind() const { return kind_; }
  // The term of {shutdown, term}, or what an error was.
  const std::string& detail() const { return detail_; }

  // OTP's rule for transient restarts (and for what a crash report omits).
  bool is_normal() const { return kind_ == Kind::normal || kind_ == Kind::shutdown; }
  // As every supervisor's restart rules read it: `killed` and errors are
  // abnormal.
  config::ExitKind exit_kind() const {
    if (kind_ == Kind::normal) return config::ExitKind::normal;
    return kind_ == Kind::shutdown ? config::ExitKind::shutdown : config::ExitKind::abnormal;
  }

  // "normal", "shutdown", "{shutdown, drained}", "killed", "error: boom".
  std::string text() const;

  bool operator==(const ExitReason&) const = default;

 private:
  ExitReason(Kind kind, std::string detail) : kind_(kind), detail_(std::move(detail)) {}
  Kind kind_;
  std::string detail_;
};

}  // namespace otpd::runtime
