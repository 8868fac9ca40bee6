#include "workers/file_watch.hpp"

#include "config/signals.hpp"

namespace otpd::workers {

namespace {

// Events name this many changed paths at most, then how many more.
constexpr std::size_t kPathsNamed = 5;

}  // namespace

FileWatch::FileWatch(Ended ended, std::string path, config::FileWatchSettings settings,
                     LoopServices& services, std::string target_path)
    : BuiltinWorker(std::move(ended)),
      path_(std::move(path)),
      settings_(std::move(settings)),
      services_(services),
      target_path_(std::move(target_path)) {}

// Changes come back on the loop, and from there as casts: dropped if this
// worker has ended meanwhile.
void FileWatch::begin() {
  watch_ = services_.watch_paths(settings_.paths, settings_.ignore,
                                 [self = server()](PathChanges changes) {
                                   self.cast(&FileWatch::changed, std::move(changes));
                                 });
}

void FileWatch::cleanup() {
  if (watch_ != 0) services_.stop_watching(std::exchange(watch_, 0));
}

void FileWatch::changed(PathChanges changes) {
  if (changes.failed) {
    // Nothing will be watched: exiting lets the supervisor's restart
    // intensity decide, rather than a watch that silently sees nothing.
    // cleanup() still lets go of the failed watch.
    stop(runtime::ExitReason::error(changes.note));
    return;
  }
  changed_paths_.insert(changes.paths.begin(), changes.paths.end());
  if (!changes.note.empty()) notes_.insert(std::move(changes.note));
  last_change_ = runtime::Clock::now();
  // While an action runs, changes wait for its result; then they count.
  if (!waiting_ && !acting_) wait_for_quiet(settings_.debounce);
}

void FileWatch::wait_for_quiet(runtime::Clock::duration delay) {
  waiting_ = true;
  scheduler().start_timer(*this, delay, runtime::make_envelope([](runtime::Process& self) {
    static_cast<FileWatch&>(self).quiet_long_enough();
  }));
}

// One timer at a time: when it fires early (changes came meanwhile), it is
// started again for the rest of the quiet time.
void FileWatch::quiet_long_enough() {
  waiting_ = false;
  const auto quiet_for = runtime::Clock::now() - last_change_;
  if (quiet_for < settings_.debounce) {
    wait_for_quiet(settings_.debounce - quiet_for);
    return;
  }
  act();
}

void FileWatch::act() {
  const std::string changed = what_changed();
  changed_paths_.clear();
  notes_.clear();
  acting_ = true;
  auto reply = [self = server()](ActionResult result) { self.cast(&FileWatch::acted, result); };
  if (settings_.signal == 0) {
    emit(supervise::EventKind::file_changed, changed + "; restarting " + target_path_);
    services_.restart_child(target_path_, std::move(reply));
    return;
  }
  emit(supervise::EventKind::file_changed,
       changed + "; sending " + config::signal_name(settings_.signal) + " to " + target_path_);
  services_.signal_child(target_path_, settings_.signal, std::move(reply));
}

void FileWatch::acted(ActionResult result) {
  acting_ = false;
  if (!result.ok) emit(supervise::EventKind::file_action_failed, result.detail);
  if (!changed_paths_.empty() || !notes_.empty()) {
    const auto quiet_for = runtime::Clock::now() - last_change_;
    wait_for_quiet(quiet_for < settings_.debounce ? settings_.debounce - quiet_for
                                                  : runtime::Clock::duration::zero());
  }
}

// "/etc/app/a.conf, /etc/app/b.conf changed (the kernel's event queue
// overflowed)".
std::string FileWatch::what_changed() const {
  std::string text;
  std::size_t named = 0;
  for (const std::string& path : changed_paths_) {
    if (named == kPathsNamed) {
      text += " and " + std::to_string(changed_paths_.size() - named) + " more";
      break;
    }
    text += (named++ == 0 ? "" : ", ") + path;
  }
  text += text.empty() ? "watched paths changed" : " changed";
  if (!notes_.empty()) {
    std::string notes;
    for (const std::string& note : notes_) notes += (notes.empty() ? "" : "; ") + note;
    text += " (" + notes + ")";
  }
  return text;
}

void FileWatch::emit(supervise::EventKind kind, std::string reason) {
  services_.emit({.kind = kind, .path = path_, .reason = std::move(reason)});
}

}  // namespace otpd::workers
