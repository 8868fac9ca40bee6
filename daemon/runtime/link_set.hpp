// A process's links. Most processes have one (their supervisor), held in
// place so that a spawn allocates nothing for it; a few more go in a short
// list; a supervisor of a hundred thousand children keeps them in an
// open-addressing table, one pointer-sized slot each and no allocation per
// link, so that spawning and reaping children stays cheap at any size.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace otpd::runtime {

// `Handle` is Pid (a template only so that process.hpp can include this
// before Pid is complete): empty when default-made, cheap to move, equal
// when it names the same process, and its get() is that process's address.
template <typename Handle>
class LinkSet {
 public:
  bool contains(const Handle& pid) const {
    if (first_ == pid) return true;
    if (hashed()) return slots_[find(pid)] == pid;
    return std::find(slots_.begin(), slots_.end(), pid) != slots_.end();
  }

  void insert(const Handle& pid) {
    if (contains(pid)) return;
    if (!first_) {
      first_ = pid;
    } else if (hashed()) {
      if (2 * (count_ + 1) > slots_.size()) rehash(2 * slots_.size());
      slots_[find(pid)] = pid;
      ++count_;
    } else if (slots_.size() < kFew) {
      slots_.push_back(pid);
    } else {
      count_ = slots_.size();
      std::vector<Handle> listed = std::exchange(slots_, {});
      slots_.resize(4 * kFew);
      for (Handle& moved : listed) place(std::move(moved));
      insert(pid);
    }
  }

  // True when `pid` was linked.
  bool erase(const Handle& pid) {
    if (first_ == pid) {
      first_ = {};
      return true;
    }
    if (!hashed()) {
      const auto found = std::find(slots_.begin(), slots_.end(), pid);
      if (found == slots_.end()) return false;
      *found = std::move(slots_.back());
      slots_.pop_back();
      return true;
    }
    std::size_t hole = find(pid);
    if (!(slots_[hole] == pid)) return false;
    slots_[hole] = {};
    --count_;
    // Linear probing without tombstones: pull back the entries after the
    // hole that could not sit where they belong while it was taken.
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t next = (hole + 1) & mask; slots_[next]; next = (next + 1) & mask) {
      const std::size_t home = slot_of(slots_[next]);
      const bool stays =
          hole <= next ? (hole < home && home <= next) : (hole < home || home <= next);
      if (stays) continue;
      slots_[hole] = std::exchange(slots_[next], {});
      hole = next;
    }
    return true;
  }

  // Empties the set, handing its links to `fn` one by one.
  template <typename Fn>
  void drain(Fn fn) {
    const Handle first = std::exchange(first_, {});
    const std::vector<Handle> rest = std::exchange(slots_, {});
    count_ = 0;
    if (first) fn(first);
    for (const Handle& pid : rest) {
      if (pid) fn(pid);
    }
  }

  void clear() {
    first_ = {};
    slots_ = {};
    count_ = 0;
  }

 private:
  static constexpr std::size_t kFew = 16;

  // Past kFew, slots_ is a table whose size is a power of two, at most half
  // full; before, it is a plain list.
  bool hashed() const { return slots_.size() > kFew; }

  std::size_t slot_of(const Handle& pid) const {
    // Every bit of the address mixed into the high bits (murmur3's
    // finalizer): objects allocated one after another differ in a few
    // middle bits, by a stride that is often a power of two, and a single
    // multiplication (Fibonacci hashing) mapped such runs to neighbouring
    // slots, making linear probing walk long clusters.
    std::uint64_t mixed = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(pid.get()));
    mixed ^= mixed >> 33;
    mixed *= 0xFF51AFD7ED558CCDull;
    mixed ^= mixed >> 33;
    mixed *= 0xC4CEB9FE1A85EC53ull;
    mixed ^= mixed >> 33;
    return static_cast<std::size_t>(mixed >> (64 - std::countr_zero(slots_.size())));
  }

  // The slot that holds `pid`, or the empty one where it would go.
  std::size_t find(const Handle& pid) const {
    const std::size_t mask = slots_.size() - 1;
    std::size_t slot = slot_of(pid);
    while (slots_[slot] && !(slots_[slot] == pid)) slot = (slot + 1) & mask;
    return slot;
  }

  void rehash(std::size_t size) {
    std::vector<Handle> old = std::exchange(slots_, std::vector<Handle>(size));
    for (Handle& pid : old) {
      if (pid) place(std::move(pid));
    }
  }

  // Not `slots_[find(pid)] = std::move(pid)`: the right side of an
  // assignment is evaluated first, and a moved-from Pid is empty.
  void place(Handle&& pid) {
    const std::size_t slot = find(pid);
    slots_[slot] = std::move(pid);
  }

  Handle first_{};
  std::vector<Handle> slots_;
  std::size_t count_ = 0;  // links in the table (not first_); unused as a list
};

}  // namespace otpd::runtime
