// The typed form of a configuration file: what the loader produces and the
// supervisor engine consumes. Nothing here knows about YAML or processes.
#pragma once

#include <chrono>
#include <csignal>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "config/boxed.hpp"
#include "config/cron_expression.hpp"
#include "config/lean_vector.hpp"
#include "config/shared_string.hpp"
#include "config/supervision_terms.hpp"
#include "protocol/duration.hpp"

namespace otpd::config {

using Duration = std::chrono::milliseconds;

// When a supervisor shuts itself down because its significant children have
// ended without being restarted (OTP's auto_shutdown).
enum class AutoShutdown { never, any_significant, all_significant };

// Delay before restart number n (counted since the child last stayed up for
// `reset_after`): min(initial * factor^(n-1), max).
struct Backoff {
  Duration initial{100};
  Duration max{30000};
  double factor = 2.0;
  Duration reset_after{30000};
  bool operator==(const Backoff&) const = default;
};

// Where a node was written, for error messages.
struct SourceLocation {
  SharedString file;  // shared: every child of a file has its location
  int line = 0;       // 1-based; 0 when unknown
  int column = 0;     // 1-based
  bool operator==(const SourceLocation&) const = default;
};

// One setrlimit(2) resource. `resource` is the RLIMIT_* number; values are
// rlim_t's, with `unlimited` standing for RLIM_INFINITY.
struct ResourceLimit {
  static constexpr std::uint64_t unlimited = ~std::uint64_t{0};
  int resource = 0;
  std::string name;  // as written in the file: "nofile"
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
  bool operator==(const ResourceLimit&) const = default;
};

// Who a process runs as. Names are resolved to ids when the config is loaded;
// an unset id is left as otpd's own.
struct Credentials {
  std::optional<unsigned> uid;
  std::optional<unsigned> gid;
  std::optional<std::vector<unsigned>> groups;  // supplementary; set: replace otpd's
  std::string user;   // for messages: the user's name, or the number as written
  std::string group;  // likewise for the group
  // From the user's entry in the user database, for HOME, USER, LOGNAME and
  // SHELL; empty when no user is given or the uid has no entry.
  std::string login;
  std::string home;
  std::string shell;
  bool operator==(const Credentials&) const = default;
};

// What a shutdown's first signal reaches: the child's whole process group,
// or its main process alone (SIGKILL still goes to the group).
enum class KillMode : std::uint8_t { group, process };

// How otpd learns that a started process is ready for its dependants: the
// child says so (sd_notify READY=1, or a newline on a descriptor), a probe
// succeeds (a TCP connect, a command exiting 0), or some time has passed.
// `none`: it is ready as soon as it has exec'd.
struct Readiness {
  enum class Kind { none, notify, fd, tcp, exec, delay };
  Kind kind = Kind::none;
  int fd = 0;                       // fd: the child's descriptor number (>= 3)
  std::string host = {};            // tcp: a numeric IPv4 or IPv6 address
  int port = 0;                     // tcp
  std::vector<std::string> argv{};  // exec: the probe command
  bool via_shell = false;           // exec: argv is {"/bin/sh", "-c", script}
  Duration interval{100};           // tcp, exec: time between the first two probes
  // tcp, exec: each failed probe doubles the wait before the next, up to
  // this; no more than `interval` (0) keeps the wait at `interval`.
  Duration max_interval{0};
  Duration delay{0};  // delay
  bool operator==(const Readiness&) const = default;
};
// Limits on what a process and everything it starts may use together,
// enforced by the kernel through the child's cgroup (docs/spawning.md):
// memory.max, cpu.max and pids.max, or their cgroup v1 equivalents. Unset:
// no limit of otpd's (the limits of the cgroups above still apply).
struct CgroupLimits {
  static constexpr std::uint64_t unlimited = ~std::uint64_t{0};
  // The share of CPU time: `quota` microseconds in every `period`.
  struct Cpu {
    std::uint64_t quota = unlimited;  // unlimited: "max"
    std::uint64_t period = 100000;
    bool operator==(const Cpu&) const = default;
  };
  std::optional<std::uint64_t> memory_max;  // bytes
  std::optional<Cpu> cpu_max;
  std::optional<std::uint64_t> pids_max;  // processes and threads
  bool empty() const { return !memory_max && !cpu_max && !pids_max; }
  bool operator==(const CgroupLimits&) const = default;
};

// Where a process's stdout and stderr go (docs/output.md): captured into
// otpd's own log or a rotated file per child, left on otpd's own stdout and
// stderr, or thrown away.
enum class Output : std::uint8_t { log, file, inherit, discard };
// Whether captured stdout and stderr are one stream (one pipe, as systemd
// gives a service) or two that otpd keeps apart (two pipes).
enum class Streams : std::uint8_t { merged, separate };

struct ProcessSpec {
  // argv[0] is the program as written: an absolute path, a path relative to
  // `cwd` (contains a '/'), or a bare name looked up in PATH at spawn time.
  std::vector<std::string> argv;
  // The settings and lists most children leave alone are boxed or lean, and
  // the small fields are packed at the end: a 10,000-child tree keeps a
  // spec per child.
  // Added to (or replacing entries of) otpd's own environment, in file order.
  LeanVector<std::pair<std::string, std::string>> env;
  SharedString cwd;  // absolute; defaults to the config file's directory (shared)
  // Exit codes (besides 0) and signals that count as a normal exit for a
  // transient child.
  LeanVector<int> normal_exit_codes;
  LeanVector<int> normal_exit_signals;

  // Execution settings, applied in the child before exec (docs/spawning.md).
  Boxed<Credentials> credentials;
  std::optional<unsigned> umask;
  LeanVector<ResourceLimit> rlimits;  // in file order
  // Variables read from `env_file`s when the config was loaded, in order;
  // `env` is applied after them and wins.
  LeanVector<std::string> env_files;  // absolute paths
  LeanVector<std::pair<std::string, std::string>> file_env;
  Boxed<Readiness> ready{};
  Boxed<CgroupLimits> limits;  // memory_max, cpu_max, pids_max
  // How long a child with `ready` may take to become ready; none = forever.
  std::optional<Duration> start_timeout = Duration{60000};
  // With ready: notify, the longest time between two WATCHDOG=1.
  std::optional<Duration> watchdog{};
  int stop_signal = SIGTERM;
  KillMode kill_mode = KillMode::group;
  bool via_shell = false;   // argv is {"/bin/sh", "-c", script}
  bool inherit_env = true;  // false: start from an empty environment
  // Unset in the file: the loader fills in `logs.output` and `logs.streams`.
  std::optional<Output> output;
  std::optional<Streams> streams;
  bool operator==(const ProcessSpec&) const = default;
};

// The built-in in-process worker kinds (docs/workers.md). Each kind's
// settings are checked when the file is loaded.
enum class WorkerKind { agent, health_check, cron, file_watch };

// A named JSON value that operators read and change with `otpctl call`.
struct AgentSettings {
  std::string value = "null";  // the initial value, as compact JSON text
  bool operator==(const AgentSettings&) const = default;
};

// Probes something at an interval; after `failures` failed probes in a row
// the worker exits abnormally, so that its supervisor's strategy restarts
// what it guards.
struct HealthCheckSettings {
  enum class Probe { tcp, http, exec };
  Probe probe = Probe::tcp;
  std::string host = {};    // tcp, http: a numeric address
  int port = 0;             // tcp, http
  std::string target = {};  // http: the path and query sent in the GET
  std::string url = {};     // http: as written, for messages
  // exec: the command, run like a process child of the tree (cwd, output).
  ProcessSpec command = {};
  Duration interval{10000};
  Duration timeout{2000};
  int failures = 3;
  // Probes do not start until this long after the worker starts.
  Duration initial_delay{0};
  // A sibling process to kill when the check fails; empty: the check exits.
  std::string guards = {};
  bool operator==(const HealthCheckSettings&) const = default;
};

// Runs a command on a cron schedule or at an interval; each run is a task of
// the worker, killed when it outlasts `timeout` or when the worker ends.
struct CronSettings {
  // What a run that comes due while the previous one is still going does:
  // nothing (skip), wait for it (queue, at most one waiting run), or kill it
  // and start once it has been reaped (kill).
  enum class Overlap { skip, queue, kill };
  std::optional<CronExpression> schedule = {};  // else `every`
  Duration every{0};
  // Run like a process child of the tree (cwd, env, output).
  ProcessSpec command = {};
  std::optional<Duration> timeout = Duration{3600 * 1000};  // none: no limit
  Overlap overlap = Overlap::skip;
  bool run_at_start = false;  // one run as soon as the worker starts
  bool operator==(const CronSettings&) const = default;
};

// Watches files and directories with inotify; once a change has been
// followed by `debounce` of quiet, restarts the sibling `target` (as
// `otpctl restart` does) or sends it `signal`.
struct FileWatchSettings {
  struct Path {
    std::string path = {};   // absolute
    bool directory = false;  // true: changes to its entries; false: to this file
    bool operator==(const Path&) const = default;
  };
  std::vector<Path> paths = {};
  std::string target = {};  // a sibling's name
  int signal = 0;           // 0: restart the target; else send it this signal
  Duration debounce{500};
  // Patterns (fnmatch) of entry names in watched directories that are not
  // changes: editors' swap and backup files by default.
  std::vector<std::string> ignore = {"*.swp", "*.swx", "*~", ".#*", "#*#", "4913"};
  bool operator==(const FileWatchSettings&) const = default;
};

struct WorkerSpec {
  // In WorkerKind's order.
  std::variant<AgentSettings, HealthCheckSettings, CronSettings, FileWatchSettings> settings;
  WorkerKind kind() const { return static_cast<WorkerKind>(settings.index()); }
  // The command the worker has the loop run under its path (its output goes
  // there), if its kind runs one.
  const ProcessSpec* command() const;
  ProcessSpec* command() {
    return const_cast<ProcessSpec*>(static_cast<const WorkerSpec&>(*this).command());
  }
  bool operator==(const WorkerSpec&) const = default;
};

struct ChildSpec;

struct SupervisorSpec {
  Strategy strategy = Strategy::one_for_one;
  int intensity = kDefaultIntensity;
  Duration period = kDefaultPeriod;
  // Default backoff for this supervisor's children; none = restart at once.
  BoxedOptional<Backoff> backoff;
  AutoShutdown auto_shutdown = AutoShutdown::never;
  std::vector<ChildSpec> children;
  // A dynamic supervisor (`worker: {kind: dynamic_supervisor}`, OTP's
  // DynamicSupervisor): one_for_one, no children in the file; children are
  // added and removed at run time (`otpctl start-child`, `terminate-child`)
  // and are lost when the dynamic supervisor itself restarts.
  bool dynamic = false;
  std::optional<int> max_children;  // dynamic: none = no limit
  bool operator==(const SupervisorSpec&) const;
};

struct ChildSpec {
  std::string name;
  SourceLocation where;
  // Defaults: 5 s for a process or a worker, infinity for a supervisor.
  Shutdown shutdown;
  BoxedOptional<Backoff> backoff;  // overrides the supervisor's default
  RestartType restart = RestartType::permanent;
  // Its end (without a restart) can shut its supervisor down; only for
  // transient and temporary children of a supervisor with auto_shutdown.
  bool significant = false;
  // A worker, rare and large, is boxed.
  std::variant<ProcessSpec, SupervisorSpec, Boxed<WorkerSpec>> body;

  bool is_supervisor() const { return std::holds_alternative<SupervisorSpec>(body); }
  bool is_process() const { return std::holds_alternative<ProcessSpec>(body); }
  bool is_worker() const { return std::holds_alternative<Boxed<WorkerSpec>>(body); }
  const ProcessSpec& process() const { return std::get<ProcessSpec>(body); }
  const SupervisorSpec& supervisor() const { return std::get<SupervisorSpec>(body); }
  const WorkerSpec& worker() const { return *std::get<Boxed<WorkerSpec>>(body); }
  bool operator==(const ChildSpec&) const = default;
};

inline bool SupervisorSpec::operator==(const SupervisorSpec& o) const {
  return strategy == o.strategy && intensity == o.intensity && period == o.period &&
         backoff == o.backoff && auto_shutdown == o.auto_shutdown && children == o.children &&
         dynamic == o.dynamic && max_children == o.max_children;
}

// A group named in the file; otpd resolves it to a gid when it starts.
struct GroupName {
  std::string name;
  SourceLocation where;
  bool operator==(const GroupName&) const = default;
};

// The control socket: where it is and who besides otpd's own user may use it.
struct ControlSpec {
  std::string socket;                   // absolute; empty for the default
  std::optional<GroupName> group;       // members may use every command
  std::optional<GroupName> read_group;  // members may use read commands only
  bool operator==(const ControlSpec&) const = default;
};

// The `logs:` section: where captured output goes and how much is kept.
struct LogsSpec {
  std::string dir;  // absolute; empty: the default chosen when otpd starts
  std::uint64_t max_size = 10 * 1024 * 1024;  // bytes per file before rotation
  int keep = 5;                               // rotated files kept: X.log.1 .. X.log.KEEP
  Output output = Output::log;                // for processes that do not say
  Streams streams = Streams::merged;          // likewise
  int buffer = 1000;                          // lines per child kept in memory
  bool operator==(const LogsSpec&) const = default;
};

// The `workers:` section: the thread pool of in-process workers.
struct WorkerPoolSpec {
  int threads = 2;  // the supervised programs own the machine's cores
  // A handler that holds its thread longer is reported; zero: never.
  Duration slow_handler = std::chrono::milliseconds(100);
  bool operator==(const WorkerPoolSpec&) const = default;
};

// The `http:` section (docs/http.md): metrics, probes and the status page.
// Absent, otpd opens no port.
struct HttpSpec {
  // "127.0.0.1:9100", "[::1]:9100" or an absolute Unix socket path; empty:
  // no listener.
  std::string listen;
  std::string host;  // a TCP address's numeric host, without brackets
  int port = 0;
  bool unix_socket() const { return !listen.empty() && listen.front() == '/'; }
  std::string admin_token_file;  // absolute; empty: the page is read-only
  int max_connections = 256;
  // Host names besides the listening address and localhost that the page
  // answers to (what a browser sends in Host:, against DNS rebinding).
  std::vector<std::string> allowed_hosts;
  bool operator==(const HttpSpec&) const = default;
};

// One entry of `hooks:` (docs/http.md, "Hooks"): a command otpd runs, with
// the event on its stdin and in its environment, when an event matches.
struct HookSpec {
  std::string name;
  std::vector<std::string> events;  // event kinds as events name them; empty: every kind
  std::vector<std::string> paths;   // fnmatch(3) globs on the event's path; empty: any
  ProcessSpec command;              // argv, env, cwd, output as a process child's
  Duration timeout{30000};          // then its process group gets SIGKILL
  int max_running = 1;              // runs of this hook at once
  int max_queued = 100;             // events waiting beyond those; more are dropped
  bool operator==(const HookSpec&) const = default;
};

// Every section of a config file but the tree. A reload replaces the tree
// and keeps these as otpd runs them, whatever sections are added here.
struct ConfigSections {
  std::string file;  // as given on the command line
  ControlSpec control;
  LogsSpec logs;
  WorkerPoolSpec workers;
  HttpSpec http;
  std::vector<HookSpec> hooks;
};

struct Config : ConfigSections {
  SupervisorSpec tree;
};

const char* to_string(Strategy);
const char* to_string(RestartType);
const char* to_string(AutoShutdown);
const char* to_string(KillMode);
const char* to_string(Readiness::Kind);
const char* to_string(Output);
const char* to_string(Streams);
const char* to_string(WorkerKind);
const char* to_string(HealthCheckSettings::Probe);
const char* to_string(CronSettings::Overlap);
std::string to_string(const Shutdown&);
// As the keys are written: "64M", "1536K", "1048577" bytes; "max".
std::string format_memory(std::uint64_t bytes);
// "50%", "150%", "2.5%"; "33333/100000us" when the quota is no simple
// share of its period; "max".
std::string format_cpu(const CgroupLimits::Cpu& cpu);
// The duration grammar is the protocol's, shared with otpctl.
using protocol::format_duration;

}  // namespace otpd::config
