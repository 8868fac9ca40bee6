// Files and directories watched with inotify on the loop, for `file_watch`
// workers (workers/loop_services.hpp). Each watch has its own inotify
// descriptor, closed when it stops: watches come and go with their workers,
// and one descriptor per watch keeps their events apart without sharing
// watch descriptors between them (the kernel gives one per directory and
// descriptor).
//
// A file is watched through its directory and picked out by name, so that
// a replace by rename (what editors and config managers do), a delete and a
// re-create are all seen, and the file is still watched afterwards. A
// watched directory reports changes to its entries, not deeper. A directory
// that disappears (or is renamed away) is looked for again every second;
// its return is a change.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/spec.hpp"
#include "workers/loop_services.hpp"

namespace boost::asio {
class io_context;
}

namespace otpd::on_asio {

class PathWatch : public std::enable_shared_from_this<PathWatch> {
 public:
  // `changed` runs on the loop for each batch of changes, or once with
  // `failed` set when the watch cannot work at all: no inotify descriptor,
  // a directory it may not watch, the kernel's limit on watches reached.
  // Call start() once the object is owned by a shared_ptr.
  using Changed = std::function<void(workers::PathChanges)>;
  PathWatch(boost::asio::io_context& io, const std::vector<config::FileWatchSettings::Path>& paths,
            std::vector<std::string> ignore, Changed changed);
  ~PathWatch();
  PathWatch(const PathWatch&) = delete;
  PathWatch& operator=(const PathWatch&) = delete;

  // Makes the inotify descriptor and adds the watches: system calls only,
  // so any thread may call it before handing the object to the loop. The
  // kernel queues what changes from then on; start() reads it.
  void open();
  // On the loop: opens first if open() was not called, reports a failure
  // of open(), and reads the events.
  void start();
  // Closes the descriptor at once; `changed` is not run again.
  void stop();

  // The inotify descriptor, -1 before start() or after stop() (for tests).
  int descriptor() const;

 private:
  struct Directory {
    int wd = -1;  // -1 while it cannot be watched
    bool whole = false;
    std::set<std::string> files;  // names of watched files in it
  };
  struct Reading;

  // Why `dir` cannot be watched; none when it is, or when it is missing
  // (it is looked for again).
  std::optional<std::string> add_watch(const std::string& dir, Directory& watched);
  int inotify_descriptor() const;
  void fail(const std::string& why);
  void read();
  void take(const char* data, std::size_t size);
  void lost(const std::string& dir, workers::PathChanges& changes);
  void retry_after_a_while();
  void retry();
  bool ignored(const std::string& name) const;

  boost::asio::io_context& io_;
  std::vector<std::string> ignore_;
  Changed changed_;
  std::map<std::string, Directory> directories_;
  std::map<int, std::string> by_wd_;
  std::unique_ptr<Reading> reading_;
  int opened_fd_ = -1;                       // from open() until start() hands it to reading_
  std::optional<std::string> open_failure_;  // reported by start()
};

}  // namespace otpd::on_asio
