// Which child a process group belongs to, learnt from the events: every
// process child (and every run of a cron job) leads a process group of its
// own, whose id is its pid. An orphan otpd reaps is charged to the child
// whose group it was in, even after that child's main process is gone.
#pragma once

#include <deque>
#include <string>
#include <unordered_map>
#include <utility>

#include "supervise/event.hpp"

namespace otpd::supervise {

class GroupOwners {
 public:
  // Records the group of a started process under its path. The groups of a
  // path's current and previous incarnations are kept, so that leftovers of
  // one that was just stopped or restarted are still known, and those of the
  // last `kRetired` children removed from the tree (a temporary child's
  // leftovers die after it is removed); older ones are forgotten, so the
  // table stays about as large as the tree.
  void observe(const Event& event) {
    if ((event.kind == EventKind::started || event.kind == EventKind::run_started) &&
        event.pid > 0) {
      auto& [current, previous] = by_path_[event.path];
      if (previous != 0) forget(previous, event.path);
      previous = current;
      current = event.pid;
      owners_[event.pid] = event.path;
    } else if (event.kind == EventKind::removed) {
      const auto found = by_path_.find(event.path);
      if (found == by_path_.end()) return;
      retired_.push_back({event.path, found->second});
      by_path_.erase(found);
      if (retired_.size() > kRetired) {
        const auto& [path, groups] = retired_.front();
        forget_retired(groups.first, path);
        forget_retired(groups.second, path);
        retired_.pop_front();
      }
    } else if (event.kind == EventKind::exited && event.status) {
      // A child that daemonized: what it left leads groups of its own
      // (setsid), and is charged to it when it is reaped. The last
      // `kLeft` of them are kept.
      for (const LeftProcess& left : event.status->left_behind) {
        left_owners_[left.pid] = event.path;
        left_order_.push_back(left.pid);
        if (left_order_.size() > kLeft) {
          left_owners_.erase(left_order_.front());
          left_order_.pop_front();
        }
      }
    }
  }

  // The path of the child that led `group`, or "/" when none is known.
  std::string owner(int group) const {
    if (const auto found = owners_.find(group); found != owners_.end()) return found->second;
    const auto left = left_owners_.find(group);
    return left == left_owners_.end() ? std::string("/") : left->second;
  }

  std::size_t size() const { return owners_.size(); }

 private:
  // Unless the path came back and leads that group again (a reused pid).
  void forget_retired(int group, const std::string& path) {
    const auto back = by_path_.find(path);
    if (back != by_path_.end() && (back->second.first == group || back->second.second == group)) {
      return;
    }
    forget(group, path);
  }

  void forget(int group, const std::string& path) {
    const auto found = owners_.find(group);
    if (found != owners_.end() && found->second == path) owners_.erase(found);
  }

  static constexpr std::size_t kRetired = 1024;
  static constexpr std::size_t kLeft = 1024;

  std::unordered_map<int, std::string> owners_;
  std::deque<std::pair<std::string, std::pair<int, int>>> retired_;
  std::unordered_map<std::string, std::pair<int, int>> by_path_;  // current, previous
  std::unordered_map<int, std::string> left_owners_;
  std::deque<int> left_order_;
};

}  // namespace otpd::supervise
