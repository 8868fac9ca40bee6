#include "process/cgroups.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace otpd::process {
namespace {

using cgroupfs::Controller;

std::string reason(int error) {
  return std::strerror(error);
}

// systemd marks a cgroup it delegates (Delegate=yes) with this attribute.
bool marked_delegated(const std::string& dir) {
  for (const char* name : {"trusted.delegate", "user.delegate"}) {
    char value[8] = {};
    const ssize_t n = getxattr(dir.c_str(), name, value, sizeof value - 1);
    if (n == 1 && value[0] == '1') return true;
  }
  return false;
}

bool exists(const std::string& path) {
  return access(path.c_str(), F_OK) == 0;
}

std::string parent_of(const std::string& dir) {
  const std::size_t slash = dir.rfind('/');
  return slash == std::string::npos || slash == 0 ? "/" : dir.substr(0, slash);
}

// Whether process `pid` is in a cgroup whose path contains `marker`
// ("/otpd-x/app/api") as whole components. Asked once a pidfd holds the
// pid, so that the answer is about the process that pidfd names.
bool member_of(pid_t pid, const std::string& marker) {
  const auto text = cgroupfs::read_file("/proc/" + std::to_string(pid) + "/cgroup");
  if (!text) return false;
  for (std::size_t at = text->find(marker); at != std::string::npos;
       at = text->find(marker, at + 1)) {
    const std::size_t end = at + marker.size();
    if (end == text->size() || (*text)[end] == '/' || (*text)[end] == '\n') return true;
  }
  return false;
}

int pidfd_open(pid_t pid) {
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

int pidfd_send_signal(int pidfd, int signo) {
  return static_cast<int>(syscall(SYS_pidfd_send_signal, pidfd, signo, nullptr, 0));
}

}  // namespace

Cgroups::Cgroups(Settings settings) : settings_(std::move(settings)) {
  set_up_v2();
  set_up_limits();
}

void Cgroups::set_up_v2() {
  const auto& v2 = settings_.layout.v2;
  if (!v2) {
    unavailable_ = "no cgroup2 file system is mounted";
    return;
  }
  if (v2->own.empty()) {
    unavailable_ = "otpd's own cgroup is not visible under " + v2->mount;
    return;
  }
  own_ = v2->own;
  // The root cgroup has no cgroup.type, and may hold processes beside
  // children that have controllers.
  const bool root = !exists(own_ + "/cgroup.type");
  if (!root) {
    const std::vector<pid_t> procs = cgroupfs::read_pids(own_ + "/cgroup.procs");
    const bool alone = procs.size() == 1 && procs.front() == settings_.self;
    // A container's init at the root of its own cgroup namespace: that
    // cgroup is the container's. (Only there: in a PID namespace alone,
    // cgroup.procs hides the processes outside it.)
    const bool container = settings_.pid1 && own_ == v2->mount;
    if (alone && (container || marked_delegated(own_))) {
      const std::string leaf = own_ + "/supervisor";
      int error = mkdir(leaf.c_str(), 0755) == 0 || errno == EEXIST ? 0 : errno;
      if (error == 0) {
        error = cgroupfs::write_file(leaf + "/cgroup.procs", std::to_string(settings_.self));
      }
      if (error == 0) {
        delegated_ = true;
        own_leaf_ = leaf;
      } else {
        warnings_.push_back("cannot move otpd into " + leaf + " (" + reason(error) +
                            "): its children's cgroups get no controllers for their limits");
      }
    }
  }
  const std::string tree = own_ + "/" + settings_.instance;
  if (mkdir(tree.c_str(), 0755) != 0 && errno != EEXIST) {
    unavailable_ = "cannot create " + tree + ": " + reason(errno);
    return;
  }
  // One that existed may belong to someone else.
  if (access(tree.c_str(), W_OK) != 0) {
    unavailable_ = "cannot use " + tree + ": " + reason(errno);
    return;
  }
  tree_ = tree;
  has_kill_ = settings_.use_kill_file && exists(tree_ + "/cgroup.kill");
  if (!delegated_) return;
  // Handed down to the tree's cgroup, and from there by enable_on_path().
  for (Controller controller : cgroupfs::kControllers) {
    const char* name = cgroupfs::name_of(controller);
    if (!cgroupfs::has_word(own_ + "/cgroup.controllers", name)) continue;
    if (int error =
            cgroupfs::write_file(own_ + "/cgroup.subtree_control", std::string("+") + name)) {
      warnings_.push_back("cannot enable the " + std::string(name) + " controller in " + own_ +
                          "/cgroup.subtree_control: " + reason(error));
    }
  }
}

void Cgroups::set_up_limits() {
  for (Controller controller : cgroupfs::kControllers) {
    const std::string name = cgroupfs::name_of(controller);
    LimitHome home;
    if (contains() && cgroupfs::has_word(tree_ + "/cgroup.controllers", name)) {
      home.v2 = true;
      limits_[controller] = home;
      continue;
    }
    const auto v1 = settings_.layout.v1.find(name);
    if (v1 != settings_.layout.v1.end() && !v1->second.own.empty()) {
      if (access(v1->second.own.c_str(), W_OK) == 0) {
        home.base = v1->second.own + "/" + settings_.instance;
        limits_[controller] = home;
        continue;
      }
      home.missing = "the cgroup v1 " + name + " hierarchy is not writable here (" +
                     v1->second.own + ": " + reason(errno) + ")";
    } else if (!contains()) {
      home.missing = "otpd does not use cgroups here (" + unavailable_ + ")";
    } else if (delegated_) {
      home.missing = "the cgroups above " + own_ + " do not hand it down (enable " + name + " in " +
                     parent_of(own_) + "/cgroup.subtree_control)";
    } else if (!exists(own_ + "/cgroup.type")) {
      home.missing = "the root cgroup does not hand it down (enable " + name + " in " + own_ +
                     "/cgroup.subtree_control)";
    } else {
      home.missing = "otpd's cgroup " + own_ +
                     " cannot hand it down while otpd runs in it; run otpd under systemd with "
                     "Delegate=yes, or as the only process of a cgroup delegated to it";
    }
    limits_[controller] = home;
  }
}

std::vector<std::string> Cgroups::describe_limits() const {
  std::vector<std::string> lines;
  for (const auto& [controller, home] : limits_) {
    const std::string key = cgroupfs::key_of(controller);
    const std::string name = cgroupfs::name_of(controller);
    if (home.v2) {
      lines.push_back(key + ": cgroup v2 " + name + " controller");
    } else if (!home.base.empty()) {
      lines.push_back(key + ": cgroup v1 " + name + " hierarchy (" + home.base + ")");
    } else {
      lines.push_back(key + ": unavailable, " + home.missing);
    }
  }
  return lines;
}

std::string Cgroups::missing_message(Controller controller, const std::string& why) const {
  const std::string key = cgroupfs::key_of(controller);
  return key + " needs the cgroup " + cgroupfs::name_of(controller) +
         " controller, which otpd cannot use here: " + why + "; or remove " + key;
}

std::string Cgroups::no_cgroups_message(const config::CgroupLimits& limits,
                                        const std::string& reason) {
  for (Controller controller : cgroupfs::kControllers) {
    if (!cgroupfs::needs(limits, controller)) continue;
    const std::string key = cgroupfs::key_of(controller);
    return key + " needs the cgroup " + cgroupfs::name_of(controller) +
           " controller, but otpd does not use cgroups here (" + reason + "); remove " + key +
           " or run otpd where it can create cgroups";
  }
  return {};
}

std::string Cgroups::Leaf::dir() const {
  return tree == nullptr ? std::string() : *tree + "/" + cgroupfs::relative_dir(path);
}

const std::vector<std::string>& Cgroups::Leaf::v1_dirs() const {
  static const std::vector<std::string> none;
  return limited ? limited->v1_dirs : none;
}

const config::CgroupLimits& Cgroups::Leaf::limits() const {
  static const config::CgroupLimits none;
  return limited ? limited->limits : none;
}

bool Cgroups::enable_on_path(const std::string& relative, const char* controller,
                             std::string& error) {
  // The tree's cgroup and every cgroup between it and the leaf: none of
  // them holds a process, as cgroup v2 requires.
  std::string dir = tree_;
  std::size_t start = 0;
  for (;;) {
    if (int failed =
            cgroupfs::write_file(dir + "/cgroup.subtree_control", std::string("+") + controller)) {
      error = "cannot enable the " + std::string(controller) + " controller in " + dir +
              "/cgroup.subtree_control: " + reason(failed);
      return false;
    }
    const std::size_t slash = relative.find('/', start);
    if (slash == std::string::npos) return true;
    dir = tree_ + "/" + relative.substr(0, slash);
    start = slash + 1;
  }
}

std::shared_ptr<Cgroups::Leaf> Cgroups::enter(const std::string& path,
                                              const config::CgroupLimits& limits, bool& created,
                                              std::string& error) {
  created = false;
  for (Controller controller : cgroupfs::kControllers) {
    if (!cgroupfs::needs(limits, controller)) continue;
    const LimitHome& home = limits_[controller];
    if (!home.v2 && home.base.empty()) {
      error = missing_message(controller, home.missing);
      return nullptr;
    }
  }
  if (auto found = leaves_.find(path); found != leaves_.end()) {
    std::shared_ptr<Leaf> leaf = found->second;
    if (!leaf->resting) return leaf;
    if (leaf->limits() == limits) {
      leaf->resting = false;
      created = true;
      if (leaf->limited && !leaf->limited->oom_file.empty()) {
        leaf->limited->oom_base =
            cgroupfs::read_keyed(leaf->limited->oom_file, cgroupfs::kOomKey).value_or(0);
      }
      return leaf;
    }
    // Other limits: a new leaf, so that none of the old ones stays.
    remove(*leaf);
    leaves_.erase(found);
  }

  auto leaf = std::make_shared<Leaf>();
  if (!limits.empty()) {
    leaf->limited = std::make_unique<LeafLimits>();
    leaf->limited->limits = limits;
  }
  leaf->path = path;
  const std::string relative = cgroupfs::relative_dir(path);
  auto undo = [&] { remove(*leaf); };
  if (contains()) {
    int failed = cgroupfs::make_dirs(tree_, relative);
    // The tree's own cgroup was removed from under otpd: made again.
    if (failed == ENOENT && mkdir(tree_.c_str(), 0755) == 0) {
      failed = cgroupfs::make_dirs(tree_, relative);
    }
    if (failed != 0) {
      error = "cannot create the cgroup " + tree_ + "/" + relative + ": " + reason(failed);
      return nullptr;
    }
    leaf->tree = &tree_;
  }
  for (Controller controller : cgroupfs::kControllers) {
    if (!cgroupfs::needs(limits, controller)) continue;
    const LimitHome& home = limits_[controller];
    std::string dir;
    if (home.v2) {
      if (!enable_on_path(relative, cgroupfs::name_of(controller), error)) {
        undo();
        return nullptr;
      }
      dir = leaf->dir();
    } else {
      if (int failed =
              cgroupfs::make_dirs(parent_of(home.base), settings_.instance + "/" + relative)) {
        error = "cannot create the cgroup " + home.base + "/" + relative + ": " + reason(failed);
        undo();
        return nullptr;
      }
      dir = home.base + "/" + relative;
      bool known = false;
      for (const std::string& other : leaf->v1_dirs()) known = known || other == dir;
      if (!known) leaf->limited->v1_dirs.push_back(dir);
    }
    std::string file;
    if (int failed = cgroupfs::write_limit(dir, !home.v2, limits, controller, file)) {
      error = "cannot set " + cgroupfs::limit_text(limits, controller) + " (" + file +
              "): " + reason(failed);
      undo();
      return nullptr;
    }
    if (controller == Controller::memory) {
      LeafLimits& limited = *leaf->limited;
      limited.oom_file = cgroupfs::oom_file(dir, !home.v2);
      limited.oom_base = cgroupfs::read_keyed(limited.oom_file, cgroupfs::kOomKey).value_or(0);
      limited.oom_limit = cgroupfs::limit_text(limits, controller);
    }
  }
  leaves_[path] = leaf;
  created = true;
  return leaf;
}

bool Cgroups::open_procs(const Leaf& leaf, SpawnOptions& options, std::string& error) const {
  options.cgroup_count = 0;
  auto add = [&](const std::string& dir) {
    if (options.cgroup_count == SpawnOptions::kMaxCgroups) return true;
    const int fd = open((dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      error = "cannot open " + dir + "/cgroup.procs: " + reason(errno);
      return false;
    }
    std::string& kept = procs_dirs_[static_cast<std::size_t>(options.cgroup_count)];
    kept = dir;
    options.cgroup_fds[options.cgroup_count] = fd;
    options.cgroup_dirs[options.cgroup_count] = kept.c_str();
    ++options.cgroup_count;
    return true;
  };
  const std::string dir = leaf.dir();
  bool ok = dir.empty() || add(dir);
  for (const std::string& v1_dir : leaf.v1_dirs()) ok = ok && add(v1_dir);
  if (!ok) close_procs(options);
  return ok;
}

void Cgroups::close_procs(SpawnOptions& options) {
  for (int i = 0; i < options.cgroup_count; ++i) {
    ::close(options.cgroup_fds[i]);
    options.cgroup_fds[i] = -1;
    options.cgroup_dirs[i] = nullptr;
  }
  options.cgroup_count = 0;
}

std::string Cgroups::oom_killed(const Leaf& leaf) const {
  if (!leaf.limited || leaf.limited->oom_file.empty()) return {};
  const LeafLimits& limited = *leaf.limited;
  const auto count = cgroupfs::read_keyed(limited.oom_file, cgroupfs::kOomKey);
  return count && *count > limited.oom_base ? limited.oom_limit : std::string();
}

void Cgroups::kill_members(const std::string& dir) const {
  // Only what is still in that cgroup once the pid is pinned by a pidfd:
  // a pid read from cgroup.procs may have been reused by then.
  const std::size_t instance = dir.rfind("/" + settings_.instance);
  if (instance == std::string::npos) return;
  const std::string marker = dir.substr(instance);
  for (int round = 0; round < 20; ++round) {
    const std::vector<pid_t> pids = cgroupfs::pids_below(dir);
    if (pids.empty()) return;
    for (pid_t pid : pids) {
      const int pidfd = pidfd_open(pid);
      if (pidfd < 0) continue;
      if (member_of(pid, marker)) pidfd_send_signal(pidfd, SIGKILL);
      ::close(pidfd);
    }
  }
}

void Cgroups::kill(const Leaf& leaf) {
  if (const std::string dir = leaf.dir(); !dir.empty()) {
    if (has_kill_ && cgroupfs::write_file(dir + "/cgroup.kill", "1") == 0) return;
    kill_members(dir);
    return;
  }
  // cgroup v1 alone: the members of its hierarchies are the child's too.
  for (const std::string& dir : leaf.v1_dirs()) kill_members(dir);
}

void Cgroups::gather_statistics() const {
  if (contains()) cgroupfs::gather_statistics(tree_);
}

void Cgroups::gather_before_removal() {
  const auto now = std::chrono::steady_clock::now();
  if (now - gathered_ < std::chrono::milliseconds(100)) return;
  gathered_ = now;
  gather_statistics();
}

bool Cgroups::remove(const Leaf& leaf) {
  const std::string v2_dir = leaf.dir();
  if (!v2_dir.empty()) gather_before_removal();
  bool gone = v2_dir.empty() || cgroupfs::remove_leaf(v2_dir, tree_);
  for (const std::string& dir : leaf.v1_dirs()) {
    std::string base;
    for (const auto& [controller, home] : limits_) {
      if (!home.base.empty() && dir.compare(0, home.base.size() + 1, home.base + "/") == 0) {
        base = home.base;
      }
    }
    const bool removed = cgroupfs::remove_leaf(dir, base);
    if (v2_dir.empty()) gone = gone && removed;
  }
  return gone;
}

bool Cgroups::empty(const Leaf& leaf) const {
  if (const std::string v2_dir = leaf.dir(); !v2_dir.empty()) {
    int error = 0;
    const auto text = cgroupfs::read_record(v2_dir + "/cgroup.events", &error);
    if (!text) return error == ENOENT;
    return cgroupfs::keyed_value(*text, "populated").value_or(1) == 0;
  }
  for (const std::string& dir : leaf.v1_dirs()) {
    if (!cgroupfs::read_pids(dir + "/cgroup.procs").empty()) return false;
  }
  return true;
}

void Cgroups::rest(Leaf& leaf) {
  leaf.resting = true;
  leaf.rested_since = std::chrono::steady_clock::now();
}

std::size_t Cgroups::remove_rested(std::chrono::milliseconds idle) {
  const auto now = std::chrono::steady_clock::now();
  std::size_t resting = 0;
  for (auto it = leaves_.begin(); it != leaves_.end();) {
    Leaf& leaf = *it->second;
    if (leaf.resting && now - leaf.rested_since >= idle) {
      remove(leaf);
      it = leaves_.erase(it);
      continue;
    }
    if (leaf.resting) ++resting;
    ++it;
  }
  return resting;
}

void Cgroups::forget(const Leaf& leaf) {
  auto found = leaves_.find(leaf.path);
  if (found != leaves_.end() && found->second.get() == &leaf) leaves_.erase(found);
}

Cgroups::Leftovers Cgroups::end_leftovers(std::chrono::milliseconds patience) {
  Leftovers result;
  auto end_in = [&](const std::string& dir, bool v2) {
    if (!exists(dir)) return;
    const std::vector<pid_t> pids = cgroupfs::pids_below(dir);
    if (!pids.empty()) {
      result.ended += pids.size();
      if (v2 && has_kill_ && cgroupfs::write_file(dir + "/cgroup.kill", "1") == 0) {
        // the kernel signals every process below
      } else {
        kill_members(dir);
      }
      if (!cgroupfs::wait_empty(dir, patience))
        result.remaining += cgroupfs::pids_below(dir).size();
    }
  };
  if (contains()) {
    end_in(tree_, true);
    // The leaves of the previous otpd; the tree's own cgroup stays.
    gather_statistics();
    cgroupfs::remove_tree(tree_);
    if (mkdir(tree_.c_str(), 0755) != 0 && errno != EEXIST) {
      warnings_.push_back("cannot create " + tree_ + " again: " + reason(errno));
    }
  }
  for (const auto& [controller, home] : limits_) {
    if (home.base.empty()) continue;
    // With cgroup v2 they were the same processes, and are gone.
    if (!contains()) end_in(home.base, false);
    cgroupfs::remove_tree(home.base);
  }
  return result;
}

bool Cgroups::close(std::chrono::milliseconds patience) {
  bool all_gone = true;
  if (contains()) {
    const auto populated = cgroupfs::read_keyed(tree_ + "/cgroup.events", "populated");
    if (populated.value_or(1) != 0) {
      if (!has_kill_ || cgroupfs::write_file(tree_ + "/cgroup.kill", "1") != 0) kill_members(tree_);
      all_gone = cgroupfs::wait_empty(tree_, patience);
    }
    gather_statistics();
    cgroupfs::remove_tree(tree_);
  }
  for (const auto& [controller, home] : limits_) {
    if (home.base.empty()) continue;
    if (!contains()) kill_members(home.base);
    cgroupfs::remove_tree(home.base);
  }
  leaves_.clear();
  return all_gone;
}

std::string Cgroups::leaf_of(pid_t pid) const {
  const auto& v2 = settings_.layout.v2;
  if (tree_.empty() || !v2) return {};
  const auto text = cgroupfs::read_file("/proc/" + std::to_string(pid) + "/cgroup");
  if (!text) return {};
  // "0::/path" is the cgroup v2 line, whatever else a hybrid host lists.
  std::string_view rest = *text;
  while (!rest.empty()) {
    const auto end = std::min(rest.find('\n'), rest.size());
    const std::string_view line = rest.substr(0, end);
    rest.remove_prefix(std::min(end + 1, rest.size()));
    if (line.substr(0, 3) != "0::") continue;
    const std::string dir = v2->mount + std::string(line.substr(3));
    return dir.rfind(tree_ + "/", 0) == 0 ? dir : std::string();
  }
  return {};
}

}  // namespace otpd::process
