// Workers and helpers shared by the supervisor tests: a worker that notes
// its init and terminate in a Journal and crashes or stops on request.
#pragma once

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "gate.hpp"
#include "journal.hpp"
#include "process_end.hpp"
#include "runtime/child_spec.hpp"
#include "runtime/supervisor_core.hpp"

namespace otpd::test {

using Lines = std::vector<std::string>;

}  // namespace otpd::test

// Journal lines in a failed check's message.
template <>
struct doctest::StringMaker<otpd::test::Lines> {
  static doctest::String convert(const otpd::test::Lines& lines) {
    std::string all = "{";
    for (const auto& line : lines) all += "\"" + line + "\", ";
    return (all + "}").c_str();
  }
};

namespace otpd::test {

using runtime::ChildSpec;
using runtime::ExitReason;
using runtime::GenServer;
using runtime::ReportHandler;
using runtime::RestartType;
using runtime::Shutdown;
using runtime::SupervisorReport;

// A worker that notes its init and terminate, and crashes or stops on request.
// It traps exits unless told not to, as an OTP worker that wants its
// terminate to run when its supervisor stops it must.
class Member : public GenServer<Member> {
 public:
  Member(Journal& journal, std::string name, bool fail_init, bool traps_exits = true)
      : journal_(journal), name_(std::move(name)), fail_init_(fail_init), traps_(traps_exits) {}
  void init() {
    if (fail_init_) throw std::runtime_error("no " + name_ + " today");
    trap_exits(traps_);
    journal_.add(name_ + " init");
  }
  void terminate(const ExitReason& reason) { journal_.add(name_ + " terminate " + reason.text()); }
  void crash() { throw std::runtime_error(name_ + " crashed"); }
  void quit(ExitReason reason) { stop(std::move(reason)); }
  void note(const std::string& what) { journal_.add(name_ + " " + what); }
  // Holds this worker's thread (and its supervisor's) until the gate opens.
  void hold(std::shared_ptr<Gate> gate) { gate->arrive_and_wait(); }
  void count(std::shared_ptr<std::atomic<int>> handled) { ++*handled; }
  void trap() { trap_exits(true); }
  int ping() const { return 1; }

 private:
  Journal& journal_;
  std::string name_;
  bool fail_init_;
  bool traps_;
};

struct WorkerOptions {
  RestartType restart = RestartType::permanent;
  std::optional<Shutdown> shutdown = {};
  // Starts fail while this is above 0 (each failure counts it down).
  std::shared_ptr<std::atomic<int>> failing_starts = {};
  bool traps_exits = true;
};

inline ChildSpec worker(Journal& journal, const std::string& name, WorkerOptions options = {}) {
  return {.name = name,
          .start =
              [&journal, name, failing = options.failing_starts, traps = options.traps_exits] {
                const bool fail = failing && failing->fetch_sub(1) > 0;
                return runtime::start_link<Member>(journal, name, fail, traps).pid();
              },
          .restart = options.restart,
          .shutdown = options.shutdown};
}

inline bool ended(const runtime::Pid& pid) {
  return ends_within(pid);
}

// Reports, as lines, for the tests that look at them.
inline ReportHandler into(Journal& journal) {
  return [&journal](const SupervisorReport& r) {
    if (r.kind == SupervisorReport::Kind::started) return;
    journal.add(std::string("report ") + to_string(r.kind) + " " + r.child + " " + r.reason.text());
  };
}

}  // namespace otpd::test
