// PathWatch on a real inotify descriptor and a real io_context, over files
// in a temporary directory: what editors and config managers do to files,
// what happens to directories, overflow, and the descriptor's end.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "asio/path_watch.hpp"
#include "temp_dir.hpp"

using otpd::config::FileWatchSettings;
using otpd::on_asio::PathWatch;
using otpd::test::TempDir;
using otpd::workers::PathChanges;
namespace fs = std::filesystem;

namespace {

int inotify_descriptors() {
  int count = 0;
  for (const auto& entry : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ignored;
    if (fs::read_symlink(entry.path(), ignored).string() == "anon_inode:inotify") ++count;
  }
  return count;
}

// A watch and everything it reported, run on its own io_context.
struct Watching {
  boost::asio::io_context io;
  std::vector<PathChanges> reports;
  std::shared_ptr<PathWatch> watch;

  // `before_start` runs between open() and start(), as the worker's init
  // and the loop's next turn do in otpd.
  Watching(std::vector<FileWatchSettings::Path> paths, std::vector<std::string> ignore = {},
           const std::function<void()>& before_start = {}) {
    watch = std::make_shared<PathWatch>(io, paths, std::move(ignore),
                                        [this](PathChanges c) { reports.push_back(std::move(c)); });
    if (before_start) {
      watch->open();
      before_start();
    }
    watch->start();
  }
  ~Watching() { watch->stop(); }

  // Runs the loop until `done` holds or `timeout` passes; returns `done()`.
  bool run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io.run_for(std::chrono::milliseconds(10));
    }
    return done();
  }
  // Whether a report has named `path` since report number `from`.
  bool reported(const std::string& path, std::size_t from = 0) const {
    for (std::size_t i = from; i < reports.size(); ++i) {
      for (const auto& p : reports[i].paths) {
        if (p == path) return true;
      }
    }
    return false;
  }
  bool wait_for(const std::string& path, std::size_t from = 0) {
    return run_until([&] { return reported(path, from); });
  }
  // Runs what is ready on the loop until nothing is. The kernel queues an
  // inotify event within the call that causes it, so once this returns
  // every event of what the test did so far has been read, and reported or
  // left out.
  void drain() {
    while (io.poll() > 0) {
    }
  }
};

}  // namespace

TEST_SUITE("path watch") {
  TEST_CASE("a change between open() and start() is reported once reading starts") {
    const TempDir t;
    t.write("app.conf", "a\n");
    Watching w({{t.path("app.conf"), false}}, {}, [&] { t.write("app.conf", "b\n"); });
    CHECK(w.wait_for(t.path("app.conf")));
  }

  TEST_CASE("a written file is reported; its neighbours are not") {
    const TempDir t;
    t.write("app.conf", "a\n");
    Watching w({{.path = t.path("app.conf"), .directory = false}});
    t.write("other.conf", "x\n");
    t.write("app.conf", "b\n");
    REQUIRE(w.wait_for(t.path("app.conf")));
    w.drain();
    CHECK_FALSE(w.reported(t.path("other.conf")));
    for (const auto& report : w.reports) CHECK(report.note.empty());
  }

  TEST_CASE("a replace by rename is seen, and the new file is watched too, twice over") {
    const TempDir t;
    t.write("app.conf", "a\n");
    Watching w({{.path = t.path("app.conf"), .directory = false}});
    for (int round = 0; round < 2; ++round) {
      CAPTURE(round);
      const std::size_t from = w.reports.size();
      t.write(".app.conf.tmp", "v" + std::to_string(round) + "\n");
      fs::rename(t.path(".app.conf.tmp"), t.path("app.conf"));
      REQUIRE(w.wait_for(t.path("app.conf"), from));
      w.drain();
    }
    const std::size_t from = w.reports.size();
    t.write("app.conf", "written in place after the renames\n");
    CHECK(w.wait_for(t.path("app.conf"), from));
  }

  TEST_CASE("a file that is deleted and created again keeps being watched") {
    const TempDir t;
    t.write("app.conf", "a\n");
    Watching w({{.path = t.path("app.conf"), .directory = false}});
    fs::remove(t.path("app.conf"));
    REQUIRE(w.wait_for(t.path("app.conf")));
    w.drain();
    const std::size_t from = w.reports.size();
    t.write("app.conf", "back\n");
    CHECK(w.wait_for(t.path("app.conf"), from));
  }

  TEST_CASE("a file that does not exist yet is reported when it appears") {
    const TempDir t;
    Watching w({{.path = t.path("later.conf"), .directory = false}});
    w.drain();
    t.write("later.conf", "here\n");
    CHECK(w.wait_for(t.path("later.conf")));
  }

  TEST_CASE("a watched directory reports its entries, except the ignored names") {
    const TempDir t;
    fs::create_directory(t.path("conf.d"));
    Watching w({{.path = t.path("conf.d"), .directory = true}}, {"*.swp", "*~"});
    t.write("conf.d/.a.conf.swp", "editor\n");
    t.write("conf.d/a.conf~", "backup\n");
    t.write("conf.d/a.conf", "a\n");
    REQUIRE(w.wait_for(t.path("conf.d/a.conf")));
    w.drain();
    CHECK_FALSE(w.reported(t.path("conf.d/.a.conf.swp")));
    CHECK_FALSE(w.reported(t.path("conf.d/a.conf~")));
    const std::size_t from = w.reports.size();
    fs::remove(t.path("conf.d/a.conf"));
    CHECK(w.wait_for(t.path("conf.d/a.conf"), from));
  }

  TEST_CASE("a directory removed is reported, looked for, and watched again when it is back") {
    const TempDir t;
    fs::create_directory(t.path("conf.d"));
    Watching w({{.path = t.path("conf.d"), .directory = true}});
    fs::remove(t.path("conf.d"));
    REQUIRE(w.wait_for(t.path("conf.d")));
    CHECK(w.reports.back().note.find("is gone; looking for it every second") != std::string::npos);
    w.drain();
    std::size_t from = w.reports.size();
    fs::create_directory(t.path("conf.d"));
    REQUIRE(w.wait_for(t.path("conf.d"), from));
    CHECK(w.reports.back().note == "directory " + t.path("conf.d") + " is back");
    w.drain();
    from = w.reports.size();
    t.write("conf.d/b.conf", "b\n");
    CHECK(w.wait_for(t.path("conf.d/b.conf"), from));
  }

  TEST_CASE("an overflowed event queue is a change with a note") {
    const TempDir t;
    t.write("a", "");
    t.write("b", "");
    std::ifstream max_file("/proc/sys/fs/inotify/max_queued_events");
    int max_queued = 16384;
    max_file >> max_queued;
    Watching w({{.path = t.path("a"), .directory = false}});
    // The loop does not read meanwhile; alternating the two files keeps the
    // kernel from merging the events.
    int touched = 0;
    for (int i = 0; i < max_queued + 10; ++i) {
      if (::utimensat(AT_FDCWD, t.path(i % 2 ? "a" : "b").c_str(), nullptr, 0) == 0) ++touched;
    }
    REQUIRE(touched == max_queued + 10);
    REQUIRE(w.run_until([&] {
      for (const auto& r : w.reports) {
        if (r.note.find("overflowed") != std::string::npos) return true;
      }
      return false;
    }));
  }

  TEST_CASE("stop closes the inotify descriptor and reports nothing more") {
    const TempDir t;
    const int before = inotify_descriptors();
    auto w = std::make_unique<Watching>(
        std::vector<FileWatchSettings::Path>{{.path = t.path("x"), .directory = false}});
    CHECK(w->watch->descriptor() >= 0);
    CHECK(inotify_descriptors() == before + 1);
    w->watch->stop();
    CHECK(inotify_descriptors() == before);
    CHECK(w->watch->descriptor() == -1);
    t.write("x", "after the stop\n");
    w->drain();
    CHECK(w->reports.empty());
  }
}
