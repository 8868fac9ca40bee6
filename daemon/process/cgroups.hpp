// The cgroups of one otpd's tree (docs/spawning.md, "What outlives otpd").
//
// Where cgroup v2 is writable, every process child runs in a cgroup of its
// own, a leaf below the tree's cgroup, so that otpd can end all it started
// (a setsid or a double fork does not leave a cgroup) and a later otpd on
// the same control socket finds and ends what a killed one left behind. The
// tree's cgroup has a stable name derived from the socket:
//
//   <otpd's cgroup>/otpd-<socket, escaped>/<child path>
//
// Under a delegation (systemd's Delegate=yes, or a container's own
// writable cgroup namespace, with otpd its only process) otpd first moves
// itself into a leaf, <its cgroup>/supervisor, so that the cgroup v2 rule
// "no processes in a cgroup that hands controllers down" lets it enable
// the memory, cpu and pids controllers for its children's limits. Without
// a delegation those controllers are used only if they are already enabled
// above the tree; on a hybrid host the cgroup v1 memory, cpu and pids
// hierarchies hold the limits instead, in the same layout.
//
// Nothing here throws or uses the event loop: a cgroupfs that is missing,
// read-only or odd makes the cgroups unavailable, with the reason, and
// otpd falls back to PR_SET_PDEATHSIG and a record of what it started.
#pragma once

#include <sys/types.h>

#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/spec.hpp"
#include "process/cgroup_fs.hpp"
#include "process/spawn.hpp"

namespace otpd::process {

class Cgroups {
 public:
  struct Settings {
    std::string instance;  // cgroupfs::instance_name(control socket)
    cgroupfs::Layout layout;
    pid_t self = 0;
    // otpd is PID 1 (a container's init): the root of its cgroup namespace,
    // if it is alone there, counts as delegated.
    bool pid1 = false;
    // Whether to use cgroup.kill where the kernel has it (5.14); without,
    // each member is signalled until none is left (for tests).
    bool use_kill_file = true;
  };
  // Finds the tree's cgroups, creating what is missing; never throws.
  explicit Cgroups(Settings settings);
  ~Cgroups() = default;
  Cgroups(const Cgroups&) = delete;
  Cgroups& operator=(const Cgroups&) = delete;

  // Whether children are contained: each in a cgroup v2 leaf of the tree's
  // cgroup, ended as a whole. When not, why not ("no cgroup2 file system is
  // mounted", "cannot create /sys/fs/cgroup/otpd-x: Read-only file system").
  bool contains() const { return !tree_.empty(); }
  const std::string& unavailable() const { return unavailable_; }
  const std::string& tree_dir() const { return tree_; }
  // Where otpd moved itself to, under a delegation; empty otherwise.
  const std::string& own_leaf() const { return own_leaf_; }
  // How the limits are enforced, for the log: "memory_max: cgroup v1 memory
  // (/sys/fs/cgroup/memory/...)", or why they cannot be.
  std::vector<std::string> describe_limits() const;
  // Things the set-up could not do that the log should show.
  const std::vector<std::string>& warnings() const { return warnings_; }

  // What a killed predecessor on the same socket left in the tree's
  // cgroups: ended (cgroup.kill), waited for until the cgroup reports
  // `populated 0` or `patience` runs out, and their directories removed.
  // Call it before starting anything.
  struct Leftovers {
    std::size_t ended = 0;      // processes found and killed
    std::size_t remaining = 0;  // still there when patience ran out
  };
  Leftovers end_leftovers(std::chrono::milliseconds patience);

  // What a leaf with limits keeps besides.
  struct LeafLimits {
    config::CgroupLimits limits;
    std::vector<std::string> v1_dirs;  // cgroup v1 hierarchies holding its limits
    // The OOM killer's count where memory_max applies, and its value then.
    std::string oom_file;
    std::uint64_t oom_base = 0;
    std::string oom_limit;  // "memory_max 64M"
  };
  // The cgroups of one process child, named by its path in the tree. A
  // big tree has one per child, so a leaf keeps little: its directory is
  // made from the path when asked for, and what only limits need is apart.
  struct Leaf {
    std::string path;
    // The tree's cgroup v2 directory; null without containment.
    const std::string* tree = nullptr;
    std::unique_ptr<LeafLimits> limited;  // null: no limits
    // Empty and kept a while for the next process of its path, which then
    // needs no new cgroup (see rest()).
    bool resting = false;
    std::chrono::steady_clock::time_point rested_since{};

    // The cgroup v2 directory; empty without containment.
    std::string dir() const;
    const std::vector<std::string>& v1_dirs() const;
    const config::CgroupLimits& limits() const;
  };
  // The leaf for `path`, with `limits` written; `created` says whether it is
  // new or resting (its process is then the one whose exit ends the leaf)
  // or one that another process of the same path runs in (a readiness probe
  // beside its child). Nothing and `error` when a limit cannot be enforced here or the
  // directory cannot be made.
  std::shared_ptr<Leaf> enter(const std::string& path, const config::CgroupLimits& limits,
                              bool& created, std::string& error);
  // Opens the leaf's cgroup.procs files (close-on-exec) into `options`;
  // close_procs() closes them once the spawn has returned.
  bool open_procs(const Leaf& leaf, SpawnOptions& options, std::string& error) const;
  static void close_procs(SpawnOptions& options);

  // The limit the OOM killer enforced while the leaf ran, or "".
  std::string oom_killed(const Leaf& leaf) const;
  // Whether no process is left in the leaf.
  bool empty(const Leaf& leaf) const;
  // The leaf of the tree's cgroup that `pid` runs in, or "" when it runs
  // in none (from /proc/PID/cgroup).
  std::string leaf_of(pid_t pid) const;
  // Sends SIGKILL to everything in the leaf (cgroup.kill, or each member).
  void kill(const Leaf& leaf);
  // Removes the leaf's directories, with the parents it leaves empty;
  // whether the cgroup v2 one is gone (it is not while processes remain).
  bool remove(const Leaf& leaf);
  // The leaf ends: the next process of its path gets a new one.
  void forget(const Leaf& leaf);
  // The empty leaf of a process that exited is kept for the next process of
  // its path (a restart then costs no mkdir and rmdir), as long as that one
  // has the same limits. remove_rested() removes the leaves that have rested
  // for `idle`, and says how many rest still.
  void rest(Leaf& leaf);
  std::size_t remove_rested(std::chrono::milliseconds idle);

  // Whether no spec can have limits here: a message for a spawn that asks.
  static std::string no_cgroups_message(const config::CgroupLimits& limits,
                                        const std::string& reason);

  // At an orderly exit: ends whatever is left in the tree's cgroups (there
  // should be nothing) and removes them. Whether all of it is gone.
  bool close(std::chrono::milliseconds patience);

 private:
  struct LimitHome {
    bool v2 = false;
    std::string base;     // v1: the tree's directory in that hierarchy
    std::string missing;  // why the controller cannot be used
  };

  // Before a removal: the kernel's statistics of every leaf gathered at
  // most 100 ms ago (cgroupfs::gather_statistics), so that leaves removed
  // in numbers (a tree that stops) are freed without walking each other.
  void gather_before_removal();
  void gather_statistics() const;
  void set_up_v2();
  void set_up_limits();
  bool enable_on_path(const std::string& relative, const char* controller, std::string& error);
  void kill_members(const std::string& dir) const;
  std::string missing_message(cgroupfs::Controller controller, const std::string& why) const;

  Settings settings_;
  std::string own_;       // otpd's cgroup v2 directory
  std::string own_leaf_;  // where otpd moved itself, under a delegation
  bool delegated_ = false;
  std::string tree_;  // the tree's cgroup v2 directory
  std::string unavailable_;
  bool has_kill_ = true;  // cgroup.kill exists (kernel 5.14)
  std::chrono::steady_clock::time_point gathered_{};
  std::map<cgroupfs::Controller, LimitHome> limits_;
  std::unordered_map<std::string, std::shared_ptr<Leaf>> leaves_;
  // The directories of the cgroup.procs files open_procs() opened, which
  // SpawnOptions points into until close_procs().
  mutable std::array<std::string, SpawnOptions::kMaxCgroups> procs_dirs_;
  std::vector<std::string> warnings_;
};

}  // namespace otpd::process
