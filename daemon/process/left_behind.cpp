#include "process/left_behind.hpp"

#include <unistd.h>

#include <deque>
#include <unordered_set>

#include "process/cgroup_fs.hpp"
#include "process/proc_stat.hpp"

namespace otpd::process {

std::vector<supervise::LeftProcess> LeftBehind::in_cgroup(const std::string& dir, pid_t pid,
                                                          std::size_t& unlisted) {
  std::vector<supervise::LeftProcess> left;
  unlisted = 0;
  for (const pid_t member : cgroupfs::read_pids(dir + "/cgroup.procs")) {
    if (member == pid) continue;
    if (left.size() == kMost) {
      ++unlisted;
      continue;
    }
    left.push_back({.pid = member, .name = process_name(member)});
  }
  return left;
}

std::vector<supervise::LeftProcess> LeftBehind::still_running() {
  std::vector<supervise::LeftProcess> left;
  std::deque<pid_t> queue;
  for (const pid_t child : children_of(getpid())) queue.push_back(child);
  while (!queue.empty() && left.size() < kMost) {
    const pid_t next = queue.front();
    queue.pop_front();
    const auto stat = read_proc_stat(next);
    if (!stat || stat->state == 'Z') continue;
    left.push_back({.pid = next, .name = process_name(next), .runs_on = true});
    for (const pid_t below : children_of(next)) queue.push_back(below);
  }
  return left;
}

std::vector<supervise::LeftProcess> LeftBehind::orphaned_by(
    pid_t pid, const std::function<bool(pid_t)>& watched) {
  std::vector<supervise::LeftProcess> left;
  const auto exited = read_proc_stat(pid);  // a zombie keeps its start time
  if (!exited) return left;

  // Forget what has gone, so that the table stays as small as what runs.
  std::erase_if(named_, [](const auto& entry) {
    const auto stat = read_proc_stat(entry.first);
    return !stat || stat->start != entry.second;
  });

  std::deque<pid_t> queue;
  for (const pid_t child : children_of(getpid())) {
    if (watched(child)) continue;
    const auto stat = read_proc_stat(child);
    if (!stat || stat->state == 'Z') continue;
    const bool in_group = stat->group == pid;
    const auto named = named_.find(child);
    const bool charged = named != named_.end() && named->second == stat->start;
    // Started after the exited process, and not in the group of another
    // child that still runs (then it would be that child's).
    const bool newly_orphaned =
        !charged && stat->start >= exited->start && !(stat->group != child && watched(stat->group));
    if (in_group || newly_orphaned) queue.push_back(child);
  }
  std::unordered_set<pid_t> listed;
  while (!queue.empty() && left.size() < kMost) {
    const pid_t next = queue.front();
    queue.pop_front();
    if (!listed.insert(next).second) continue;
    const auto stat = read_proc_stat(next);
    if (!stat || stat->state == 'Z') continue;
    named_[next] = stat->start;
    left.push_back({.pid = next, .name = process_name(next), .runs_on = stat->group != pid});
    for (const pid_t below : children_of(next)) queue.push_back(below);
  }
  return left;
}

}  // namespace otpd::process
