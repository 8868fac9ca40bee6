// The descriptors otpd may hold on its children's behalf: the read ends of
// their output pipes, their log files, and the pidfds of children without
// a pipe. They come out of the open-file limit less a reserve, so that a
// tree too big for the limit leaves the control socket (and otpd's own
// files, readiness pipes and probes) room to work: what does not fit runs
// without those descriptors instead (docs/spawning.md, "The open-file
// limit").
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>

namespace otpd::process {

class DescriptorBudget {
 public:
  // Without a limit everything is granted (tests, embeddings).
  DescriptorBudget() = default;
  // `open_files`: the soft RLIMIT_NOFILE otpd runs with.
  explicit DescriptorBudget(std::uint64_t open_files)
      : limited_(true),
        open_files_(open_files),
        capacity_(open_files - std::min(open_files, reserve_for(open_files))) {}

  // What is kept out of the children's share for everything else: an
  // eighth of the limit, at least 64 and at most 1024 descriptors.
  static std::uint64_t reserve_for(std::uint64_t open_files) {
    const std::uint64_t eighth = open_files / 8;
    return eighth < 64 ? 64 : eighth > 1024 ? 1024 : eighth;
  }
  // The least open-file limit whose share holds `descriptors`.
  static std::uint64_t limit_for(std::uint64_t descriptors) {
    std::uint64_t limit = descriptors + 64;
    while (limit - std::min(limit, reserve_for(limit)) < descriptors) ++limit;
    return limit;
  }

  // Takes `count` descriptors if they fit; false, taking none, if not.
  bool take(std::uint64_t count = 1) {
    if (limited_ && held_ + count > capacity_) return false;
    held_ += count;
    return true;
  }
  void give(std::uint64_t count = 1) { held_ -= std::min(held_, count); }

  bool limited() const { return limited_; }
  std::uint64_t open_files() const { return open_files_; }
  std::uint64_t capacity() const { return capacity_; }
  std::uint64_t held() const { return held_; }

 private:
  bool limited_ = false;
  std::uint64_t open_files_ = 0;
  std::uint64_t capacity_ = 0;
  std::uint64_t held_ = 0;
};

// Descriptors taken from a budget, given back when this goes.
class DescriptorGrant {
 public:
  DescriptorGrant() = default;
  DescriptorGrant(DescriptorBudget* budget, std::uint64_t count) : budget_(budget), count_(count) {}
  DescriptorGrant(DescriptorGrant&& other) noexcept
      : budget_(std::exchange(other.budget_, nullptr)), count_(std::exchange(other.count_, 0)) {}
  DescriptorGrant& operator=(DescriptorGrant&& other) noexcept {
    if (this != &other) {
      release();
      budget_ = std::exchange(other.budget_, nullptr);
      count_ = std::exchange(other.count_, 0);
    }
    return *this;
  }
  DescriptorGrant(const DescriptorGrant&) = delete;
  DescriptorGrant& operator=(const DescriptorGrant&) = delete;
  ~DescriptorGrant() { release(); }

  // `count` descriptors from `budget` (none needed without one), or an
  // empty grant when they do not fit.
  static DescriptorGrant take(DescriptorBudget* budget, std::uint64_t count = 1) {
    if (budget == nullptr) return {nullptr, count};
    if (!budget->take(count)) return {};
    return {budget, count};
  }
  explicit operator bool() const { return count_ > 0; }
  // One of the grant's descriptors, as a grant of its own.
  DescriptorGrant split_one() {
    if (count_ == 0) return {};
    --count_;
    return {budget_, 1};
  }
  void release() {
    if (budget_ != nullptr) budget_->give(count_);
    budget_ = nullptr;
    count_ = 0;
  }

 private:
  DescriptorBudget* budget_ = nullptr;
  std::uint64_t count_ = 0;
};

}  // namespace otpd::process
