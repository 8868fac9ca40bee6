#include "http/metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
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
            m.family("otpd_supervisor_children", Type::gauge, "Children the supervisor has now")),
        worker_messages(m.family("otpd_worker_messages_total", Type::counter,
                                 "Messages the in-process worker has handled since it started")),
        worker_mailbox(m.family("otpd_worker_mailbox_length", Type::gauge,
                                "Messages waiting in the in-process worker's mailbox")) {}
  std::size_t up, ready, restarts, exit_code, exit_signal, exit_time, start_time, next_restart;
  std::size_t intensity_used, intensity_max, period, gave_up, children;
  std::size_t worker_messages, worker_mailbox;
};

const char* kind_of(supervise::ChildGlance::Kind kind) {
  switch (kind) {
    case supervise::ChildGlance::Kind::supervisor:
      return "supervisor";
    case supervise::ChildGlance::Kind::worker:
      return "worker";
    case supervise::ChildGlance::Kind::process:
      break;
  }
  return "process";
}

double seconds(std::chrono::milliseconds ms) {
  return static_cast<double>(ms.count()) / 1000.0;
}

// Writes each node's samples as the walk meets it. A child's labels are
// escaped once, into `labels_`, and appended to each of its families.
class SampleWriter final : public supervise::TreeVisitor {
 public:
  SampleWriter(MetricsText& m, const Families& f, const MetricsInput& input)
      : m_(m), f_(f), input_(input) {}

  void supervisor(const supervise::SupervisorGlance& node) override {
    labels_.assign("supervisor=\"");
    append_label_value(labels_, node.path);
    labels_ += '"';
    m_.sample_labelled(f_.intensity_used, labels_, node.intensity_used);
    m_.sample_labelled(f_.intensity_max, labels_, node.intensity);
    m_.sample_labelled(f_.period, labels_, seconds(node.period));
    const auto gave_up = input_.events != nullptr ? input_.events->gave_up(node.path) : 0;
    m_.sample_labelled(f_.gave_up, labels_, static_cast<double>(gave_up));
    m_.sample_labelled(f_.children, labels_, static_cast<double>(node.children));
  }

  void child(const supervise::ChildGlance& child) override {
    labels_.assign("path=\"");
    append_label_value(labels_, child.path);
    labels_ += "\",supervisor=\"";
    append_label_value(labels_, child.supervisor);
    labels_ += '"';
    const std::size_t plain = labels_.size();
    labels_ += ",kind=\"";
    labels_ += kind_of(child.kind);
    labels_ += '"';
    m_.sample_labelled(f_.up, labels_, child.up ? 1 : 0);
    labels_.resize(plain);
    m_.sample_labelled(f_.ready, labels_, child.state == "running" && child.up ? 1 : 0);
    m_.sample_labelled(f_.restarts, labels_, child.restarts);
    if (child.last_exit != nullptr) {
      m_.sample_labelled(child.last_exit->signaled ? f_.exit_signal : f_.exit_code, labels_,
                         child.last_exit->code);
    }
    if (child.since_exit) {
      m_.sample_labelled(f_.exit_time, labels_, input_.now_seconds - seconds(*child.since_exit));
    }
    if (child.uptime) {
      m_.sample_labelled(f_.start_time, labels_, input_.now_seconds - seconds(*child.uptime));
    }
    if (child.restart_in) {
      m_.sample_labelled(f_.next_restart, labels_, input_.now_seconds + seconds(*child.restart_in));
    }
    if (child.kind == supervise::ChildGlance::Kind::worker && child.up) {
      m_.sample_labelled(f_.worker_messages, labels_, static_cast<double>(child.messages_handled));
      m_.sample_labelled(f_.worker_mailbox, labels_, static_cast<double>(child.mailbox_length));
    }
  }

 private:
  MetricsText& m_;
  const Families& f_;
  const MetricsInput& input_;
  std::string labels_;
};

// A number from a /proc file's "Name:   value" line.
double proc_status_field(const std::string& text, const std::string& name) {
  const auto at = text.find("\n" + name + ":");
  if (at == std::string::npos) return 0;
  return std::strtod(text.c_str() + at + name.size() + 2, nullptr);
}

// Since Linux 6.2 the size of /proc/self/fd is the number of descriptors
// open, which costs nothing to ask; listing the directory costs the kernel
// a lookup per descriptor (a pidfd per child: 10,000 and more).
double count_open_fds() {
  struct stat info {};
  if (::stat("/proc/self/fd", &info) == 0 && info.st_size > 0) {
    return static_cast<double>(info.st_size);
  }
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  int count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count - 1;  // less the directory's own descriptor
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
  figures.open_fds = count_open_fds();
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
  if (input.walk) {
    SampleWriter writer(m, f, input);
    input.walk(writer);
  }

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
  gauge("otpd_tree_ready", "1 while the tree is ready, as /readyz answers",
        input.ready && input.ready() ? 1 : 0);
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
