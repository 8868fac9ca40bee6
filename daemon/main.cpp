// otpd: wiring only. Flags, signals, config, the tree and the event loop.
#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "asio/asio_host.hpp"
#include "asio/readiness_io.hpp"
#include "asio/signals.hpp"
#include "asio/worker_services.hpp"
#include "check_diff.hpp"
#include "command_child.hpp"
#include "config/loader.hpp"
#include "config/signals.hpp"
#include "control/commands.hpp"
#include "control/event_hub.hpp"
#include "control/server.hpp"
#include "control/socket_path.hpp"
#include "hooks/hook_runner.hpp"
#include "http/daemon_site.hpp"
#include "http/event_tally.hpp"
#include "http/http_side.hpp"
#include "http/page_feed.hpp"
#include "http/server.hpp"
#include "log/event_log.hpp"
#include "options.hpp"
#include "output/output_hub.hpp"
#include "process/cgroup_fs.hpp"
#include "process/cgroups.hpp"
#include "process/child_records.hpp"
#include "process/fd_limit.hpp"
#include "process/left_behind.hpp"
#include "process/leftovers.hpp"
#include "process/low_fd.hpp"
#include "process/os_processes.hpp"
#include "process/reaper.hpp"
#include "program_check.hpp"
#include "reload/reloader.hpp"
#include "sd_notify/notify.hpp"
#include "supervise/group_owners.hpp"
#include "supervise/status_summary.hpp"
#include "supervise/tree.hpp"
#include "supervise/tree_health.hpp"
#include "supervise/worker_node.hpp"
#include "systemd/status_reporter.hpp"
#include "systemd/watchdog.hpp"
#include "workers/cron.hpp"
#include "workers/worker_pool.hpp"

namespace {

constexpr int exit_ok = 0;
constexpr int exit_tree_failed = 1;
constexpr int exit_usage = 2;

// A shell's way of reporting how a program ended: its code, or 128 + the
// signal that killed it.
int exit_code_of(const otpd::supervise::ExitStatus& status) {
  return status.signaled ? 128 + status.code : status.code;
}

struct TreeCounts {
  int processes = 0;
  int workers = 0;
  int supervisors = 1;
  int captured = 0;  // processes whose output otpd reads through a pipe
  int separate = 0;  // of those, with stdout and stderr apart (two pipes)
  int files = 0;     // of those, into a log file of their own
  int limited = 0;   // processes with memory_max, cpu_max or pids_max
  // Descriptors otpd holds for each process, in start order: a pipe per
  // captured stream and a log file, or a pidfd for one without a pipe.
  struct Need {
    int descriptors;
    bool captured;
  };
  std::vector<Need> needs;
};

// "1 process", "7 processes".
std::string counted(int n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

TreeCounts count(const otpd::config::SupervisorSpec& spec) {
  TreeCounts counts;
  for (const auto& child : spec.children) {
    if (child.is_supervisor()) {
      const TreeCounts below = count(child.supervisor());
      counts.processes += below.processes;
      counts.workers += below.workers;
      counts.supervisors += below.supervisors;
      counts.captured += below.captured;
      counts.separate += below.separate;
      counts.files += below.files;
      counts.limited += below.limited;
      counts.needs.insert(counts.needs.end(), below.needs.begin(), below.needs.end());
    } else if (child.is_worker()) {
      ++counts.workers;
    } else {
      const auto& process = child.process();
      ++counts.processes;
      if (!process.limits->empty()) ++counts.limited;
      const auto output = process.output.value_or(otpd::config::Output::log);
      const bool file = output == otpd::config::Output::file;
      if (output != otpd::config::Output::log && !file) {
        counts.needs.push_back({1, false});  // a pidfd
        continue;
      }
      const bool separate = process.streams == otpd::config::Streams::separate;
      ++counts.captured;
      counts.separate += separate ? 1 : 0;
      counts.files += file ? 1 : 0;
      counts.needs.push_back({1 + (separate ? 1 : 0) + (file ? 1 : 0), true});
    }
  }
  return counts;
}

// otpd holds a descriptor or two per process child (docs/spawning.md, "The
// open-file limit"), out of a share of the open-file limit that leaves the
// control socket its reserve; the process limit bounds the tree itself.
otpd::process::DescriptorBudget check_limits(otpd::log::EventLog& log, const TreeCounts& counts) {
  const auto fds = otpd::process::raise_fd_limit();
  if (fds.failure) {
    log.warning("cannot raise the open-file limit: " + *fds.failure);
  } else if (fds.raised()) {
    log.info("open-file limit raised from " + std::to_string(fds.original_soft) + " to " +
             std::to_string(fds.soft) + "; children get " + std::to_string(fds.original_soft));
  }
  otpd::process::DescriptorBudget budget(fds.soft);
  // In start order, as the descriptors will be taken.
  std::uint64_t needed = 0;
  int uncaptured = 0;
  int unwatched = 0;
  for (const TreeCounts::Need& need : counts.needs) {
    needed += static_cast<std::uint64_t>(need.descriptors);
    if (needed > budget.capacity()) ++(need.captured ? uncaptured : unwatched);
  }
  if (needed > budget.capacity()) {
    const std::uint64_t enough = otpd::process::DescriptorBudget::limit_for(needed);
    std::string what = std::to_string(counts.processes) + " processes need " +
                       std::to_string(needed) + " descriptors (" + std::to_string(counts.captured) +
                       " with captured output: a pipe each";
    if (counts.separate > 0)
      what += ", 2 for the " + std::to_string(counts.separate) + " with 'streams: separate'";
    if (counts.files > 0)
      what += ", 1 more for each of the " + std::to_string(counts.files) + " log files";
    if (counts.captured < counts.processes) what += "; a pidfd for each of the others";
    what += ")";
    log.warning(
        "the tree does not fit the open-file limit: its " + what + ", but the limit is " +
        std::to_string(fds.soft) + " and otpd keeps " +
        std::to_string(fds.soft - budget.capacity()) +
        " of them for the control socket and its own files. " + "About " +
        std::to_string(uncaptured + unwatched) + " children will not fit: " +
        (uncaptured > 0 ? std::to_string(uncaptured) +
                              " will write to otpd's own stdout and stderr instead of having "
                              "their output captured"
                        : std::string()) +
        (uncaptured > 0 && unwatched > 0 ? ", and " : "") +
        (unwatched > 0
             ? std::to_string(unwatched) + " will be watched through SIGCHLD alone, with no pidfd"
             : std::string()) +
        ". Raise the hard open-file limit to at least " + std::to_string(enough) +
        " (LimitNOFILE= in the unit, ulimit -Hn in a shell)" +
        (counts.separate > 0 ? ", or give children 'streams: merged'" : ""));
  }
  rlimit procs{};
  if (getuid() != 0 && getrlimit(RLIMIT_NPROC, &procs) == 0 && procs.rlim_cur != RLIM_INFINITY &&
      static_cast<rlim_t>(counts.processes) >= procs.rlim_cur) {
    log.warning("the tree has " + std::to_string(counts.processes) +
                " processes but this user may run only " + std::to_string(procs.rlim_cur) +
                " (RLIMIT_NPROC): some children will fail to start");
  }
  return budget;
}

// How long otpd waits at start for what a killed predecessor left to die.
constexpr std::chrono::seconds kLeftoverPatience{5};

// What keeps children from outliving otpd (docs/spawning.md, "What outlives
// otpd"): their cgroups where otpd can make them, else PR_SET_PDEATHSIG and
// a record by pid and start time. Runs before anything is started: first
// it ends what a killed otpd on the same socket left behind.
struct Containment {
  std::unique_ptr<otpd::process::Cgroups> cgroups;
  otpd::process::ChildRecords records;
  std::string no_cgroups;  // why children are not contained, if they are not

  Containment(otpd::log::EventLog& log, const otpd::Options& options,
              const std::string& socket_path, const TreeCounts& counts)
      : records(socket_path + ".children") {
    namespace process = otpd::process;
    if (options.no_cgroups) {
      no_cgroups = "--no-cgroups was given";
    } else {
      cgroups = std::make_unique<process::Cgroups>(process::Cgroups::Settings{
          .instance = process::cgroupfs::instance_name(socket_path),
          .layout = process::cgroupfs::read_layout(),
          .self = getpid(),
          .pid1 = getpid() == 1,
      });
      for (const std::string& warning : cgroups->warnings()) log.warning(warning);
      if (!cgroups->contains()) no_cgroups = cgroups->unavailable();
      const auto left = cgroups->end_leftovers(kLeftoverPatience);
      if (left.ended > 0) {
        log.warning("ended " + counted(static_cast<int>(left.ended), "process", "processes") +
                    " that a previous otpd on this socket left in its cgroups (" +
                    (cgroups->contains() ? cgroups->tree_dir() : std::string("cgroup v1")) + ")");
      }
      if (left.remaining > 0) {
        log.warning(counted(static_cast<int>(left.remaining), "process", "processes") +
                    " left by a previous otpd still run " +
                    std::to_string(kLeftoverPatience.count()) + "s after SIGKILL");
      }
    }
    // A previous otpd without cgroups left a record, whatever this one uses.
    const auto recorded = records.end_leftovers(kLeftoverPatience);
    if (recorded.ended > 0) {
      log.warning("ended " + counted(static_cast<int>(recorded.ended), "process", "processes") +
                  " that a previous otpd on this socket started (recorded in " + records.file() +
                  ")");
    }
    if (recorded.skipped > 0) {
      log.info("left " +
               counted(static_cast<int>(recorded.skipped), "recorded pid", "recorded pids") +
               " alone: other processes hold them now");
    }
    if (recorded.remaining > 0) {
      log.warning(counted(static_cast<int>(recorded.remaining), "process", "processes") +
                  " a previous otpd started still run " +
                  std::to_string(kLeftoverPatience.count()) + "s after SIGKILL");
    }

    if (cgroups && cgroups->contains()) {
      log.info("children run in cgroups below " + cgroups->tree_dir() +
               (cgroups->own_leaf().empty() ? "" : "; otpd itself in " + cgroups->own_leaf()));
    } else {
      std::string error;
      const bool recording = records.open(error);
      log.warning("children are not in cgroups (" + no_cgroups +
                  "): each gets SIGKILL when otpd dies (PR_SET_PDEATHSIG)" +
                  (recording ? " and is recorded in " + records.file() : "") +
                  ", but what leaves a child's process group can outlive otpd");
      if (!recording) log.warning(error + ": a later otpd cannot end what this one leaves");
    }
    if (cgroups && counts.limited > 0) {
      std::string homes;
      for (const std::string& line : cgroups->describe_limits()) {
        homes += (homes.empty() ? "" : "; ") + line;
      }
      log.info("limits: " + homes);
    }
  }

  // At an orderly exit, once the tree has stopped.
  void close(otpd::log::EventLog& log) {
    if (cgroups && !cgroups->close(std::chrono::seconds(2))) {
      log.warning("processes are still running in " + cgroups->tree_dir() + " after SIGKILL");
    }
    records.close_and_remove();
  }
};

int check(const std::string& file) {
  try {
    const auto config = otpd::config::load_file(file);
    const TreeCounts counts = count(config.tree);
    // Valid, but a child that will fail to start is worth a word.
    for (const std::string& warning : otpd::program_warnings(config.tree)) {
      std::cerr << warning << '\n';
    }
    std::cout << file << ": ok (" << counted(counts.processes, "process", "processes") << ", "
              << (counts.workers > 0 ? counted(counts.workers, "worker", "workers") + ", " : "")
              << counted(counts.supervisors, "supervisor", "supervisors") << ")\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << otpd::config::describe_failure(e) << '\n';
    return 1;
  }
}

// Every request and every reload has its own boundary; this is the last
// one. A handler that throws anyway (out of memory, a defect) is reported
// and the loop goes on: the supervisor outliving a fault in one handler is
// worth more than a clean death that leaves the tree unsupervised.
void run_loop(boost::asio::io_context& io, otpd::log::EventLog& log) {
  for (;;) {
    try {
      io.run();
      return;
    } catch (const std::exception& e) {
      log.error(std::string("internal error, going on: ") +
                (dynamic_cast<const std::bad_alloc*>(&e) ? "out of memory" : e.what()));
    }
  }
}

int run(const otpd::Options& options) {
  otpd::log::EventLog log(options.log_format);
  const bool with_command = !options.command.empty();
  // The command after --, added to the file's tree at every reading of it.
  otpd::reload::Reloader::Complete complete;
  if (with_command) {
    complete = [command = options.command, cwd = std::filesystem::current_path().string()](
                   otpd::config::Config& config) { otpd::add_command_child(config, command, cwd); };
  }
  otpd::config::Config config;
  try {
    config = options.config_file.empty() ? otpd::empty_tree()
                                         : otpd::config::load_file(options.config_file);
    if (complete) complete(config);
  } catch (const std::exception& e) {
    log.error(otpd::config::describe_failure(e));
    return exit_usage;
  }
  const TreeCounts counts = count(config.tree);

  boost::asio::io_context io;
  // The share of the open-file limit for children's descriptors, once the
  // limit is known (check_limits).
  otpd::process::DescriptorBudget budget;
  // Early, while descriptor numbers are small: children's pipes are passed
  // on descriptors it reserves now (docs/spawning.md).
  otpd::output::OutputHub outputs(io, log, config, &budget);

  std::string error;
  const auto policy = otpd::control::resolve_access(config.control, geteuid(), error);
  if (!policy) {
    log.error(error);
    return exit_usage;
  }
  // Before the tree starts, so that a second otpd on the same socket stops
  // here rather than after starting a second copy of every service.
  const std::string socket_path =
      otpd::control::choose_socket_path(options.socket_path, config.control.socket);
  auto listening = otpd::control::listen_on(socket_path, *policy, error);
  if (!listening) {
    log.error(error);
    return exit_tree_failed;
  }

  // Also before the tree: a port in use or an unreadable token stops otpd
  // here.
  int http_fd = -1;
  std::string admin_token;
  if (!config.http.listen.empty()) {
    if (!config.http.admin_token_file.empty()) {
      auto token = otpd::http::read_admin_token(config.http.admin_token_file, error);
      if (!token) {
        log.error(error);
        return exit_usage;
      }
      admin_token = std::move(*token);
    }
    http_fd = otpd::http::HttpServer::listen(config.http, error);
    if (http_fd < 0) {
      log.error("http: " + error);
      return exit_tree_failed;
    }
  }

  budget = check_limits(log, counts);
  Containment containment(log, options, socket_path, counts);
  // Before any child exists: it takes NOTIFY_SOCKET out of the environment.
  otpd::sd_notify::Notifier manager;

  otpd::on_asio::AsioHost host(io);
  otpd::systemd::WatchdogPinger watchdog(host, manager);
  if (watchdog.active()) {
    log.info("the service manager watches otpd: WATCHDOG=1 every " +
             otpd::config::format_duration(watchdog.interval()));
  }
  otpd::control::EventHub events(log);
  events.observe([&outputs](const otpd::supervise::Event& event) {
    if (event.kind == otpd::supervise::EventKind::removed) outputs.forget(event.path);
  });
  // What the HTTP side shows: counts for /metrics, and the open pages'
  // stream, which reads the tree through `site` once both exist.
  otpd::http::EventTally event_tally;
  otpd::control::WorkerStates worker_states;
  otpd::supervise::TreePhase phase;
  otpd::http::DaemonSite* site = nullptr;
  otpd::http::PageFeed page_feed(
      host, [&site](const std::string& path) { return site ? site->node_json(path) : ""; },
      [&site] { return site ? site->tree_json() : ""; });
  events.subscribe(page_feed);
  events.observe([&](const otpd::supervise::Event& event) {
    event_tally.count(event);
    worker_states.observe(event, otpd::log::utc_timestamp());
    using otpd::supervise::EventKind;
    page_feed.changed(event.path,
                      event.kind == EventKind::removed || event.kind == EventKind::reloaded);
  });
  // An orphan is charged to the child whose process group it was in.
  otpd::supervise::GroupOwners groups;
  events.observe([&groups](const otpd::supervise::Event& event) { groups.observe(event); });
  otpd::process::Reaper reaper(
      io,
      [&events, &groups](int pid, int group, otpd::supervise::ExitStatus status) {
        events.emit({.kind = otpd::supervise::EventKind::orphan_reaped,
                     .path = groups.owner(group),
                     .pid = pid,
                     .status = status,
                     .reason = describe(status)});
      },
      &budget);
  otpd::on_asio::ReadinessIo readiness(io);
  if (const auto& failure = readiness.notify().failure()) {
    log.warning(*failure + "; children with 'ready: notify' will fail to start");
  }
  otpd::process::OsProcesses processes(reaper, {}, &readiness, &outputs, &budget);
  processes.contain(io, {.cgroups = containment.cgroups.get(),
                         .records = containment.records.is_open() ? &containment.records : nullptr,
                         .no_cgroups = containment.no_cgroups,
                         .warn = [&log](const std::string& text) { log.warning(text); }});

  otpd::hooks::HookRunner hooks(host, processes, log, config.hooks);
  events.observe([&hooks](const otpd::supervise::Event& event) { hooks.on_event(event); });
  if (!config.hooks.empty()) {
    log.info(counted(static_cast<int>(config.hooks.size()), "event hook", "event hooks") +
             " configured");
  }

  // Before the tree, so that they outlive every worker the tree runs.
  // Workers act on the tree (a health check kills what it guards, a file
  // watch restarts its target) once both exist.
  otpd::on_asio::WorkerServices worker_services(io, host, processes, events);
  otpd::workers::WorkerPool workers(&worker_services, config.workers);
  otpd::supervise::Tree tree(host, processes, events, std::move(config), &workers);
  worker_services.act_on(&tree);
  // A cron job knows its next run on its own thread; status asks it.
  worker_states.next_run = [&tree](const std::string& path) -> std::optional<std::int64_t> {
    const otpd::supervise::WorkerNode* node = tree.worker(path);
    if (node == nullptr) return std::nullopt;
    const auto* cron = dynamic_cast<const otpd::workers::Cron*>(node->runtime_pid().get());
    return cron != nullptr ? cron->next_run_at_ms() : std::nullopt;
  };
  otpd::systemd::StatusReporter status_reporter(
      host, manager, events, [&tree] { return otpd::supervise::summarize(tree.census()); });
  int exit_code = exit_ok;
  bool stopping = false;
  otpd::reload::Reloader reloader(
      host, tree, log, manager, options.config_file,
      [&](const otpd::supervise::Failure& failed) {
        if (!failed) {
          status_reporter.ready();
          return;
        }
        manager.ready(otpd::supervise::summarize(tree.census()) + "; " + *failed);
      },
      complete);

  // The end of the tree is not yet the end of its processes: what was left
  // of killed process groups is still dying, and otpd reaps it before it
  // goes. Orphans that no group signal reached (a daemon in a session of
  // its own) get SIGTERM, then SIGKILL, until none is left: no process of
  // the tree outlives otpd.
  std::function<void(int)> end_leftovers = [&](int round) {
    const int signo = round == 0 ? SIGTERM : SIGKILL;
    // Named before the signal, which may end them before they are read.
    auto named = round == 0 ? otpd::process::LeftBehind::still_running()
                            : std::vector<otpd::supervise::LeftProcess>();
    const int left = otpd::process::signal_leftovers(signo);
    if (left == 0 && round > 0) {
      io.stop();
      return;
    }
    if (left > 0 && round == 0) {
      // Named, so that the operator can find what the tree left behind.
      for (auto& process : named) process.runs_on = false;
      log.warning(counted(left, "process", "processes") +
                  " otpd did not start still running: sending " + otpd::config::signal_name(signo) +
                  (named.empty() ? std::string() : " to " + otpd::supervise::describe(named)));
    } else if (left > 0 && round == 1) {
      log.warning(counted(left, "process", "processes") +
                  " otpd did not start outlive SIGTERM: sending SIGKILL");
    }
    reaper.drain(std::chrono::seconds(round == 0 ? 2 : 1), [&, round](bool all_gone) {
      if (all_gone || round >= 10) {
        if (!all_gone) {
          auto named = otpd::process::LeftBehind::still_running();
          for (auto& process : named) process.runs_on = false;
          log.warning("processes otpd did not start outlive SIGKILL; leaving them" +
                      (named.empty() ? std::string() : ": " + otpd::supervise::describe(named)));
        }
        io.stop();
        return;
      }
      end_leftovers(round + 1);
    });
  };
  auto finish = [&] {
    // Hooks still running die with otpd, as children do.
    hooks.stop();
    containment.close(log);
    reaper.drain(std::chrono::seconds(2), [&](bool all_gone) {
      if (all_gone) {
        io.stop();
        return;
      }
      end_leftovers(0);
    });
  };
  // otpd -- COMMAND exits as the command did, also after a stop that
  // otpd was asked for: the command's exit then is its answer to SIGTERM.
  auto command_exit_code = [&]() -> std::optional<int> {
    if (!with_command) return std::nullopt;
    const auto node = tree.status(otpd::command_child_name);
    if (!node || !node->last_exit || !node->last_exit->status) return std::nullopt;
    return exit_code_of(*node->last_exit->status);
  };

  tree.on_exit = [&](const otpd::supervise::ChildExit& reason) {
    phase.stopping = true;
    status_reporter.stop();
    reloader.stop();
    if (reason.auto_shutdown) {
      // tini's convention: a container exits as its essential program did.
      exit_code = reason.cause ? exit_code_of(*reason.cause) : exit_tree_failed;
      log.info("the tree " + reason.text + "; exiting with status " + std::to_string(exit_code));
      manager.stopping("the tree " + reason.text);
    } else {
      log.error("root supervisor gave up (" + reason.text + "); exiting");
      manager.status("root supervisor gave up: " + reason.text);
      exit_code = exit_tree_failed;
    }
    finish();
  };

  // SIGTERM, SIGINT and otpctl shutdown: `why` says which.
  auto stop_tree = [&](const std::string& why) {
    if (stopping) {
      log.warning(why + " again: killing every process now");
      tree.kill();
      return;
    }
    stopping = true;
    phase.stopping = true;
    status_reporter.stop();
    reloader.stop();
    processes.stopping();
    log.info(why + ": stopping the tree");
    manager.stopping("stopping the tree (" + why + ")");
    tree.stop([&](otpd::supervise::Done) {
      log.info("stopped");
      if (const auto code = command_exit_code()) exit_code = *code;
      finish();
    });
  };

  // Signals that mean something to the command given after --, as tini
  // passes them on; without a command otpd has no use for them.
  auto pass_on = [&](int signo) {
    const std::string name = otpd::config::signal_name(signo);
    if (!with_command) {
      log.warning("received " + name + ", which otpd does not use; ignored");
      return;
    }
    // Where its stop signal goes, as for otpctl signal (docs/config.md).
    const otpd::supervise::Signalled sent = tree.signal_child(otpd::command_child_name, signo);
    if (sent.failure) {
      log.warning("received " + name + " for the command, which is not running: " + *sent.failure);
    }
  };
  otpd::on_asio::SignalWatcher signals(io, [&](int signo) {
    if (signo == SIGHUP && options.config_file.empty()) {
      pass_on(signo);
      return;
    }
    if (signo == SIGHUP) {
      if (stopping) return;  // the tree is going away; nothing to reload into
      reloader.reload("SIGHUP", [](const otpd::control::ReloadOutcome&) {});
      return;
    }
    if (signo == SIGUSR1 || signo == SIGUSR2) {
      pass_on(signo);
      return;
    }
    stop_tree("received " + otpd::config::signal_name(signo));
  });

  otpd::workers::JsonCalls json_calls(host, workers);
  otpd::control::Commands commands(
      tree, events,
      [&] {
        // Repeated, it must not escalate to a kill as a
        // second signal does: scripts retry.
        if (!stopping) stop_tree("shutdown requested on the control socket");
      },
      &outputs,
      [&](const otpd::control::ClientRequest& request, otpd::reload::Reloader::Done done) {
        reloader.serve(request, std::move(done));
      },
      &json_calls);
  commands.report_phase(&phase);
  commands.report_workers(&worker_states);
  otpd::control::Server server(io, std::move(*listening), *policy, commands, events, log);

  otpd::http::DaemonSite http_site(tree, &outputs, event_tally, phase, {});
  http_site.control_clients = [&server] { return server.connections(); };
  http_site.hooks = [&hooks] { return hooks.figures(); };
  http_site.workers = &worker_states;
  site = &http_site;
  otpd::http::HttpSide http_side(io, http_site, page_feed, log);
  http_side.serve(http_fd, tree.config().http, std::move(admin_token));
  // A reload applies the http and hooks sections too, before the tree.
  reloader.apply_sections = [&](const otpd::config::Config& next,
                                otpd::control::ReloadOutcome& outcome) {
    const auto section = http_side.apply(next.http);
    if (section.refused) {
      log.warning(*section.refused);
      outcome.warnings.push_back(*section.refused);
    } else if (!section.changed.empty()) {
      outcome.applied.push_back(section.changed);
    }
    if (outcome.diff.hooks_changed) {
      const std::string what = hooks.reconfigure(next.hooks);
      const std::string line = "hooks: " + (what.empty() ? std::string("changed") : what);
      log.info(line);
      outcome.applied.push_back(line);
    }
    tree.applied_sections(http_side.spec(), next.hooks);
  };

  std::string what = options.config_file;
  if (with_command) {
    what += std::string(what.empty() ? "" : " ") + "--";
    for (const auto& arg : options.command) what += " " + arg;
  }
  log.info("otpd " OTPD_VERSION " (pid " + std::to_string(getpid()) + ") starting " + what + ": " +
           counted(counts.processes, "process", "processes") + " " +
           (counts.workers > 0 ? "and " + counted(counts.workers, "worker", "workers") + " " : "") +
           "under " + counted(counts.supervisors, "supervisor", "supervisors") +
           "; control socket " + socket_path +
           (http_side.where().empty() ? std::string() : "; http " + http_side.where()));
  tree.start([&](otpd::supervise::Failure failure) {
    if (failure) {
      if (stopping) return;  // a signal arrived during the start; its stop reports
      status_reporter.stop();
      log.error("could not start the tree: " + *failure);
      exit_code = exit_tree_failed;
      finish();
      return;
    }
    log.info("tree started");
    if (const std::size_t starved = outputs.starved(); starved > 0) {
      log.warning(counted(static_cast<int>(starved), "child", "children") +
                  " started without their output captured, for want of descriptors: they "
                  "write to otpd's own stdout and stderr ('otpctl logs PATH' says which)");
    }
    phase.started = true;
    status_reporter.ready();
    // Parsing the config and building the tree leave freed heap behind that
    // glibc would otherwise keep for the daemon's whole life.
    malloc_trim(0);
  });

  run_loop(io, log);
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  // Before anything else, so that every thread and every child inherits it.
  otpd::on_asio::block_supervisor_signals();
  // While the descriptor table is still nearly empty.
  otpd::process::reserve_low_fd();

  std::vector<std::string> args(argv + 1, argv + argc);
  std::string error;
  const auto options = otpd::parse_options(args, error);
  if (!options) {
    std::cerr << "otpd: " << error << "\n" << otpd::usage_synopsis;
    return exit_usage;
  }
  switch (options->mode) {
    case otpd::Options::Mode::help:
      std::cout << otpd::usage_text;
      return exit_ok;
    case otpd::Options::Mode::version:
      std::cout << "otpd " OTPD_VERSION "\n";
      return exit_ok;
    case otpd::Options::Mode::check:
      if (options->diff) {
        return otpd::check_diff(options->config_file, options->socket_path, options->json);
      }
      return check(options->config_file);
    case otpd::Options::Mode::run:
      break;
  }
  return run(*options);
}
