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
#include <optional>
#include <unordered_map>
#include <vector>

#include "output/line_ring.hpp"
#include "output/line_splitter.hpp"
#include "output/log_dir.hpp"
#include "output/pipe_set.hpp"
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

// A child's `output: file`: the file, or why its lines go to otpd's log.
struct FileOutput {
  std::unique_ptr<RotatingFile> file;
  process::DescriptorGrant grant;  // for the file's descriptor
  std::string problem;
  bool warned_write = false;
};

// Captured output of one child path, across its incarnations.
struct Channel {
  Channel(const std::string& path, std::size_t buffer) : path(path), ring(buffer) {}

  const std::string& path;  // the key of its PathState
  config::Output mode = config::Output::log;
  LineRing ring;
  std::unique_ptr<FileOutput> file;      // with `output: file`
  std::vector<LineFollower*> followers;  // nullptr: left during a fan-out
  int readers = 0;                       // pipes being read into it
  bool fanning_out = false;
};

bool followed(const Channel& ch) {
  return std::any_of(ch.followers.begin(), ch.followers.end(),
                     [](const LineFollower* f) { return f != nullptr; });
}

// Whether a channel is in use beyond its child: followed, or a pipe of an
// earlier incarnation (held open by what it left running) still read.
bool in_use(const Channel& ch) {
  return followed(ch) || ch.fanning_out || ch.readers > 0;
}

// Everything kept per child path: how its output goes, and for captured
// output, its channel, in place (an unordered_map's values stay where they
// are). One map of these, since a tree may be big.
struct PathState {
  Route route;
  // The child left the tree while its channel was in use: kept for that,
  // but no longer a child's.
  bool forgotten = false;
  std::optional<Channel> channel;
};

void collect_modes(const config::SupervisorSpec& spec, const std::string& prefix,
                   std::unordered_map<std::string, PathState>& paths,
                   const config::LogsSpec& logs) {
  for (const config::ChildSpec& child : spec.children) {
    const std::string path = prefix.empty() ? child.name : prefix + "/" + child.name;
    if (child.is_supervisor()) {
      collect_modes(child.supervisor(), path, paths, logs);
    } else if (child.is_process()) {
      paths[path].route = route_of(child.process(), logs);
    } else if (const config::ProcessSpec* command = child.worker().command()) {
      // A worker's commands (health check probes, cron jobs) run under its path.
      paths[path].route = route_of(*command, logs);
    }
  }
}

struct Reader;

}  // namespace

struct OutputHub::Impl {
  Impl(asio::io_context& io, log::EventLog& log, const config::Config& config,
       process::DescriptorBudget* budget)
      : io(io), log(log), logs(config.logs), budget(budget) {
    collect_modes(config.tree, "", paths, config.logs);
    reserve_slots();
    dir = logs.dir.empty()
              ? default_log_dir(geteuid() == 0, std::getenv("XDG_STATE_HOME"), std::getenv("HOME"))
              : logs.dir;
    const bool files_wanted = std::any_of(paths.begin(), paths.end(), [](const auto& entry) {
      return entry.second.route.output == config::Output::file;
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

  ~Impl();

  // Three descriptors as low as they come: /dev/null, and two copies of it
  // that a pipe's write end replaces just for the time of a spawn.
  void reserve_slots() {
    placeholder = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (placeholder < 0) return;
    slot_out = fcntl(placeholder, F_DUPFD_CLOEXEC, 3);
    slot_err = fcntl(placeholder, F_DUPFD_CLOEXEC, 3);
  }

  bool slots_ready() const { return placeholder >= 0 && slot_out >= 0 && slot_err >= 0; }

  // The state of `path`, made if it is new, and its channel.
  PathState& state(const std::string& path) {
    auto& [key, state] = *paths.try_emplace(path).first;
    state.forgotten = false;  // a child at that path again
    if (!state.channel) state.channel.emplace(key, static_cast<std::size_t>(logs.buffer));
    return state;
  }

  // A reader of `ch` is done: a channel forgotten meanwhile goes once
  // nothing uses it.
  void release(Channel& ch) {
    --ch.readers;
    if (in_use(ch)) return;
    const auto found = paths.find(ch.path);
    if (found != paths.end() && found->second.forgotten) paths.erase(found);
  }
  Channel& channel(const std::string& path) { return *state(path).channel; }

  // The child at `path`, and every child under it, left the tree.
  void forget(const std::string& path) {
    const auto gone = [&path](const std::string& key) {
      return path.empty() || key == path ||
             (key.size() > path.size() && key.starts_with(path) && key[path.size()] == '/');
    };
    for (auto it = paths.begin(); it != paths.end();) {
      if (!gone(it->first)) {
        ++it;
        continue;
      }
      // A follower stays attached until it leaves, a pipe until its end.
      const std::optional<Channel>& ch = it->second.channel;
      if (ch && in_use(*ch)) {
        it->second.forgotten = true;
        ++it;
      } else {
        it = paths.erase(it);
      }
    }
  }

  // Opens the child's file on its first `file` spawn, or says why it cannot.
  bool use_file(Channel& ch) {
    if (!ch.file) ch.file = std::make_unique<FileOutput>();
    FileOutput& out = *ch.file;
    if (out.file && out.file->is_open()) return true;
    if (!open_log_dir()) {
      out.problem = dir_problem;
      return false;
    }
    process::DescriptorGrant grant = process::DescriptorGrant::take(budget);
    if (!grant) {
      if (out.problem.empty()) {
        log.warning("output of " + ch.path + ": " + kNoDescriptorForFile +
                    "; it goes to otpd's own log instead");
      }
      out.problem = kNoDescriptorForFile;
      return false;
    }
    auto file =
        std::make_unique<RotatingFile>(log_dir, log_file_name(ch.path), logs.max_size, logs.keep);
    std::string error;
    if (!file->open(error)) {
      if (out.problem.empty()) {
        log.error("output of " + ch.path + ": " + error + "; it goes to otpd's own log instead");
      }
      out.problem = error;
      return false;
    }
    out.problem.clear();
    out.file = std::move(file);
    out.grant = std::move(grant);
    return true;
  }

  process::ChildStdio prepare(const std::string& path, const config::ProcessSpec& spec) {
    Route& route = paths[path].route;
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
    PathState& here = state(path);
    Channel& ch = *here.channel;
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
    pending_channel = &*here.channel;
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

  // Delivers the lines read into `batch` (all of `ch`): file or log,
  // followers, buffer.
  void commit(Channel& ch) {
    if (batch.empty()) return;
    if (ch.mode == config::Output::file && ch.file && ch.file->file && ch.file->file->is_open()) {
      FileOutput& out = *ch.file;
      std::string error;
      bool ok = true;
      line_text.clear();
      for (const OutputLine& line : batch) {
        line_text.clear();
        append_file_line(line_text, line);
        ok = out.file->add_line(line_text, error) && ok;
      }
      ok = out.file->flush(error) && ok;
      if (!ok && !out.warned_write) log.warning("output of " + ch.path + ": " + error);
      out.warned_write = !ok;
    } else if (ch.mode != config::Output::discard) {
      line_text.clear();
      for (const OutputLine& line : batch) {
        if (log.format() == log::Format::json) {
          append_line_json(line_text, ch.path, line);
        } else {
          append_log_line(line_text, ch.path, line);
        }
        line_text += '\n';
      }
      log.pass_on(line_text);
    }
    if (!ch.followers.empty()) {
      ch.fanning_out = true;
      for (const OutputLine& line : batch) {
        line_text.clear();
        append_line_json(line_text, ch.path, line);
        for (std::size_t i = 0; i < ch.followers.size(); ++i) {
          if (ch.followers[i] != nullptr) ch.followers[i]->on_line(line, line_text);
        }
      }
      ch.fanning_out = false;
      std::erase(ch.followers, nullptr);
    }
    for (OutputLine& line : batch) ch.ring.push(std::move(line));
    batch.clear();
  }

  asio::io_context& io;
  log::EventLog& log;
  config::LogsSpec logs;
  std::string dir;
  std::string dir_problem;
  std::shared_ptr<const LogDir> log_dir;  // when a child logs to a file and `dir` could be opened
  process::DescriptorBudget* budget;
  std::function<void(int)> ended;  // a pipe of this pid reached its end
  std::unordered_map<std::string, PathState> paths;
  PipeSet pipe_set{io};
  Reader* readers = nullptr;  // those reading now, linked through Reader::next
  int placeholder = -1;
  int slot_out = -1;
  int slot_err = -1;
  int pending_out = -1;
  int pending_err = -1;
  process::DescriptorGrant pending_grant;
  Channel* pending_channel = nullptr;
  std::array<char, kReadChunk> buffer{};  // shared: each read is consumed at once
  std::vector<OutputLine> batch;          // lines read, not yet delivered
  std::string line_text;
  std::size_t pipes = 0;
  bool starving = false;    // the last capture failed for want of descriptors
  std::size_t starved = 0;  // captures that failed so
};

namespace {

// One pipe of one incarnation, read until its end. The hub owns it from
// the spawn until the end of the pipe (or the hub's own end).
struct Reader final : PipeSet::Pipe {
  Reader(OutputHub::Impl& hub, Channel& channel, int fd, int pid, Stream stream,
         process::DescriptorGrant grant)
      : hub(hub), channel(channel), grant(std::move(grant)), fd(fd), pid(pid), stream(stream) {
    ++channel.readers;
    ++hub.pipes;
    next = hub.readers;
    if (next != nullptr) next->prev = this;
    hub.readers = this;
  }
  ~Reader() override {
    if (fd >= 0) {
      hub.pipe_set.remove(fd);
      ::close(fd);
    }
    if (prev != nullptr) prev->next = next;
    if (next != nullptr) next->prev = prev;
    if (hub.readers == this) hub.readers = next;
    --hub.pipes;
    hub.release(channel);
  }

  // The first read comes from the set's next round: the child may have
  // written already.
  bool start() { return hub.pipe_set.add(fd, *this); }

  void readable() override {
    const ssize_t n = ::read(fd, hub.buffer.data(), hub.buffer.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) return finish();  // deletes this
    const std::int64_t now = realtime_us();
    last_read_us = now;
    splitter.feed(std::string_view(hub.buffer.data(), static_cast<std::size_t>(n)),
                  [&](std::string_view text, bool continued) { add(now, text, continued); });
    hub.commit(channel);
    if (splitter.has_partial()) watch_partial();
  }

  void add(std::int64_t time, std::string_view text, bool continued) {
    hub.batch.push_back({.time_us = time,
                         .pid = pid,
                         .stream = stream,
                         .continued = continued,
                         .text = std::string(text)});
  }

  // End of the stream: the child and everything that shared the pipe have
  // closed it. A last line without its newline is delivered as it is.
  void finish() {
    idle.reset();
    splitter.flush(
        false, [&](std::string_view text, bool continued) { add(realtime_us(), text, continued); });
    hub.commit(channel);
    // Usually the child has exited: the reaper looks, from the loop.
    if (hub.ended) {
      asio::post(hub.io, [ended = hub.ended, pid = pid] { ended(pid); });
    }
    delete this;
  }

  // The timer goes with the reader; a wait it cancels finds nothing.
  void watch_partial() {
    if (idle) return;
    idle = std::make_unique<asio::steady_timer>(hub.io, kPartialPatience);
    idle->async_wait([this](const boost::system::error_code& error) {
      if (!error) partial_waited();
    });
  }

  void partial_waited() {
    idle.reset();
    if (!splitter.has_partial()) return;
    const auto quiet = std::chrono::microseconds(realtime_us() - last_read_us);
    if (quiet + std::chrono::milliseconds(10) < kPartialPatience) {
      watch_partial();  // more arrived meanwhile; a new wait from now
      return;
    }
    splitter.flush(
        true, [&](std::string_view text, bool continued) { add(realtime_us(), text, continued); });
    hub.commit(channel);
  }

  OutputHub::Impl& hub;
  Channel& channel;
  process::DescriptorGrant grant;  // for the pipe's read end
  int fd;
  int pid;
  Stream stream;
  LineSplitter splitter;
  std::unique_ptr<asio::steady_timer> idle;
  std::int64_t last_read_us = 0;
  Reader* prev = nullptr;
  Reader* next = nullptr;
};

}  // namespace

OutputHub::Impl::~Impl() {
  while (readers != nullptr) delete readers;
  for (int fd : {slot_out, slot_err, placeholder}) {
    if (fd >= 0) ::close(fd);
  }
}

void OutputHub::Impl::spawned(const std::string& /*path*/, int pid) {
  if (pending_out < 0) return;
  // Back to /dev/null: this closes otpd's copies of the write ends, so the
  // pipes end when the child (and whatever it passed them to) is gone.
  ::dup3(placeholder, slot_out, O_CLOEXEC);
  ::dup3(placeholder, slot_err, O_CLOEXEC);
  const int out = std::exchange(pending_out, -1);
  const int err = std::exchange(pending_err, -1);
  Channel* ch = std::exchange(pending_channel, nullptr);
  process::DescriptorGrant grant = std::move(pending_grant);
  if (pid <= 0) {
    ::close(out);
    if (err >= 0) ::close(err);
    return;
  }
  // A merged stream is the child's stdout, with its stderr in it.
  for (const auto& [fd, stream] : {std::pair{out, Stream::out}, {err, Stream::err}}) {
    if (fd < 0) continue;
    auto* reader = new Reader(*this, *ch, fd, pid, stream, grant.split_one());
    if (!reader->start()) {
      log.warning(because("cannot watch the output of pid " + std::to_string(pid), errno));
      delete reader;
    }
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

bool accepts(StreamFilter filter, Stream stream) {
  return filter == StreamFilter::both || (filter == StreamFilter::out) == (stream == Stream::out);
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

namespace {

// The state of a child's path in the tree; nothing for a path that is not
// a child's (any more).
const PathState* known(const std::unordered_map<std::string, PathState>& paths,
                       const std::string& path) {
  const auto found = paths.find(std::string(trimmed(path)));
  if (found == paths.end() || found->second.forgotten) return nullptr;
  return &found->second;
}

}  // namespace

std::optional<config::Output> OutputHub::mode_of(const std::string& path) const {
  const PathState* state = known(impl_->paths, path);
  if (state == nullptr) return std::nullopt;
  return state->route.starved ? config::Output::inherit : state->route.output;
}

bool OutputHub::merged(const std::string& path) const {
  const PathState* state = known(impl_->paths, path);
  return state != nullptr && state->route.streams == config::Streams::merged;
}

std::optional<std::string> OutputHub::not_captured_because(const std::string& path) const {
  const PathState* state = known(impl_->paths, path);
  if (state == nullptr || !state->route.starved) return std::nullopt;
  return impl_->descriptors_used_up() +
         " when it started (its output: " + config::to_string(state->route.output) + ")";
}

std::size_t OutputHub::starved() const {
  return impl_->starved;
}

std::string OutputHub::file_of(const std::string& path) const {
  const std::string key(trimmed(path));
  const auto mode = mode_of(key);
  if (!mode || *mode != config::Output::file) return {};
  const PathState* state = known(impl_->paths, key);
  const Channel* ch = state != nullptr && state->channel ? &*state->channel : nullptr;
  if (ch != nullptr && ch->file && !ch->file->problem.empty()) {
    return "otpd's own log (" + ch->file->problem + ")";
  }
  if (!impl_->dir_problem.empty()) return "otpd's own log (" + impl_->dir_problem + ")";
  return impl_->dir + "/" + log_file_name(key);
}

void OutputHub::last_lines(const std::string& path, std::size_t count, StreamFilter filter,
                           const std::function<void(const OutputLine&)>& fn) const {
  const auto found = impl_->paths.find(std::string(trimmed(path)));
  if (found == impl_->paths.end() || !found->second.channel) return;
  found->second.channel->ring.last(
      count, [filter](const OutputLine& line) { return accepts(filter, line.stream); }, fn);
}

void OutputHub::follow(const std::string& path, LineFollower& follower) {
  impl_->channel(std::string(trimmed(path))).followers.push_back(&follower);
}

void OutputHub::unfollow(const std::string& path, LineFollower& follower) {
  const auto found = impl_->paths.find(std::string(trimmed(path)));
  if (found == impl_->paths.end() || !found->second.channel) return;
  Channel& ch = *found->second.channel;
  const auto it = std::find(ch.followers.begin(), ch.followers.end(), &follower);
  if (it == ch.followers.end()) return;
  if (ch.fanning_out) {
    *it = nullptr;
  } else {
    ch.followers.erase(it);
    if (found->second.forgotten && !in_use(ch)) impl_->paths.erase(found);
  }
}

void OutputHub::forget(const std::string& path) {
  impl_->forget(std::string(trimmed(path)));
}

std::size_t OutputHub::channels() const {
  return static_cast<std::size_t>(
      std::count_if(impl_->paths.begin(), impl_->paths.end(),
                    [](const auto& entry) { return entry.second.channel.has_value(); }));
}

std::size_t OutputHub::open_pipes() const {
  return impl_->pipes;
}

}  // namespace otpd::output
