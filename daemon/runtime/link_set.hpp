// A process's links. Most processes have one or two (their supervisor, a
// helper), kept in a small vector; a supervisor of a hundred thousand
// children would make every exit a linear scan, so past a few dozen links
// they move to a hash set.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <memory>
#include <unordered_set>
#include <vector>

namespace otpd::runtime {

// `Handle` is Pid (a template only so that process.hpp can include this
// before Pid is complete).
template <typename Handle>
class LinkSet {
 public:
  bool contains(const Handle& pid) const {
    if (many_) return many_->contains(pid);
    return std::find(few_.begin(), few_.end(), pid) != few_.end();
  }

  void insert(const Handle& pid) {
    if (many_) {
      many_->insert(pid);
      return;
    }
    if (std::find(few_.begin(), few_.end(), pid) != few_.end()) return;
    if (few_.size() < kFew) {
      few_.push_back(pid);
      return;
    }
    many_ = std::make_unique<std::unordered_set<Handle, HandleHash>>(few_.begin(), few_.end());
    many_->insert(pid);
    few_ = {};
  }

  // True when `pid` was linked.
  bool erase(const Handle& pid) {
    if (many_) return many_->erase(pid) > 0;
    const auto found = std::find(few_.begin(), few_.end(), pid);
    if (found == few_.end()) return false;
    few_.erase(found);
    return true;
  }

  // Empties the set, handing its links to `fn` one by one.
  template <typename Fn>
  void drain(Fn fn) {
    if (many_) {
      auto all = std::move(many_);
      for (const Handle& pid : *all) fn(pid);
      return;
    }
    auto all = std::exchange(few_, {});
    for (const Handle& pid : all) fn(pid);
  }

  void clear() {
    few_ = {};
    many_.reset();
  }

 private:
  static constexpr std::size_t kFew = 32;
  struct HandleHash {
    std::size_t operator()(const Handle& pid) const { return std::hash<const void*>{}(pid.get()); }
  };
  std::vector<Handle> few_;
  std::unique_ptr<std::unordered_set<Handle, HandleHash>> many_;
};

}  // namespace otpd::runtime
