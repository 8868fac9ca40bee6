// The `file_watch` kind (docs/workers.md): watches files and directories and,
// once a burst of changes has been followed by `debounce` of quiet, restarts
// a sibling or sends it a signal. inotify lives on the loop (LoopServices::
// watch_paths); this worker gathers what changed, waits for the quiet and
// asks the loop to act.
#pragma once

#include <set>
#include <string>

#include "config/spec.hpp"
#include "runtime/scheduler.hpp"
#include "workers/builtin_worker.hpp"
#include "workers/loop_services.hpp"

namespace otpd::workers {

class FileWatch final : public BuiltinWorker<FileWatch> {
 public:
  // `path` is the watch's own; `target_path` the sibling's.
  FileWatch(Ended ended, std::string path, config::FileWatchSettings settings,
            LoopServices& services, std::string target_path);

  void begin();
  void cleanup();
  void changed(PathChanges changes);
  void quiet_long_enough();
  void acted(ActionResult result);

 private:
  void wait_for_quiet(runtime::Clock::duration delay);
  void act();
  std::string what_changed() const;
  void emit(supervise::EventKind kind, std::string reason);

  std::string path_;
  config::FileWatchSettings settings_;
  LoopServices& services_;
  std::string target_path_;
  WatchId watch_ = 0;
  // Changes not yet acted on, and what the loop said about the watch.
  std::set<std::string> changed_paths_;
  std::set<std::string> notes_;
  runtime::Clock::time_point last_change_{};
  bool waiting_ = false;  // a quiet-check timer is pending
  bool acting_ = false;   // an action's result has not come back yet
};

}  // namespace otpd::workers
