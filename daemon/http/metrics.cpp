#include "http/metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "config/signals.hpp"
#include "http/prometheus_text.hpp"

namespace otpd::http {
namespace {

using Type = MetricsText::Type;

struct Families {
  explicit Families(MetricsText& m)
      : up(m.family("otpd_child_up", Type::gauge,
                    "1 while the child runs (a process has a pid, a worker or supervisor runs)")),
        ready(m.family("otpd_child_ready", Type::gauge,
                       "1 while the child runs and, with ready:, has said it is ready")),
        restarts(m.family("otpd_child_restarts_total", Type::counter,
                          "Restarts of the child by its supervisor since it was added")),
        exit_code(m.family("otpd_child_last_exit_code", Type::gauge,
                           "Exit status of the child's last exit, when it exited with one")),
        exit_signal(m.family("otpd_child_last_exit_signal", Type::gauge,
                             "Number of the signal that ended the child last, when one did")),
        exit_time(m.family("otpd_child_last_exit_time_seconds", Type::gauge,
                           "When the child last exited, since the Unix epoch")),
        start_time(m.family("otpd_child_start_time_seconds", Type::gauge,
                            "When the running child was started, since the Unix epoch")),
        next_restart(m.family("otpd_child_next_restart_time_seconds", Type::gauge,
                              "When a restart delayed by backoff is due, since the Unix epoch")),
        intensity_used(m.family("otpd_supervisor_intensity_used", Type::gauge,
                                "Restarts within the supervisor's period that count now")),
        intensity_max(m.family("otpd_supervisor_intensity_max", Type::gauge,
                               "Restarts the supervisor allows within its period")),
        period(m.family("otpd_supervisor_period_seconds", Type::gauge,
                        "The supervisor's intensity period")),
        gave_up(m.family("otpd_supervisor_gave_up_total", Type::counter,
                         "Times the supervisor exceeded its intensity and gave up")),
        children(
            m.family("otpd_supervisor_children", Type::gauge, "Children the supervisor has now")) {}
  std::size_t up, ready, restarts, exit_code, exit_signal, exit_time, start_time, next_restart;
  std::size_t intensity_used, intensity_max, period, gave_up, children;
};

const char* kind_of(const supervise::NodeStatus& node) {
  if (node.is_supervisor) return "supervisor";
  return node.worker_kind.empty() ? "process" : "worker";
}

double seconds(std::chrono::milliseconds ms) {
  return static_cast<double>(ms.count()) / 1000.0;
}

void supervisor_samples(MetricsText& m, const Families& f, const supervise::NodeStatus& node,
                        const EventTally* events) {
  const std::initializer_list<Label> labels{{"supervisor", node.path}};
  m.sample(f.intensity_used, labels, node.intensity_used);
  m.sample(f.intensity_max, labels, node.intensity);
  m.sample(f.period, labels, seconds(node.period));
  m.sample(f.gave_up, labels,
           events != nullptr ? static_cast<double>(events->gave_up(node.path)) : 0.0);
  m.sample(f.children, labels, static_cast<double>(node.children.size()));
}

void walk(MetricsText& m, const Families& f, const supervise::NodeStatus& supervisor,
          const MetricsInput& input) {
  supervisor_samples(m, f, supervisor, input.events);
  for (const supervise::NodeStatus& child : supervisor.children) {
    const bool running = child.state == "running";
    const bool up = child.is_supervisor         ? running
                    : child.worker_kind.empty() ? child.pid != 0
                                                : child.worker_id != 0;
    const std::initializer_list<Label> labels{{"path", child.path},
                                              {"supervisor", supervisor.path}};
    m.sample(f.up,
             {{"path", child.path}, {"supervisor", supervisor.path}, {"kind", kind_of(child)}},
             up ? 1 : 0);
    m.sample(f.ready, labels, running && up ? 1 : 0);
    m.sample(f.restarts, labels, child.restarts);
    if (child.last_exit && child.last_exit->status) {
      const auto& status = *child.last_exit->status;
      m.sample(status.signaled ? f.exit_signal : f.exit_code, labels, status.code);
    }
    if (child.since_exit)
      m.sample(f.exit_time, labels, input.now_seconds - seconds(*child.since_exit));
    if (child.uptime && up)
      m.sample(f.start_time, labels, input.now_seconds - seconds(*child.uptime));
    if (child.restart_in) {
      m.sample(f.next_restart, labels, input.now_seconds + seconds(*child.restart_in));
    }
    if (child.is_supervisor) walk(m, f, child, input);
  }
}

// A number from a /proc file's "Name:   value" line.
double proc_status_field(const std::string& text, const std::string& name) {
  const auto at = text.find("\n" + name + ":");
  if (at == std::string::npos) return 0;
  return std::strtod(text.c_str() + at + name.size() + 2, nullptr);
}

}  // namespace

ProcessFigures read_process_figures() {
  ProcessFigures figures;
  {
    std::ifstream status("/proc/self/status");
    std::stringstream text;
    text << "\n" << status.rdbuf();
    figures.resident_bytes = proc_status_field(text.str(), "VmRSS") * 1024;
  }
  if (DIR* dir = opendir("/proc/self/fd")) {
    int count = 0;
    while (const dirent* entry = readdir(dir)) {
      if (entry->d_name[0] != '.') ++count;
    }
    closedir(dir);
    figures.open_fds = count - 1;  // less the directory's own descriptor
  }
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) figures.max_fds = static_cast<double>(limit.rlim_cur);
  {
    // Field 22 of /proc/self/stat: the start in clock ticks after boot.
    std::ifstream stat_file("/proc/self/stat");
    std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
    const auto after_name = stat.rfind(')');
    std::ifstream uptime_file("/proc/uptime");
    double uptime = 0;
    uptime_file >> uptime;
    if (after_name != std::string::npos && uptime > 0) {
      std::istringstream fields(stat.substr(after_name + 2));
      std::string field;
      for (int i = 3; i <= 22 && fields >> field; ++i) {
        if (i == 22) {
          const double ticks = std::strtod(field.c_str(), nullptr);
          const double started_after_boot = ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
          const double now =
              std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
                  .count();
          figures.start_time_seconds = now - uptime + started_after_boot;
        }
      }
    }
  }
  return figures;
}

std::string render_metrics(const MetricsInput& input) {
  MetricsText m;
  const Families f(m);
  if (input.root != nullptr) walk(m, f, *input.root, input);

  const auto events = m.family("otpd_events_total", Type::counter,
                               "Events of the tree since otpd started, by kind");
  if (input.events != nullptr) {
    for (std::size_t k = 0; k < EventTally::kKinds; ++k) {
      const auto kind = static_cast<supervise::EventKind>(k);
      m.sample(events, {{"kind", supervise::to_string(kind)}},
               static_cast<double>(input.events->of(kind)));
    }
  }
  const auto gauge = [&](std::string_view name, std::string_view help, double value) {
    m.sample(m.family(name, Type::gauge, help), {}, value);
  };
  const auto counter = [&](std::string_view name, std::string_view help, double value) {
    m.sample(m.family(name, Type::counter, help), {}, value);
  };
  gauge("otpd_tree_ready", "1 while the tree is ready, as /readyz answers", input.ready ? 1 : 0);
  m.sample(m.family("otpd_build_info", Type::gauge, "otpd's version, as a label"),
           {{"version", OTPD_VERSION}}, 1);
  gauge("otpd_resident_memory_bytes", "otpd's resident memory", input.process.resident_bytes);
  gauge("otpd_open_fds", "Descriptors otpd has open", input.process.open_fds);
  gauge("otpd_max_fds", "otpd's open-file limit", input.process.max_fds);
  gauge("otpd_start_time_seconds", "When otpd started, since the Unix epoch",
        input.process.start_time_seconds);
  gauge("otpd_control_clients", "Connections open on the control socket",
        static_cast<double>(input.control_clients));
  gauge("otpd_http_connections", "HTTP connections open",
        static_cast<double>(input.http.connections));
  counter("otpd_http_requests_total", "HTTP requests answered",
          static_cast<double>(input.http.requests));
  const auto refused = m.family("otpd_http_refused_total", Type::counter,
                                "HTTP connections and requests refused, by reason");
  m.sample(refused, {{"reason", "busy"}}, static_cast<double>(input.http.refused_busy));
  m.sample(refused, {{"reason", "timeout"}}, static_cast<double>(input.http.refused_timeout));
  m.sample(refused, {{"reason", "invalid"}}, static_cast<double>(input.http.refused_invalid));
  counter("otpd_http_streams_dropped_total",
          "Event streams closed because their reader fell behind",
          static_cast<double>(input.http.streams_dropped));
  counter("otpd_hooks_started_total", "Hook runs started",
          static_cast<double>(input.hooks.started));
  counter("otpd_hooks_failed_total",
          "Hook runs that failed: exit status not 0, killed, timed out or not started",
          static_cast<double>(input.hooks.failed));
  counter("otpd_hooks_dropped_total", "Hook runs not made because too many were waiting",
          static_cast<double>(input.hooks.dropped));
  gauge("otpd_hooks_running", "Hook runs under way", static_cast<double>(input.hooks.running));
  return m.text();
}

}  // namespace otpd::http
