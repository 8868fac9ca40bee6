// The most recent lines of one child, across its incarnations, for
// `otpctl logs`: a ring of at most `capacity` lines, the oldest overwritten
// first. Storage grows with what the child writes, up to the capacity.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "output/output_line.hpp"

namespace otpd::output {

class LineRing {
 public:
  explicit LineRing(std::size_t capacity) : capacity_(capacity) {}

  void push(OutputLine line);

  std::size_t size() const { return lines_.size(); }
  std::size_t capacity() const { return capacity_; }
  // Lines pushed since the ring was made, dropped ones included.
  std::uint64_t pushed() const { return pushed_; }

  // Calls fn(line) for the last `count` lines that `keep(line)` accepts,
  // oldest first.
  template <typename Keep, typename Fn>
  void last(std::size_t count, Keep&& keep, Fn&& fn) const {
    const std::size_t size = lines_.size();
    // Walk back to find where the `count` accepted lines begin.
    std::size_t found = 0;
    std::size_t back = 0;
    while (back < size && found < count) {
      if (keep(at(size - 1 - back))) ++found;
      ++back;
    }
    for (std::size_t i = size - back; i < size; ++i) {
      if (keep(at(i))) fn(at(i));
    }
  }

 private:
  // The i-th oldest stored line.
  const OutputLine& at(std::size_t i) const { return lines_[(oldest_ + i) % lines_.size()]; }

  std::size_t capacity_;
  std::vector<OutputLine> lines_;
  std::size_t oldest_ = 0;  // once full, the slot overwritten next
  std::uint64_t pushed_ = 0;
};

}  // namespace otpd::output
