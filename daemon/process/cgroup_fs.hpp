// The kernel's cgroup file system, read and written without keeping state:
// where the hierarchies are mounted, where otpd sits in them, and the files
// of one cgroup directory. Every path is absolute and taken as given, so
// tests point these functions at a temporary directory laid out like
// cgroupfs. Nothing here throws; failures come back as errno values.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/spec.hpp"

namespace otpd::process::cgroupfs {

// One mounted hierarchy and otpd's cgroup in it.
struct Hierarchy {
  std::string mount;  // the mount point, e.g. /sys/fs/cgroup
  // The directory of otpd's own cgroup under the mount point; empty when
  // that cgroup is not visible there (the mount shows another subtree, or
  // the cgroup was deleted).
  std::string own;
  bool operator==(const Hierarchy&) const = default;
};

struct Layout {
  std::optional<Hierarchy> v2;
  // cgroup v1 hierarchies by controller name ("memory", "pids", "cpu"); a
  // hierarchy that holds several controllers ("cpu,cpuacct") is listed
  // under each.
  std::map<std::string, Hierarchy> v1;
};

// From the text of /proc/self/mountinfo and /proc/self/cgroup.
Layout parse_layout(std::string_view mountinfo, std::string_view proc_cgroup);
// The same, read from /proc/self.
Layout read_layout();

// The whole of a small file, or nothing with `error` set.
std::optional<std::string> read_file(const std::string& path, int* error = nullptr);
// The same for a cgroup file the kernel writes as one record (cgroup.events,
// cpu.stat, memory.events): a read that does not fill the buffer got all of
// it, which spares the read that would only say so.
std::optional<std::string> read_record(const std::string& path, int* error = nullptr);
// Writes `text` with one write(2), as cgroupfs wants; 0 or an errno value.
int write_file(const std::string& path, std::string_view text);
// The value of `key` in a flat keyed file ("populated 1", "oom_kill 3").
std::optional<std::uint64_t> keyed_value(std::string_view text, std::string_view key);
std::optional<std::uint64_t> read_keyed(const std::string& path, std::string_view key);
// The pids listed in a cgroup.procs file (empty when it cannot be read).
std::vector<pid_t> read_pids(const std::string& procs_file);
// The words of cgroup.controllers or cgroup.subtree_control.
std::vector<std::string> read_words(const std::string& path);
bool has_word(const std::string& path, std::string_view word);

// A child's name as a directory name: names that could be taken for one of
// the kernel's files (any name with a '.', or one of v1's "tasks",
// "notify_on_release", "release_agent") get a '_' in front, which no child
// name has (they start with a letter or digit).
std::string dir_name(std::string_view child_name);
// "app/api" -> "app/api" made of dir_name()s.
std::string relative_dir(std::string_view tree_path);
// The tree's cgroup name for an otpd whose control socket is `socket`:
// "otpd-" and the path escaped as systemd does ("/run/otpd/otpd.sock" ->
// "otpd-run-otpd-otpd.sock"), or a hash of it when that would be too long.
// Stable, and unique among the otpds running, as their sockets are.
std::string instance_name(std::string_view socket);

// What a v2 limit file is given: memory.max, cpu.max, pids.max.
std::string v2_memory(std::uint64_t bytes);
std::string v2_cpu(const config::CgroupLimits::Cpu& cpu);
std::string v2_pids(std::uint64_t count);

// The controllers the limits need, in the order they are written.
enum class Controller { memory, cpu, pids };
inline constexpr Controller kControllers[] = {Controller::memory, Controller::cpu,
                                              Controller::pids};
const char* name_of(Controller);
bool needs(const config::CgroupLimits& limits, Controller controller);
// The key that sets it, for messages: "memory_max".
const char* key_of(Controller);
// The limit as the config would write it: "memory_max 64M".
std::string limit_text(const config::CgroupLimits& limits, Controller controller);

// Writes the limit for `controller` into the cgroup directory `dir`, in
// cgroup v2's files or in those of a v1 hierarchy. 0 or an errno value;
// `file` says which file failed.
int write_limit(const std::string& dir, bool v1, const config::CgroupLimits& limits,
                Controller controller, std::string& file);

// Where the OOM killer's count of kills is kept, and under which key.
std::string oom_file(const std::string& dir, bool v1);
inline constexpr std::string_view kOomKey = "oom_kill";

// mkdir -p below `base` (which must exist); 0 or an errno value.
int make_dirs(const std::string& base, std::string_view relative);
// Removes the empty cgroup `dir`, then its parents up to (not including)
// `stop` that it leaves empty. Whether `dir` is gone (it stays while it
// holds processes).
bool remove_leaf(const std::string& dir, const std::string& stop);
// Has the kernel gather the statistics of the cgroups below `dir` (cgroup
// v2) by reading its cpu.stat. A cgroup a process ran in waits on a per-CPU
// list of its parent's until then, and taking it out of that singly linked
// list when it is freed walks the list: freeing N sibling leaves that were
// not gathered costs the kernel N^2/2 steps under the cgroup mutex (a
// 10,000-child tree took 3.5 times as long to stop). Read once first,
// there is nothing to walk.
void gather_statistics(const std::string& dir);
// Removes `dir` and every directory below it, deepest first, and then its
// parents up to (not including) `stop` that have become empty. Directories
// that still hold processes stay. Whether `dir` is gone.
bool remove_tree(const std::string& dir, const std::string& stop = {});
// Every pid in the cgroups at and below `dir`.
std::vector<pid_t> pids_below(const std::string& dir);
// Waits at most `patience` for the cgroup `dir` and those below it to hold
// no process: woken by cgroup v2's cgroup.events, else (cgroup v1, no
// inotify) looking in turns. Whether they are empty.
bool wait_empty(const std::string& dir, std::chrono::milliseconds patience);

}  // namespace otpd::process::cgroupfs
