#include "output/output_hub.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "output/line_ring.hpp"
#include "output/line_splitter.hpp"
#include "output/log_dir.hpp"
#include "output/rotating_file.hpp"

namespace otpd::output {
namespace {

namespace asio = boost::asio;

// One read per pipe per turn of the event loop: a chatty child gets its
// share and no more, so other children's exits, timers and control requests
// wait at most one chunk each.
constexpr std::size_t kReadChunk = 64 * 1024;
// A line begun and left without its newline is shown after this long.
constexpr std::chrono::milliseconds kPartialPatience{1000};
constexpr const char* kNoDescriptorForFile =
    "cannot open its log file: otpd's share of descriptors for children is used up";

std::string because(std::string_view what, int error) {
  return std::string(what) + ": " + std::strerror(error);
}

std::string_view trimmed(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return path;
}

// How the output of one child path is handled now.
struct Route {
  config::Output output = config::Output::log;
  config::Streams streams = config::Streams::merged;
  // Captured output that is not, for want of descriptors: it goes to
  // otpd's own stdout and stderr.
  bool starved = false;
};

Route route_of(const config::ProcessSpec& spec, const config::LogsSpec& logs) {
  return {spec.output.value_or(logs.output), spec.streams.value_or(logs.streams)};
}

void collect_modes(const config::SupervisorSpec& spec, const std::string& prefix,
                   std::unordered_map<std::string, Route>& modes, const config::LogsSpec& logs) {
  for (const config::ChildSpec& child : spec.children) {
    const std::string path = prefix.empty() ? child.name : prefix + "/" + child.name;
    if (child.is_supervisor()) {
      collect_modes(child.supervisor(), path, modes, logs);
    } else if (child.is_process()) {
      modes[path] = route_of(child.process(), logs);
    } else if (const config::ProcessSpec* command = child.worker().command()) {
      // A worker's commands (health check probes, cron jobs) run under its path.
      modes[path] = route_of(*command, logs);
    }
  }
}

// mkdir -p with mode 0750 for what it creates.
bool make_directories(const std::string& dir, std::string& error) {
  std::string partial;
  std::size_t from = 0;
  while (from <= dir.size()) {
    const std::size_t slash = dir.find('/', from);
    partial = dir.substr(0, slash == std::string::npos ? dir.size() : slash);
    from = slash == std::string::npos ? dir.size() + 1 : slash + 1;
    if (partial.empty()) continue;
    if (::mkdir(partial.c_str(), 0750) != 0 && errno != EEXIST) {
      error = because("cannot create " + partial, errno);
      return false;
    }
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    error = because("cannot use it", errno);
    return false;
  }
  if (!S_ISDIR(st.st_mode)) {
    error = "it is not a directory";
    return false;
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    error = because("cannot write into it", errno);
    return false;
  }
  return true;
}

// Everything kept per child path, across its incarnations.
struct Channel {
  Channel(std::string path, std::size_t buffer) : path(std::move(path)), ring(buffer) {}

  std::string path;
  config::Output mode = config::Output::log;
  LineRing ring;
  std::unique_ptr<RotatingFile> file;
  process::DescriptorGrant file_grant;  // for the file's descriptor
  std::string file_problem;             // why `file` output goes to otpd's log instead
  bool warned_write = false;
  std::vector<LineFollower*> followers;  // nullptr: left during a fan-out
  bool fanning_out = false;
  std::vector<log::OutputLine> batch;  // lines read, not yet delivered
  bool forgotten = false;              // its child left the tree while it was followed
};

struct Reader;

}  // namespace

struct OutputHub::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, log::EventLog& log, const config::Config& config,
       process::DescriptorBudget* budget)
      : io(io), log(log), logs(config.logs), budget(budget) {
    collect_modes(config.tree, "", modes, config.logs);
    reserve_slots();
    dir = logs.dir.empty()
              ? default_log_dir(geteuid() == 0, std::getenv("XDG_STATE_HOME"), std::getenv("HOME"))
              : logs.dir;
    const bool files_wanted = std::any_of(modes.begin(), modes.end(), [](const auto& entry) {
      return entry.second.output == config::Output::file;
    });
    if (files_wanted) open_log_dir();
  }

  // Creates and opens the log directory once, when the first child wants a
  // file; the files are reached through its descriptor from then on. A
  // problem is reported once and stays.
  bool open_log_dir() {
    if (log_dir) return true;
    if (!dir_problem.empty()) return false;
    if (make_directories(dir, dir_problem)) log_dir = LogDir::open(dir, dir_problem);
    if (log_dir) return true;
    dir_problem = "log directory " + dir + ": " + dir_problem;
    log.error(dir_problem + "; children with 'output: file' write to otpd's own log instead");
    return false;
  }

  ~Impl() {
    for (int fd : {slot_out, slot_err, placeholder}) {
      if (fd >= 0) ::close(fd);
    }
  }

  // Three descriptors as low as they come: /dev/null, and two copies of it
  // that a pipe's write end replaces just for the time of a spawn.
  void reserve_slots() {
    placeholder = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (placeholder < 0) return;
    slot_out = fcntl(placeholder, F_DUPFD_CLOEXEC, 3);
    slot_err = fcntl(placeholder, F_DUPFD_CLOEXEC, 3);
  }

  bool slots_ready() const { return placeholder >= 0 && slot_out >= 0 && slot_err >= 0; }

  Channel& channel(const std::string& path) {
    auto found = channels.find(path);
    if (found == channels.end()) {
      found =
          channels
              .emplace(path, std::make_shared<Channel>(path, static_cast<std::size_t>(logs.buffer)))
              .first;
    }
    found->second->forgotten = false;  // a child at that path again
    return *found->second;
  }

  static bool followed(const Channel& ch) {
    return std::any_of(ch.followers.begin(), ch.followers.end(),
                       [](const LineFollower* f) { return f != nullptr; });
  }

  // The child at `path`, and every child under it, left the tree.
  void forget(const std::string& path) {
    const auto gone = [&path](const std::string& key) {
      return path.empty() || key == path ||
             (key.size() > path.size() && key.starts_with(path) && key[path.size()] == '/');
    };
    std::erase_if(modes, [&](const auto& entry) { return gone(entry.first); });
    std::erase_if(channels, [&](auto& entry) {
      if (!gone(entry.first)) return false;
      Channel& ch = *entry.second;
      // A follower stays attached until it leaves; a pipe still being read
      // keeps the channel alive on its own.
      if (followed(ch) || ch.fanning_out) {
        ch.forgotten = true;
        return false;
      }
      return true;
    });
  }

  // Opens the child's file on its first `file` spawn, or says why it cannot.
  bool use_file(Channel& ch) {
    if (ch.file && ch.file->is_open()) return true;
    if (!open_log_dir()) {
      ch.file_problem = dir_problem;
      return false;
    }
    process::DescriptorGrant grant = process::DescriptorGrant::take(budget);
    if (!grant) {
      if (ch.file_problem.empty()) {
        log.warning("output of " + ch.path + ": " + kNoDescriptorForFile +
                    "; it goes to otpd's own log instead");
      }
      ch.file_problem = kNoDescriptorForFile;
      return false;
    }
    auto file =
        std::make_unique<RotatingFile>(log_dir, log_file_name(ch.path), logs.max_size, logs.keep);
    std::string error;
    if (!file->open(error)) {
      if (ch.file_problem.empty()) {
        log.error("output of " + ch.path + ": " + error + "; it goes to otpd's own log instead");
      }
      ch.file_problem = error;
      return false;
    }
    ch.file_problem.clear();
    ch.file = std::move(file);
    ch.file_grant = std::move(grant);
    return true;
  }

  process::ChildStdio prepare(const std::string& path, const config::ProcessSpec& spec) {
    Route& route = modes[path];
    route = route_of(spec, logs);
    if (route.output == config::Output::inherit) return {};
    if (!slots_ready()) {
      return {1, 2, "cannot capture its output: no descriptor for /dev/null"};
    }
    if (route.output == config::Output::discard) return {slot_out, slot_err, {}};

    // One pipe, which the child gets as both 1 and 2, unless it wants its
    // streams apart.
    const bool separate = route.streams == config::Streams::separate;
    process::DescriptorGrant grant = process::DescriptorGrant::take(budget, separate ? 2 : 1);
    if (!grant) return starve(path, route);
    Channel& ch = channel(path);
    ch.mode = route.output;
    if (route.output == config::Output::file) use_file(ch);

    int out[2] = {-1, -1};
    int err[2] = {-1, -1};
    if (::pipe2(out, O_CLOEXEC) != 0 || (separate && ::pipe2(err, O_CLOEXEC) != 0)) {
      const int error = errno;
      for (int fd : {out[0], out[1], err[0], err[1]}) {
        if (fd >= 0) ::close(fd);
      }
      // Out of descriptors all the same (something else holds them): the
      // child runs with otpd's own output rather than not at all.
      if (error == EMFILE || error == ENFILE) return starve(path, route);
      return {1, 2, because("cannot create a pipe for its output", error)};
    }
    // The write ends go onto the low slots (dup3 replaces /dev/null there
    // atomically); the child receives them as 1 and 2. otpd keeps only the
    // read ends, non-blocking.
    ::dup3(out[1], slot_out, O_CLOEXEC);
    ::close(out[1]);
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    pending_out = out[0];
    if (separate) {
      ::dup3(err[1], slot_err, O_CLOEXEC);
      ::close(err[1]);
      fcntl(err[0], F_SETFL, O_NONBLOCK);
      pending_err = err[0];
    }
    pending_grant = std::move(grant);
    pending_channel = channels[path];
    if (starving) {
      starving = false;
      log.info("the output of " + path + " is captured again: descriptors are free");
    }
    return {slot_out, separate ? slot_err : slot_out, {}, /*ends_at_exit=*/true};
  }

  // No descriptor for the child's pipes: it runs with otpd's own output
  // rather than not at all, and says so once for each time it happens.
  process::ChildStdio starve(const std::string& path, Route& route) {
    route.starved = true;
    ++starved;
    if (!starving) {
      starving = true;
      log.warning("the output of " + path + " is not captured: " + descriptors_used_up() +
                  "; it and the children started while none is free write to otpd's own stdout and "
                  "stderr (raise the open-file limit, LimitNOFILE=; a captured child needs 1 "
                  "descriptor, 2 with 'streams: separate', 1 more with 'output: file')");
    }
    return {};
  }

  std::string descriptors_used_up() const {
    if (budget == nullptr || !budget->limited()) return "otpd had no descriptor left";
    return "otpd's share of the open-file limit for children's descriptors (" +
           std::to_string(budget->capacity()) + " of " + std::to_string(budget->open_files()) +
           ") was used up";
  }

  void spawned(const std::string& path, int pid);

  // Delivers the lines read into ch.batch: file or log, followers, buffer.
  void commit(Channel& ch) {
    if (ch.batch.empty()) return;
    if (ch.mode == config::Output::file && ch.file && ch.file->is_open()) {
      std::string error;
      bool ok = true;
      line_text.clear();
      for (const log::OutputLine& line : ch.batch) {
        line_text.clear();
        log::append_file_line(line_text, line);
        ok = ch.file->add_line(line_text, error) && ok;
      }
      ok = ch.file->flush(error) && ok;
      if (!ok && !ch.warned_write) log.warning("output of " + ch.path + ": " + error);
      ch.warned_write = !ok;
    } else if (ch.mode != config::Output::discard) {
      log.child_output(ch.path, ch.batch);
    }
    if (!ch.followers.empty()) {
      ch.fanning_out = true;
      for (const log::OutputLine& line : ch.batch) {
        line_text.clear();
        log::append_line_json(line_text, ch.path, line);
        for (std::size_t i = 0; i < ch.followers.size(); ++i) {
          if (ch.followers[i] != nullptr) ch.followers[i]->on_line(line, line_text);
        }
      }
      ch.fanning_out = false;
      std::erase(ch.followers, nullptr);
    }
    for (log::OutputLine& line : ch.batch) ch.ring.push(std::move(line));
    ch.batch.clear();
  }

  asio::io_context& io;
  log::EventLog& log;
  config::LogsSpec logs;
  std::string dir;
  std::string dir_problem;
  std::shared_ptr<const LogDir> log_dir;  // when a child logs to a file and `dir` could be opened
  process::DescriptorBudget* budget;
  std::function<void(int)> ended;  // a pipe of this pid reached its end
  std::unordered_map<std::string, Route> modes;
  std::unordered_map<std::string, std::shared_ptr<Channel>> channels;
  int placeholder = -1;
  int slot_out = -1;
  int slot_err = -1;
  int pending_out = -1;
  int pending_err = -1;
  process::DescriptorGrant pending_grant;
  std::shared_ptr<Channel> pending_channel;
  std::array<char, kReadChunk> buffer{};  // shared: each read is consumed at once
  std::string line_text;
  std::size_t pipes = 0;
  bool starving = false;    // the last capture failed for want of descriptors
  std::size_t starved = 0;  // captures that failed so
};

namespace {

// One pipe of one incarnation, read until its end.
struct Reader : std::enable_shared_from_this<Reader> {
  Reader(std::shared_ptr<OutputHub::Impl> hub, std::shared_ptr<Channel> channel, int fd, int pid,
         log::Stream stream, process::DescriptorGrant grant)
      : hub(std::move(hub)),
        channel(std::move(channel)),
        pipe(this->hub->io, fd),
        grant(std::move(grant)),
        pid(pid),
        stream(stream) {
    ++this->hub->pipes;
  }
  ~Reader() { --hub->pipes; }

  // The first read comes through the queue: the child may have written
  // already, before the pipe was known to the reactor.
  void start() { read_later(); }

  void read_later() {
    asio::post(hub->io, [self = shared_from_this()] { self->read(); });
  }

  void wait() {
    pipe.async_wait(asio::posix::descriptor_base::wait_read,
                    [self = shared_from_this()](const boost::system::error_code& error) {
                      if (!error) self->read();
                    });
  }

  void read() {
    const ssize_t n = ::read(pipe.native_handle(), hub->buffer.data(), hub->buffer.size());
    if (n < 0 && errno == EINTR) return read_later();
    // The reactor reports a pipe by its edges, so it is waited on again only
    // once a read found it empty (short read or EAGAIN); after a full chunk
    // the next read is queued behind the rest of the loop's work instead.
    if (n < 0 && errno == EAGAIN) return wait();
    if (n <= 0) return finish();
    const std::int64_t now = log::realtime_us();
    last_read_us = now;
    splitter.feed(std::string_view(hub->buffer.data(), static_cast<std::size_t>(n)),
                  [&](std::string_view text, bool continued) { add(now, text, continued); });
    hub->commit(*channel);
    if (splitter.has_partial()) watch_partial();
    if (static_cast<std::size_t>(n) == hub->buffer.size()) {
      read_later();
    } else {
      wait();
    }
  }

  void add(std::int64_t time, std::string_view text, bool continued) {
    channel->batch.push_back({.time_us = time,
                              .pid = pid,
                              .stream = stream,
                              .continued = continued,
                              .text = std::string(text)});
  }

  // End of the stream: the child and everything that shared the pipe have
  // closed it. A last line without its newline is delivered as it is.
  void finish() {
    idle.reset();
    splitter.flush(false, [&](std::string_view text, bool continued) {
      add(log::realtime_us(), text, continued);
    });
    hub->commit(*channel);
    boost::system::error_code ignored;
    pipe.close(ignored);
    grant.release();
    // Usually the child has exited: the reaper looks, from the loop.
    if (hub->ended) asio::post(hub->io, [hub = hub, pid = pid] { hub->ended(pid); });
  }

  void watch_partial() {
    if (idle) return;
    idle = std::make_unique<asio::steady_timer>(hub->io, kPartialPatience);
    idle->async_wait([weak = weak_from_this()](const boost::system::error_code& error) {
      auto self = weak.lock();
      if (error || !self) return;
      self->partial_waited();
    });
  }

  void partial_waited() {
    idle.reset();
    if (!splitter.has_partial() || !pipe.is_open()) return;
    const auto quiet = std::chrono::microseconds(log::realtime_us() - last_read_us);
    if (quiet + std::chrono::milliseconds(10) < kPartialPatience) {
      watch_partial();  // more arrived meanwhile; a new wait from now
      return;
    }
    splitter.flush(true, [&](std::string_view text, bool continued) {
      add(log::realtime_us(), text, continued);
    });
    hub->commit(*channel);
  }

  std::shared_ptr<OutputHub::Impl> hub;
  std::shared_ptr<Channel> channel;
  asio::posix::stream_descriptor pipe;
  process::DescriptorGrant grant;  // for the pipe's read end
  int pid;
  log::Stream stream;
  LineSplitter splitter;
  std::unique_ptr<asio::steady_timer> idle;
  std::int64_t last_read_us = 0;
};

}  // namespace

void OutputHub::Impl::spawned(const std::string& /*path*/, int pid) {
  if (pending_out < 0) return;
  // Back to /dev/null: this closes otpd's copies of the write ends, so the
  // pipes end when the child (and whatever it passed them to) is gone.
  ::dup3(placeholder, slot_out, O_CLOEXEC);
  ::dup3(placeholder, slot_err, O_CLOEXEC);
  const int out = std::exchange(pending_out, -1);
  const int err = std::exchange(pending_err, -1);
  std::shared_ptr<Channel> ch = std::move(pending_channel);
  process::DescriptorGrant grant = std::move(pending_grant);
  if (pid <= 0) {
    ::close(out);
    if (err >= 0) ::close(err);
    return;
  }
  auto self = shared_from_this();
  // A merged stream is the child's stdout, with its stderr in it.
  std::make_shared<Reader>(self, ch, out, pid, log::Stream::out, grant.split_one())->start();
  if (err >= 0) {
    std::make_shared<Reader>(self, ch, err, pid, log::Stream::err, grant.split_one())->start();
  }
}

std::string default_log_dir(bool root, const char* xdg_state_home, const char* home) {
  if (root) return "/var/log/otpd";
  if (xdg_state_home != nullptr && xdg_state_home[0] == '/') {
    return std::string(xdg_state_home) + "/otpd";
  }
  if (home != nullptr && home[0] == '/') return std::string(home) + "/.local/state/otpd";
  return "/tmp/otpd-" + std::to_string(geteuid()) + "/logs";
}

std::string log_file_name(std::string_view path) {
  std::string name(trimmed(path));
  std::replace(name.begin(), name.end(), '/', '.');
  return name + ".log";
}

bool accepts(StreamFilter filter, log::Stream stream) {
  return filter == StreamFilter::both ||
         (filter == StreamFilter::out) == (stream == log::Stream::out);
}

OutputHub::OutputHub(asio::io_context& io, log::EventLog& log, const config::Config& config,
                     process::DescriptorBudget* budget)
    : impl_(std::make_shared<Impl>(io, log, config, budget)) {}

OutputHub::~OutputHub() = default;

process::ChildStdio OutputHub::prepare(const std::string& path, const config::ProcessSpec& spec) {
  return impl_->prepare(path, spec);
}

void OutputHub::spawned(const std::string& path, int pid) {
  impl_->spawned(path, pid);
}

void OutputHub::when_ended(std::function<void(int)> fn) {
  impl_->ended = std::move(fn);
}

const std::string& OutputHub::dir() const {
  return impl_->dir;
}

std::optional<config::Output> OutputHub::mode_of(const std::string& path) const {
  const auto found = impl_->modes.find(std::string(trimmed(path)));
  if (found == impl_->modes.end()) return std::nullopt;
  return found->second.starved ? config::Output::inherit : found->second.output;
}

bool OutputHub::merged(const std::string& path) const {
  const auto found = impl_->modes.find(std::string(trimmed(path)));
  return found != impl_->modes.end() && found->second.streams == config::Streams::merged;
}

std::string OutputHub::not_captured_because(const std::string& path) const {
  const auto found = impl_->modes.find(std::string(trimmed(path)));
  if (found == impl_->modes.end() || !found->second.starved) return {};
  return impl_->descriptors_used_up() +
         " when it started (its output: " + config::to_string(found->second.output) + ")";
}

std::size_t OutputHub::starved() const {
  return impl_->starved;
}

std::string OutputHub::file_of(const std::string& path) const {
  const std::string key(trimmed(path));
  const auto mode = mode_of(key);
  if (!mode || *mode != config::Output::file) return {};
  const auto found = impl_->channels.find(key);
  if (found != impl_->channels.end() && !found->second->file_problem.empty()) {
    return "otpd's own log (" + found->second->file_problem + ")";
  }
  if (!impl_->dir_problem.empty()) return "otpd's own log (" + impl_->dir_problem + ")";
  return impl_->dir + "/" + log_file_name(key);
}

void OutputHub::last_lines(const std::string& path, std::size_t count, StreamFilter filter,
                           const std::function<void(const log::OutputLine&)>& fn) const {
  const auto found = impl_->channels.find(std::string(trimmed(path)));
  if (found == impl_->channels.end()) return;
  found->second->ring.last(
      count, [filter](const log::OutputLine& line) { return accepts(filter, line.stream); }, fn);
}

void OutputHub::follow(const std::string& path, LineFollower& follower) {
  impl_->channel(std::string(trimmed(path))).followers.push_back(&follower);
}

void OutputHub::unfollow(const std::string& path, LineFollower& follower) {
  const auto found = impl_->channels.find(std::string(trimmed(path)));
  if (found == impl_->channels.end()) return;
  Channel& ch = *found->second;
  const auto it = std::find(ch.followers.begin(), ch.followers.end(), &follower);
  if (it == ch.followers.end()) return;
  if (ch.fanning_out) {
    *it = nullptr;
  } else {
    ch.followers.erase(it);
    if (ch.forgotten && ch.followers.empty()) impl_->channels.erase(found);
  }
}

void OutputHub::forget(const std::string& path) {
  impl_->forget(std::string(trimmed(path)));
}

std::size_t OutputHub::channels() const {
  return impl_->channels.size();
}

std::size_t OutputHub::open_pipes() const {
  return impl_->pipes;
}

}  // namespace otpd::output
