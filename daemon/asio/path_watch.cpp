#include "asio/path_watch.hpp"

#include <fnmatch.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

namespace otpd::on_asio {

namespace asio = boost::asio;

namespace {

// Everything that changes a directory's entries or their contents. A move
// of the directory itself ends its watch (see take()): the watch follows
// the path, not the inode.
constexpr std::uint32_t kMask = IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB |
                                IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF |
                                IN_ONLYDIR | IN_EXCL_UNLINK;

constexpr auto kRetryInterval = std::chrono::seconds(1);

// Room for many events at once; the kernel never splits one across reads.
constexpr std::size_t kBufferSize = 64 * 1024;

std::string joined(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

void add_note(workers::PathChanges& changes, const std::string& note) {
  if (changes.note.find(note) != std::string::npos) return;
  changes.note += (changes.note.empty() ? "" : "; ") + note;
}

}  // namespace

struct PathWatch::Reading {
  explicit Reading(asio::io_context& io) : stream(io), retry_timer(io) {}
  asio::posix::stream_descriptor stream;
  asio::steady_timer retry_timer;
  bool retrying = false;
  alignas(inotify_event) char buffer[kBufferSize];
};

PathWatch::PathWatch(asio::io_context& io,
                     const std::vector<config::FileWatchSettings::Path>& paths,
                     std::vector<std::string> ignore, Changed changed)
    : io_(io), ignore_(std::move(ignore)), changed_(std::move(changed)) {
  for (const auto& path : paths) {
    if (path.directory) {
      directories_[path.path].whole = true;
    } else {
      const std::filesystem::path file(path.path);
      directories_[file.parent_path().string()].files.insert(file.filename().string());
    }
  }
}

PathWatch::~PathWatch() {
  if (opened_fd_ >= 0) ::close(opened_fd_);
}

int PathWatch::descriptor() const {
  return reading_ && reading_->stream.is_open() ? reading_->stream.native_handle() : -1;
}

void PathWatch::open() {
  opened_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (opened_fd_ < 0) {
    const int error = errno;
    open_failure_ = "cannot watch files: inotify_init1: " + std::string(std::strerror(error)) +
                    (error == EMFILE ? " (see fs.inotify.max_user_instances)" : "");
    return;
  }
  // A directory that went away since the file was loaded is looked for
  // again (start() sets the timer); it coming back is the first change.
  for (auto& [dir, watched] : directories_) {
    open_failure_ = add_watch(dir, watched);
    if (open_failure_) return;
  }
}

void PathWatch::start() {
  if (opened_fd_ < 0 && !open_failure_) open();
  if (open_failure_) {
    fail(*open_failure_);
    return;
  }
  reading_ = std::make_unique<Reading>(io_);
  reading_->stream.assign(std::exchange(opened_fd_, -1));
  retry_after_a_while();
  read();
}

int PathWatch::inotify_descriptor() const {
  return reading_ ? reading_->stream.native_handle() : opened_fd_;
}

void PathWatch::stop() {
  changed_ = nullptr;
  if (opened_fd_ >= 0) ::close(std::exchange(opened_fd_, -1));
  if (!reading_) return;
  boost::system::error_code ignored;
  reading_->retry_timer.cancel();
  // Closing the descriptor drops every watch on it; the pending read ends
  // with operation_aborted.
  reading_->stream.close(ignored);
}

std::optional<std::string> PathWatch::add_watch(const std::string& dir, Directory& watched) {
  const int wd = ::inotify_add_watch(inotify_descriptor(), dir.c_str(), kMask);
  if (wd < 0) {
    const int error = errno;
    if (error == ENOENT || error == ENOTDIR) return std::nullopt;
    return "cannot watch " + dir + ": " + std::strerror(error) +
           (error == ENOSPC ? " (see fs.inotify.max_user_watches)" : "");
  }
  watched.wd = wd;
  by_wd_[wd] = dir;
  return std::nullopt;
}

void PathWatch::fail(const std::string& why) {
  if (auto changed = std::exchange(changed_, nullptr)) changed({.note = why, .failed = true});
  stop();
}

void PathWatch::read() {
  reading_->stream.async_read_some(
      asio::buffer(reading_->buffer),
      [self = shared_from_this()](const boost::system::error_code& error, std::size_t size) {
        if (!self->changed_) return;  // stopped
        if (error) {
          if (error == asio::error::operation_aborted) return;
          self->fail("cannot read inotify events: " + error.message());
          return;
        }
        self->take(self->reading_->buffer, size);
        if (self->changed_) self->read();
      });
}

bool PathWatch::ignored(const std::string& name) const {
  for (const std::string& pattern : ignore_) {
    if (::fnmatch(pattern.c_str(), name.c_str(), 0) == 0) return true;
  }
  return false;
}

void PathWatch::take(const char* data, std::size_t size) {
  workers::PathChanges changes;
  std::vector<int> moved_away;
  for (std::size_t offset = 0; offset + sizeof(inotify_event) <= size;) {
    const auto* event = reinterpret_cast<const inotify_event*>(data + offset);
    offset += sizeof(inotify_event) + event->len;
    if (event->mask & IN_Q_OVERFLOW) {
      add_note(changes, "the kernel's event queue overflowed; changes may have been missed");
      continue;
    }
    const auto found = by_wd_.find(event->wd);
    if (found == by_wd_.end()) continue;  // a watch already let go
    const std::string dir = found->second;
    if (event->mask & IN_IGNORED) {
      lost(dir, changes);
      continue;
    }
    if (event->mask & IN_MOVE_SELF) {
      moved_away.push_back(event->wd);
      continue;
    }
    if (event->len == 0) continue;  // the directory itself: its entries are what count
    const std::string name = event->name;
    const Directory& watched = directories_[dir];
    if (watched.files.count(name) != 0 || (watched.whole && !ignored(name))) {
      changes.paths.push_back(joined(dir, name));
    }
  }
  std::sort(changes.paths.begin(), changes.paths.end());
  changes.paths.erase(std::unique(changes.paths.begin(), changes.paths.end()), changes.paths.end());
  // The path now names something else, or nothing: IN_IGNORED follows the
  // removal, and the directory is looked for again at its path.
  for (int wd : moved_away) ::inotify_rm_watch(reading_->stream.native_handle(), wd);
  if (changes.paths.empty() && changes.note.empty()) return;
  if (changed_) changed_(std::move(changes));
}

// The kernel has dropped the watch of `dir` (it was deleted, moved away or
// unmounted): what was watched in it is gone, which is a change.
void PathWatch::lost(const std::string& dir, workers::PathChanges& changes) {
  Directory& watched = directories_[dir];
  by_wd_.erase(watched.wd);
  watched.wd = -1;
  if (watched.whole) changes.paths.push_back(dir);
  for (const std::string& file : watched.files) changes.paths.push_back(joined(dir, file));
  add_note(changes, "directory " + dir + " is gone; looking for it every second");
  retry_after_a_while();
}

// Runs while a directory is missing.
void PathWatch::retry_after_a_while() {
  if (reading_->retrying) return;
  const bool any_missing = std::any_of(directories_.begin(), directories_.end(),
                                       [](const auto& entry) { return entry.second.wd < 0; });
  if (!any_missing) return;
  reading_->retrying = true;
  reading_->retry_timer.expires_after(kRetryInterval);
  reading_->retry_timer.async_wait([self = shared_from_this()](const boost::system::error_code& e) {
    if (e || !self->changed_) return;
    self->reading_->retrying = false;
    self->retry();
  });
}

void PathWatch::retry() {
  workers::PathChanges changes;
  for (auto& [dir, watched] : directories_) {
    if (watched.wd >= 0) continue;
    if (const auto failure = add_watch(dir, watched)) {
      fail(*failure);
      return;
    }
    if (watched.wd < 0) continue;  // still missing
    if (watched.whole) changes.paths.push_back(dir);
    for (const std::string& file : watched.files) changes.paths.push_back(joined(dir, file));
    add_note(changes, "directory " + dir + " is back");
  }
  retry_after_a_while();
  if (!changes.paths.empty() && changed_) changed_(std::move(changes));
}

}  // namespace otpd::on_asio
