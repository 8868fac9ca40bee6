// An application as a supervision tree, as in the classic Elixir example:
//
//   app (one_for_one)
//   ├── storage (one_for_all): store, index   — they must restart together
//   └── pipeline (rest_for_one): source, sink — sink depends on source
//
// It crashes workers on purpose, prints the supervisors' reports, and checks
// that exactly the right workers were restarted.
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

#include "check.hpp"
#include "runtime/supervisor.hpp"

using namespace otpd::runtime;

class Service : public GenServer<Service> {
 public:
  explicit Service(std::string name) : name_(std::move(name)) {}
  void init() { std::printf("  %s started\n", name_.c_str()); }
  void crash() { throw std::runtime_error(name_ + " hit a bug"); }

 private:
  std::string name_;
};

ChildSpec service(const std::string& name) {
  return {.name = name, .start = [name] { return start_link<Service>(name).pid(); }};
}

void print_report(const SupervisorReport& report) {
  if (report.kind == SupervisorReport::Kind::started) return;
  std::printf("  report: %s %s (%s)\n", to_string(report.kind), report.child.c_str(),
              report.reason.text().c_str());
}

// The pid of the child `name` of `sup` now.
Pid pid_of(const Supervisor& sup, const std::string& name) {
  for (const ChildInfo& child : sup.which_children().wait()) {
    if (child.name == name) return child.pid;
  }
  return {};
}

// Crashes `name` and waits until its supervisor has a new one running.
void crash(const Supervisor& sup, const std::string& name) {
  const Pid before = pid_of(sup, name);
  std::printf("crashing %s\n", name.c_str());
  Server<Service>(before).cast(&Service::crash);
  while (pid_of(sup, name) == before || !pid_of(sup, name)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // reports come from the runtime's threads
  Scheduler scheduler;
  const SupervisorFlags reporting{.on_report = print_report};
  std::printf("starting the application\n");
  Supervisor app = Supervisor::start(
      scheduler, reporting,
      {Supervisor::child_spec(
           "storage",
           {.strategy = Strategy::one_for_all, .intensity = 3, .on_report = print_report},
           {service("store"), service("index")}),
       Supervisor::child_spec(
           "pipeline",
           {.strategy = Strategy::rest_for_one, .intensity = 3, .on_report = print_report},
           {service("source"), service("sink")})});
  const Supervisor storage(pid_of(app, "storage"));
  const Supervisor pipeline(pid_of(app, "pipeline"));

  const Pid index = pid_of(storage, "index");
  crash(storage, "store");
  check(pid_of(storage, "index") != index, "one_for_all restarted index with store");

  const Pid source = pid_of(pipeline, "source");
  const Pid sink = pid_of(pipeline, "sink");
  crash(pipeline, "sink");
  check(pid_of(pipeline, "source") == source, "rest_for_one left source alone when sink crashed");
  const Pid sink2 = pid_of(pipeline, "sink");
  check(sink2 != sink, "sink was restarted");
  crash(pipeline, "source");
  check(pid_of(pipeline, "sink") != sink2, "rest_for_one restarted sink after source");

  check(pid_of(app, "storage") == storage.pid() && pid_of(app, "pipeline") == pipeline.pid(),
        "the top supervisor restarted nothing");
  std::printf("stopping the application\n");
  app.stop().wait();
  return 0;
}
