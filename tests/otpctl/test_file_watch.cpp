// `file_watch` workers in a real otpd: files written, replaced and removed in
// the sandbox restart or signal a real sibling process.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "../unit/temp_dir.hpp"
#include "live_daemon.hpp"

using namespace otpd::ctl_test;
using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// A process `web` and a watch `reload` of `paths` that restarts it.
std::string restart_tree(const std::string& paths, const std::string& extra = "") {
  return R"(
tree:
  children:
    - name: web
      command: [@CHILD@, --name, web, --term-delay, "0"]
    - name: reload
      worker: {kind: file_watch, paths: )" +
         paths + ", target: web" + extra + "}\n";
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// Reads otpd's events for `time`: long enough for a debounce and what would
// follow it, so that a test can check that nothing more happened.
void keep_reading(LiveDaemon& live, std::chrono::milliseconds time) {
  live.otpd.wait_for([] { return false; }, time);
}

Json status_json(const LiveDaemon& live, const std::string& path) {
  const Outcome r = live.ctl({"status", path, "--json"});
  REQUIRE_MESSAGE(r.code == 0, r.shown());
  return Json::parse(r.out);
}

// Descriptors of `pid` that are inotify instances with at least one watch
// (fdinfo lists one "inotify wd:" line per watch).
int inotify_descriptors(pid_t pid) {
  const std::string proc = "/proc/" + std::to_string(pid);
  int count = 0;
  for (const auto& entry : fs::directory_iterator(proc + "/fd")) {
    std::error_code ignored;
    if (fs::read_symlink(entry.path(), ignored).string() != "anon_inode:inotify") continue;
    std::ifstream info(proc + "/fdinfo/" + entry.path().filename().string());
    for (std::string line; std::getline(info, line);) {
      if (line.rfind("inotify wd:", 0) == 0) {
        ++count;
        break;
      }
    }
  }
  return count;
}

// Waits until the kernel holds `watches` inotify watches for otpd.
void wait_watching(LiveDaemon& live, int watches = 1) {
  REQUIRE_MESSAGE(
      live.otpd.wait_for([&] { return inotify_descriptors(live.otpd.pid()) == watches; }),
      live.otpd.transcript());
}

// What the descriptors of `pid` point to, sorted, leaving out sockets: the
// control connections of otpctl runs come and go on their own.
std::vector<std::string> descriptor_targets(pid_t pid) {
  std::vector<std::string> targets;
  for (const auto& entry : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    std::error_code ignored;
    std::string target = fs::read_symlink(entry.path(), ignored).string();
    if (target.rfind("socket:", 0) != 0) targets.push_back(std::move(target));
  }
  std::sort(targets.begin(), targets.end());
  return targets;
}

}  // namespace

TEST_CASE("a change made as soon as the watch has started is seen") {
  LiveDaemon live(restart_tree("[app.conf]", ", debounce: 50ms"));
  // No waiting for the descriptor: the `started` event is the promise.
  REQUIRE_MESSAGE(live.otpd.wait_event("reload", "started"), live.otpd.transcript());
  write_file(live.box.path("app.conf"), "changed\n");
  REQUIRE_MESSAGE(live.otpd.wait_event("reload", "file_changed"), live.otpd.transcript());
  REQUIRE_MESSAGE(live.otpd.wait_recorded(live.box, "start", "web", 2), live.otpd.transcript());
}

TEST_CASE("a burst of writes to a watched file restarts its target once, as an operator would") {
  LiveDaemon live(restart_tree("[app.conf]", ", debounce: 1s"));
  wait_watching(live);
  const std::string conf = live.box.path("app.conf");
  const pid_t first = live.box.pid("web");
  REQUIRE(first > 0);
  // An editor's or a program's several writes, well within the debounce,
  // each seen on its own: a ping's answer means otpd's loop has turned
  // since the write, the watch's wake-up with it.
  for (int i = 0; i < 5; ++i) {
    std::ofstream(conf, std::ios::app) << "line " << i << "\n";
    REQUIRE(live.ctl({"ping"}).code == 0);
  }
  REQUIRE_MESSAGE(live.otpd.wait_event("reload", "file_changed"), live.otpd.transcript());
  CHECK(live.otpd.event("reload", "file_changed")->str("reason") ==
        conf + " changed; restarting web");
  REQUIRE_MESSAGE(live.otpd.wait_recorded(live.box, "start", "web", 2), live.otpd.transcript());
  CHECK(live.box.pid("web", 1) != first);
  CHECK(live.otpd.event("web", "stopping")->str("reason") == "restarted by operator");
  keep_reading(live, std::chrono::milliseconds(1500));
  CHECK(live.otpd.count("reload", "file_changed") == 1);
  CHECK(live.box.count_recorded("start", "web") == 2);
  // An operator's restart is not a crash: the restart intensity is untouched.
  CHECK(live.otpd.count("web", "exited") == 0);
  CHECK(status_json(live, "/")["intensity_used"] == 0);
}

TEST_CASE("a replace by rename is seen, twice in a row") {
  LiveDaemon live(restart_tree("[app.conf]", ", debounce: 200ms"));
  wait_watching(live);
  const std::string conf = live.box.path("app.conf");
  for (int round = 1; round <= 2; ++round) {
    CAPTURE(round);
    write_file(live.box.path(".app.conf.new"), "version " + std::to_string(round) + "\n");
    fs::rename(live.box.path(".app.conf.new"), conf);
    REQUIRE_MESSAGE(live.otpd.wait_recorded(live.box, "start", "web", round + 1),
                    live.otpd.transcript());
    REQUIRE(live.otpd.wait_event("reload", "file_changed", round));
    CHECK(live.otpd.event("reload", "file_changed", round - 1)->str("reason") ==
          conf + " changed; restarting web");
  }
  CHECK(live.box.pid("web", 2) != live.box.pid("web", 1));
}

TEST_CASE("a signal action reaches a process that traps it, and a stopped target is reported") {
  LiveDaemon live(R"(
tree:
  children:
    - name: svc
      shell: "trap 'echo hup >> @DIR@/marker' HUP; echo up > @DIR@/up; while :; do sleep 0.1; done"
    - name: reload
      worker:
        kind: file_watch
        paths: [svc.conf]
        target: svc
        action: {signal: HUP}
        debounce: 100ms
)");
  wait_watching(live);
  const std::string marker = live.box.path("marker");
  REQUIRE(live.otpd.wait_for([&] { return fs::exists(live.box.path("up")); }));
  const int pid = live.otpd.pid_of("svc");
  write_file(live.box.path("svc.conf"), "new settings\n");  // created: a change too
  REQUIRE_MESSAGE(live.otpd.wait_event("reload", "file_changed"), live.otpd.transcript());
  CHECK(live.otpd.event("reload", "file_changed")->str("reason") ==
        live.box.path("svc.conf") + " changed; sending SIGHUP to svc");
  // The shell creates the file before it writes the line.
  auto first_line = [&] {
    std::string line;
    std::getline(std::ifstream(marker), line);
    return line;
  };
  REQUIRE_MESSAGE(live.otpd.wait_for([&] { return !first_line().empty(); }),
                  live.otpd.transcript());
  CHECK(first_line() == "hup");
  CHECK(live.otpd.pid_of("svc") == pid);
  CHECK(live.otpd.count("svc", "exited") == 0);
  CHECK(live.otpd.count("reload", "file_action_failed") == 0);

  const Outcome stop = live.ctl({"stop", "svc"});
  REQUIRE_MESSAGE(stop.code == 0, stop.shown());
  write_file(live.box.path("svc.conf"), "newer settings\n");
  REQUIRE_MESSAGE(live.otpd.wait_event("reload", "file_action_failed"), live.otpd.transcript());
  CHECK(live.otpd.event("reload", "file_action_failed")->str("reason") ==
        "'svc' is not running; SIGHUP not sent");
  CHECK(status_json(live, "reload")["state"] == "running");
}

TEST_CASE("a signal goes where the target's kill_mode says: its group, or its main process") {
  // Each program is a shell that traps HUP and runs a second shell, in its
  // process group, that traps HUP as well; each writes who got the signal.
  auto program = [](const std::string& mark) {
    const std::string to = "@DIR@/" + mark;
    return "        trap 'echo main >> " + to + "' HUP\n" +
           "        sh -c 'trap \"echo helper >> " + to + "\" HUP; touch " + to +
           ".up; while :; do sleep 0.1; done' &\n" + "        while :; do sleep 0.1; done\n";
  };
  LiveDaemon live(
      "tree:\n  children:\n"
      "    - name: grouped\n      shell: |\n" +
      program("grouped") + "    - name: alone\n      kill_mode: process\n      shell: |\n" +
      program("alone") +
      "    - name: hup-grouped\n      worker: {kind: file_watch, paths: [app.conf], "
      "target: grouped, action: {signal: HUP}, debounce: 100ms}\n"
      "    - name: hup-alone\n      worker: {kind: file_watch, paths: [app.conf], "
      "target: alone, action: {signal: HUP}, debounce: 100ms}\n");
  wait_watching(live, 2);
  // Both helpers have set their traps.
  REQUIRE(live.otpd.wait_for([&] {
    return fs::exists(live.box.path("grouped.up")) && fs::exists(live.box.path("alone.up"));
  }));
  write_file(live.box.path("app.conf"), "x\n");
  auto lines = [&](const std::string& mark) {
    std::vector<std::string> read;
    std::ifstream in(live.box.path(mark));
    for (std::string line; std::getline(in, line);) read.push_back(line);
    std::sort(read.begin(), read.end());
    return read;
  };
  REQUIRE_MESSAGE(live.otpd.wait_for([&] { return lines("grouped").size() == 2; }),
                  live.otpd.transcript());
  CHECK(lines("grouped") == std::vector<std::string>{"helper", "main"});
  REQUIRE_MESSAGE(live.otpd.wait_for([&] { return !lines("alone").empty(); }),
                  live.otpd.transcript());
  keep_reading(live, std::chrono::milliseconds(500));
  CHECK(lines("alone") == std::vector<std::string>{"main"});
}

TEST_CASE("a watched directory: entries created and removed restart, editor files do not") {
  const otpd::test::TempDir conf_d;
  LiveDaemon live(restart_tree("[" + conf_d.dir() + "/]", ", debounce: 200ms"));
  wait_watching(live);
  conf_d.write("a.conf", "a\n");
  REQUIRE_MESSAGE(live.otpd.wait_recorded(live.box, "start", "web", 2), live.otpd.transcript());
  CHECK(live.otpd.event("reload", "file_changed")->str("reason") ==
        conf_d.path("a.conf") + " changed; restarting web");
  // vim's swap file and an emacs backup: ignored by default.
  conf_d.write(".a.conf.swp", "swap\n");
  conf_d.write("a.conf~", "backup\n");
  keep_reading(live, std::chrono::milliseconds(800));
  CHECK(live.otpd.count("reload", "file_changed") == 1);
  fs::remove(conf_d.path("a.conf"));
  REQUIRE_MESSAGE(live.otpd.wait_recorded(live.box, "start", "web", 3), live.otpd.transcript());
  CHECK(live.otpd.count("reload", "file_changed") == 2);
}

TEST_CASE("a reload that removes a watch closes its inotify descriptor") {
  const std::string with_watch = restart_tree("[app.conf]");
  LiveDaemon live(with_watch);
  wait_watching(live);
  std::vector<std::string> expected = descriptor_targets(live.otpd.pid());
  expected.erase(std::find(expected.begin(), expected.end(), "anon_inode:inotify"));
  live.box.write("otpd.yaml", with_watch.substr(0, with_watch.find("    - name: reload")));
  const Outcome reload = live.ctl({"reload"});
  REQUIRE_MESSAGE(reload.code == 0, reload.shown());
  REQUIRE(live.otpd.wait_event("reload", "stopped"));
  // The descriptor is closed on the loop just after the worker has ended.
  live.otpd.wait_for([&] { return descriptor_targets(live.otpd.pid()) == expected; });
  CHECK(descriptor_targets(live.otpd.pid()) == expected);
  // And back: a new watch, one descriptor again, which works.
  live.box.write("otpd.yaml", with_watch);
  REQUIRE(live.ctl({"reload"}).code == 0);
  REQUIRE(live.otpd.wait_event("reload", "started", 2));
  wait_watching(live);
  write_file(live.box.path("app.conf"), "x\n");
  CHECK(live.otpd.wait_recorded(live.box, "start", "web", 2));
}

TEST_CASE("bad file_watch settings stop otpd with FILE:LINE:COL") {
  otpd::it::Sandbox box;
  const std::string file = box.write("otpd.yaml", restart_tree("[nowhere/app.conf]"));
  auto r = otpd::it::run_to_end({"check", file});
  CHECK(r.code != 0);
  CHECK_MESSAGE(r.err.find(file + ":7:") != std::string::npos, r.err);
  CHECK_MESSAGE(
      r.err.find("its directory " + box.path("nowhere") + " does not exist") != std::string::npos,
      r.err);
  std::string misnamed_yaml = restart_tree("[app.conf]");
  misnamed_yaml.replace(misnamed_yaml.find("target: web"), 11, "target: wbe");
  const std::string misnamed = box.write("misnamed.yaml", misnamed_yaml);
  r = otpd::it::run_to_end({"--config", misnamed});
  CHECK(r.code != 0);
  CHECK_MESSAGE(r.err.find(misnamed + ":7:") != std::string::npos, r.err);
  CHECK_MESSAGE(
      r.err.find("'wbe' is not a child beside 'reload' (did you mean 'web'?)") != std::string::npos,
      r.err);
}
