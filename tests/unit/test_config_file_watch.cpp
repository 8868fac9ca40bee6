// `worker: {kind: file_watch}`: paths against real directories, the action,
// the target among the siblings, and the errors with their places.
#include <doctest/doctest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "config/loader.hpp"
#include "temp_dir.hpp"

using namespace otpd::config;
using namespace std::chrono_literals;

namespace {

// A directory holding conf/ (with app.conf in it) that the config file is
// read from, removed afterwards.
struct ConfigDir {
  otpd::test::TempDir temp;
  const std::string& dir = temp.dir();
  ConfigDir() {
    std::filesystem::create_directory(temp.path("conf"));
    temp.write("conf/app.conf", "x\n");
  }

  // A tree with a process `web` and a watch `w` whose `worker:` is `worker`.
  Config load(const std::string& worker, const std::string& web_extra = "") const {
    return load_string("tree:\n  children:\n    - name: web\n      command: [x]\n" + web_extra +
                           "    - name: w\n      worker: " + worker + "\n",
                       "t.yaml", dir);
  }
  FileWatchSettings watch(const std::string& worker) const {
    const Config config = load(worker);
    REQUIRE(config.tree.children.size() == 2);
    const WorkerSpec& spec = config.tree.children.back().worker();
    REQUIRE(spec.kind() == WorkerKind::file_watch);
    return std::get<FileWatchSettings>(spec.settings);
  }
  std::string error(const std::string& worker) const {
    try {
      load(worker);
    } catch (const ConfigError& error) {
      return error.what();
    }
    return "(loaded without error)";
  }
};

}  // namespace

TEST_SUITE("config file_watch") {
  TEST_CASE("relative paths start at the config file's directory; a directory is seen as one") {
    const ConfigDir d;
    const FileWatchSettings watch = d.watch(
        "{kind: file_watch, paths: [conf/app.conf, conf/later.conf, conf/, conf], "
        "target: web}");
    REQUIRE(watch.paths.size() == 3);  // conf/ and conf are one
    CHECK(watch.paths[0].path == d.dir + "/conf/app.conf");
    CHECK_FALSE(watch.paths[0].directory);
    CHECK(watch.paths[1].path == d.dir + "/conf/later.conf");  // may appear later
    CHECK_FALSE(watch.paths[1].directory);
    CHECK(watch.paths[2].path == d.dir + "/conf");
    CHECK(watch.paths[2].directory);
    CHECK(watch.target == "web");
    CHECK(watch.signal == 0);
    CHECK(watch.debounce == 500ms);
    CHECK(watch.ignore == std::vector<std::string>{"*.swp", "*.swx", "*~", ".#*", "#*#", "4913"});
  }

  TEST_CASE("a single path, a signal action, a debounce and ignore patterns") {
    const ConfigDir d;
    const FileWatchSettings watch =
        d.watch("{kind: file_watch, paths: " + d.dir +
                "/conf/app.conf, target: web, action: {signal: HUP}, debounce: 2s, "
                "ignore: ['*.tmp']}");
    REQUIRE(watch.paths.size() == 1);
    CHECK(watch.paths[0].path == d.dir + "/conf/app.conf");
    CHECK(watch.signal == SIGHUP);
    CHECK(watch.debounce == 2s);
    CHECK(watch.ignore == std::vector<std::string>{"*.tmp"});
    CHECK(d.watch("{kind: file_watch, paths: [conf/], target: web, action: {signal: 10}}").signal ==
          10);
    CHECK(d.watch("{kind: file_watch, paths: [conf/], target: web, ignore: []}").ignore.empty());
  }

  TEST_CASE("a path whose directory does not exist is refused at its place") {
    const ConfigDir d;
    CHECK(d.error("{kind: file_watch, paths: [conf/app.conf, nowhere/app.conf], target: web}") ==
          "t.yaml:6:57: worker.paths: 'nowhere/app.conf': its directory " + d.dir +
              "/nowhere does not exist (a file may be missing, its directory may not)");
    CHECK(d.error("{kind: file_watch, paths: [missing/], target: web}") ==
          "t.yaml:6:42: worker.paths: 'missing/': no such directory (" + d.dir + "/missing)");
    CHECK(d.error("{kind: file_watch, paths: [], target: web}") ==
          "t.yaml:6:41: worker.paths: expected at least one path to watch");
  }

  TEST_CASE("target names a sibling; a signal needs a process") {
    const ConfigDir d;
    CHECK(d.error("{kind: file_watch, paths: [conf/], target: wbe}") ==
          "t.yaml:6:58: worker.target: 'wbe' is not a child beside 'w' (did you mean 'web'?)");
    CHECK(d.error("{kind: file_watch, paths: [conf/], target: w}") ==
          "t.yaml:6:58: worker.target: a file watch cannot act on itself; name a sibling");
    const std::string two_watches =
        "{kind: file_watch, paths: [conf/], target: web}\n"
        "    - name: v\n      worker: {kind: file_watch, paths: [conf/], target: w, "
        "action: {signal: HUP}}";
    CHECK(d.error(two_watches) ==
          "t.yaml:8:58: worker.target: 'w' is not a process beside 'v' (signals go to "
          "processes)");
    // A restart reaches any kind of sibling, a worker too.
    const std::string restart_a_worker =
        "{kind: file_watch, paths: [conf/], target: web}\n"
        "    - name: v\n      worker: {kind: file_watch, paths: [conf/], target: w}";
    CHECK(d.error(restart_a_worker) == "(loaded without error)");
  }

  TEST_CASE("what is missing or wrong is said plainly") {
    const ConfigDir d;
    CHECK(d.error("{kind: file_watch, target: web}") ==
          "t.yaml:6:15: worker: a file_watch needs 'paths': the files and directories to watch");
    CHECK(d.error("{kind: file_watch, paths: [conf/]}") ==
          "t.yaml:6:15: worker: a file_watch needs a 'target': the sibling to restart or signal");
    CHECK(d.error("{kind: file_watch, paths: [conf/], target: web, action: restrat}") ==
          "t.yaml:6:71: worker.action: expected restart or {signal: SIGNAL}, such as {signal: "
          "HUP}, found 'restrat' (did you mean 'restart'?)");
    CHECK(d.error("{kind: file_watch, paths: [conf/], target: web, action: {signal: HUPP}}")
              .find("worker.action.signal: expected a signal such as SIGTERM, TERM or 15, found "
                    "'HUPP'") != std::string::npos);
    CHECK(d.error("{kind: file_watch, paths: [conf/], target: web, action: {sginal: HUP}}")
              .find("unknown key 'sginal' (did you mean 'signal'?)") != std::string::npos);
    CHECK(d.error("{kind: file_watch, paths: [conf/], target: web, debounce: -1s}")
              .find("worker.debounce") != std::string::npos);
    CHECK(d.error("{kind: file_watch, paths: [conf/], target: web, ignore: ['a/b']}")
              .find("a pattern matches an entry's name, which has no '/'") != std::string::npos);
    CHECK(d.error("{kind: file_watch, paths: [conf/], target: web, pahts: x}")
              .find("unknown key 'pahts' (did you mean 'paths'?)") != std::string::npos);
  }
}
